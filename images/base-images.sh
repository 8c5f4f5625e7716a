#!/usr/bin/env bash
# Build the local base images berth uses where Docker Hub cannot be reached:
#   berth/debian:bookworm       debootstrap from the Debian mirror (images/debian.sh)
#   berth/python:3.11-bookworm  python3 + venv, base of the flaskr image
#   berth/redis:7-bookworm      Debian's redis-server, used like the official redis
#   berth/caddy:2-bookworm      Debian's caddy, the reverse proxy in front of the app
# Each image is skipped when it already exists; FORCE=1 rebuilds all but the first.
# Run by `make base-images`, and by `make image` when python:3.12-slim is missing.
set -euo pipefail

cd "$(dirname "$0")"

./debian.sh bookworm

build() {
    local image=$1 dir=$2
    if [[ ${FORCE:-0} != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
        return 0
    fi
    echo "Building $image from images/$dir (a minute or so)"
    docker build --quiet --tag "$image" "$dir" >/dev/null
    echo "Built $image"
}

build berth/python:3.11-bookworm python
build berth/redis:7-bookworm redis
build berth/caddy:2-bookworm caddy
