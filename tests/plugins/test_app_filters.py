"""The filters of roles/app's tasks (plugins/filter/app.py): what a
Caddyfile and Docker say, and why a release did not become ready."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.berth.deploy.plugins.filter import app


@pytest.mark.parametrize(
    ("caddyfile", "address"),
    [
        (
            "{\n\tadmin unix//config/admin.sock\n}\n:80 {\n}\n",
            "unix//config/admin.sock",
        ),
        ("{\n  admin localhost:2020\n}\n", "localhost:2020"),
        (":80 {\n\treverse_proxy flaskr-1:8000\n}\n", "localhost:2019"),
        ("", "localhost:2019"),
    ],
)
def test_the_admin_address_is_the_caddyfiles_else_the_default(caddyfile, address):
    assert app.caddy_admin_address(caddyfile, "localhost:2019") == address


MOUNTS = [
    {"Type": "volume", "Source": "/var/lib/docker/volumes/flaskr-proxy-data/_data", "Destination": "/data"},
    {"Type": "volume", "Source": "/var/lib/docker/volumes/flaskr-proxy-config/_data", "Destination": "/config"},
]  # fmt: skip


def test_a_mount_is_found_by_where_the_container_sees_it():
    assert (
        app.mount_source(MOUNTS, "/config")
        == "/var/lib/docker/volumes/flaskr-proxy-config/_data"
    )


def test_a_missing_mount_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no mount at /srv"):
        app.mount_source(MOUNTS, "/srv")


def test_containers_are_named_without_dockers_slash():
    containers = [{"Names": ["/flaskr-abc-1"]}, {"Names": ["/flaskr-abc-2", "/other"]}]
    assert app.container_names(containers) == ["flaskr-abc-1", "flaskr-abc-2"]
    assert app.container_names([]) == []


STATE = {"Status": "exited", "ExitCode": 3, "Health": {"Status": "unhealthy"}}


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"failed": True, "container": {"State": STATE}}, "Docker reports it exited, health unhealthy, exit code 3"),
        ({"failed": True, "container": {"State": {"Status": "running", "ExitCode": 0}}},
         "Docker reports it running, health none, exit code 0"),
        ({"failed": True, "stderr_lines": ["pulling", "curl: (7) refused"], "msg": "non-zero return code"},
         "curl: (7) refused"),
        ({"failed": True, "stderr_lines": [], "msg": "timed out"}, "timed out"),
        ({"failed": True, "stderr_lines": ["refused", ""], "msg": "timed out"}, "timed out"),
        ({"failed": True, "container": None, "msg": "timed out"}, "timed out"),
        ({"failed": True}, "unknown error"),
        ({"results": [{"failed": False, "msg": "fine"}, {"skipped": True}, {"failed": True, "container": {"State": STATE}}]},
         "Docker reports it exited, health unhealthy, exit code 3"),
        ({"results": [{"failed": False}]}, "unknown error"),
    ],
)  # fmt: skip
def test_the_failure_reason_is_dockers_word_else_the_error(result, reason):
    assert app.failure_reason(result) == reason
