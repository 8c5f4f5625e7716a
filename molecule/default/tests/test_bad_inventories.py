"""A bad inventory fails before any change on a deployed host, with a message
that names the variable and its value.

One run of playbooks/deploy.yml, as `make deploy` runs it, against an
inventory of one host per case: each is the scenario's test host under the
case's name, with the scenario's variables and the case's bad ones. Every case
must fail in the validation and none may reach the deploy lock. The host's
containers, networks and volumes, every file under the state and instance
directories (mode, owner, size, time) and the paths the cases name are the
same after the run as before.
"""

import json
import os
import re
import shutil
import time
from pathlib import Path

import host_snapshot
import pytest
import yaml

from playbooks import playbook

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]

# The deploy lock's first task (role : name): a case that ran it got past the
# validation.
LOCK = "Create the state directory"

# name: (the case's variables, what the message must say). Each message must
# also name one of the variables and show its value, but for those in HIDDEN.
CASES = {
    # The audit's findings.
    "instance dir /usr": (
        {"app_instance_dir": "/usr"},
        "app_instance_dir must be an absolute path at least two levels deep",
    ),
    "instance dir is the state dir": (
        {"app_instance_dir": "/var/lib/berth"},
        "app_instance_dir must not be app_state_dir or a directory above it",
    ),
    "volume from a relative path": (
        {"app_volumes": ["uploads/files:/uploads"]},
        "a relative path is not a host directory",
    ),
    "config name with a newline": (
        {"app_config": {"DEBUG\nimport os\nX": 1}},
        "app_config's names must be upper-case Python names",
    ),
    "keep no release": (
        {"app_keep_releases": 0},
        "app_keep_releases must be a whole number of 1 or more",
    ),
    "no time to become healthy": (
        {"app_healthy_timeout": 0},
        "app_healthy_timeout must be a whole number of seconds, 1 or more",
    ),
    "app name with a slash": (
        {"app_name": "flaskr/prod"},
        "app_name must be a Docker name",
    ),
    "app name with ..": (
        {"app_name": "flaskr..prod"},
        "app_name must be a Docker name",
    ),
    "maxmemory above the limit": (
        {"redis_maxmemory": "512mb"},
        "redis_memory_limit must be 6m or more (Docker's least), and redis_maxmemory below it",
    ),
    "domain with a Caddyfile block": (
        {"app_domain": "example.com {\n\trespond pwned\n}"},
        "app_domain must be empty or a DNS name",
    ),
    "e-mail with a newline": (
        {"app_domain": "example.com", "app_acme_email": "ops@example.com\n}"},
        "app_acme_email must be empty or an e-mail address",
    ),
    # Host paths.
    "state dir /var/lib": (
        {"host_state_dir": "/var/lib"},
        "host_state_dir must be an absolute path at least two levels deep",
    ),
    "state dir in /etc": (
        {"host_state_dir": "/etc/berth"},
        "host_state_dir must be an absolute path at least two levels deep",
    ),
    "password file in /etc": (
        {"redis_password_file": "/etc/redis-password"},
        "redis_password_file must be an absolute path at least two levels deep",
    ),
    "redis.conf is the password file": (
        {"redis_config_file": "/var/lib/berth/redis-password"},
        "redis_password_file and redis_config_file must be two different files",
    ),
    "dockerd log in /proc": (
        {"docker_dockerd_log": "/proc/dockerd.log"},
        "docker_dockerd_log must be an absolute path at least two levels deep",
    ),
    "volume from /etc": (
        {"app_volumes": ["/etc:/host-etc:ro"]},
        "The SOURCE of each of app_volumes must be a named volume",
    ),
    "volume from the state dir": (
        {"app_volumes": ["/var/lib/berth:/secrets:ro"]},
        "not app_state_dir (/var/lib/berth) or above it",
    ),
    # Numbers and sizes.
    "port above 65535": (
        {"app_published_port": 70000},
        "app_published_port must be a port number, 1 to 65535",
    ),
    "negative drain": (
        {"app_drain_seconds": -1},
        "app_drain_seconds must be a whole number of seconds, 0 or more",
    ),
    "no Redis processes": (
        {"redis_pids_limit": 0},
        "redis_pids_limit must be a whole number of 1 or more",
    ),
    "keep releases not a number": (
        {"app_keep_releases": "many"},
        "argument 'app_keep_releases' is of type str and we were unable to convert to int",
    ),
    "memory limit in bytes": (
        {"redis_memory_limit": "256"},
        "redis_memory_limit must be 6m or more (Docker's least)",
    ),
    "tmpfs as large as the memory": (
        {"app_tmpfs_size": "256m"},
        "app_tmpfs_size must be below app_memory_limit",
    ),
    "body size with a space": (
        {"app_max_body_size": "1 MB"},
        "app_max_body_size must be a size",
    ),
    "timeout without a unit": (
        {"app_request_header_timeout": "10"},
        "app_request_header_timeout must be a duration",
    ),
    # Names, host names, headers, rate limits, users, images.
    "network with a slash": (
        {"host_network": "berth/net"},
        "host_network must be a Docker network name",
    ),
    "Redis on the proxy's network": (
        {"host_redis_network": "berth"},
        "host_network and host_redis_network must be two networks",
    ),
    "volume name with ..": (
        {"redis_data_volume": "redis..data"},
        "redis_data_volume must be a Docker name",
    ),
    "host name with a space": (
        {"app_hostnames": ["localhost", "evil host"]},
        "app_hostnames must list DNS names",
    ),
    "header value with a newline": (
        {"app_security_headers": {"X-Frame-Options": "DENY\nSet-Cookie: x=1"}},
        "app_security_headers must map header names",
    ),
    "rate limit per fortnight": (
        {"app_auth_rate_limit_per_address": "10 per fortnight"},
        "app_auth_rate_limit_per_address must be one or more limits",
    ),
    "Redis user by name": (
        {"redis_user": "redis"},
        "redis_user must be UID:GID in numbers",
    ),
    "image with a space": (
        {"redis_image": "redis:7 bookworm"},
        "redis_image must be an image reference",
    ),
    "app image with a tag": (
        {"app_image": "flaskr:1.0"},
        "app_image must be an image repository without its tag",
    ),
    "secret key too short": (
        {"app_secret_key": "dev"},
        "app_secret_key must be empty (berth generates a key) or at least 16 characters",
    ),
    "redis_uid is retired": (
        {"redis_uid": 999},
        'set redis_user to UID:GID instead, e.g. redis_user: "999:999"',
    ),
}

# Cases whose message does not show the value: a retired variable's says what
# replaced it, a secret's never shows it.
HIDDEN = {"redis_uid is retired", "secret key too short"}


def host_name(case):
    """An inventory name for the case that is a valid host name, as the
    default app_hostnames serve it."""
    return re.sub(r"[^a-z0-9]+", "-", case.lower()).strip("-")


def shown(value):
    """How a message may show a bad value: whole or one item, as JSON (or as
    Python, in the argument specs' messages)."""
    forms = [value]
    if isinstance(value, list):
        forms += value
    if isinstance(value, dict):
        forms += [*value, *value.values()]
    return [json.dumps(form) for form in forms] + [repr(form) for form in forms]


def messages(result):
    """Every failure message in a task's result, its loop's items' too."""
    found = [result["msg"]] if result.get("failed") and "msg" in result else []
    for item in result.get("results", []):
        found += messages(item)
    return found


def snapshot(host, settings):
    """What a deploy that fails in the validation must leave as it was, and
    the paths the cases name."""
    named = sorted(
        {
            path.split(":")[0]
            for variables, _ in CASES.values()
            for value in variables.values()
            for path in (value if isinstance(value, list) else [value])
            if isinstance(path, str) and path.startswith("/")
        }
    )
    return host_snapshot.snapshot(host, settings, named)


@pytest.fixture(scope="module")
def run(host, settings, tmp_path_factory):
    """One deploy with every case: (per case host, its results by task name),
    and the snapshots before and after."""
    scenario_host = host.backend.get_hostname()
    source = yaml.safe_load(Path(INVENTORY).read_text(encoding="utf-8"))
    connection = {
        "ansible_host": scenario_host,
        **source["all"]["hosts"][scenario_host],
    }
    inventory = tmp_path_factory.mktemp("bad-inventories")
    shutil.copytree(
        f"{os.path.dirname(INVENTORY)}/group_vars", inventory / "group_vars"
    )
    hosts = {
        host_name(case): {**connection, **variables}
        for case, (variables, _) in CASES.items()
    }
    assert len(hosts) == len(CASES), "two cases have the same host name"
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"app": {"hosts": hosts}}))

    before = snapshot(host, settings)
    started = time.monotonic()
    done = playbook(
        "deploy.yml",
        "--forks",
        str(len(hosts)),
        inventory=inventory,
        env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
    )
    print(
        f"{len(hosts)} bad inventories in one deploy: {time.monotonic() - started:.1f} s"
    )
    after = snapshot(host, settings)
    assert done.returncode != 0, done.stdout[-3000:] + done.stderr[-3000:]
    try:
        output = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(done.stdout[-3000:] + done.stderr[-3000:])
    tasks = {name: {} for name in hosts}
    for play in output["plays"]:
        for task in play["tasks"]:
            for name, result in task["hosts"].items():
                tasks[name].setdefault(task["task"]["name"], []).append(result)
    return tasks, output["stats"], before, after


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_a_bad_value_fails_in_the_validation_naming_the_variable(run, case):
    tasks, stats, _, _ = run
    name = host_name(case)
    variables, says = CASES[case]
    assert stats[name]["failures"] == 1, stats[name]
    assert not [task for task in tasks[name] if task.endswith(LOCK)], (
        f"{case}: got past the validation"
    )
    failed = [
        message
        for results in tasks[name].values()
        for result in results
        for message in messages(result)
    ]
    text = " ".join(" ".join(failed).split())
    assert says in text, failed
    assert any(variable in text for variable in variables), failed
    if case not in HIDDEN:
        assert any(
            form in " ".join(failed)
            for value in variables.values()
            for form in shown(value)
        ), failed


def test_nothing_changed_on_the_host(run):
    _, _, before, after = run
    assert before["containers"], "no container ran before: is the scenario converged?"
    for name in before:
        assert after[name] == before[name], name
