"""The page counter against a real redis-server, including Redis going away."""

import logging
import re
import time

COUNTER = re.compile(rb"This page has been seen (\d+) times\.")
UNAVAILABLE = b"The page counter is unavailable right now."


def views(response):
    match = COUNTER.search(response.data)
    assert match, response.data
    return int(match.group(1))


def test_counter_increments_per_page(redis_app):
    client = redis_app.test_client()

    assert [views(client.get("/")) for _ in range(3)] == [1, 2, 3]
    assert views(client.get("/auth/login")) == 1
    assert views(client.get("/")) == 4


def test_page_renders_without_redis(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/")

    assert response.status_code == 200
    assert UNAVAILABLE in response.data
    assert b"test title" in response.data
    assert "Page counter unavailable" in caplog.text


def test_counter_survives_redis_going_away_and_coming_back(redis_app, redis_server):
    client = redis_app.test_client()
    assert views(client.get("/")) == 1

    redis_server.stop()
    try:
        response = client.get("/")
        assert response.status_code == 200
        assert UNAVAILABLE in response.data
    finally:
        redis_server.start()

    # The server came back empty (no persistence in tests); counting resumes.
    assert views(client.get("/")) == 1
    assert views(client.get("/")) == 2


def test_hung_redis_costs_a_request_little(make_app, silent_redis):
    client = make_app(REDIS_URL=silent_redis).test_client()

    started = time.monotonic()
    response = client.get("/")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert UNAVAILABLE in response.data
    # The socket timeout bounds the wait; without it this would hang.
    assert elapsed < 2, f"a hung Redis held the request for {elapsed:.2f} s"
