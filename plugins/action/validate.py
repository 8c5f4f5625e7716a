"""The action berth.deploy.validate: a role's variables checked against its
table of rules (plugins/module_utils/validation.py) here, on the machine that
runs Ansible, in one task and with no round trip to the host."""

from ansible.plugins.action import ActionBase
from ansible_collections.berth.deploy.plugins.module_utils.validation import (
    errors,
    names_of,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # It reads variables only.
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec={
                "table": {"type": "path", "required": True},
                "rules": {"type": "list", "elements": "str", "default": ["validate"]},
            }
        )
        table = self._loader.load_from_file(args["table"])
        rules = [rule for key in args["rules"] for rule in table[key]]
        # A role's variables are all defined, by its defaults at least; a
        # retired one only where an inventory still sets it.
        names = {name for rule in rules for name in names_of(rule)}
        values = self._templar.template(
            {name: task_vars[name] for name in names if name in task_vars}
        )
        found = errors(rules, values)
        result["changed"] = False
        if found:
            # Every wrong variable at once, one line each.
            result["failed"] = True
            result["msg"] = "\n".join(found)
        return result
