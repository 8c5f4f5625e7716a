"""Page-view counter in Redis that never takes a page down with it."""

import redis
from flask import current_app, request, url_for
from redis.backoff import NoBackoff
from redis.retry import Retry

KEY_PREFIX = "flaskr:views:"
# A dead Redis may cost a request at most about this many seconds.
TIMEOUT = 0.25


def init_app(app):
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"],
        socket_connect_timeout=TIMEOUT,
        socket_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    app.context_processor(lambda: {"page_views": count_view()})


def get_redis():
    return current_app.extensions["redis"]


def count_view():
    """Count one view of the page this request matched; return the total, or
    None if it matched none or Redis is down."""
    if request.url_rule is None:
        # Counting any path asked for would let anyone fill Redis with keys.
        return None
    # The route's own URL for its arguments: /02/update counts as /2/update.
    path = url_for(request.endpoint, **request.view_args)
    try:
        return get_redis().incr(KEY_PREFIX + path)
    except redis.RedisError as e:
        current_app.logger.warning("Page counter unavailable: %s", e)
        return None
