"""Diagnostics for failing tests: a bundle of what the cluster looked like when it failed.

Modelled on Chainsaw's catch/finally collectors, but gathered automatically: a test (or a
fixture) declares what it involves with a watch, and the plugin collects describe output,
logs, events, endpoints and node-level state for exactly those objects when it fails. Every
file goes through the redactor, so a bundle can be archived by CI as it is.
"""

from kubegate.collect.bundle import Bundle, collect
from kubegate.collect.redact import Redactor
from kubegate.collect.runner import ProviderRunner, Result, Runner
from kubegate.collect.watch import REGISTRY, Watch, Watches, watch

__all__ = [
    "REGISTRY",
    "Bundle",
    "ProviderRunner",
    "Redactor",
    "Result",
    "Runner",
    "Watch",
    "Watches",
    "collect",
    "watch",
]
