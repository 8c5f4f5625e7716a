#!/bin/sh
# The stamp of the last deploy: the digest of its inputs beside the digest of
# what it left on this host.
#   stamp.sh check INPUTS    prints "unchanged" if STAMP holds INPUTS and the
#                            host is as that deploy left it, "locked" if a
#                            berth run holds the lock, else "changed"
#   stamp.sh record INPUTS   writes STAMP (0600); prints "recorded", or
#                            "kept" if it held the same already
# INPUTS is the digest of the deploy's code and variables. The host's digest
# is taken here, so that no secret leaves the host, of: berth's files (content,
# mode, owner; FILES, less SKIP), its containers' image, state and
# configuration (CONTAINERS and the containers labelled LABELS), its
# networks' members (NETWORKS), its services (SERVICES), and the image IMAGE
# names now, asked of its registry first if it came from one. STAMP and LOCK
# name the stamp and the deploy lock. All are environment variables, lists
# separated by spaces.
set -eu
action=$1 inputs=$2

observe() {
    # shellcheck disable=SC2086 # lists
    for path in $(find $FILES -xdev $(for skip in $SKIP; do printf -- '-path %s -prune -o ' "$skip"; done) -print 2>/dev/null | sort); do
        stat -c '%n %F %a %U %G' "$path"
        if [ -f "$path" ]; then sha256sum "$path"; fi
    done
    # shellcheck disable=SC2086
    containers=$( { docker ps --all --quiet --no-trunc $(for label in $LABELS; do printf -- '--filter label=%s ' "$label"; done)
        for name in $CONTAINERS; do docker ps --all --quiet --no-trunc --filter "name=^$name\$"; done; } | sort -u)
    if [ -n "$containers" ]; then
        # shellcheck disable=SC2086
        docker inspect --format '{{.Name}} {{.Id}} {{.Image}} {{.State.Status}} {{json .Config}} {{json .HostConfig}}' $containers
    fi
    # shellcheck disable=SC2086
    docker network inspect --format '{{.Name}} {{.Id}} {{.Internal}}{{range .Containers}} {{.Name}}{{end}}' $NETWORKS 2>&1
    for service in $SERVICES; do
        printf '%s %s %s\n' "$service" "$(systemctl is-enabled "$service" 2>&1)" "$(systemctl is-active "$service" 2>&1)"
    done
    # A tag pushed again is new content: the pull fetches it, as a deploy would.
    if docker image inspect --format '{{range .RepoDigests}}{{.}}{{end}}' "$IMAGE" 2>/dev/null | grep -q .; then
        docker pull --quiet "$IMAGE" >/dev/null
    fi
    docker image inspect --format '{{.Id}}' "$IMAGE" 2>&1
}

stamp="inputs $inputs
host $(observe | sha256sum | cut -d' ' -f1)"

case $action in
check)
    if [ -e "$LOCK" ]; then
        echo locked
    elif [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
        echo unchanged
    else
        echo changed
    fi
    ;;
record)
    if [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
        echo kept
    else
        umask 077
        printf '%s\n' "$stamp" > "$STAMP.new"
        mv "$STAMP.new" "$STAMP"
        echo recorded
    fi
    ;;
esac
