#!/usr/bin/env bash
# Build berth/debian:<suite>, a minimal Debian root filesystem imported as an
# image, from a Debian mirror: the base for every image berth builds where
# Docker Hub cannot be reached. Does nothing when the image already exists.
set -euo pipefail

suite=${1:?usage: images/debian.sh SUITE (bookworm, trixie)}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image=berth/debian:$suite

if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
if ! command -v debootstrap >/dev/null; then
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
        echo "berth: debootstrap is missing: apt-get install -y debootstrap" >&2
        exit 1
    fi
    echo "Installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
echo "Building $image from $mirror with debootstrap (about 30 s)"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >/dev/null
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "Built $image"
