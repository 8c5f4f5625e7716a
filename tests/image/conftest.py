"""Fixtures for the image tests: the image, a Redis on a private network, and
app containers with a temporary instance folder. Everything runs on the real
Docker engine; containers and networks are named berth-imgtest-* and removed
afterwards, ports are published on 127.0.0.1 only.

BERTH_TEST_IMAGE=name:tag tests an existing image instead of building one.
"""

import json
import os
import secrets
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PREFIX = f"berth-imgtest-{uuid.uuid4().hex[:8]}"
APP_UID = 10001
REDIS_IMAGE = os.environ.get("BERTH_TEST_REDIS_IMAGE", "berth/redis:7-bookworm")
# Appended to the CA bundle the test build uses; it must never show up in the
# final image or its history.
CA_MARKER = b"# berth-imgtest: this CA bundle must stay in the builder stage"


def docker(*args, check=True, timeout=120):
    """Run the docker CLI and return its stripped stdout."""
    result = subprocess.run(
        ["docker", *args], check=False, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def ca_bundle(path):
    """pip's own CA bundle, the host's (it may hold a proxy's CA), and a marker."""
    import certifi

    bundles = [Path(certifi.where()), Path("/etc/ssl/certs/ca-certificates.crt")]
    text = b"".join(p.read_bytes() for p in bundles if p.exists())
    path.write_bytes(text + b"\n" + CA_MARKER + b"\n")
    return path


@pytest.fixture(scope="session")
def image(tmp_path_factory):
    """The flaskr image, built by `make image` as berth-imgtest-flaskr:test."""
    if name := os.environ.get("BERTH_TEST_IMAGE"):
        yield name
        return
    bundle = ca_bundle(tmp_path_factory.mktemp("ca") / "ca.crt")
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "image",
            "IMAGE=berth-imgtest-flaskr",
            "VERSION=test",
            f"PIP_CA_BUNDLE={bundle}",
        ],
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    yield "berth-imgtest-flaskr:test"
    docker("rmi", "berth-imgtest-flaskr:test", "berth-imgtest-flaskr:latest")


@pytest.fixture(scope="session")
def image_config(image):
    return json.loads(docker("image", "inspect", image))[0]


@dataclass
class SavedImage:
    """Every file of every layer of an image, as `docker save` writes it."""

    path: Path
    files: set

    @classmethod
    def save(cls, image, path):
        docker("save", "--output", str(path), image, timeout=300)
        files = set()
        for _layer, member in cls._members(path):
            files.add(member.name.removeprefix("./"))
        return cls(path, files)

    @staticmethod
    def _members(path):
        with tarfile.open(path) as outer:
            (manifest,) = json.load(outer.extractfile("manifest.json"))
            for layer in manifest["Layers"]:
                with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                    for member in inner:
                        yield inner, member

    def files_containing(self, needle):
        found = []
        for layer, member in self._members(self.path):
            if member.isfile() and needle in layer.extractfile(member).read():
                found.append(member.name)
        return found


@pytest.fixture(scope="session")
def saved_image(image, tmp_path_factory):
    return SavedImage.save(image, tmp_path_factory.mktemp("save") / "image.tar")


@pytest.fixture(scope="session")
def network():
    name = f"{PREFIX}-net"
    docker("network", "create", name)
    yield name
    docker("network", "rm", name, check=False)


@pytest.fixture(scope="session")
def redis(network):
    """A Redis container on the private network; yields its REDIS_URL."""
    if not docker("image", "ls", "--quiet", REDIS_IMAGE):
        subprocess.run([ROOT / "images/base-images.sh"], check=True, timeout=900)
    name = f"{PREFIX}-redis"
    docker("run", "--detach", "--name", name, "--network", network, REDIS_IMAGE)
    try:
        wait_until(lambda: docker("exec", name, "redis-cli", "ping", check=False))
        yield f"redis://{name}:6379/0"
    finally:
        docker("rm", "--force", name, check=False)


def wait_until(condition, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(interval)
    return result


def make_instance(path, redis_url=None):
    """An instance folder owned by the app's user, with config.py if redis_url."""
    path.mkdir()
    if redis_url:
        (path / "config.py").write_text(
            f"SECRET_KEY = {secrets.token_hex(32)!r}\nREDIS_URL = {redis_url!r}\n"
        )
    for p in [path, *path.iterdir()]:
        os.chown(p, APP_UID, APP_UID)
    return path


@dataclass
class App:
    """One running flaskr container."""

    name: str

    def state(self):
        return json.loads(docker("inspect", "--format", "{{json .State}}", self.name))

    def health(self):
        return self.state().get("Health", {}).get("Status")

    def wait_healthy(self, timeout=30):
        def healthy():
            state = self.state()
            if not state["Running"]:
                raise AssertionError(f"{self.name} exited:\n{self.logs()}")
            return state["Health"]["Status"] == "healthy"

        wait_until(healthy, timeout=timeout)

    def wait_exited(self, timeout=30):
        wait_until(lambda: not self.state()["Running"], timeout=timeout)
        return self.state()["ExitCode"]

    def logs(self):
        result = subprocess.run(
            ["docker", "logs", self.name], capture_output=True, text=True, check=True
        )
        return result.stdout + result.stderr

    @property
    def url(self):
        host, port = (
            docker("port", self.name, "8080/tcp").splitlines()[0].rsplit(":", 1)
        )
        return f"http://{host}:{port}"

    def get(self, path):
        return requests.get(self.url + path, timeout=5)


@pytest.fixture
def start_app(image, network, tmp_path):
    """Start the image with a temporary instance folder: start_app(redis_url),
    with more docker run options and a command if given."""
    started = []

    def start(redis_url=None, options=(), command=()):
        name = f"{PREFIX}-app{len(started)}"
        instance = make_instance(tmp_path / name, redis_url)
        docker(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            network,
            "--publish",
            "127.0.0.1::8080",
            "--volume",
            f"{instance}:/var/lib/flaskr",
            *options,
            image,
            *command,
        )
        started.append(name)
        return App(name)

    yield start
    for name in started:
        docker("rm", "--force", "--volumes", name, check=False)
