"""Kubernetes access: the real kubectl (and which of its versions fit the server), the live
cluster's shape (nodes, service CIDRs), namespaces and object builders, golden comparisons."""
