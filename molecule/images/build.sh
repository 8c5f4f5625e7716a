#!/usr/bin/env bash
# Build the images Molecule's scenarios need, from the Debian mirror only (no
# registry), skipping those that exist (REBUILD=1 builds them again):
#   berth/molecule-systemd:SUITE      a host with systemd as PID 1 (bookworm, trixie)
#   berth/molecule-plain:bookworm     a host without an init system
#   berth/molecule-engine:bookworm    the systemd host with Debian's Docker engine
#   berth/molecule-registry:bookworm  a registry the scenarios publish to
# and the base images the deploys run (images/base-images.sh). Every scenario's
# dependency step runs it, so `molecule test` works on a machine with none.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

build() {  # build IMAGE DIR [BUILD-ARG...]
    local image=$1 dir=$2
    shift 2
    if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
        return
    fi
    echo "Building $image (from molecule/images/$dir; a minute or two)"
    docker build --quiet "${@/#/--build-arg=}" -t "$image" "$here/$dir" >/dev/null
}

"$root/images/base-images.sh"
"$root/images/debian.sh" trixie
for suite in bookworm trixie; do
    build "berth/molecule-systemd:$suite" systemd "SUITE=$suite"
done
# One plain host is enough: the no-systemd code path does not vary by suite.
build berth/molecule-plain:bookworm plain SUITE=bookworm
build berth/molecule-engine:bookworm engine
build berth/molecule-registry:bookworm registry
