"""What the parts of a deploy leave on the host, for its stamp: each role
declares its own in meta/footprint.yml, next to its code."""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.berth.deploy.plugins.plugin_utils.roles import with_defaults

DOCUMENTATION = """
name: footprint
short_description: What each part of a deploy leaves on the host, from its roles' meta/footprint.yml
description:
  - Given the parts of a deploy, each a list of roles, returns for each part
    the union of its roles' C(meta/footprint.yml) - files, trees, containers,
    labels, networks, services and an image - templated with the play's
    variables, over the role's own defaults.
  - The paths a role lists under C(skip) (its data) are left out of every
    part, since another role's trees may hold them.
  - This is the O(berth.deploy.host_stamp#module:parts) of the module
    berth.deploy.host_stamp.
options:
  _terms:
    description: One dict, by part, of the roles that make it up.
    required: true
  roles_path:
    description: Where the roles are; by default the collection's roles.
    type: path
"""

EXAMPLES = """
- ansible.builtin.debug:
    msg: "{{ lookup('berth.deploy.footprint', {'platform': ['docker', 'host'], 'app': ['app']}) }}"
"""

RETURN = """
_raw:
  description: One dict, by part, of what it leaves on the host.
  type: list
  elements: dict
"""

ROLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "roles"))
LISTS = ("files", "trees", "skip", "containers", "labels", "networks", "services")


class LookupModule(LookupBase):
    def load(self, roles_path, role, name):
        """A role's file as templates, {} when it has none."""
        path = os.path.join(roles_path, role, name)
        if not os.path.exists(path):
            return {}
        return self._loader.load_from_file(path, trusted_as_template=True) or {}

    def run(self, terms, variables=None, **kwargs):
        (parts,) = terms
        roles_path = kwargs.get("roles_path") or ROLES
        roles = [role for each in parts.values() for role in each]
        # Over the roles' defaults, as a play that imports the roles has them.
        defaults = [self.load(roles_path, role, "defaults/main.yml") for role in roles]
        templar = self._templar.copy_with_new_env(
            available_variables=with_defaults(defaults, variables or {})
        )
        declared = {}
        for role in roles:
            declared[role] = self.load(roles_path, role, "meta/footprint.yml")
            if not declared[role]:
                raise AnsibleLookupError(f"The role {role} has no meta/footprint.yml.")
        found = templar.template(declared)
        skip = sorted({path for role in roles for path in found[role].get("skip", [])})
        result = {}
        for part, each in parts.items():
            footprints = [found[role] for role in each]
            merged = {
                key: [v for f in footprints for v in f.get(key, [])] for key in LISTS
            }
            merged["skip"] = skip
            images = [f["image"] for f in footprints if f.get("image")]
            merged["image"] = images[0] if images else ""
            result[part] = {key: value for key, value in merged.items() if value}
        return [result]
