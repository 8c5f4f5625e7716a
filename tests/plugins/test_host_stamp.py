"""The stamp of the last deploy (plugins/module_utils/stamp.py and the module
berth.deploy.host_stamp): what a part's spec observes, the digest of its
files, the comparison with the recorded stamp, and an image's content, which
check mode asks of the registry instead of pulling. Real files in tmp_path;
docker is a fake script only where a real engine and registry cannot be used,
and the real engine where there is one."""

import json
import os
import stat
import subprocess
import sys

import pytest
from ansible_collections.berth.deploy.plugins.module_utils import stamp
from run_module import run_module

REF = "registry.example:5000/site:2"
LOCAL = "sha256:" + "1" * 64
PUSHED = "sha256:" + "a" * 64
REPUSHED = "sha256:" + "b" * 64


def test_the_plan_names_what_to_observe():
    part = {
        "files": ["/var/lib/berth/", "/etc/docker/daemon.json", "/var/lib/berth"],
        "trees": ["/var/lib/berth"],
        "skip": ["/var/lib/berth/site"],
        "containers": ["berth-proxy"],
        "labels": ["berth.app=site"],
        "networks": ["berth"],
        "services": ["docker"],
        "image": REF,
    }
    assert stamp.plan(part, ["/var/lib/berth/deploy-stamp"]) == {
        "paths": ["/etc/docker/daemon.json", "/var/lib/berth"],
        "trees": ["/var/lib/berth"],
        "skip": ["/var/lib/berth/deploy-stamp", "/var/lib/berth/site"],
        "filters": ["name=^berth-proxy$", "label=berth.app=site"],
        "networks": ["berth"],
        "services": ["docker"],
        "image": REF,
    }
    assert stamp.plan({}, [])["image"] == ""


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        (REF, "registry.example:5000/site"),
        ("registry.example:5000/site", "registry.example:5000/site"),
        ("docker.io/library/redis:7", "redis"),
        ("redis@sha256:" + "c" * 64, "redis"),
    ],
)
def test_the_repository_of_a_reference(reference, repository):
    assert stamp.repository(reference) == repository


@pytest.fixture
def state(tmp_path):
    """A state directory as a deploy leaves it, with data under it."""
    top = tmp_path / "berth"
    (top / "site").mkdir(parents=True)
    (top / "site/db.sqlite").write_text("data")
    (top / "site-history.json").write_text("{}")
    (top / "deploy-stamp").write_text("{}")
    return top


def digest(top, **part):
    return stamp.observe(
        {"trees": [str(top)], "skip": [str(top / "site")], **part},
        [str(top / "deploy-stamp")],
        run=None,
    )


def test_the_files_digest_changes_with_content_mode_and_new_files(state):
    before = digest(state)
    assert digest(state) == before
    history = state / "site-history.json"
    history.write_text('{"live": null}')
    assert digest(state) != before
    before = digest(state)
    history.chmod(0o600)
    assert digest(state) != before
    before = digest(state)
    (state / "new").write_text("")
    assert digest(state) != before


def test_data_and_the_stamp_itself_are_left_out(state):
    before = digest(state)
    (state / "site/db.sqlite").write_text("more data")
    (state / "site/new").mkdir()
    (state / "deploy-stamp").write_text('{"app": {}}')
    assert digest(state) == before


def test_a_missing_file_is_observed_as_missing(tmp_path):
    missing = {"files": [str(tmp_path / "daemon.json")]}
    before = stamp.observe(missing, [], run=None)
    (tmp_path / "daemon.json").write_text("{}")
    assert stamp.observe(missing, [], run=None) != before


def test_the_comparison_names_the_parts_as_recorded():
    found = {
        "platform": {"inputs": "p", "host": "h1"},
        "app": {"inputs": "a", "host": "h2"},
    }
    recorded = {
        "platform": {"inputs": "p", "host": "h1"},
        "app": {"inputs": "a", "host": "old"},
    }
    assert stamp.compare(recorded, found, False) == {
        "locked": False,
        "unchanged": ["platform"],
        "same_inputs": ["platform", "app"],
    }
    assert stamp.compare(recorded, found, True)["locked"]
    for nothing in ({}, [], None, {"app": "not a part"}):
        assert stamp.compare(nothing, found, False) == {
            "locked": False,
            "unchanged": [],
            "same_inputs": [],
        }


def test_an_unreadable_stamp_is_none(tmp_path):
    assert stamp.read(str(tmp_path / "none")) == {}
    (tmp_path / "broken").write_text("{")
    assert stamp.read(str(tmp_path / "broken")) == {}


# A stand-in for docker: answers from fake.json, logs each call.
FAKE_DOCKER = """\
#!{python}
import json, sys
from pathlib import Path
here = Path(__file__).parent
with open(here / "calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
fake = json.loads((here / "fake.json").read_text())
argv = sys.argv[1:]
if argv[:2] == ["image", "inspect"]:
    if fake["local"] is None:
        sys.exit("Error: No such image: " + argv[-1])
    print(json.dumps(fake["local"]) if "RepoDigests" in argv[3] else "{local}")
elif argv[:2] == ["manifest", "inspect"]:
    registry = fake["registry"]
    if registry is None or ("--insecure" in argv) != fake["insecure"]:
        sys.exit("no such manifest")
    print(json.dumps({{"Ref": argv[-1], "Descriptor": {{"digest": registry}}}}))
"""


@pytest.fixture
def docker(tmp_path):
    """Set the fake's answers: (the image's RepoDigests on the host, or None
    when it has no such image; the registry's digest for the tag, or None
    when it cannot be asked; whether it is asked over plain HTTP); run its
    commands; read the calls made."""
    script = tmp_path / "docker"
    script.write_text(FAKE_DOCKER.format(python=sys.executable, local=LOCAL))
    script.chmod(0o755)

    def answer(local, registry, insecure=False):
        (tmp_path / "fake.json").write_text(
            json.dumps({"local": local, "registry": registry, "insecure": insecure})
        )

    def run(command, *arguments):
        assert command == "docker"
        return stamp.output(str(script), *arguments)

    def calls():
        log = tmp_path / "calls.log"
        return log.read_text().splitlines() if log.exists() else []

    return answer, run, calls


def pulls(calls):
    return [call for call in calls() if call.startswith("pull")]


def test_outside_check_mode_a_pulled_tag_is_pulled_again(docker):
    answer, run, calls = docker
    answer([f"registry.example:5000/site@{PUSHED}"], PUSHED)
    assert stamp.image_state(REF, run, check_mode=False) == LOCAL + "\n"
    assert pulls(calls) == [f"pull --quiet {REF}"]


def test_check_mode_asks_the_registry_and_pulls_nothing(docker):
    answer, run, calls = docker
    answer([f"registry.example:5000/site@{PUSHED}"], PUSHED)
    assert stamp.image_state(REF, run, check_mode=True) == LOCAL + "\n"
    answer([f"registry.example:5000/site@{PUSHED}"], PUSHED, insecure=True)
    assert stamp.image_state(REF, run, check_mode=True) == LOCAL + "\n"
    assert pulls(calls) == []


@pytest.mark.parametrize(
    ("registry", "seen"),
    [
        (REPUSHED, f"{REF} in its registry: {REPUSHED}\n"),
        (None, f"{REF} in its registry: unknown\n"),
    ],
    ids=["new content", "registry out of reach"],
)
def test_check_mode_sees_new_content_or_an_unknown_as_a_change(docker, registry, seen):
    answer, run, calls = docker
    answer([f"registry.example:5000/site@{PUSHED}"], registry)
    assert stamp.image_state(REF, run, check_mode=True) == seen
    assert pulls(calls) == []


def test_a_digest_of_another_repository_is_not_the_tags(docker):
    answer, run, _ = docker
    answer([f"elsewhere:5000/site@{PUSHED}"], PUSHED)
    assert "in its registry" in stamp.image_state(REF, run, check_mode=True)


def test_an_image_built_here_or_absent_is_taken_as_it_is(docker):
    answer, run, calls = docker
    answer([], PUSHED)
    assert stamp.image_state(REF, run, check_mode=True) == LOCAL + "\n"
    answer(None, PUSHED)
    assert "No such image" in stamp.image_state(REF, run, check_mode=True)
    assert "No such image" in stamp.image_state(REF, run, check_mode=False)
    assert [call for call in calls() if not call.startswith("image inspect")] == []


def test_a_command_that_cannot_start_is_observed():
    assert stamp.output("/nonexistent/docker", "ps")[0] == 127
    before = stamp.observe(
        {"networks": ["berth"]},
        [],
        run=lambda *c: stamp.output("/nonexistent/" + c[0], *c[1:]),
    )
    assert len(before) == 64


def host_stamp(*options, **arguments):
    return run_module("host_stamp", *options, **arguments)


def test_the_module_records_then_finds_the_host_unchanged(state):
    spec = {
        "stamp": str(state / "deploy-stamp"),
        "lock": str(state / "deploy.lock"),
        "skip": [str(state / "deploy-stamp")],
        "inputs": {"app": "a1"},
        "parts": {"app": {"trees": [str(state)], "skip": [str(state / "site")]}},
    }
    (state / "deploy-stamp").unlink()
    found = host_stamp(**spec)
    assert (found["unchanged"], found["same_inputs"], found["locked"]) == (
        [],
        [],
        False,
    )
    # Check mode writes nothing.
    assert host_stamp("--check", action="record", **spec)["result"] == "recorded"
    assert not (state / "deploy-stamp").exists()
    assert host_stamp(action="record", **spec)["result"] == "recorded"
    assert stat.S_IMODE((state / "deploy-stamp").stat().st_mode) == 0o600
    assert host_stamp(action="record", **spec)["result"] == "kept"
    assert host_stamp("--check", **spec)["unchanged"] == ["app"]
    (state / "site-history.json").write_text('{"live": "new"}')
    (state / "deploy.lock").write_text("someone")
    found = host_stamp(**{**spec, "inputs": {"app": "a2"}})
    assert (found["unchanged"], found["same_inputs"], found["locked"]) == ([], [], True)
    assert [
        path.name for path in state.iterdir() if path.name.startswith("deploy-stamp")
    ] == ["deploy-stamp"]


def test_a_stamp_of_the_previous_berth_is_read(state):
    # Its format: by part, the digest of the inputs and of the host.
    (state / "deploy-stamp").write_text(
        json.dumps(
            {"app": {"host": "0" * 64, "inputs": "a1"}}, indent=2, sort_keys=True
        )
    )
    found = host_stamp(
        stamp=str(state / "deploy-stamp"),
        lock=str(state / "deploy.lock"),
        inputs={"app": "a1"},
        parts={"app": {"trees": [str(state)]}},
    )
    assert (found["unchanged"], found["same_inputs"]) == ([], ["app"])


@pytest.mark.engine
def test_with_the_real_engine_containers_networks_and_images_are_observed(tmp_path):
    images = subprocess.run(
        ["docker", "images", "--quiet", "--no-trunc", "--filter", "dangling=false"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not images:
        pytest.skip("no image on this engine")
    label = f"berth.test-stamp={tmp_path.name}"
    network = f"berth-test-stamp-{os.getpid()}"
    part = {"labels": [label], "networks": [network], "image": images[0]}
    before = stamp.observe(part, [], check_mode=True)
    subprocess.run(
        ["docker", "network", "create", network], capture_output=True, check=True
    )
    created = subprocess.run(
        ["docker", "create", "--label", label, "--network", network, images[0], "true"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        after = stamp.observe(part, [], check_mode=True)
        assert after != before
        assert stamp.observe(part, [], check_mode=True) == after
        # An image by ID names no tag in a registry: taken as it is, by ID.
        assert stamp.image_state(images[0], stamp.output, True).strip() == images[0]
    finally:
        subprocess.run(
            ["docker", "rm", "--force", created], capture_output=True, check=False
        )
        subprocess.run(
            ["docker", "network", "rm", network], capture_output=True, check=False
        )


def test_an_image_by_id_or_digest_is_taken_as_it_is(docker):
    answer, run, calls = docker
    answer([f"registry.example:5000/site@{PUSHED}"], REPUSHED)
    for reference in (LOCAL, f"registry.example:5000/site@{PUSHED}"):
        assert stamp.image_state(reference, run, check_mode=True) == LOCAL + "\n"
        assert stamp.image_state(reference, run, check_mode=False) == LOCAL + "\n"
    assert [call for call in calls() if not call.startswith("image inspect")] == []
