"""Re-provision only the machines whose rendered files or images changed since their stamp."""

from __future__ import annotations

from kubegate.rig.bringup import Context


class ProvisionChanged:
    name = "provisioning"

    def run(self, ctx: Context) -> str:
        return ctx.machines.provision_changed(ctx.digests, ctx.refs["node"])
