#!/usr/bin/env bash
# Push $IMAGE:$VERSION to $REGISTRY (host[:port][/path]) as
# $REGISTRY/flaskr:$VERSION, and the base images the deploy runs beside it,
# when they were built here (make base-images): berth/redis:7-bookworm as
# $REGISTRY/redis:7-bookworm, berth/caddy:2-bookworm as $REGISTRY/caddy:2-bookworm.
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
for base in redis:7-bookworm caddy:2-bookworm; do
    if docker image inspect "berth/$base" >/dev/null 2>&1; then
        push "berth/$base" "$registry/$base"
    fi
done
