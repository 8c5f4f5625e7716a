#!/usr/bin/python
"""Retire an app's releases: drain them at the proxy, then remove their
containers and images, in one round trip."""

DOCUMENTATION = r"""
module: release_retire
short_description: Drain releases at the proxy, then remove their containers and images
description:
  - With O(drain), waits until the proxy has no request in flight to
    O(containers), for at most O(drain.seconds). The proxy (Caddy) counts
    them in its admin API, which listens on a unix socket in one of its
    volumes, read here from the host. A proxy that has no such socket
    (started by an earlier berth and not reloaded since) is not waited for.
  - Then stops and removes each of O(containers), as
    M(community.docker.docker_container) with C(state=absent) does (with
    O(state=stopped), only stops them), and removes each image of O(images)
    (its tag) the host has.
  - In check mode it removes nothing and says what it would remove.
options:
  containers:
    description: The names of the containers to remove.
    type: list
    elements: str
    default: []
  state:
    description: Whether the containers go (V(absent)) or stay, stopped (V(stopped)).
    type: str
    choices: [absent, stopped]
    default: absent
  images:
    description: The images to remove, by name and tag.
    type: list
    elements: str
    default: []
  drain:
    description: Where the proxy counts the requests in flight to O(containers).
    type: dict
    suboptions:
      proxy:
        description: The proxy's container.
        type: str
        required: true
      admin_socket:
        description: The path of the admin API's unix socket in the proxy's container.
        type: str
        required: true
      port:
        description: The port the proxy reaches O(containers) at.
        type: int
        required: true
      seconds:
        description: How long to wait at most; the containers go after it whatever they serve.
        type: int
        required: true
extends_documentation_fragment:
  - community.docker.docker.api_documentation
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Retire the earlier release
  berth.deploy.release_retire:
    containers: [flaskr-0123456789ab-1]
    images: [registry.example.com/flaskr:1.0]
    drain:
      proxy: berth-proxy
      admin_socket: /config/admin.sock
      port: 8080
      seconds: 30
"""

RETURN = r"""
removed:
  description: The containers and images removed (or, in check mode, that would be).
  returned: always
  type: dict
drained:
  description: Whether the proxy had no request in flight to the containers when they went.
  returned: always
  type: bool
"""

import http.client
import json
import os
import socket
import time

from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
)


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket."""

    def __init__(self, path):
        super().__init__("localhost", timeout=2)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(2)
        self.sock.connect(self.path)


def in_flight(path, addresses):
    """The requests the proxy has in flight to addresses."""
    connection = UnixConnection(path)
    try:
        # Caddy accepts only an empty Host on a unix socket.
        connection.request("GET", "/reverse_proxy/upstreams", headers={"Host": ""})
        upstreams = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return sum(u["num_requests"] for u in upstreams or [] if u["address"] in addresses)


def socket_on_host(container, path):
    """Where on the host the socket the container sees at path is (in one
    of its mounts, docker inspect's Mounts), or None when it is not there."""
    for mount in container.get("Mounts") or []:
        if mount.get("Destination") == os.path.dirname(path):
            found = os.path.join(mount["Source"], os.path.basename(path))
            return found if os.path.exists(found) else None
    return None


def drain(client, containers, proxy, admin_socket, port, seconds):
    """Wait until the proxy has no request in flight to containers; whether it came to that."""
    try:
        path = socket_on_host(
            client.get_json("/containers/{0}/json", proxy), admin_socket
        )
    except NotFound:
        path = None
    if path is None:
        return False
    addresses = {f"{name}:{port}" for name in containers}
    deadline = time.monotonic() + seconds
    while True:
        try:
            if in_flight(path, addresses) == 0:
                return True
        except (OSError, ValueError, http.client.HTTPException):
            pass  # a proxy that reloads may not answer for a moment
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def exists(client, kind, name):
    try:
        client.get_json("/{0}/{1}/json", kind, name)
    except NotFound:
        return False
    return True


def present(client, name, state):
    """Whether the container is there to remove (or, for state stopped, to stop)."""
    try:
        container = client.get_json("/containers/{0}/json", name)
    except NotFound:
        return False
    return state == "absent" or container["State"]["Running"]


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "containers": {"type": "list", "elements": "str", "default": []},
            "images": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["absent", "stopped"], "default": "absent"},
            "drain": {"type": "dict", "options": {
                "proxy": {"type": "str", "required": True},
                "admin_socket": {"type": "str", "required": True},
                "port": {"type": "int", "required": True},
                "seconds": {"type": "int", "required": True},
            }},
        },
        supports_check_mode=True,
    )  # fmt: skip
    params = client.module.params
    containers = [
        name for name in params["containers"] if exists(client, "containers", name)
    ]
    images = [name for name in params["images"] if exists(client, "images", name)]
    drained = False
    if not client.module.check_mode:
        if containers and params["drain"]:
            drained = drain(client, containers, **params["drain"])
        for name in containers:
            # Stopped first, as docker_container does: the app shuts down gracefully.
            client.post_call("/containers/{0}/stop", name)
            client.delete_call(
                "/containers/{0}", name, params={"v": False, "force": True}
            )
        for name in images:
            client.delete_call("/images/{0}", name)
    client.module.exit_json(
        changed=bool(containers or images),
        removed={"containers": containers, "images": images},
        drained=drained,
    )


if __name__ == "__main__":
    main()
