import re

import pytest


@pytest.fixture
def protected_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def csrf_token(client, path):
    page = client.get(path).data
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def test_csrf_is_on_outside_tests(app):
    from flaskr import create_app

    assert create_app().config["WTF_CSRF_ENABLED"] is True
    assert app.config["WTF_CSRF_ENABLED"] is False


def test_form_without_token_is_refused(protected_client):
    response = protected_client.post(
        "/auth/login", data={"username": "test", "password": "test"}
    )
    assert response.status_code == 400
    assert b"CSRF" in response.data


def test_form_with_token_is_accepted(protected_client):
    token = csrf_token(protected_client, "/auth/login")
    response = protected_client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ("/create", "/1/update"))
def test_post_forms_carry_a_token(protected_client, path):
    token = csrf_token(protected_client, "/auth/login")
    protected_client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": token},
    )
    assert csrf_token(protected_client, path)


def test_session_cookie_is_httponly_and_lax(client, auth):
    auth.login()
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure
