#!/usr/bin/python
"""The documentation of the action berth.deploy.validate
(plugins/action/validate.py), which runs on the controller only."""

DOCUMENTATION = r"""
module: validate
short_description: Check a role's variables against its table of rules
description:
  - Reads the variables that the rules of O(table) name, templated, and fails
    with one line for each that is wrong, naming the variable, its value (but
    a secret's) and what is allowed; or returns ok, unchanged.
  - Runs on the machine that runs Ansible only, in one task, with no round
    trip to the host. The rules and their forms are described in
    plugins/module_utils/validation.py.
options:
  table:
    description: The role's table of rules, a YAML file such as C(meta/validation.yml).
    type: path
    required: true
  rules:
    description: The lists of rules in O(table) to check, in this order.
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
- name: Check the app's variables
  berth.deploy.validate:
    table: "{{ role_path }}/meta/validation.yml"
"""

RETURN = r"""
msg:
  description: Every message, one a line, when a variable is wrong.
  returned: failure
  type: str
"""
