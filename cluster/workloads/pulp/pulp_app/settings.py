"""Where the providers are: only the Services' environment variables and the Secret's login.

The seed's point: consumers get the access information from the environment. A pod started
before the Services has no variables; it stops with one line naming the first missing one
(the container restarts, and a restart after the Services exist gets them), never hangs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from urllib.parse import quote

#: variable -> what provides it
REQUIRED = {
    "MSG_SERVICE_HOST": "the msg Service",
    "MSG_SERVICE_PORT": "the msg Service",
    "DB_SERVICE_HOST": "the db Service",
    "DB_SERVICE_PORT": "the db Service",
    "MSG_USERNAME": "the Secret msg-credentials (key username)",
    "MSG_PASSWORD": "the Secret msg-credentials (key password)",
}
DATABASE = "pulp"


@dataclass(frozen=True)
class Settings:
    broker_url: str
    backend_url: str
    db_url: str
    hostname: str
    node: str


def from_env(role: str, env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        name = missing[0]
        print(f"pulp-{role}: {name} is not set ({REQUIRED[name]}): create the db and msg Services before "
              f"this pod (the seed's order); it works once restarted after them", file=sys.stderr, flush=True)
        sys.exit(3)
    user, password = quote(env["MSG_USERNAME"], safe=""), quote(env["MSG_PASSWORD"], safe="")
    db = f"mongodb://{env['DB_SERVICE_HOST']}:{env['DB_SERVICE_PORT']}"
    return Settings(
        broker_url=f"amqp://{user}:{password}@{env['MSG_SERVICE_HOST']}:{env['MSG_SERVICE_PORT']}//",
        backend_url=f"{db}/{DATABASE}",
        db_url=f"{db}/",
        hostname=env.get("HOSTNAME", "?"),
        node=env.get("NODE_NAME", "?"),
    )
