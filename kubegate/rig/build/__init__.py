"""Building the cluster's parts (Go binaries, images) into a cache outside the repo."""
