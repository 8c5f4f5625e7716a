import functools
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis

from flaskr import create_app
from flaskr.db import get_db, init_db

with open(os.path.join(os.path.dirname(__file__), "data.sql"), "rb") as f:
    _data_sql = f.read().decode("utf8")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Nothing listens here: the counter sees Redis as down unless a test starts it.
NO_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def make_app(tmp_path):
    """Build a test app on a fresh database holding the tutorial's data."""
    apps = []

    def make(**config):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE": str(tmp_path / "flaskr.sqlite"),
                "REDIS_URL": NO_REDIS_URL,
                **config,
            }
        )
        with app.app_context():
            init_db()
            get_db().executescript(_data_sql)
        apps.append(app)
        return app

    yield make
    # Apps sit in reference cycles, so only the garbage collector would free
    # their Redis sockets, later and in any order: close them now.
    for app in apps:
        app.extensions["redis"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="test", password="test"):
        return self._client.post(
            "/auth/login", data={"username": username, "password": password}
        )

    def logout(self):
        return self._client.get("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class RedisServer:
    """A real redis-server on a free loopback port, stoppable mid-test."""

    def __init__(self, workdir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: apt-get install -y redis-server"
            )
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        with redis.Redis(port=self.port) as client:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(str(tmp_path_factory.mktemp("redis")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_redis_app(make_app, redis_server):
    """Build test apps on the real Redis, emptied first."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushdb()
    return functools.partial(make_app, REDIS_URL=redis_server.url)


@pytest.fixture
def redis_app(make_redis_app):
    """The app with its counter on the real Redis, emptied first."""
    return make_redis_app()


@pytest.fixture
def silent_redis():
    """A TCP server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        accepted = []
        stop = threading.Event()

        def accept():
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept)
        thread.start()
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
