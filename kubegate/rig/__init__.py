"""The local cluster: its spec, the build of its parts, certificates, rendered node files,
the host checks around it. The Vagrant provider drives its machines."""
