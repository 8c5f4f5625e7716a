#!/usr/bin/python
"""Wait until a release's containers are ready, in one round trip."""

DOCUMENTATION = r"""
module: release_ready
short_description: Wait until a release's containers are ready, in one round trip
description:
  - Waits until each of O(containers) runs, Docker reports it healthy (if its
    image has a HEALTHCHECK), and O(path) answers 200 at its address on
    O(network), port O(port), from outside the image, which needs no shell,
    Python or curl for this.
  - Asks every O(delay) seconds, on the host, and fails after O(timeout)
    seconds, or at once when a container stopped and Docker does not restart
    it, with what Docker reports of that container (RV(container)).
  - Once they are, with O(history), writes O(record) there, whole, as the
    release history, so that the release is recorded as next before the proxy is
    pointed at it. Writing it is the only change the module reports.
  - The decision is in plugins/module_utils/readiness.py.
options:
  containers:
    description: The release's containers, by name.
    type: list
    elements: str
    required: true
  network:
    description: The Docker network the containers are asked on.
    type: str
    required: true
  port:
    description: The port the containers serve on.
    type: int
    required: true
  path:
    description: The path that answers 200 once a container is ready.
    type: str
    required: true
  timeout:
    description: Seconds to wait for all of them.
    type: float
    required: true
  delay:
    description: Seconds between two looks.
    type: float
    default: 0.2
extends_documentation_fragment:
  - berth.deploy.release_history
  - community.docker.docker.api_documentation
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Wait until the release is ready
  berth.deploy.release_ready:
    containers: [flaskr-0123456789ab-1]
    network: berth
    port: 8080
    path: /readyz
    timeout: 60
"""

RETURN = r"""
seconds:
  description: How long the release took to be ready.
  returned: success
  type: float
container:
  description: What Docker reported of the container that was not ready (docker inspect).
  returned: failure
  type: dict
"""

import time

from ansible_collections.berth.deploy.plugins.module_utils.history_file import (
    HISTORY_OPTIONS,
    write_history,
)
from ansible_collections.berth.deploy.plugins.module_utils.readiness import (
    ASK,
    FAILED,
    address,
    answers,
    container_state,
)
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
)


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "containers": {"type": "list", "elements": "str", "required": True},
            "network": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "path": {"type": "str", "required": True},
            "timeout": {"type": "float", "required": True},
            "delay": {"type": "float", "default": 0.2},
            **HISTORY_OPTIONS,
        },
        required_together=[["history", "record"]],
    )
    params = client.module.params
    started = time.monotonic()
    waiting = list(params["containers"])
    last = {}
    while True:
        for name in list(waiting):
            container = client.get_container(name) or {}
            state = container_state(container)
            last[name] = (container, None)
            if state == FAILED:
                client.fail(f"{name} stopped.", container=container)
            if state == ASK:
                url = f"http://{address(container, params['network'])}:{params['port']}{params['path']}"
                status = answers(url)
                last[name] = (container, f"GET {url}: {status}")
                if status == 200:
                    waiting.remove(name)
        if not waiting:
            if params["history"]:
                write_history(client.module, params["history"], params["record"])
            client.module.exit_json(
                changed=bool(params["history"]),
                seconds=round(time.monotonic() - started, 2),
            )
        if time.monotonic() - started > params["timeout"]:
            container, asked = last[waiting[0]]
            # Ready by Docker, but its path did not answer 200: that says why.
            if asked:
                client.fail(f"{waiting[0]} is not ready: {asked}.")
            client.fail(f"{waiting[0]} is not ready.", container=container)
        time.sleep(params["delay"])


if __name__ == "__main__":
    main()
