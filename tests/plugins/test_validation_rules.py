"""The rules of every role (roles/*/meta/validation.yml) and the code that
checks them (plugins/module_utils/validation.py), with no Ansible run: each
bad case of the deploy's tests gets its message, every valid value passes,
and every wrong variable is reported at once. Then the action
berth.deploy.validate once, run by Ansible on this machine."""

import ast
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


validation = load_module("validation", "plugins/module_utils/validation.py")
# The cases of the validation's two other tests, as they define them.
checked_locally = load_module("test_validation", "tests/roles/test_validation.py")
BAD_INVENTORIES = {
    node.targets[0].id: ast.literal_eval(node.value)
    for node in ast.parse(
        (ROOT / "molecule/default/tests/test_bad_inventories.py").read_text()
    ).body
    if isinstance(node, ast.Assign) and node.targets[0].id in ("CASES", "HIDDEN")
}

# The roles' rules in the order the deploy checks them.
ROLES = ["host", "app", "docker", "redis", "backup"]
TABLES = {
    role: yaml.safe_load((ROOT / f"roles/{role}/meta/validation.yml").read_text())
    for role in ROLES
}
RULES = [
    rule
    for role in ROLES
    for entry in ("validate_release", "validate")
    for rule in TABLES[role].get(entry, [])
]


def defaults():
    """Every role's defaults, wired as the playbooks wire them, with the
    Jinja in them resolved as Ansible would."""
    values = {}
    for role in ROLES:
        values |= yaml.safe_load((ROOT / f"roles/{role}/defaults/main.yml").read_text())
    values |= yaml.safe_load((ROOT / "playbooks/vars/wiring.yml").read_text())
    values |= {"app_version": "1.0", "app_hostnames": ["localhost"]}
    reference = re.compile(r"\{\{ (\w+) \}\}")
    while unresolved := [
        name
        for name, value in values.items()
        if isinstance(value, str) and reference.search(value)
    ]:
        for name in unresolved:
            values[name] = reference.sub(
                lambda found: str(values[found[1]]), values[name]
            )
    return values


DEFAULTS = defaults()


def errors(**variables):
    return validation.errors(RULES, DEFAULTS | variables)


def said(messages):
    return " ".join(" ".join(messages).split())


def test_the_defaults_pass():
    assert errors() == []


def test_unusual_values_that_are_all_valid_pass():
    assert errors(**checked_locally.VALID) == []


def test_every_role_reads_only_its_own_variables():
    for role, table in TABLES.items():
        prefix = "__app_" if role == "app" else f"{role}_"
        for rules in table.values():
            for rule in rules:
                for name in validation.names_of(rule):
                    assert name.startswith((f"{role}_", prefix)), (role, name)


@pytest.mark.parametrize("case", checked_locally.CASES)
def test_each_case_checked_on_this_machine_gets_its_message(case):
    variables, message = checked_locally.CASES[case]
    assert message in said(errors(**variables))


# Each message names the variable and shows its value (but a secret's and a
# retired variable's), as molecule/default checks on a deployed host.
@pytest.mark.parametrize("case", BAD_INVENTORIES["CASES"])
def test_each_bad_inventory_gets_its_message(case):
    variables, message = BAD_INVENTORIES["CASES"][case]
    found = errors(**variables)
    text = said(found)
    assert any(variable in text for variable in variables), found
    if message.startswith("argument '"):
        # The argument specs refuse it first; the rules do too.
        return
    assert message in text, found
    if case not in BAD_INVENTORIES["HIDDEN"]:
        values = [
            form
            for value in variables.values()
            for form in [value, *(value if isinstance(value, list | dict) else [])]
        ]
        assert any(json.dumps(value) in text for value in values), found


def test_values_as_to_json_shows_them():
    assert errors(app_max_body_size="lots") == [
        (
            "app_max_body_size must be a size above 0 in bytes or with k, m or g, such as 1m or 512k; "
            'got "lots".'
        )
    ]
    assert errors(app_keep_releases=0)[0].endswith("; got 0.")
    assert errors(docker_users=["root user"])[0].endswith('; got ["root user"].')
    assert errors(app_env={"WORKERS": 4})[0].endswith(
        'got names ["WORKERS"] with values of types ["int"].'
    )


def test_every_wrong_variable_is_reported_at_once():
    found = errors(
        app_uid=10001,
        app_version="latest",
        app_name="a/b",
        redis_pids_limit=0,
        docker_log_max_file="x",
        host_state_dir="/etc/berth",
        backup_time="25:00",
    )
    assert [message.split()[0] for message in found] == [
        "host_state_dir", "app_version", "app_uid", "app_name",
        "docker_log_max_file", "redis_pids_limit", "backup_keep",
    ]  # fmt: skip


def test_a_variable_already_wrong_is_not_checked_again():
    # The size is wrong: no message that it is below Docker's least.
    assert said(errors(redis_memory_limit="lots")).count("redis_memory_limit") == 1
    assert len(errors(app_memory_limit="1 GB")) == 1


def test_secrets_are_named_but_never_shown():
    secret = "hunter2-but-short"
    for found in (
        errors(app_secret_key="hunter2"),
        errors(app_redis_url=secret),
        errors(app_registry_url="ghcr.io", app_registry_password=secret),
    ):
        assert found, found
        assert "hunter2" not in said(found), found


def test_retired_variables_name_what_replaced_them():
    assert errors(app_uid=1, app_threads=8, redis_uid=999) == [
        'app_uid is no longer read: set app_user to UID:GID instead, e.g. app_user: "10001:10001".',
        (
            "app_threads is no longer read: flaskr reads FLASKR_THREADS from app_env instead, "
            'e.g. app_env: {FLASKR_THREADS: "8", FLASKR_TRUSTED_PROXY: "*"}.'
        ),
        'redis_uid is no longer read: set redis_user to UID:GID instead, e.g. redis_user: "999:999".',
    ]


def test_a_rollback_needs_no_version():
    assert errors(app_version="latest")
    assert errors(app_version="latest", app_rollback=True) == []


def test_a_removal_or_a_restore_checks_no_release():
    rules = [rule for role in ROLES for rule in TABLES[role]["validate"]]
    assert validation.errors(rules, DEFAULTS | {"app_version": ""}) == []
    assert errors(app_version="") == [
        'app_version must be an image tag naming one release, such as a git short SHA, and not "latest"; got "".'
    ]


def test_every_rule_names_a_form_or_a_check_there_is():
    for rule in RULES:
        if "check" in rule:
            assert rule["check"] in validation.CHECKS, rule
        elif "form" in rule:
            assert rule["form"] in validation.FORMS, rule
            assert rule.get("allowed") or rule["form"] in validation.ALLOWED, rule
        else:
            assert rule.get("retired"), rule


# Once for real: Ansible runs the action as playbooks/deploy.yml does, on this
# machine, with no host to reach: every role's defaults and argument spec, the
# play's wiring and the inventory's values; it fails with every message, one a
# line, the argument specs' first.
def test_the_action_fails_with_every_message_and_passes_valid_values(tmp_path):
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Validate",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars_files": [str(ROOT / "playbooks/vars/wiring.yml")],
                    "tasks": [
                        {
                            "name": "Validate the variables of every role",
                            "berth.deploy.validate": {
                                "roles": ROLES,
                                "rules": ["validate_release", "validate"],
                            },
                        }
                    ],
                }
            ]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }

    def run(variables):
        done = subprocess.run(
            ["ansible-playbook", str(playbook), "-e", json.dumps(variables)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        output = json.loads(done.stdout)
        return next(iter(output["plays"][0]["tasks"][0]["hosts"].values()))

    passed = run({"app_version": "1.0"})
    assert not passed.get("failed") and not passed["changed"], passed
    failed = run(
        {
            "app_version": "latest",
            "app_proxy_container_name": "a/b",
            "app_keep_releases": "many",
        }
    )
    assert failed["failed"], failed
    # The argument spec's message once, and not the rule's too.
    assert failed["msg"].splitlines() == [
        (
            "argument 'app_keep_releases' is of type str and we were unable to convert to int: "
            """"'many'" cannot be converted to an int"""
        ),
        (
            'app_version must be an image tag naming one release, such as a git short SHA, and not "latest"; '
            'got "latest".'
        ),
        (
            "app_proxy_container_name must be a Docker name (2 to 63 letters, digits, '_', '.', '-'; no '/' "
            """or '..'); got "a/b"."""
        ),
    ]
