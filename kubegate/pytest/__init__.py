"""The pytest layer: hooks, options and settings. The only part of kubegate that imports pytest
at run time, so the CLI and the library never load it."""
