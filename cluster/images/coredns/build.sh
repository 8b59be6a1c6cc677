#!/usr/bin/env bash
# Build kubegate's `coredns` image: CoreDNS v1.15.0 compiled from its Go module, FROM scratch as
# upstream's image. Usage: build.sh TAG.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../go-image.sh" "${1:?usage: build.sh TAG}" "$here" coredns coredns
