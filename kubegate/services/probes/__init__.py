"""kubegate probes: real client traffic against the `db` (MongoDB wire) and `msg` (AMQP 1.0) services.

Self-contained on purpose: standard library + pymongo + python-qpid-proton only, and relative
imports only, because the `client` image copies this folder as the top-level package
`kubegate_probes` and runs it as the command `kubegate-probe` (see cli.py).
"""

from .result import ProbeResult, classify_failure, format_failure

__all__ = ["ProbeResult", "classify_failure", "format_failure"]
