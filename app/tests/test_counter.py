"""The page counter against a real redis-server, including Redis going away."""

import logging
import re
import time

import redis
from flask import render_template

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


def test_one_page_is_one_key_however_its_url_is_spelled(redis_app, redis_server):
    client = redis_app.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})

    seen = [views(client.get(path)) for path in ("/1/update", "/01/update")]
    seen.append(views(client.get("/0001/update")))

    assert seen == [1, 2, 3]
    with redis.Redis.from_url(redis_server.url) as r:
        assert r.keys("flaskr:views:*") == [b"flaskr:views:/1/update"]


def test_counts_kept_under_earlier_keys_go_on(redis_app, redis_server):
    with redis.Redis.from_url(redis_server.url) as r:
        r.set("flaskr:views:/", 41)
        r.set("flaskr:views:/auth/login", 7)
    client = redis_app.test_client()

    assert views(client.get("/?page=1")) == 42
    assert views(client.get("/auth/login")) == 8


def test_a_path_that_matched_no_route_makes_no_key(redis_app, redis_server):
    # A page for unknown paths that shows the counter, as a site might add.
    redis_app.register_error_handler(404, lambda e: (render_template("base.html"), 404))
    client = redis_app.test_client()

    response = client.get("/no/such/page")

    assert response.status_code == 404
    with redis.Redis.from_url(redis_server.url) as r:
        assert r.keys("flaskr:views:*") == []


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
