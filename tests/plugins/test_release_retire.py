"""The module berth.deploy.release_retire (plugins/modules/release_retire.py):
it counts the requests the proxy has in flight to a release over the admin
API's unix socket, and removes containers and images on this machine's
real engine (check mode: none)."""

import json
import socketserver
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
from ansible_collections.berth.deploy.plugins.modules import release_retire
from run_module import run_module

UPSTREAMS = [
    {"address": "flaskr-old-1:8080", "num_requests": 2, "fails": 0},
    {"address": "flaskr-old-2:8080", "num_requests": 1, "fails": 0},
    {"address": "flaskr-new-1:8080", "num_requests": 7, "fails": 0},
]


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class Caddy(BaseHTTPRequestHandler):
    """Caddy's admin API, as far as the module asks it."""

    def address_string(self):
        return "unix"

    def do_GET(self):
        assert self.path == "/reverse_proxy/upstreams"
        assert self.headers["Host"] == ""
        body = json.dumps(UPSTREAMS).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_requests_in_flight_to_the_release_are_counted(tmp_path):
    path = str(tmp_path / "admin.sock")
    server = Server(path, Caddy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        old = {"flaskr-old-1:8080", "flaskr-old-2:8080"}
        assert release_retire.in_flight(path, old) == 3
        assert release_retire.in_flight(path, {"flaskr-gone-1:8080"}) == 0
    finally:
        server.shutdown()


def test_the_admin_socket_is_found_where_the_proxy_mounts_it(tmp_path):
    (tmp_path / "admin.sock").touch()
    proxy = {"Mounts": [
        {"Type": "volume", "Source": "/var/lib/docker/volumes/proxy-data/_data", "Destination": "/data"},
        {"Type": "volume", "Source": str(tmp_path), "Destination": "/config"},
    ]}  # fmt: skip
    found = release_retire.socket_on_host(proxy, "/config/admin.sock")
    assert found == str(tmp_path / "admin.sock")
    # No such mount, or no socket there yet (a proxy not reloaded since an
    # earlier berth started it): nothing to ask.
    assert release_retire.socket_on_host(proxy, "/srv/admin.sock") is None
    assert release_retire.socket_on_host(proxy, "/config/other.sock") is None


def retire(*options, **arguments):
    return run_module("release_retire", *options, **arguments)


def docker(*args, check=True):
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check
    )


@pytest.mark.engine
def test_it_removes_the_containers_and_images_and_check_mode_none():
    images = docker("images", "--quiet", "--filter", "dangling=false").stdout.split()
    if not images:
        pytest.skip("no image on this engine")
    name = f"berth-test-{uuid.uuid4().hex[:8]}"
    tag = f"berth-test/retired:{name}"
    docker("tag", images[0], tag)
    docker("create", "--name", name, images[0], "true")
    try:
        # A proxy with no admin socket (here: none) is not waited for.
        drain = {"proxy": f"{name}-proxy", "admin_socket": "/config/admin.sock",
                 "port": 8080, "seconds": 30}  # fmt: skip
        arguments = {
            "containers": [name, f"{name}-gone"],
            "images": [tag],
            "drain": drain,
        }
        seen = retire("--check", **arguments)
        assert seen["changed"]
        assert seen["removed"] == {"containers": [name], "images": [tag]}
        assert docker("inspect", name, check=False).returncode == 0
        removed = retire(**arguments)
        assert removed["changed"] and not removed["drained"]
        assert docker("inspect", name, check=False).returncode != 0
        assert docker("image", "inspect", tag, check=False).returncode != 0
        assert not retire(**arguments)["changed"]
    finally:
        docker("rm", "--force", name, check=False)
        docker("image", "rm", tag, check=False)
