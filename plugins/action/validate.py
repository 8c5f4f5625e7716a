"""The action berth.deploy.validate: the variables of one or more of this
collection's roles checked here, on the machine that runs Ansible, in one
task and with no round trip to the host: first against each role's argument
spec (meta/argument_specs.yml, its types and choices), then against its table
of rules (meta/validation.yml, plugins/module_utils/validation.py)."""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.berth.deploy.plugins.module_utils.validation import (
    errors,
    names_of,
)
from ansible_collections.berth.deploy.plugins.plugin_utils.roles import (
    role,
    with_defaults,
)


def type_errors(options, values):
    """The argument spec's messages, by the variable they are about: each
    variable is checked on its own, so that the rules pass over it (once
    they are known to be there: checking them all at once is quicker)."""
    given = {name: values[name] for name in options if name in values}
    checked = ArgumentSpecValidator(options).validate(
        given, validate_role_argument_spec=True
    )
    if not checked.error_messages:
        return {}
    found = {}
    for name, option in options.items():
        if name in values:
            checked = ArgumentSpecValidator({name: option}).validate(
                {name: values[name]}, validate_role_argument_spec=True
            )
            if checked.error_messages:
                found[name] = checked.error_messages
    return found


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # It reads variables only.
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(
            argument_spec={
                "roles": {"type": "list", "elements": "str", "required": True},
                "rules": {"type": "list", "elements": "str", "default": ["validate"]},
            }
        )
        roles = {name: role(self._loader, name) for name in args["roles"]}
        known = with_defaults([spec["defaults"] for spec in roles.values()], task_vars)
        templar = self._templar.copy_with_new_env(available_variables=known)

        found = []
        for spec in roles.values():
            rules = [
                rule for key in args["rules"] for rule in spec["table"].get(key, [])
            ]
            # A retired variable is there only where an inventory still sets it.
            names = set(spec["options"]) | {n for rule in rules for n in names_of(rule)}
            values = templar.template({n: known[n] for n in names if n in known})
            typed = type_errors(spec["options"], values)
            found += [m for messages in typed.values() for m in messages]
            found += errors(rules, values, wrong=typed)
        result["changed"] = False
        if found:
            # Every wrong variable at once, one line each.
            result["failed"] = True
            result["msg"] = "\n".join(found)
        return result
