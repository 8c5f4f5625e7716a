#!/usr/bin/python
"""Take the host's deploy lock, with berth's state directory, in one round trip."""

DOCUMENTATION = r"""
module: host_lock
short_description: Take the host's deploy lock, creating berth's state directory
description:
  - Creates the directory of O(path) when it is missing, owned by root,
    with O(directory_mode), and sets that mode and owner when they differ,
    as M(ansible.builtin.file) would.
  - Then creates O(path) atomically, holding O(holder), unless it exists:
    one run at a time holds the lock. A lock held by another run is not
    touched; its holder is returned.
  - The lock is released by removing the file (M(ansible.builtin.file)).
  - In check mode nothing is created: a lock held by another run is still
    returned.
options:
  path:
    description: The lock file.
    type: path
    required: true
  holder:
    description: Who takes the lock, from where, since when and why, one line.
    type: str
    required: true
  directory_mode:
    description: The mode of the lock's directory.
    type: raw
    default: "0700"
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Take the deploy lock
  berth.deploy.host_lock:
    path: /var/lib/berth/deploy.lock
    holder: ops@laptop since 2026-12-06 10:00:00 UTC, deploying 1.2
  register: lock
"""

RETURN = r"""
held:
  description: Whether this run took the lock.
  returned: always
  type: bool
holder:
  description: The line the lock's file holds - this run's, or the other run's that holds it.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule


def holding(path):
    """The holder the lock file names, or None when there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read().strip()
    except FileNotFoundError:
        return None


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "holder": {"type": "str", "required": True},
            "directory_mode": {"type": "raw", "default": "0700"},
        },
        supports_check_mode=True,
    )
    path, holder = module.params["path"], module.params["holder"]
    directory = os.path.dirname(path)
    if os.path.lexists(directory) and not os.path.isdir(directory):
        module.fail_json(msg=f"{directory} already exists as a file, not a directory")
    created = not os.path.isdir(directory)
    if module.check_mode:
        held = holding(path)
        module.exit_json(
            changed=created, held=held is None, holder=held or holder.strip()
        )
    if created:
        os.makedirs(directory)
    changed = module.set_mode_if_different(
        directory, module.params["directory_mode"], created
    )
    changed = module.set_owner_if_different(directory, "root", changed)
    changed = module.set_group_if_different(directory, "root", changed)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        module.exit_json(changed=changed, held=False, holder=holding(path))
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(holder.strip() + "\n")
    # The lock is bookkeeping: only a new directory is a change.
    module.exit_json(changed=changed, held=True, holder=holder.strip())


if __name__ == "__main__":
    main()
