"""Each role's meta/argument_specs.yml documents its variables, once.

The specs are the single source of every variable's description and default
(the role READMEs are generated from them: `make docs`), so for every role in
roles/: each variable of defaults/main.yml is an option of the main entry
point with the same default, every option is either required or has a
default, and every option has a description. Values are
compared as YAML loads them: a default with Jinja in it is the same string in
both files.
"""

from pathlib import Path

import pytest
import yaml

ROLES = sorted(meta.parent for meta in Path(__file__).parents[2].glob("roles/*/meta"))

each_role = pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)


def load(path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def entry_points(role):
    specs = load(role / "meta" / "argument_specs.yml")
    assert specs, f"{role.name}: meta/argument_specs.yml is missing or empty"
    return specs["argument_specs"]


def options(spec, prefix):
    """(name, option) for each option of spec, and of its suboptions."""
    for name, option in (spec.get("options") or {}).items():
        yield prefix + name, option
        yield from options(option, f"{prefix}{name}.")


def every_option(role):
    """Each option of each entry point; one spec shared by a YAML alias
    (validate: *main) is listed once."""
    seen = []
    for entry_point, spec in entry_points(role).items():
        if not any(spec is other for other in seen):
            seen.append(spec)
            yield from options(spec, f"{entry_point}: ")


def same(a, b):
    """Equal YAML values of the same type: 3 is not "3", 1 is not true."""
    return type(a) is type(b) and a == b


@each_role
def test_every_default_is_a_main_option_with_that_default(role):
    defaults = load(role / "defaults" / "main.yml") or {}
    main = entry_points(role)["main"].get("options") or {}
    missing = [name for name in defaults if name not in main]
    assert not missing, f"{role.name}: not options of entry point main: {missing}"
    differ = {
        name: {"defaults/main.yml": value, "argument_specs": main[name].get("default")}
        for name, value in defaults.items()
        if "default" not in main[name] or not same(main[name]["default"], value)
    }
    assert not differ, f"{role.name}: defaults that differ: {differ}"


@each_role
def test_every_option_is_either_required_or_has_a_default(role):
    neither_or_both = [
        name
        for name, option in every_option(role)
        if bool(option.get("required")) == ("default" in option)
    ]
    assert not neither_or_both, (
        f"{role.name}: options required with a default, or neither: {neither_or_both}"
    )


@each_role
def test_every_option_has_a_description(role):
    without = [
        name for name, option in every_option(role) if not option.get("description")
    ]
    assert not without, f"{role.name}: options without a description: {without}"
