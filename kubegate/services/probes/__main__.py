"""`python -m kubegate.services.probes` (or `python -m kubegate_probes` in the client image)."""

from .cli import main

raise SystemExit(main())
