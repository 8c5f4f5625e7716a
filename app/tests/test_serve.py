"""flaskr-serve: waitress from the environment, over real HTTP."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from conftest import free_port

from flaskr import serve


def test_server_settings_defaults():
    assert serve.server_settings({}) == {
        "host": "0.0.0.0",
        "port": 8080,
        "threads": 4,
        "ident": "flaskr",
    }


def test_server_settings_from_environment():
    settings = serve.server_settings(
        {
            "FLASKR_HOST": "127.0.0.1",
            "PORT": "9000",
            "FLASKR_THREADS": "8",
            "FLASKR_TRUSTED_PROXY": "172.18.0.2",
        }
    )
    assert settings["host"] == "127.0.0.1"
    assert settings["port"] == 9000
    assert settings["threads"] == 8
    assert settings["trusted_proxy"] == "172.18.0.2"
    assert "x-forwarded-proto" in settings["trusted_proxy_headers"]


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
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    assert f"Serving on http://127.0.0.1:{port}" in output
    assert '"GET /readyz" 200' in output
