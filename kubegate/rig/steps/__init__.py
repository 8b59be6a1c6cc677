"""The local cluster's bring-up steps, in the order `PLAN` runs them."""

from kubegate.rig.bringup import Plan
from kubegate.rig.steps.addons import ApplyAddons, DeployAddons
from kubegate.rig.steps.binaries import BuildBinaries
from kubegate.rig.steps.dist import AssembleDist
from kubegate.rig.steps.images import BuildImages
from kubegate.rig.steps.machines import StartMachines
from kubegate.rig.steps.prerequisites import Prerequisites
from kubegate.rig.steps.provision import ProvisionChanged
from kubegate.rig.steps.ready import WaitReady
from kubegate.rig.steps.render import Render
from kubegate.rig.steps.units import RestartStoppedUnits

#: The Go build and the image builds share nothing (the db image compiles FerretDB in its own
#: build) and image builds mostly download, so those two run side by side.
PLAN: Plan = (
    Prerequisites(),
    (BuildBinaries(), BuildImages()),
    AssembleDist(),
    Render(),
    StartMachines(),
    ProvisionChanged(),
    RestartStoppedUnits(),
    (WaitReady(), ApplyAddons()),
    DeployAddons(),
)

#: `kubegate build`: what the cluster is made of, without the machines.
BUILD_PLAN: Plan = (Prerequisites(), (BuildBinaries(), BuildImages()), AssembleDist())

__all__ = ["BUILD_PLAN", "PLAN"]
