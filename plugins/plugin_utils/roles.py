"""What the plugins that run on the controller (the action validate, the
lookup deploy_inputs) read of this collection's roles: each role's argument
spec, its table of rules and its defaults."""

import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def role(loader, name, root=ROOT):
    """A role's options (its argument spec's main entry point), its table of
    rules (meta/validation.yml) and its defaults, as YAML reads them."""
    path = os.path.join(root, "roles", name)
    specs = loader.load_from_file(os.path.join(path, "meta", "argument_specs.yml"))
    return {
        "options": specs["argument_specs"]["main"]["options"],
        "table": loader.load_from_file(os.path.join(path, "meta", "validation.yml"))
        or {},
        "defaults": loader.load_from_file(
            os.path.join(path, "defaults", "main.yml"), trusted_as_template=True
        )
        or {},
    }


def with_defaults(defaults, variables):
    """The variables, over the roles' defaults (one dict a role): outside
    its role, a role's defaults are not among a play's variables, and
    whatever the play or the inventory sets wins."""
    known = {}
    for each in defaults:
        known |= each
    return known | dict(variables)
