"""Rate limits on login and registration, against a real redis-server,
including Redis down, going away and hung."""

import functools
import logging
import time

import pytest
import redis

from flaskr import create_app

WAIT = b"Please wait 60 seconds, then try again."


@pytest.fixture
def limited_app(make_redis_app):
    return make_redis_app(RATELIMIT_ENABLED=True)


def post_from(client, address, path="/auth/login", username="test", password="x"):
    return client.post(
        path,
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_rate_limits_are_on_outside_tests(app):
    config = create_app().config
    assert config["RATELIMIT_ENABLED"] is True
    assert config["AUTH_RATE_LIMIT_PER_ADDRESS"] == "10 per minute"
    assert config["AUTH_RATE_LIMIT_PER_USERNAME"] == "5 per minute"
    assert app.config["RATELIMIT_ENABLED"] is False


def test_tests_are_not_limited(client):
    statuses = {post_from(client, "192.0.2.1").status_code for _ in range(12)}
    assert statuses == {200}


def test_a_username_is_limited_from_any_address(limited_app):
    client = limited_app.test_client()
    for n in range(5):
        assert post_from(client, f"192.0.2.{n}").status_code == 200

    refused = post_from(client, "192.0.2.9")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert WAIT in refused.data
    # Other users, and the form itself, are not refused.
    assert post_from(client, "192.0.2.9", username="other").status_code == 200
    assert client.get("/auth/login").status_code == 200


def test_an_address_is_limited_whatever_the_username(limited_app):
    client = limited_app.test_client()
    for n in range(10):
        assert post_from(client, "192.0.2.1", username=f"user{n}").status_code == 200

    assert post_from(client, "192.0.2.1", username="new").status_code == 429
    assert post_from(client, "192.0.2.2", username="new").status_code == 200


def test_registration_is_limited(limited_app):
    client = limited_app.test_client()
    for n in range(10):
        response = post_from(client, "192.0.2.1", "/auth/register", f"user{n}")
        assert response.headers["Location"] == "/auth/login"

    refused = post_from(client, "192.0.2.1", "/auth/register", "new")

    assert refused.status_code == 429
    assert WAIT in refused.data


def test_limits_come_from_the_config(make_redis_app):
    client = make_redis_app(
        RATELIMIT_ENABLED=True,
        AUTH_RATE_LIMIT_PER_ADDRESS="3 per hour",
        AUTH_RATE_LIMIT_PER_USERNAME="2 per hour",
    ).test_client()
    assert post_from(client, "192.0.2.1", username="a").status_code == 200
    assert post_from(client, "192.0.2.2", username="a").status_code == 200
    assert post_from(client, "192.0.2.3", username="a").status_code == 429
    assert post_from(client, "192.0.2.1", username="b").status_code == 200
    assert post_from(client, "192.0.2.1", username="c").status_code == 200

    refused = post_from(client, "192.0.2.1", username="d")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"


def test_clearing_the_keys_in_redis_lifts_a_limit(limited_app, redis_server):
    """What app/README.md tells operators and tests to do."""
    client = limited_app.test_client()
    for n in range(6):
        post_from(client, f"192.0.2.{n}")
    assert post_from(client, "192.0.2.9").status_code == 429

    with redis.Redis.from_url(redis_server.url) as r:
        keys = r.keys("LIMITS:LIMITER/*")
        assert b"LIMITS:LIMITER/username:test/auth.login/5/1/minute" in keys
        r.delete(*keys)

    assert post_from(client, "192.0.2.9").status_code == 200


def test_a_huge_username_makes_no_huge_key(limited_app, redis_server):
    post_from(limited_app.test_client(), "192.0.2.1", username="u" * 100_000)

    with redis.Redis.from_url(redis_server.url) as r:
        assert max(len(key) for key in r.keys("LIMITS:LIMITER/*")) < 200


def test_login_works_and_is_limited_with_redis_down(make_app, caplog):
    # Nothing listens at make_app's REDIS_URL.
    client = make_app(RATELIMIT_ENABLED=True).test_client()

    with caplog.at_level(logging.WARNING):
        assert post_from(client, "192.0.2.1", password="test").status_code == 302

    assert "falling back to in-memory storage" in caplog.text
    # Counted in memory meanwhile, so guessing is still bounded.
    for n in range(4):
        assert post_from(client, f"192.0.2.{n}").status_code == 200
    assert post_from(client, "192.0.2.9").status_code == 429


def test_login_works_while_redis_goes_away(limited_app, redis_server):
    client = limited_app.test_client()
    assert post_from(client, "192.0.2.1", password="test").status_code == 302

    redis_server.stop()
    try:
        assert post_from(client, "192.0.2.1", password="test").status_code == 302
    finally:
        redis_server.start()


def test_hung_redis_costs_a_login_little(make_app, silent_redis):
    client = make_app(REDIS_URL=silent_redis, RATELIMIT_ENABLED=True).test_client()

    for _ in range(2):
        started = time.monotonic()
        response = post_from(client, "192.0.2.1", password="test")
        elapsed = time.monotonic() - started

        assert response.status_code == 302
        # The counter's socket timeouts bound the wait; without them a login
        # would hang.
        assert elapsed < 1, f"a hung Redis held a login for {elapsed:.2f} s"


def test_only_the_auth_pages_run_the_limiter(limited_app):
    """Every other page skips its work: its hooks are the auth blueprint's."""
    (limiter,) = limited_app.extensions["limiter"]

    def limiters(hooks):
        owners = (
            f.args[0]
            if isinstance(f, functools.partial)
            else getattr(f, "__self__", None)
            for f in hooks
        )
        return [owner for owner in owners if owner is limiter]

    for registry in (
        limited_app.before_request_funcs,
        limited_app.after_request_funcs,
        limited_app.teardown_request_funcs,
    ):
        assert limiters(registry[None]) == []
        assert limiters(registry["auth"]) == [limiter]
