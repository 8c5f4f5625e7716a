"""The digest of berth's own code, for the stamp a deploy leaves on the host:
a new berth, or an edited one, is a change on every host."""

import hashlib
import os

from ansible.plugins.lookup import LookupBase

DOCUMENTATION = """
name: code_digest
short_description: SHA-256 of the files under some directories of a tree
description:
  - The names (relative to the root) and contents of every file under the
    given directories, in a stable order, hashed together. Symbolic links to
    directories are not followed; compiled Python is left out.
options:
  _terms:
    description: The root, then the directories under it to hash.
    required: true
"""

EXAMPLES = """
- ansible.builtin.debug:
    msg: "{{ lookup('berth.deploy.code_digest', playbook_dir | dirname, 'roles', 'plugins', 'playbooks') }}"
"""

RETURN = """
_raw:
  description: The hex digest, one item.
  type: list
  elements: str
"""


def code_digest(root, tops):
    """The hex digest of the files under root's directories tops."""
    digest = hashlib.sha256()
    for top in tops:
        for folder, subfolders, files in os.walk(os.path.join(root, top)):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(f for f in files if not f.endswith(".pyc")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as file:
                    digest.update(hashlib.sha256(file.read()).digest())
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        root, *tops = terms
        return [code_digest(root, tops)]
