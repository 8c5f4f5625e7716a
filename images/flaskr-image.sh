#!/usr/bin/env bash
# Build the flaskr image as $IMAGE:$VERSION and $IMAGE:latest (`make image`).
#
#   BASE_IMAGE     empty: python:3.12-slim if it is here or can be pulled, else
#                  berth/python:3.11-bookworm (built by images/base-images.sh).
#                  Set: used as given.
#   PIP_CA_BUNDLE  a CA bundle pip trusts during the build (for TLS-intercepting
#                  proxies); staged as build/ca.crt for the builder stage only.
#                  Empty: pip's own CA bundle.
#   VERSION        the tag and the org.opencontainers.image.version label.
#                  Empty: images/version.sh (the git short SHA, or a tag of
#                  its own for uncommitted changes).
set -euo pipefail

cd "$(dirname "$0")/.."

image=${IMAGE:-flaskr}
version=${VERSION:-$(images/version.sh)}
official=python:3.12-slim
fallback=berth/python:3.11-bookworm
base=${BASE_IMAGE:-}

if [[ -z $base ]]; then
    if docker image inspect "$official" >/dev/null 2>&1 \
        || timeout 30 docker pull --quiet "$official" >/dev/null 2>&1; then
        base=$official
    else
        echo "berth: $official cannot be pulled; building on $fallback (make base-images)"
        images/base-images.sh
        base=$fallback
    fi
fi

# The extra CA bundle lives in the build context only while the build runs.
rm -rf build/ca.crt
if [[ -n ${PIP_CA_BUNDLE:-} ]]; then
    [[ -r $PIP_CA_BUNDLE ]] || {
        echo "berth: PIP_CA_BUNDLE=$PIP_CA_BUNDLE is not a readable file" >&2
        exit 1
    }
    mkdir -p build
    cp "$PIP_CA_BUNDLE" build/ca.crt
fi

# Commit time rather than build time: the same commit builds the same image.
created=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null \
    || date -u +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
source=$(git config --get remote.origin.url 2>/dev/null || true)

echo "Building $image:$version on $base"
log=$(mktemp)
trap 'rm -f "$log" build/ca.crt; rmdir build 2>/dev/null || true' EXIT
if ! docker build --force-rm \
    --build-arg BASE_IMAGE="$base" \
    --build-arg VERSION="$version" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$created" \
    --build-arg SOURCE="$source" \
    --tag "$image:$version" --tag "$image:latest" . >"$log" 2>&1; then
    cat "$log" >&2
    echo "berth: building $image:$version failed (the build log is above)" >&2
    exit 1
fi
size=$(docker image inspect --format '{{.Size}}' "$image:$version")
echo "Built $image:$version and $image:latest ($((size / 1000000)) MB)"
