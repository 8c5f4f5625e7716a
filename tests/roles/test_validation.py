"""A wrong value of the app's container contract fails the deploy before any
change, with a message that names the variable.

Each case runs playbooks/deploy.yml against this machine as a host of group
"app", with --check: the validation runs first, so no Docker is needed and
nothing is touched even if it did not stop the run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

# (extra variables, what the message must say)
CASES = {
    "app_uid is retired": ({"app_uid": 10001}, "set app_user to UID:GID instead"),
    "app_threads is retired": (
        {"app_threads": 8},
        "flaskr reads FLASKR_THREADS from app_env",
    ),
    "app_user not numbers": (
        {"app_user": "flaskr"},
        "app_user must be UID:GID in numbers",
    ),
    "app_ready_path not a path": (
        {"app_ready_path": "readyz"},
        "app_ready_path must be an HTTP path",
    ),
    "app_data_path relative": (
        {"app_data_path": "data"},
        "app_data_path must be an absolute path",
    ),
    "app_config_file a path": (
        {"app_config_file": "../config.py"},
        "app_config_file must be a file name",
    ),
    "app_env value a number": (
        {"app_env": {"WORKERS": 4}},
        "app_env must map variable names to strings",
    ),
    "app_command not strings": (
        {"app_command": [1, 2]},
        "app_command must be a list of strings",
    ),
    "app_volumes no target": (
        {"app_volumes": ["uploads"]},
        "Each of app_volumes must be SOURCE:TARGET",
    ),
    "app_volumes over the instance directory": (
        {"app_volumes": ["uploads:/var/lib/flaskr"]},
        "with an absolute TARGET other than app_data_path",
    ),
    "registry without a password": (
        {"app_registry_url": "registry.example.com", "app_registry_username": "deploy"},
        "missing: app_registry_password",
    ),
}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    path.write_text(json.dumps({"app": {"hosts": {"validated": host}}}))
    return path


@pytest.mark.parametrize("extra, message", CASES.values(), ids=CASES.keys())
def test_a_wrong_value_fails_naming_the_variable(inventory, extra, message):
    done = subprocess.run(
        [
            "ansible-playbook", "playbooks/deploy.yml", "--check",
            "-i", str(inventory), "-e", "app_version=1.0", "-e", json.dumps(extra),
        ],
        cwd=ROOT, env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, output
    assert message in output, output
    # It stopped in the validation: not even the deploy lock's first task ran.
    first = "Create the state directory"
    assert f"- name: {first}\n" in (ROOT / "roles/host/tasks/lock.yml").read_text()
    assert f"berth.deploy.host : {first}" not in output, output
