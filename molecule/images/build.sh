#!/usr/bin/env bash
# Build the images that stand in for hosts in Molecule scenarios, from the
# Debian mirror only (no registry): berth/molecule-systemd:SUITE (systemd as
# PID 1) and berth/molecule-plain:SUITE (no init system). Existing images are
# kept; set REBUILD=1 to build them again.
# Usage: molecule/images/build.sh [SUITE...]   (default: bookworm trixie)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

build() {  # build KIND SUITE
    local image=berth/molecule-$1:$2
    if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
        echo "Keeping $image"
        return
    fi
    "$root/images/debian.sh" "$2"
    echo "Building $image"
    docker build --quiet --build-arg "SUITE=$2" -t "$image" "$here/$1" >/dev/null
}

for suite in "${suites[@]}"; do
    build systemd "$suite"
done
# Only one plain host is needed: the no-systemd code path does not vary by suite.
build plain bookworm
