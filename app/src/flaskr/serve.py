"""Production entry point: the app under waitress, configured from the environment."""

import logging
import os
import re
import signal
import sys
import time

from waitress import create_server, wasyncore

from . import create_app

PLACEHOLDER_SECRET_KEY = "dev"
log = logging.getLogger("flaskr.access")
# Quotes, backslashes and all but printable ASCII: what could forge a line or
# a field of the access log.
UNSAFE_IN_LOG = re.compile(r'[^\x20-\x7e]|["\\]')


def whole_number(environ, name, default, maximum=None):
    """environ[name] as a positive integer, or exit with a message naming it."""
    value = environ.get(name, str(default))
    number = int(value) if value.isascii() and value.isdigit() else 0
    if number < 1 or (maximum is not None and number > maximum):
        bounds = f"from 1 to {maximum}" if maximum else "of 1 or more"
        sys.exit(f"flaskr-serve: {name} must be a whole number {bounds}, not {value!r}")
    return number


def server_settings(environ, max_body_size=1024 * 1024):
    """waitress settings from the environment: PORT, as container platforms
    name it, and FLASKR_* for the rest. The body limit defaults to the app's
    MAX_CONTENT_LENGTH (max_body_size), so one setting bounds both."""
    settings = {
        "host": environ.get("FLASKR_HOST", "0.0.0.0"),
        "port": whole_number(environ, "PORT", 8080, maximum=65535),
        "threads": whole_number(environ, "FLASKR_THREADS", 4),
        "ident": "flaskr",
        # waitress answers 413 to a body of this many bytes or more.
        "max_request_body_size": whole_number(
            environ, "FLASKR_MAX_REQUEST_BODY_SIZE", max_body_size
        ),
        "max_request_header_size": whole_number(
            environ, "FLASKR_MAX_REQUEST_HEADER_SIZE", 64 * 1024
        ),
        "connection_limit": whole_number(environ, "FLASKR_CONNECTION_LIMIT", 100),
        # Seconds an idle connection is kept: slow clients cannot hold them all.
        "channel_timeout": whole_number(environ, "FLASKR_CHANNEL_TIMEOUT", 30),
    }
    if proxy := environ.get("FLASKR_TRUSTED_PROXY"):
        settings["trusted_proxy"] = proxy
        settings["trusted_proxy_headers"] = environ.get(
            "FLASKR_TRUSTED_PROXY_HEADERS",
            "x-forwarded-for x-forwarded-host x-forwarded-proto x-forwarded-port",
        )
    return settings


def escaped(field):
    """field with each UNSAFE_IN_LOG character as \\xHH, as nginx logs them."""
    return UNSAFE_IN_LOG.sub(lambda match: f"\\x{ord(match[0]):02x}", field)


def access_log(wsgi_app):
    """Log one line per request: client, method, path, status, duration."""

    def logged(environ, start_response):
        started = time.monotonic()
        status = []

        def recording_start_response(code, headers, exc_info=None):
            status.append(code.split()[0])
            return start_response(code, headers, exc_info)

        try:
            return wsgi_app(environ, recording_start_response)
        finally:
            log.info(
                '%s "%s %s" %s %.1fms',
                escaped(environ.get("REMOTE_ADDR", "-")),
                escaped(environ["REQUEST_METHOD"]),
                escaped(environ.get("PATH_INFO", "/")),
                status[0] if status else "-",
                (time.monotonic() - started) * 1000,
            )

    return logged


def stop(signum, frame):
    # waitress's run() returns on SystemExit, after stopping its workers.
    raise SystemExit(0)


def main():
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # A line per request: its record needs no caller, thread or process, and
    # finding them costs more than the rest of it (the logging HOWTO's
    # "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    app = create_app()
    if app.config["SECRET_KEY"] == PLACEHOLDER_SECRET_KEY:
        config = os.path.join(app.instance_path, "config.py")
        sys.exit(
            "flaskr-serve: SECRET_KEY is the placeholder 'dev'. Set a random one in "
            f"{config}, e.g.:\n  python3 -c 'import secrets; "
            'print(f"SECRET_KEY = {secrets.token_hex(32)!r}")\'' + f" >> {config}"
        )
    # Our own socket map, so that shutdown can close every open connection
    # and not just the listening socket.
    sockets = {}
    # Flask's limit, or 1 MiB if it has none: waitress buffers every body.
    body_limit = app.config["MAX_CONTENT_LENGTH"] or 1024 * 1024
    settings = server_settings(os.environ, body_limit)
    server = create_server(access_log(app), map=sockets, **settings)
    signal.signal(signal.SIGTERM, stop)
    server.print_listen("Serving on http://{}:{}")
    try:
        server.run()
    finally:
        wasyncore.close_all(sockets)
        app.extensions["redis"].close()
