"""The filters of roles/docker's tasks (plugins/filter/engine.py): which
engine packages dpkg has on disk, and where dockerd is."""

from ansible_collections.berth.deploy.plugins.filter import engine


def test_packages_on_disk_are_all_but_the_not_installed_and_the_removed():
    lines = [
        "docker.io installed",
        "docker-ce not-installed",
        "containerd config-files",
        "runc half-configured",
        "podman-docker unpacked",
        "",
    ]
    assert engine.dpkg_installed(lines) == ["docker.io", "runc", "podman-docker"]


def test_a_package_named_like_a_state_is_still_read_by_its_state():
    assert engine.dpkg_installed(["config-files installed"]) == ["config-files"]


def test_the_first_existing_path_wins_in_the_order_tried():
    results = [
        {"item": "/usr/sbin/dockerd", "stat": {"exists": False}},
        {"item": "/usr/bin/dockerd", "stat": {"exists": True}},
    ]
    assert engine.first_existing(results, "/usr/sbin/dockerd") == "/usr/bin/dockerd"
    both = [dict(result, stat={"exists": True}) for result in results]
    assert engine.first_existing(both, "x") == "/usr/sbin/dockerd"


def test_without_an_existing_path_the_default_is_taken():
    skipped = [{"item": "/usr/sbin/dockerd", "skipped": True}]
    assert engine.first_existing(skipped, "/usr/sbin/dockerd") == "/usr/sbin/dockerd"
    assert engine.first_existing([], "/usr/sbin/dockerd") == "/usr/sbin/dockerd"
