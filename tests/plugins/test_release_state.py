"""The module berth.deploy.release_state (plugins/modules/release_state.py),
run by Ansible against this machine's real engine: it reads the history and
the Caddyfile as they are, or none, and lists the app's containers, running
or not, and no other's."""

import json
import subprocess
import uuid

import pytest
from run_module import run_module

pytestmark = pytest.mark.engine


def release_state(**arguments):
    return run_module("release_state", **arguments)


@pytest.fixture
def containers():
    """Create stopped containers of an image this engine has; remove them after."""
    images = subprocess.run(
        ["docker", "images", "--quiet", "--filter", "dangling=false"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not images:
        pytest.skip("no image on this engine")
    made = []

    def create(name, label):
        made.append(name)
        subprocess.run(
            ["docker", "create", "--name", name, "--label", label, images[0], "true"],
            capture_output=True, check=True,
        )  # fmt: skip

    yield create
    subprocess.run(["docker", "rm", "--force", *made], capture_output=True, check=False)


def test_it_reads_the_files_and_lists_the_apps_containers(tmp_path, containers):
    app = f"berth-test-{uuid.uuid4().hex[:8]}"
    arguments = {
        "history": str(tmp_path / "history.json"),
        "caddyfile": str(tmp_path / "Caddyfile"),
        "label": f"berth.app={app}",
    }
    nothing = release_state(**arguments)
    assert (nothing["history"], nothing["caddyfile"], nothing["containers"]) == (
        None,
        "",
        [],
    )
    assert not nothing["changed"]

    (tmp_path / "history.json").write_text(
        '{"live": null, "previous": [], "next": null}\n'
    )
    (tmp_path / "Caddyfile").write_text(":80 {\n}\n")
    containers(f"{app}-1", f"berth.app={app}")
    containers(f"{app}-other", f"berth.app={app}-other")
    found = release_state(**arguments)
    assert found["history"] == {"live": None, "previous": [], "next": None}
    assert found["caddyfile"] == ":80 {\n}\n"
    assert [container["Names"] for container in found["containers"]] == [[f"/{app}-1"]]


def test_it_finds_the_images_a_deploy_may_run(tmp_path):
    present = subprocess.run(
        ["docker", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}",
         "--filter", "dangling=false"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")[0].split()  # fmt: skip
    if not present:
        pytest.skip("no image on this engine")
    reference, _ = present
    image, version = reference.rsplit(":", 1)
    (tmp_path / "history.json").write_text(json.dumps({
        "live": {"id": "a", "version": "gone", "image": f"{image}:berth-test-gone",
                 "image_id": "sha256:" + "0" * 64, "containers": []},
        "previous": [], "next": None,
    }))  # fmt: skip
    found = release_state(
        history=str(tmp_path / "history.json"),
        caddyfile=str(tmp_path / "Caddyfile"),
        label="berth.app=berth-test-none",
        image=image,
        version=version,
    )
    # The tag asked for is there; the live release's image is not.
    assert list(found["images"]) == [reference]
    assert found["images"][reference]["Id"].startswith("sha256:")
