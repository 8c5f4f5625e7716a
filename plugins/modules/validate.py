#!/usr/bin/python
"""The documentation of the action berth.deploy.validate
(plugins/action/validate.py), which runs on the controller only."""

DOCUMENTATION = r"""
module: validate
short_description: Check the variables of this collection's roles before anything changes
description:
  - For each role of O(roles), checks its variables against its argument spec
    (C(meta/argument_specs.yml), entry point C(main), its types and choices), then
    against its table of rules (C(meta/validation.yml)); a variable its type
    already fails is not checked again.
  - A role's defaults (C(defaults/main.yml)) come first, so that it runs
    outside the role too, as C(playbooks/deploy.yml) runs it for every role at
    once; the play's and the inventory's values win.
  - Fails with one line for each wrong variable, naming it, its value (but a
    secret's) and what is allowed; or returns ok, unchanged.
  - Runs on the machine that runs Ansible only, in one task, with no round
    trip to the host. The rules and their forms are described in
    plugins/module_utils/validation.py.
options:
  roles:
    description: Roles of this collection, by their short names, such as C(app).
    type: list
    elements: str
    required: true
  rules:
    description: The lists of rules in each role's table to check, in this order; a role without one has none.
    type: list
    elements: str
    default: [validate]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Validate the variables of every role and the release asked for
  berth.deploy.validate:
    roles: [host, app, docker, redis, backup]
    rules: [validate_release, validate]
"""

RETURN = r"""
msg:
  description: Every message, one a line, when a variable is wrong.
  returned: failure
  type: str
"""
