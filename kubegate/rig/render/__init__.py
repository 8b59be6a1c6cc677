"""Render every node-specific file on the host, so each has unit tests and one source of truth."""
