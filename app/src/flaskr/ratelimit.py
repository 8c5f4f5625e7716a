"""Rate limits on logging in and registering, counted in Redis, that never
lock users out because Redis is down."""

from flask import render_template, request
from flask_limiter import Limiter, RateLimitExceeded

from . import auth


def init_app(app):
    # One limiter per app: Flask-Limiter keeps its storage and its on/off
    # switch on the instance, which several apps (as in tests) would share.
    limiter = Limiter(
        key_func=client_address,
        # The counter's connection pool, with its short timeouts and no
        # retries; the URI only names the kind of storage.
        storage_uri="redis://",
        storage_options={"connection_pool": app.extensions["redis"].connection_pool},
        # While Redis is down, count in this process's memory.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    init_for_blueprint(limiter, app, auth.bp)
    # Only the forms' POSTs count: the pages themselves always open.
    limiter.limit(app.config["AUTH_RATE_LIMIT_PER_ADDRESS"], methods=["POST"])(auth.bp)
    limiter.limit(
        app.config["AUTH_RATE_LIMIT_PER_USERNAME"],
        key_func=submitted_username,
        methods=["POST"],
    )(auth.bp)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def init_for_blueprint(limiter, app, blueprint):
    """limiter.init_app(app), with the hooks it adds run for blueprint's
    requests alone: every other page skips the limiter's work."""
    registries = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    )
    earlier = [list(registry.get(None, ())) for registry in registries]
    limiter.init_app(app)
    for registry, functions in zip(registries, earlier, strict=True):
        added = [f for f in registry.get(None, ()) if f not in functions]
        registry[None] = functions
        registry.setdefault(blueprint.name, []).extend(added)


def client_address():
    # waitress sets it from X-Forwarded-For when FLASKR_TRUSTED_PROXY is set.
    return f"address:{request.remote_addr}"


def submitted_username():
    # Cut to the longest valid username: a huge field makes no huge key.
    return "username:" + request.form.get("username", "")[: auth.MAX_USERNAME_LENGTH]


def too_many_requests(e):
    # The whole window: after it, the next attempt is certainly counted afresh.
    seconds = e.limit.limit.get_expiry()
    page = render_template("too_many_requests.html", seconds=seconds)
    return page, 429, {"Retry-After": str(seconds)}
