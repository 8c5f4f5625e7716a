#!/usr/bin/env bash
# Push $IMAGE:$VERSION to $REGISTRY (host[:port][/path]) as
# $REGISTRY/flaskr:$VERSION, and berth/redis:7-bookworm, when it was built here,
# as $REGISTRY/redis:7-bookworm (`make publish REGISTRY=...`).
set -euo pipefail

registry=${REGISTRY:?berth: set REGISTRY=host[:port][/path], e.g. make publish REGISTRY=localhost:5000}
registry=${registry%/}
image=${IMAGE:-flaskr}
version=${VERSION:?VERSION is required}

push() {
    local local_name=$1 remote_name=$2
    docker tag "$local_name" "$remote_name"
    docker push --quiet "$remote_name" >/dev/null
    echo "Pushed $remote_name"
}

push "$image:$version" "$registry/${image##*/}:$version"
if docker image inspect berth/redis:7-bookworm >/dev/null 2>&1; then
    push berth/redis:7-bookworm "$registry/redis:7-bookworm"
fi
