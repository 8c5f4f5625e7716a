# The flaskr production image: the app and its dependencies in a venv, served by
# waitress as an unprivileged user, with a health check.
#
#   make image                          # picks the base and passes the labels
#   docker build -t flaskr .            # official base, no extra CA
#   docker build --build-arg BASE_IMAGE=berth/python:3.11-bookworm -t flaskr .
#
# Works with the legacy builder and with BuildKit; needs no `# syntax=` frontend.
#
# BASE_IMAGE: any Debian-like image with `python3` (with venv) on PATH and
#   useradd. Both stages use it, so the venv runs on the Python it was built with.
# build/ca.crt (optional): an extra CA bundle for pip, for builds behind a
#   TLS-intercepting proxy (`make image PIP_CA_BUNDLE=...` puts it there). Only
#   the builder stage sees it; nothing of it reaches the final image or its
#   history. Without it pip uses its own CA bundle.
# User: flaskr, a system user with fixed UID/GID 10001, so a host directory
#   bind-mounted on /var/lib/flaskr can be prepared with `chown 10001:10001`.
# Instance folder: /var/lib/flaskr (FLASKR_INSTANCE_PATH), a volume holding
#   config.py (SECRET_KEY, REDIS_URL) and the SQLite database. Without a
#   config.py the server refuses to start with the placeholder SECRET_KEY.
ARG BASE_IMAGE=python:3.12-slim

# --- builder: /opt/venv with the dependencies and the flaskr wheel -------------
FROM ${BASE_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

# The bracket globs match nothing when the optional files are absent.
COPY app/pyproject.toml constraints.tx[t] build/ca.cr[t] /tmp/build/

# Dependencies first, in their own layer: they change less often than the app.
# constraints.txt, when present, pins them to the versions the tests ran with.
RUN python3 -m venv /opt/venv \
    && cd /tmp/build \
    && if [ -s ca.crt ]; then export PIP_CERT=/tmp/build/ca.crt; fi \
    && python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
        > requirements.txt \
    && /opt/venv/bin/pip install --quiet -r requirements.txt \
        $(if [ -f constraints.txt ]; then echo -c constraints.txt; fi)

COPY app/ /tmp/build/app/

# Build the wheel, install it, then drop pip and setuptools: the runtime never
# installs anything.
RUN cd /tmp/build \
    && if [ -s ca.crt ]; then export PIP_CERT=/tmp/build/ca.crt; fi \
    && /opt/venv/bin/pip wheel --quiet --no-deps --wheel-dir wheels ./app \
    && /opt/venv/bin/pip install --quiet wheels/flaskr-*.whl \
        $(if [ -f constraints.txt ]; then echo -c constraints.txt; fi) \
    && /opt/venv/bin/pip uninstall --quiet --yes pip setuptools

# --- runtime: the base image, a user, and the venv -----------------------------
FROM ${BASE_IMAGE}

RUN groupadd --system --gid 10001 flaskr \
    && useradd --system --uid 10001 --gid flaskr --no-create-home \
        --home-dir /var/lib/flaskr --shell /usr/sbin/nologin flaskr \
    && install -d -o flaskr -g flaskr -m 0750 /var/lib/flaskr

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASKR_INSTANCE_PATH=/var/lib/flaskr

COPY --from=builder /opt/venv /opt/venv

USER 10001:10001
WORKDIR /var/lib/flaskr
VOLUME /var/lib/flaskr
EXPOSE 8080

# Probe every second, so that a new container is healthy about 1-2 s after it
# starts (docker 20.10 has no --start-interval). Failures in the start period
# do not count. A deploy may pass a longer interval at run time. The probe is
# a bare python3 (-I -S) and a socket: importing urllib.request cost as much
# CPU again, some 4 % of a core at one probe a second.
HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=3 \
    CMD ["python3", "-I", "-S", "-c", "import os, socket; s = socket.create_connection(('127.0.0.1', int(os.environ.get('PORT', '8080'))), timeout=1); s.sendall(b'GET /healthz HTTP/1.0\\r\\n\\r\\n'); raise SystemExit(s.recv(16).split()[1:2] != [b'200'])"]

CMD ["flaskr-serve"]

# Last, so that a new revision rebuilds no layer.
ARG BASE_IMAGE \
    VERSION=dev \
    REVISION=unknown \
    CREATED=unknown \
    SOURCE=
LABEL org.opencontainers.image.title="flaskr" \
      org.opencontainers.image.description="The flaskr Flask app served by waitress" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
