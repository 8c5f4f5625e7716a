#!/usr/bin/env bash
# Build the images Molecule's scenarios need, from the Debian mirror only (no
# registry), skipping those that exist (REBUILD=1 builds them again):
#   berth/molecule-systemd:SUITE      a host with systemd as PID 1 (bookworm, trixie)
#   berth/molecule-plain:bookworm     a host without an init system
#   berth/molecule-engine:bookworm    the systemd host with Debian's Docker engine
#   berth/molecule-registry:bookworm  a registry the deploy scenarios publish to
#   berth/molecule-pebble:bookworm    pebble, the ACME test server (the https scenario)
# and the base images the deploys run (images/base-images.sh). Each scenario's
# dependency step runs it with the scenario's name, so that `molecule test`
# works on a machine with none of them.
# Usage: molecule/images/build.sh [docker | default | release | ...]   (none: all)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scenario=${1:-all}

build() {  # build IMAGE DIR [BUILD-ARG...]
    local image=$1 dir=$2
    shift 2
    if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
        return
    fi
    echo "Building $image (from molecule/images/$dir; a minute or two)"
    docker build --quiet "${@/#/--build-arg=}" -t "$image" "$here/$dir" >/dev/null
}

"$root/images/debian.sh" bookworm
build berth/molecule-systemd:bookworm systemd SUITE=bookworm

# The engine's role, on hosts without an engine.
if [ "$scenario" = docker ] || [ "$scenario" = all ]; then
    "$root/images/debian.sh" trixie
    build berth/molecule-systemd:trixie systemd SUITE=trixie
    # One plain host image is enough: the no-systemd path does not vary by suite.
    build berth/molecule-plain:bookworm plain SUITE=bookworm
fi

# The deploys, on a host with an engine, from a registry.
if [ "$scenario" != docker ]; then
    "$root/images/base-images.sh"
    build berth/molecule-engine:bookworm engine
    build berth/molecule-registry:bookworm registry
fi

# Certificates from a real ACME server.
if [ "$scenario" = https ] || [ "$scenario" = all ]; then
    build berth/molecule-pebble:bookworm pebble
fi
