"""The services under test: the seed's db and msg manifests, deploying them (Services before
pods), client pods on every node, and the probes that send real traffic."""
