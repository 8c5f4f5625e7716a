"""flaskr-serve: waitress from the environment, over real HTTP."""

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis
from conftest import free_port
from werkzeug.test import Client

from flaskr import serve


def test_server_settings_defaults():
    assert serve.server_settings({}) == {
        "host": "0.0.0.0",
        "port": 8080,
        "threads": 4,
        "ident": "flaskr",
        "max_request_body_size": 1024 * 1024,
        "max_request_header_size": 64 * 1024,
        "connection_limit": 100,
        "channel_timeout": 30,
    }


def test_the_body_limit_defaults_to_the_apps():
    assert serve.server_settings({}, 2048)["max_request_body_size"] == 2048


def test_server_settings_from_environment():
    settings = serve.server_settings(
        {
            "FLASKR_HOST": "127.0.0.1",
            "PORT": "9000",
            "FLASKR_THREADS": "8",
            "FLASKR_TRUSTED_PROXY": "172.18.0.2",
            "FLASKR_MAX_REQUEST_BODY_SIZE": "2048",
            "FLASKR_MAX_REQUEST_HEADER_SIZE": "4096",
            "FLASKR_CONNECTION_LIMIT": "10",
            "FLASKR_CHANNEL_TIMEOUT": "5",
        }
    )
    assert settings["host"] == "127.0.0.1"
    assert settings["port"] == 9000
    assert settings["threads"] == 8
    assert settings["max_request_body_size"] == 2048
    assert settings["max_request_header_size"] == 4096
    assert settings["connection_limit"] == 10
    assert settings["channel_timeout"] == 5
    assert settings["trusted_proxy"] == "172.18.0.2"
    assert "x-forwarded-proto" in settings["trusted_proxy_headers"]


@pytest.mark.parametrize(
    ("name", "value"),
    (
        ("PORT", "http"),
        ("PORT", "70000"),
        ("FLASKR_THREADS", "0"),
        ("FLASKR_MAX_REQUEST_BODY_SIZE", "1M"),
        ("FLASKR_MAX_REQUEST_HEADER_SIZE", "-1"),
        ("FLASKR_CONNECTION_LIMIT", ""),
        ("FLASKR_CHANNEL_TIMEOUT", "2.5"),
    ),
)
def test_bad_setting_stops_start_naming_the_variable(name, value):
    with pytest.raises(SystemExit) as exit:
        serve.server_settings({name: value})

    assert str(exit.value.code).startswith(f"flaskr-serve: {name} must be a whole")
    assert repr(value) in str(exit.value.code)


def logged_line(app, caplog, path, method="GET", client="192.0.2.1"):
    """The access log's line for one request to app through serve.access_log."""
    caplog.set_level(logging.INFO, logger="flaskr.access")
    Client(serve.access_log(app)).open(
        path, method=method, environ_base={"REMOTE_ADDR": client}
    )
    (record,) = [r for r in caplog.records if r.name == "flaskr.access"]
    return record.getMessage()


def test_access_log_line(app, caplog):
    line = logged_line(app, caplog, "/hello")
    assert re.fullmatch(r'192\.0\.2\.1 "GET /hello" 200 [0-9.]+ms', line)


@pytest.mark.parametrize(
    ("path", "method", "client", "logged"),
    (
        # %0a is a newline in PATH_INFO: the rest would be a line of its own.
        (
            '/x%0a203.0.113.9 "GET /admin" 200 1.0ms',
            "GET",
            "192.0.2.1",
            '"GET /x\\x0a203.0.113.9 \\x22GET /admin\\x22 200 1.0ms"',
        ),
        ("/a%22%5c%0d%09%7f", "GET", "192.0.2.1", '"GET /a\\x22\\x5c\\x0d\\x09\\x7f"'),
        ("/caf%C3%A9", "GET", "192.0.2.1", '"GET /caf\\xc3\\xa9"'),
        ("/", 'GET" 200', "192.0.2.1", '"GET\\x22 200 /"'),
        ("/", "GET", '192.0.2.1 "GET /', '192.0.2.1 \\x22GET / "GET /"'),
    ),
)
def test_access_log_escapes_what_could_forge_a_line_or_field(
    app, caplog, path, method, client, logged
):
    line = logged_line(app, caplog, path, method, client)

    assert logged in line
    assert line.isprintable()
    assert line.count('"') == 2


@pytest.fixture
def instance(tmp_path, monkeypatch, redis_server):
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text(
        f"SECRET_KEY = 'x' * 64\nREDIS_URL = {redis_server.url!r}\n"
    )
    return tmp_path


def test_refuses_the_placeholder_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(tmp_path))

    with pytest.raises(SystemExit) as exit:
        serve.main()

    message = str(exit.value.code)
    assert "SECRET_KEY is the placeholder 'dev'" in message
    assert str(tmp_path / "config.py") in message
    assert "secrets.token_hex(32)" in message


def wait_for(url, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serves_and_stops_on_sigterm(instance, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="flaskr.access")
    port = free_port()
    monkeypatch.setenv("FLASKR_HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", str(port))
    answers = []

    def client():
        try:
            answers.append(wait_for(f"http://127.0.0.1:{port}/healthz"))
            answers.append(wait_for(f"http://127.0.0.1:{port}/"))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=client)
    try:
        thread.start()
        serve.main()  # returns once SIGTERM has closed the server
    finally:
        thread.join()
        signal.signal(signal.SIGTERM, previous)

    assert [status for status, _ in answers] == [200, 200]
    assert b"This page has been seen 1 times." in answers[1][1]
    assert '"GET /healthz" 200' in caplog.text


def test_console_script_end_to_end(instance):
    script = os.path.join(os.path.dirname(sys.executable), "flaskr-serve")
    port = free_port()
    env = {**os.environ, "FLASKR_HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        [script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/readyz")
        assert (status, body) == (200, b'{"status":"ready"}\n')
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/%0aforged", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    assert f"Serving on http://127.0.0.1:{port}" in output
    assert '"GET /readyz" 200' in output
    assert '"GET /\\x0aforged" 404' in output


@pytest.fixture
def start_server(instance):
    """Start flaskr-serve in a child process with extra environment; return
    its base URL once it answers. Every server started is stopped after."""
    script = os.path.join(os.path.dirname(sys.executable), "flaskr-serve")
    processes = []

    def start(**environ):
        port = free_port()
        env = {**os.environ, "FLASKR_HOST": "127.0.0.1", "PORT": str(port), **environ}
        processes.append(subprocess.Popen([script], env=env, stdout=subprocess.DEVNULL))
        wait_for(f"http://127.0.0.1:{port}/healthz")
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def post(url, body, headers=()):
    request = urllib.request.Request(url, data=body, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_waitress_refuses_an_oversized_body(start_server):
    url = start_server(FLASKR_MAX_REQUEST_BODY_SIZE="1000") + "/auth/login"

    status, body = post(url, b"x" * 1000)

    assert status == 413
    assert b"exceeds max_body of 1000" in body


def test_rate_limit_counts_each_client_behind_the_proxy(
    instance, start_server, redis_server
):
    # flaskr-serve as deployed: limits on, behind a trusted proxy.
    with (instance / "config.py").open("a") as config:
        config.write("WTF_CSRF_ENABLED = False\n")
        config.write("AUTH_RATE_LIMIT_PER_ADDRESS = '2 per minute'\n")
    with redis.Redis.from_url(redis_server.url) as r:
        r.flushdb()
    url = start_server(FLASKR_TRUSTED_PROXY="127.0.0.1") + "/auth/login"

    def login_from(address, username):
        form = urllib.parse.urlencode({"username": username, "password": "x"})
        return post(url, form.encode(), {"X-Forwarded-For": address})[0]

    assert [login_from("192.0.2.1", f"user{n}") for n in range(3)] == [200, 200, 429]
    assert login_from("192.0.2.2", "user3") == 200
