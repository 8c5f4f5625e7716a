#!/bin/sh
# Behave like the official redis image's entrypoint for the usual invocations:
#   docker run IMAGE                                   -> redis-server
#   docker run IMAGE --appendonly yes                  -> redis-server --appendonly yes
#   docker run IMAGE redis-server --requirepass X ...  -> as given
# The official image compiles Redis with protected mode off (the container's
# network is the boundary); Debian's build keeps it on, so switch it off here
# unless the caller chose a value.
set -e

case "$1" in
    -* | *.conf) set -- redis-server "$@" ;;
esac

if [ "$1" = redis-server ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) set -- "$@" --protected-mode no ;;
    esac
fi

exec "$@"
