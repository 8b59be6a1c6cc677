"""Images through a real registry: the rig's own private registry, pushes, pull credentials."""
