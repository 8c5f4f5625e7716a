#!/usr/bin/python
"""Take the host's deploy lock, with berth's state directory, in one round trip."""

DOCUMENTATION = r"""
module: host_lock
short_description: Take or release the host's deploy lock, creating berth's state directory
description:
  - Creates the directory of O(path) when it is missing, owned by root,
    with O(directory_mode), and sets that mode and owner when they differ,
    as M(ansible.builtin.file) would.
  - Then creates O(path) atomically, holding O(holder), unless it exists, so
    one run at a time holds the lock. A lock held by another run is not
    touched; its holder is returned.
  - With O(state=absent), releases the lock, whoever holds it, after
    appending O(audit_entry) to O(audit_log) (one JSON line, the file
    mode 0600) when it is given.
  - In check mode nothing is created, and a lock held by another run is still
    returned.
options:
  path:
    description: The lock file.
    type: path
    required: true
  state:
    description: Whether the lock is taken (V(present)) or released (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  holder:
    description: Who takes the lock, from where, since when and why, one line (V(present)).
    type: str
  audit_log:
    description: The audit log, one JSON object a line (V(absent)).
    type: path
  audit_entry:
    description: The entry to append to O(audit_log) before the lock goes (V(absent)).
    type: dict
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
  description:
    - The line the lock's file holds - this run's, or the other run's that
      holds it; for V(absent), the one it held, or none.
  returned: always
  type: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def holding(path):
    """The holder the lock file names, or None when there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read().strip()
    except FileNotFoundError:
        return None


def release(module):
    """Append the audit entry, if any, then remove the lock."""
    path, entry = module.params["path"], module.params["audit_entry"]
    held = holding(path)
    if not module.check_mode:
        if entry:
            descriptor = os.open(
                module.params["audit_log"],
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                0o600,
            )
            with os.fdopen(descriptor, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        if held is not None:
            os.unlink(path)
    module.exit_json(changed=bool(entry) or held is not None, held=False, holder=held)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {
                "type": "str",
                "choices": ["present", "absent"],
                "default": "present",
            },
            "holder": {"type": "str"},
            "audit_log": {"type": "path"},
            "audit_entry": {"type": "dict"},
            "directory_mode": {"type": "raw", "default": "0700"},
        },
        supports_check_mode=True,
        required_if=[["state", "present", ["holder"]]],
        required_by={"audit_entry": "audit_log"},
    )
    if module.params["state"] == "absent":
        release(module)
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
