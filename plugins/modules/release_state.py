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
  - With O(image), inspects the images a deploy may run, as
    M(community.docker.docker_image_info) does - O(image):O(version), and
    each kept or upcoming release's image ID and tag - so that choosing the
    release needs no other round trip.
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
  image:
    description: The app's image, without its tag.
    type: str
  version:
    description: The tag a deploy asks for; empty for a rollback.
    type: str
    default: ""
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
    image: registry.example.com/flaskr
    version: "1.2"
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
images:
  description:
    - By name or ID, the host's image of each looked for with O(image); one
      the host does not have is left out.
  returned: always
  type: dict
"""

import contextlib
import json

from ansible_collections.berth.deploy.plugins.module_utils.release_history import (
    image_names,
)
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    NotFound,
)
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


def inspect_images(client, names):
    """By name, the host's image of each name it has."""
    found = {}
    for name in names:
        with contextlib.suppress(NotFound):
            found[name] = client.get_json("/images/{0}/json", name)
    return found


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "history": {"type": "path", "required": True},
            "caddyfile": {"type": "path", "required": True},
            "label": {"type": "str", "required": True},
            "image": {"type": "str"},
            "version": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = client.module.params
    history = read(params["history"])
    history = json.loads(history) if history is not None else None
    containers = client.get_json(
        "/containers/json",
        params={"all": 1, "limit": -1, "size": 0, "trunc_cmd": 0,
                "filters": convert_filters({"label": [params["label"]]})},
    )  # fmt: skip
    image = params["image"]
    client.module.exit_json(
        changed=False,
        history=history,
        caddyfile=read(params["caddyfile"]) or "",
        containers=containers,
        images=inspect_images(client, image_names(history, image, params["version"]))
        if image
        else {},
    )


if __name__ == "__main__":
    main()
