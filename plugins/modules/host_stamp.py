#!/usr/bin/python
"""The stamp of the last deploy: compare the host with it, or record it."""

DOCUMENTATION = r"""
module: host_stamp
short_description: Compare the host with the last deploy's stamp, or record the stamp
description:
  - For each part of a deploy, the stamp holds the digest of the part's
    inputs (berth's code and variables, given) beside the digest of what the
    part left on the host, taken here so that no secret leaves the host - its
    files' content, mode and owner; its containers' image, state and
    configuration; its networks' members; its services' states; and the image
    its reference names now.
  - An image the host pulled from a registry may have new content there under
    the same tag. Outside check mode it is pulled, as a deploy would. In check
    mode nothing is pulled; the registry is asked for the tag's digest
    (C(docker manifest inspect), with Docker's logins), and new content, or a
    registry that cannot be asked, counts as a change.
options:
  action:
    description:
      - V(check) compares the host with the stamp; V(record) writes the stamp
        (mode 0600, replaced whole) for what this deploy left on the host.
    type: str
    choices: [check, record]
    default: check
  stamp:
    description: The stamp file.
    type: path
    required: true
  lock:
    description: The deploy lock; a host that has one is not as a deploy left it.
    type: path
    required: true
  skip:
    description: Paths left out of every part.
    type: list
    elements: path
    default: []
  inputs:
    description: By part, the digest of the part's code and variables.
    type: dict
    required: true
  parts:
    description:
      - By part, what it leaves on the host - C(files) (files and directories),
        C(trees) (directories, with all under them), C(skip) (paths under them
        left out), C(containers) (names), C(labels) (C(key=value)),
        C(networks), C(services) (systemd units) and C(image) (a reference).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Compare the host with the last deploy
  berth.deploy.host_stamp:
    stamp: /var/lib/berth/deploy-stamp
    lock: /var/lib/berth/deploy.lock
    inputs: {app: "{{ digest }}"}
    parts:
      app:
        files: [/var/lib/berth/flaskr/config.py]
        labels: [berth.app=flaskr]
        image: registry.example.com/flaskr:1.2
  register: found
"""

RETURN = r"""
locked:
  description: Whether the deploy lock is on the host (V(check)).
  returned: when action is check
  type: bool
unchanged:
  description: The parts whose inputs and host are as the stamp says (V(check)).
  returned: when action is check
  type: list
  elements: str
same_inputs:
  description: The parts whose inputs alone are as the stamp says (V(check)).
  returned: when action is check
  type: list
  elements: str
result:
  description: V(recorded), or V(kept) when the stamp held the same already (V(record)).
  returned: when action is record
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.berth.deploy.plugins.module_utils import stamp


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {
                "type": "str",
                "choices": ["check", "record"],
                "default": "check",
            },
            "stamp": {"type": "path", "required": True},
            "lock": {"type": "path", "required": True},
            "skip": {"type": "list", "elements": "path", "default": []},
            "inputs": {"type": "dict", "required": True},
            "parts": {"type": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    found = stamp.stamp(
        params["inputs"], params["parts"], params["skip"], check_mode=module.check_mode
    )
    recorded = stamp.read(params["stamp"])
    if params["action"] == "check":
        locked = os.path.exists(params["lock"])
        module.exit_json(changed=False, **stamp.compare(recorded, found, locked))
    if recorded == found:
        module.exit_json(changed=False, result="kept")
    if not module.check_mode:
        stamp.write(params["stamp"], found)
    module.exit_json(changed=True, result="recorded")


if __name__ == "__main__":
    main()
