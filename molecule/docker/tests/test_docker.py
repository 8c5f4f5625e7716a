"""What the docker role promises, checked on each Molecule host."""

import json
import os
import re

import pytest

# What converge.yml asks for: the role's defaults, overridden and merged.
EXPECTED_DAEMON_JSON = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "5m", "max-file": "2", "compress": "true"},
    "live-restore": True,
    "insecure-registries": ["berth-docker-registry:5000"],
    "default-address-pools": [{"base": "10.213.0.0/16", "size": 24}],
}

# Built by prepare.yml from the host's own dash and sleep (no registry here).
PROBE_IMAGE = "berth-probe:test"

# The foreign host's engine: docker-ce and a dockerd that prepare.yml started by
# hand with this daemon.json. The role must leave all of it as it was.
FOREIGN_DAEMON_JSON = {"log-driver": "local"}


def has_systemd(host):
    return host.file("/run/systemd/system").is_directory


def in_group(host, group):
    return group in host.ansible.get_variables()["group_names"]


def skip_if_foreign(host):
    if in_group(host, "foreign"):
        pytest.skip("berth did not install this host's engine and leaves it alone")


def only_foreign(host):
    if not in_group(host, "foreign"):
        pytest.skip("berth installed this host's engine")


def docker_info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def test_engine_runs_under_systemd_and_is_enabled(host):
    if not has_systemd(host):
        pytest.skip("no systemd on this host")
    service = host.service("docker")
    assert service.is_running
    assert service.is_enabled


def test_engine_runs_without_systemd_from_its_pidfile(host):
    if has_systemd(host):
        pytest.skip("systemd manages the engine here")
    skip_if_foreign(host)
    pid = host.file("/run/docker.pid").content_string.strip()
    assert host.file(f"/proc/{pid}/comm").content_string.strip() == "dockerd"
    assert host.file("/var/log/dockerd.log").is_file


def test_daemon_json_has_the_configured_options(host):
    skip_if_foreign(host)
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root"
    assert daemon_json.mode == 0o644
    assert json.loads(daemon_json.content_string) == EXPECTED_DAEMON_JSON


def test_engine_uses_the_configuration(host):
    skip_if_foreign(host)
    info = docker_info(host)
    assert info["LoggingDriver"] == "json-file"
    assert info["LiveRestoreEnabled"] is True
    registry = info["RegistryConfig"]["IndexConfigs"]["berth-docker-registry:5000"]
    assert registry["Secure"] is False


def test_a_container_runs_with_rotated_json_logs(host):
    skip_if_foreign(host)
    name = "berth-probe"
    host.run(f"docker rm -f {name}")
    run = host.run(
        f"docker run --name {name} {PROBE_IMAGE} /bin/dash -c 'echo hello from berth'"
    )
    try:
        assert run.rc == 0, run.stderr
        assert run.stdout.strip() == "hello from berth"
        log_config = json.loads(
            host.check_output(
                f"docker inspect --format '{{{{json .HostConfig.LogConfig}}}}' {name}"
            )
        )
        assert log_config == {
            "Type": "json-file",
            "Config": {"max-size": "5m", "max-file": "2", "compress": "true"},
        }
        assert host.check_output(f"docker logs {name}") == "hello from berth"
    finally:
        host.run(f"docker rm -f {name}")


def test_engine_restarted_for_the_new_config_and_kept_containers(host):
    skip_if_foreign(host)
    before = host.file("/root/dockerd.pid.before-converge").content_string.strip()
    now = host.file("/run/docker.pid").content_string.strip()
    assert now != before, (
        "converge changed daemon.json but the engine was not restarted"
    )
    # Same process, still running: live-restore kept it through the restart.
    survivor = host.file("/root/survivor.pid.before-converge").content_string.strip()
    state = json.loads(
        host.check_output("docker inspect --format '{{json .State}}' berth-survivor")
    )
    assert state["Running"] is True
    assert str(state["Pid"]) == survivor


def test_python_client_for_community_docker(host):
    # Imported, and talking to the engine as community.docker does.
    host.run_expect(
        [0], "python3 -c 'import docker, requests; docker.from_env().ping()'"
    )


def test_users_are_in_the_docker_group(host):
    assert "docker" in host.user("berth").groups


def test_upstream_apt_source_is_rendered_and_accepted_by_apt(host):
    if not in_group(host, "plain"):
        pytest.skip("the upstream repository step runs on the plain host only")
    source = host.file("/etc/apt/sources.list.d/docker.sources")
    assert source.mode == 0o644
    lines = [
        line for line in source.content_string.splitlines() if not line.startswith("#")
    ]
    assert lines == [
        "Types: deb",
        "URIs: https://download.docker.com/linux/debian",
        "Suites: bookworm",
        "Components: stable",
        f"Architectures: {host.check_output('dpkg --print-architecture')}",
        "Signed-By: /etc/apt/keyrings/docker.asc",
    ]
    assert host.file("/etc/apt/keyrings/docker.asc").mode == 0o644
    # apt parses the source (a malformed one fails) and lists what it would fetch.
    uris = host.check_output("apt-get update --print-uris")
    assert "'https://download.docker.com/linux/debian/dists/bookworm/InRelease'" in uris


# The foreign host: an engine that someone else installed (prepare.yml).


def test_foreign_engine_package_stays_and_docker_io_is_not_installed(host):
    only_foreign(host)
    assert host.package("docker-ce").is_installed
    assert not host.package("docker.io").is_installed


def test_foreign_engine_was_not_restarted_and_kept_its_containers(host):
    only_foreign(host)
    before = host.file("/root/dockerd.pid.before-converge").content_string.strip()
    # The one dockerd on the host is the one started by hand before converge.
    dockerds = host.check_output("grep -lx dockerd /proc/[0-9]*/comm").split()
    assert dockerds == [f"/proc/{before}/comm"]
    assert host.file("/run/docker.pid").content_string.strip() == before
    survivor = host.file("/root/survivor.pid.before-converge").content_string.strip()
    state = json.loads(
        host.check_output("docker inspect --format '{{json .State}}' berth-survivor")
    )
    assert state["Running"] is True
    assert str(state["Pid"]) == survivor
    # berth's own start would have logged here.
    assert not host.file("/var/log/dockerd.log").exists


def test_foreign_engine_configuration_is_untouched(host):
    only_foreign(host)
    before = json.loads(host.file("/root/daemon.json.before-converge").content_string)
    daemon_json = host.file("/etc/docker/daemon.json")
    # testinfra reads whole seconds, Ansible's stat fractions of one.
    assert int(daemon_json.mtime.timestamp()) == int(before["mtime"])
    assert json.loads(daemon_json.content_string) == FOREIGN_DAEMON_JSON
    assert (
        host.check_output(f"sha1sum {daemon_json.path}").split()[0]
        == before["checksum"]
    )
    info = docker_info(host)
    assert info["LoggingDriver"] == "local"
    assert "berth-docker-registry:5000" not in info["RegistryConfig"]["IndexConfigs"]


def test_converge_said_what_it_left_alone(host):
    """The last run of the converge playbook (idempotence) told the user."""
    only_foreign(host)
    with open(os.environ["ANSIBLE_LOG_PATH"], encoding="utf-8") as log:
        last_converge = log.read().rsplit("PLAY [Converge]", 1)[1]
    # Molecule's callback writes a task's result as JSON, closed by a lone "}".
    name = host.ansible.get_variables()["inventory_hostname"]
    said = re.search(
        rf"ok: \[{re.escape(name)}\] => (\{{\n.*?\n\}})\n", last_converge, re.DOTALL
    )
    assert said, f"no result for {name} in the last converge"
    lines = json.loads(said.group(1))["msg"]
    assert lines[0] == (
        "berth did not install this host's Docker engine (dpkg lists docker-ce)"
        " and leaves it alone."
    )
    assert lines[1] == (
        "It installs no engine package and removes none, does not write"
        " /etc/docker/daemon.json, and does not start, stop or restart the engine."
    )
    # The settings it would have written, for the user to apply.
    assert json.loads(lines[-1]) == EXPECTED_DAEMON_JSON
