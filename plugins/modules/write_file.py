#!/usr/bin/python
"""Write a small file's content atomically, in one round trip to the host."""

DOCUMENTATION = r"""
module: write_file
short_description: Write a small file's content atomically, in one round trip
description:
  - Writes O(content) to O(dest) through a temporary file beside it, renamed
    over O(dest), so that a reader (or a deploy killed midway) sees the old
    content or the new, never part of it.
  - Changes nothing when O(dest) already holds O(content) and has the file
    attributes given.
  - The content travels as a module argument, so one module call is the only
    round trip. M(ansible.builtin.copy) with C(content) also transfers a file
    and asks for the destination's state first, three round trips, and suits
    files of any size; this module suits records such as berth's release
    history.
options:
  content:
    description: The file's whole content, as text (UTF-8).
    type: str
    required: true
  dest:
    description: The file to write. Its directory must exist, unless O(directory_mode) is given.
    type: path
    required: true
  directory_mode:
    description:
      - The mode of the directory of O(dest), which is created when missing
        and given this mode and the owner and group of O(dest), as
        M(ansible.builtin.file) with C(state=directory) would; one round trip
        for both.
    type: raw
  validate:
    description:
      - A command that checks the new content before it replaces O(dest); C(%s)
        is the path of the temporary file that holds it, beside O(dest), with
        the mode given. When the command fails, O(dest) is left as it was and
        the task fails with the command's output. Run without a shell.
    type: str
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Record the release history
  berth.deploy.write_file:
    content: "{{ history | to_nice_json }}\n"
    dest: /var/lib/berth/flaskr-history.json
    owner: root
    group: root
    mode: "0644"
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
checksum:
  description: The SHA-1 of the content, as M(ansible.builtin.copy) returns it.
  returned: always
  type: str
"""

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def read(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def write(module, dest, content, validate=None):
    """content into dest through a temporary file in its directory, once
    the command validate accepts it."""
    descriptor, temporary = tempfile.mkstemp(
        dir=os.path.dirname(dest) or ".", prefix=f".{os.path.basename(dest)}."
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        if validate:
            # Checked as it will be: a reader that is not its owner may need the mode.
            mode = module.params["mode"]
            if mode is not None:
                module.set_mode_if_different(temporary, mode, False)
            rc, out, err = module.run_command(validate % temporary)
            if rc != 0:
                module.fail_json(
                    msg=f"failed to validate: rc:{rc} error:{err or out}",
                    rc=rc,
                    stdout=out,
                    stderr=err,
                )
        module.atomic_move(temporary, dest)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def directory(module, path):
    """Create path (and its parents) when missing, with the owner and group
    of dest and directory_mode; whether anything changed."""
    created = not os.path.isdir(path)
    if created and not module.check_mode:
        os.makedirs(path)
    if not os.path.isdir(path):
        return created
    attributes = module.load_file_common_arguments(
        {**module.params, "mode": module.params["directory_mode"]}, path=path
    )
    return module.set_fs_attributes_if_different(attributes, created)


def main():
    module = AnsibleModule(
        argument_spec={
            "content": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "validate": {"type": "str"},
            "directory_mode": {"type": "raw"},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    content = module.params["content"].encode()
    changed = False
    if module.params["directory_mode"] is not None:
        changed = directory(module, os.path.dirname(dest))
    before = read(dest)
    changed = before != content or changed
    result = {"dest": dest, "checksum": hashlib.sha1(content).hexdigest()}
    if changed:
        result["diff"] = {
            "before_header": dest,
            "after_header": dest,
            "before": (before or b"").decode(errors="replace"),
            "after": module.params["content"],
        }
        if not module.check_mode:
            write(module, dest, content, module.params["validate"])
    # In check mode, a file not written yet has no attributes to compare.
    if os.path.exists(dest):
        attributes = module.load_file_common_arguments(module.params)
        changed = module.set_fs_attributes_if_different(attributes, changed)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
