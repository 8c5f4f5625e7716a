"""Bounded inputs: request size, field lengths and a paginated index."""

import re

import pytest

from flaskr.db import get_db


def test_request_body_over_max_content_length_is_refused(client):
    response = client.post(
        "/auth/login", data={"username": "test", "password": "x" * 1024 * 1024}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("path", ("/auth/register", "/auth/login"))
@pytest.mark.parametrize(
    ("username", "password", "message"),
    (
        ("a" * 65, "test", b"Username must be at most 64 characters."),
        ("test", "a" * 1025, b"Password must be at most 1,024 characters."),
    ),
)
def test_credentials_too_long(client, path, username, password, message):
    response = client.post(path, data={"username": username, "password": password})
    assert response.status_code == 200
    assert message in response.data


def test_credentials_at_their_limits_are_accepted(client, auth):
    username, password = "u" * 64, "p" * 1024
    response = client.post(
        "/auth/register", data={"username": username, "password": password}
    )
    assert response.headers["Location"] == "/auth/login"
    assert auth.login(username, password).headers["Location"] == "/"


@pytest.mark.parametrize("path", ("/create", "/1/update"))
@pytest.mark.parametrize(
    ("title", "body", "message"),
    (
        ("t" * 201, "", b"Title must be at most 200 characters."),
        ("title", "b" * 20_001, b"Body must be at most 20,000 characters."),
    ),
)
def test_post_too_long(app, client, auth, path, title, body, message):
    auth.login()
    response = client.post(path, data={"title": title, "body": body})
    assert message in response.data
    with app.app_context():
        titles = [row[0] for row in get_db().execute("SELECT title FROM post")]
    assert titles == ["test title"]


@pytest.mark.parametrize("path", ("/create", "/1/update"))
def test_post_at_its_limits_is_accepted(client, auth, path):
    auth.login()
    # A browser sends each line break of a textarea as CRLF: one character.
    body = "b\r\n" * 10_000
    response = client.post(path, data={"title": "t" * 200, "body": body})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("path", "limits"),
    (
        ("/auth/register", (b'maxlength="64"', b'maxlength="1024"')),
        ("/auth/login", (b'maxlength="64"', b'maxlength="1024"')),
        ("/create", (b'maxlength="200"', b'maxlength="20000"')),
        ("/1/update", (b'maxlength="200"', b'maxlength="20000"')),
    ),
)
def test_forms_carry_the_limits(client, auth, path, limits):
    auth.login()
    page = client.get(path).data
    for limit in limits:
        assert limit in page


@pytest.mark.parametrize(
    "path", ("/99999999999999999999/update", "/99999999999999999999/delete")
)
def test_post_id_past_sqlite_integers_is_not_found(client, auth, path):
    auth.login()
    assert client.post(path).status_code == 404


TITLE = re.compile(rb"<h1>post (\d+)</h1>")


@pytest.fixture
def blog(make_app):
    """25 posts, one a day, so the newest is post 25; 10 posts a page."""
    app = make_app()
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM post")
        db.executemany(
            "INSERT INTO post (title, body, author_id, created)"
            " VALUES (?, '', 1, datetime('2020-01-01', ? || ' days'))",
            [(f"post {n}", n) for n in range(1, 26)],
        )
        db.commit()
    return app.test_client()


def titles(response):
    return [int(n) for n in TITLE.findall(response.data)]


def test_index_pages_newest_first(blog):
    first = blog.get("/")
    assert titles(first) == list(range(25, 15, -1))
    assert b'<a rel="next" href="/?page=2">Older</a>' in first.data
    assert b"Newer" not in first.data

    middle = blog.get("/?page=2")
    assert titles(middle) == list(range(15, 5, -1))
    assert b'<a rel="prev" href="/?page=1">Newer</a>' in middle.data
    assert b'<a rel="next" href="/?page=3">Older</a>' in middle.data

    last = blog.get("/?page=3")
    assert titles(last) == list(range(5, 0, -1))
    assert b"Newer" in last.data
    assert b"Older" not in last.data


def test_posts_of_the_same_second_keep_their_page(app, client):
    with app.app_context():
        db = get_db()
        db.executemany(
            "INSERT INTO post (title, body, author_id, created)"
            " VALUES (?, '', 1, '2020-01-01 00:00:00')",
            [(f"post {n}",) for n in range(2, 13)],
        )
        db.commit()

    pages = titles(client.get("/")) + titles(client.get("/?page=2"))
    assert pages == list(range(12, 1, -1))


def test_posts_per_page_is_configurable(make_app):
    client = make_app(POSTS_PER_PAGE=1).test_client()
    assert b"test title" in client.get("/").data
    assert client.get("/?page=2").status_code == 404


def test_empty_blog_has_a_first_page(app, client):
    with app.app_context():
        get_db().execute("DELETE FROM post").connection.commit()
    response = client.get("/")
    assert response.status_code == 200
    assert b"Older" not in response.data


@pytest.mark.parametrize(
    "page", ("4", "0", "-1", "+1", " 1", "01", "1.5", "abc", "", "9" * 5000)
)
def test_page_out_of_range_or_not_a_number_is_not_found(blog, page):
    assert blog.get("/", query_string={"page": page}).status_code == 404
