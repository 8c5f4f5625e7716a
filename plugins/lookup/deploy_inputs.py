"""The inputs of each part of a deploy, for its stamp: the code of the part's
roles and the collection's shared code, and the values of the part's roles'
variables. A new or edited berth, or another setting, is a change."""

import hashlib
import json
import re

from ansible.plugins.lookup import LookupBase
from ansible_collections.berth.deploy.plugins.lookup.code_digest import code_digest
from ansible_collections.berth.deploy.plugins.plugin_utils.roles import (
    ROOT,
    role,
    with_defaults,
)

DOCUMENTATION = """
name: deploy_inputs
short_description: The digest of the code and variables of each part of a deploy
description:
  - Given the parts of a deploy, each a list of roles, returns for each part
    the SHA-256 of the code of its roles, with the collection's plugins and
    playbooks, and of the values of every option in its roles' argument specs
    (their main entry point) and of the variables an earlier berth read, which
    the validation refuses (the rules with C(retired) in the role's
    C(meta/validation.yml)), templated; a variable with no value counts as an
    empty string.
  - Left out, as what a deploy is asked to do rather than how the host is set
    up (each deploy checks them) - the release asked for (C(app_version),
    C(app_rollback), C(app_rollback_version), C(app_rotate_secret_key)); and
    the stamp's own variables and the lock's text (C(host_skip_unchanged),
    C(host_stamp_*), C(host_lock_reason)).
  - This is the O(berth.deploy.host_stamp#module:inputs) of the module
    berth.deploy.host_stamp.
options:
  _terms:
    description: One dict, by part, of the roles that make it up.
    required: true
  root:
    description: The collection's root; by default, this collection's.
    type: path
"""

EXAMPLES = """
- ansible.builtin.set_fact:
    inputs: "{{ lookup('berth.deploy.deploy_inputs', {'platform': ['docker', 'host'], 'app': ['app']}) }}"
"""

RETURN = """
_raw:
  description: One dict, by part, of its hex digest.
  type: list
  elements: dict
"""

# The code every part runs, beside its roles'.
SHARED = ["plugins", "playbooks"]
ASKED = re.compile(
    r"app_(version|rollback|rollback_version|rotate_secret_key)$"
    r"|host_(skip_unchanged|stamp_|lock_reason)"
)


def options(found):
    """The names of a role's variables: the options of its main entry point,
    and those an earlier berth read (its validation refuses them)."""
    retired = [rule["name"] for rule in found["table"]["validate"] if "retired" in rule]
    return list(found["options"]) + retired


def names(parts, specs):
    """By part, the sorted names of the variables that are its inputs:
    specs maps each role to its variables."""
    return {
        part: sorted(
            {name for role in roles for name in specs[role] if not ASKED.match(name)}
        )
        for part, roles in parts.items()
    }


def digest(code, values):
    """The hex digest of a part's code digest and its variables' values."""
    text = json.dumps([code, values], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        (parts,) = terms
        root = kwargs.get("root") or ROOT
        variables = variables or {}
        found = {
            name: role(self._loader, name, root)
            for roles in parts.values()
            for name in roles
        }
        specs = {name: options(data) for name, data in found.items()}
        # A role's defaults count where nothing else sets its variables.
        known = with_defaults([data["defaults"] for data in found.values()], variables)
        templar = self._templar.copy_with_new_env(available_variables=known)
        result = {}
        for part, inputs in names(parts, specs).items():
            code = code_digest(root, [f"roles/{name}" for name in parts[part]] + SHARED)
            values = {
                name: templar.template(known[name]) if name in known else ""
                for name in inputs
            }
            result[part] = digest(code, values)
        return [result]
