"""Errors the user can act on, kept apart from bugs so the CLI can print them without a traceback."""

from __future__ import annotations


class KubegateError(Exception):
    """A failure whose one-line message names the fix; the CLI prints it as `kubegate: <message>`."""
