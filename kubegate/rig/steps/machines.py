"""Create or start what is not running (recreating machines of an older node image), after
the host's kernel settings are snapshotted, strays of interrupted runs removed and each
minion's image-store volume made (kept across `kubegate down`: a cached bring-up then
imports no image) when the Docker Engine's disk has room for it."""

from __future__ import annotations

import time

from kubegate.rig.bringup import Context


class StartMachines:
    name = "vagrant up"

    def run(self, ctx: Context) -> str:
        ctx.started = time.time()
        ctx.machines.remove_strays()  # first: containers of deleted checkouts hold addresses too
        ctx.machines.refuse_other_checkouts()
        ctx.machines.snapshot_host_sysctls()
        ctx.machines.require_disk_room()  # before anything is made: a full disk fails a minute in
        ctx.machines.ensure_containerd_volumes()
        note, ctx.touched = ctx.machines.machines_up(ctx.refs["node"], ctx.digests)
        return note
