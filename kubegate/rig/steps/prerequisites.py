"""Tools on the host and a running Docker Engine, named with the command that installs them."""

from __future__ import annotations

from kubegate.paths import assets
from kubegate.rig import prereqs
from kubegate.rig.bringup import Context


class Prerequisites:
    name = "prerequisites"

    def run(self, ctx: Context) -> str:
        prereqs.require("vagrant", "go", "debootstrap", "mvn", "ssh")  # kubectl: built with the server
        prereqs.ensure_docker_engine(assets())
        return ""
