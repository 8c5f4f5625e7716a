"""What the docker role promises, checked on each Molecule host."""

import json

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


def has_systemd(host):
    return host.file("/run/systemd/system").is_directory


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
    pid = host.file("/run/docker.pid").content_string.strip()
    assert host.file(f"/proc/{pid}/comm").content_string.strip() == "dockerd"
    assert host.file("/var/log/dockerd.log").is_file


def test_daemon_json_has_the_configured_options(host):
    daemon_json = host.file("/etc/docker/daemon.json")
    assert daemon_json.user == "root"
    assert daemon_json.mode == 0o644
    assert json.loads(daemon_json.content_string) == EXPECTED_DAEMON_JSON


def test_engine_uses_the_configuration(host):
    info = docker_info(host)
    assert info["LoggingDriver"] == "json-file"
    assert info["LiveRestoreEnabled"] is True
    registry = info["RegistryConfig"]["IndexConfigs"]["berth-docker-registry:5000"]
    assert registry["Secure"] is False


def test_a_container_runs_with_rotated_json_logs(host):
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
    host.run_expect([0], "python3 -c 'import docker, requests'")


def test_users_are_in_the_docker_group(host):
    assert "docker" in host.user("berth").groups


def test_upstream_apt_source_is_rendered_and_accepted_by_apt(host):
    if has_systemd(host):
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
