#!/usr/bin/python
"""What the host holds of an app's releases, read in one round trip."""

DOCUMENTATION = r"""
module: release_state
short_description: Read an app's release history, its proxy's configuration and its containers, in one round trip
description:
  - Reads the release history (JSON) at O(history) and the proxy's
    configuration at O(caddyfile), each as it is or none when it does not
    exist, and lists the containers with the label O(label), running or not,
    as the Docker API lists them (as M(community.docker.docker_host_info)
    does).
  - Reads only. The release history's format and its decisions are in
    plugins/module_utils/release_history.py.
options:
  history:
    description: The app's release history, a JSON file.
    type: path
    required: true
  caddyfile:
    description: The proxy's configuration file.
    type: path
    required: true
  label:
    description: The label of the app's containers, C(key=value).
    type: str
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
- name: Read the release history, the proxy's configuration and the app's containers
  berth.deploy.release_state:
    history: /var/lib/berth/flaskr-history.json
    caddyfile: /var/lib/berth/proxy/Caddyfile
    label: berth.app=flaskr
  register: found
"""

RETURN = r"""
history:
  description: The release history, or none when there is no file.
  returned: always
  type: dict
caddyfile:
  description: The proxy's configuration, or an empty string when there is no file.
  returned: always
  type: str
containers:
  description: The app's containers, as the Docker API lists them.
  returned: always
  type: list
  elements: dict
"""

import json

from ansible_collections.community.docker.plugins.module_utils._api.utils.utils import (
    convert_filters,
)
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
)


def read(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except FileNotFoundError:
        return None


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "history": {"type": "path", "required": True},
            "caddyfile": {"type": "path", "required": True},
            "label": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    params = client.module.params
    history = read(params["history"])
    containers = client.get_json(
        "/containers/json",
        params={"all": 1, "limit": -1, "size": 0, "trunc_cmd": 0,
                "filters": convert_filters({"label": [params["label"]]})},
    )  # fmt: skip
    client.module.exit_json(
        changed=False,
        history=json.loads(history) if history is not None else None,
        caddyfile=read(params["caddyfile"]) or "",
        containers=containers,
    )


if __name__ == "__main__":
    main()
