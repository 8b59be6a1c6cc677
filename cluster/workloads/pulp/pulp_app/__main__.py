"""`pulp-app worker|beat|web-http|web-https`: one image, the seed's three consumer roles."""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    role = argv[0] if argv else ""
    if role == "worker":
        from pulp_app import tasks
        tasks.configure("worker")
        tasks.app.worker_main(["worker", "--loglevel=INFO", "--without-gossip",
                               "--without-mingle", "--without-heartbeat", "-Q", "pulp",
                               f"--hostname=worker@{os.environ.get('HOSTNAME', 'pulp')}"])
        return 0
    if role == "beat":
        from pulp_app import tasks
        tasks.configure("beat")
        tasks.app.start(["beat", "--loglevel=INFO", "--schedule=/tmp/celerybeat-schedule"])
        return 0
    if role in ("web-http", "web-https"):
        from pulp_app.settings import from_env
        from_env("web")  # fail before gunicorn forks, with the one line
        args = ["gunicorn", "--workers=2", "--threads=4", "--access-logfile=-", "pulp_app.web:app"]
        if role == "web-http":
            args[1:1] = ["--bind=0.0.0.0:8080"]
        else:
            args[1:1] = ["--bind=0.0.0.0:8443", "--certfile=/etc/pulp/tls/tls.crt", "--keyfile=/etc/pulp/tls/tls.key"]
        os.execvp(args[0], args)
    print("usage: pulp-app worker|beat|web-http|web-https", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
