#!/usr/bin/env bash
# Build kubegate's `metallb` image: MetalLB's controller and speaker compiled from the
# go.universe.tf/metallb module, FROM scratch as upstream's images (distroless/static). One image
# for both: the add-on's manifest names the command. Usage: build.sh TAG.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../go-image.sh" "${1:?usage: build.sh TAG}" "$here" metallb controller speaker
