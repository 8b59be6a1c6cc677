"""The run history: every run appended to one SQLite database (store), read back as a window of
the last N runs (window: grid, flip and failure rates, new failures, trends), and shown as a
static page (page). See `kubegate history`."""
