"""The validation, checked fast on this machine, with no Docker: valid values
of every kind pass, a wrong value of the container contract fails naming the
variable, and config.py.j2 writes any value as a Python literal.

The deploy runs as playbooks/deploy.yml, with --check, against this machine
as hosts of group "app": one host per case, in one run. The validation runs
first, so nothing is touched even if it did not stop a case. (Bad values that
could break a host are tried on a deployed one: molecule/default's verifier,
tests/test_bad_inventories.py.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
import yaml

ROOT = Path(__file__).parents[2]
ENV = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}

# The deploy lock's first task (role : name): a case that ran it got past the
# validation.
LOCK = "Take the deploy lock"

# Unusual values that are all valid; this host must pass the validation.
VALID = {
    "app_image": "registry.example.com:5000/team/flaskr",
    "redis_image": "redis@sha256:" + "0" * 64,
    "app_domain": "example.com",
    "app_acme_email": "ops+berth@example.com",
    "app_acme_ca": "https://ca.internal:9000/acme/acme/directory",
    "app_acme_ca_root": certifi.where(),
    "app_hsts": "max-age=63072000; includeSubDomains; preload",
    "app_hostnames": ["localhost", "web_1.internal", "127.0.0.1", "::1", "fe80::1"],
    "app_max_body_size": "512k",
    "app_request_header_timeout": "500ms",
    "app_request_body_timeout": "1m",
    "app_security_headers": {"Permissions-Policy": "camera=(), microphone=()"},
    "app_auth_rate_limit_per_address": "10/minute;100 per day",
    "app_auth_rate_limit_per_username": "5 per 2 hours",
    "app_config": {"PERMANENT_SESSION_LIFETIME": 86400, "FEATURES": {"a": [1, True]}},
    "app_volumes": ["uploads:/uploads", "/srv/berth-media:/media:ro"],
    "app_drain_seconds": 0,
    "app_keep_releases": "2",
    "app_tmpfs_size": "255m",
    "redis_maxmemory": "255MB",
    "docker_users": ["deploy"],
}

# (extra variables, what the message must say)
CASES = {
    "app_uid is retired": ({"app_uid": 10001}, "set app_user to UID:GID instead"),
    # No default is computed from it before the validation runs.
    "app_max_body_size not a size": (
        {"app_max_body_size": "lots"},
        'app_max_body_size must be a size above 0 in bytes or with k, m or g, such as 1m or 512k; got "lots"',
    ),
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
    "app_config sets what berth writes": (
        {"app_config": {"SECRET_KEY": "dev"}},
        "other than those berth writes itself (SECRET_KEY from app_secret_key,",
    ),
    "app_acme_ca not https": (
        {"app_acme_ca": "http://ca.internal/directory"},
        "app_acme_ca must be the https:// URL of an ACME directory",
    ),
    "app_acme_ca_root missing": (
        {"app_acme_ca_root": "/nonexistent/root.pem"},
        'got "/nonexistent/root.pem" (no such file)',
    ),
    "app_acme_ca_root not a certificate": (
        {"app_acme_ca_root": str(ROOT / "LICENSE")},
        "(no PEM certificate in it)",
    ),
    "app_hsts not a header value": (
        {"app_hsts": "max-age=1; evil"},
        "app_hsts must be empty or a Strict-Transport-Security value",
    ),
    "registry without a password": (
        {"app_registry_url": "registry.example.com", "app_registry_username": "deploy"},
        "missing: app_registry_password",
    ),
}


def host_name(case):
    return "-".join(case.replace("_", "-").split())


def messages(result):
    """Every failure message in a task's result, its loop's items' too."""
    found = [result["msg"]] if result.get("failed") and "msg" in result else []
    for item in result.get("results", []):
        found += messages(item)
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One deploy --check with the valid host and every case: each host's
    results by task name, and its failure messages."""
    tmp = tmp_path_factory.mktemp("validation")
    # The valid host's state directory is a file: the lock's first task fails
    # on it, so the run stops right after the validation.
    (tmp / "not-a-directory").touch()
    local = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
    }
    hosts = {
        "valid": {**local, **VALID, "host_state_dir": str(tmp / "not-a-directory")}
    }
    hosts |= {
        host_name(case): {**local, **variables}
        for case, (variables, _) in CASES.items()
    }
    inventory = {"app": {"hosts": hosts, "vars": {"app_version": "1.0"}}}
    (tmp / "hosts.yml").write_text(yaml.safe_dump(inventory))
    done = subprocess.run(
        [
            "ansible-playbook", "playbooks/deploy.yml", "--check",
            "-i", str(tmp / "hosts.yml"), "--forks", str(len(hosts)),
        ],
        cwd=ROOT, env={**ENV, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        output = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(done.stdout[-3000:] + done.stderr[-3000:])
    tasks = {name: {} for name in hosts}
    for play in output["plays"]:
        for task in play["tasks"]:
            for name, result in task["hosts"].items():
                tasks[name].setdefault(task["task"]["name"], []).append(result)
    return {
        name: (
            ran,
            [m for results in ran.values() for r in results for m in messages(r)],
        )
        for name, ran in tasks.items()
    }


def reached_the_lock(ran):
    return any(task.endswith(LOCK) for task in ran)


def test_valid_values_pass_the_validation(run):
    ran, failed = run["valid"]
    assert reached_the_lock(ran), failed
    # It failed at the lock, on the state directory that is a file, and the
    # deploy failed with it (no audit entry: the lock was not taken).
    assert len(failed) == 2, failed
    assert "already exists as a file" in failed[0], failed
    assert failed[1].startswith("The deploy failed at 'Take the deploy lock'"), failed
    # The lock it did not take is not released, and the audit log records
    # nothing (in the same task).
    released = [
        result
        for task, results in ran.items()
        if task.endswith("Release the deploy lock")
        for result in results
    ]
    assert released and all(result.get("skipped") for result in released), ran


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_value_fails_naming_the_variable(run, case):
    message = CASES[case][1]
    ran, failed = run[host_name(case)]
    assert not reached_the_lock(ran), f"{case}: got past the validation"
    assert message in " ".join(" ".join(failed).split()), failed


def test_config_py_writes_every_value_as_a_python_literal(tmp_path):
    settings = {
        "SCALARS": [1, -2.5, True, False, None, "text", ""],
        "NESTED": {"a": [{"b": {"c": [True, None]}}], 2: "two", "key's": {}},
        "QUOTES_AND_LINES": '"\'\\\n"""\nimport os\n',
        "UNICODE": "héllo ☃ \u2028",
        "EMPTY": [],
    }
    variables = {
        "secret_key": 'k"\\ey',
        "redis_url": "redis://:p%40ss@berth-redis:6379/0",
        "app_session_cookie_secure": True,
        "__app_max_body_bytes": 1048576,
        "app_auth_rate_limit_per_address": "10/minute;100 per day",
        "app_auth_rate_limit_per_username": "5 per minute",
        "app_config": settings,
    }
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    template = ROOT / "roles/app/templates/config.py.j2"
    subprocess.run(
        [
            "ansible", "localhost", "-m", "ansible.builtin.template",
            "-a", f"src={template} dest={tmp_path / 'config.py'}",
            "-e", f"@{tmp_path / 'vars.yml'}",
        ],
        cwd=ROOT, env=ENV, capture_output=True, text=True, check=True,
    )  # fmt: skip
    written = {}
    exec((tmp_path / "config.py").read_text(), written)  # noqa: S102 - our own file
    assert written["SECRET_KEY"] == variables["secret_key"]
    assert written["REDIS_URL"] == variables["redis_url"]
    assert written["SESSION_COOKIE_SECURE"] is True
    assert written["MAX_CONTENT_LENGTH"] == 1048576
    assert written["AUTH_RATE_LIMIT_PER_ADDRESS"] == "10/minute;100 per day"
    assert {name: written[name] for name in settings} == settings
    # Nothing else was defined: no name got out of a string.
    assert set(written) - {"__builtins__"} == {
        "SECRET_KEY", "REDIS_URL", "SESSION_COOKIE_SECURE", "MAX_CONTENT_LENGTH",
        "AUTH_RATE_LIMIT_PER_ADDRESS", "AUTH_RATE_LIMIT_PER_USERNAME", *settings,
    }  # fmt: skip
