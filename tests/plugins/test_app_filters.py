"""The filters of roles/app's tasks (plugins/filter/app.py): what a
Caddyfile and Docker say, and why a release did not become ready."""

import pytest
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


DIGEST = "@sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        ("registry:5000/team/flaskr:1.2", "registry:5000/team/flaskr"),
        ("registry:5000/flaskr", "registry:5000/flaskr"),
        ("docker.io/library/caddy:2", "caddy"),
        ("library/redis" + DIGEST, "redis"),
        ("flaskr:latest", "flaskr"),
    ],
)
def test_the_repository_of_a_reference(reference, repository):
    assert app.repository(reference) == repository


@pytest.mark.parametrize(
    ("digests", "here"),
    [
        ([], True),  # built on the host: no digest anywhere
        (["other:5000/flaskr" + DIGEST], True),  # pulled from elsewhere, retagged
        (["registry:5000/flaskr" + DIGEST], False),
        (["docker.io/registry:5000/flaskr" + DIGEST], False),
    ],
)
def test_an_image_built_on_the_host_has_no_digest_in_its_repository(digests, here):
    images = [{"Id": "sha256:1", "RepoDigests": digests}]
    assert app.built_here(images, "registry:5000/flaskr:2") is here


def test_no_image_on_the_host_was_not_built_here():
    assert app.built_here([], "registry:5000/flaskr:2") is False


def test_the_release_runs_the_image_pulled_else_the_one_found_else_its_reference():
    found = [{"Id": "sha256:found"}]
    assert (
        app.release_image_id({"image": {"Id": "sha256:new"}}, found, "r:1")
        == "sha256:new"
    )
    assert app.release_image_id({"skipped": True}, found, "r:1") == "sha256:found"
    # --check: the pull reports what it would do, with no image.
    assert app.release_image_id({"changed": True, "image": {}}, [], "r:1") == "r:1"
    assert app.release_image_id(None, [], "r:1") == "r:1"
