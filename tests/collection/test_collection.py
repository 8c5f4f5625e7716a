"""berth as the installable collection berth.deploy: built with
ansible-galaxy, installed into an empty collections path, used from a
directory outside the repository."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir())
PLAYBOOKS = sorted(path.stem for path in (ROOT / "playbooks").glob("*.yml"))
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py"))


def plain_environment(**settings):
    """This environment without the repository's Ansible settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return {**env, **settings}


def run(*argv, cwd, env):
    done = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the collection, install it into an empty path; return an
    environment that uses that path only, and a directory outside the repo."""
    outside = tmp_path_factory.mktemp("elsewhere")
    collections = tmp_path_factory.mktemp("collections")
    env = plain_environment(ANSIBLE_COLLECTIONS_PATH=str(collections))
    run("ansible-galaxy", "collection", "build", "--output-path", str(outside), str(ROOT),
        cwd=outside, env=env)  # fmt: skip
    (artifact,) = outside.glob("berth-deploy-*.tar.gz")
    run("ansible-galaxy", "collection", "install", "-p", str(collections), str(artifact),
        cwd=outside, env=env)  # fmt: skip
    return {
        "env": env,
        "cwd": outside,
        "root": collections / "ansible_collections/berth/deploy",
    }


def test_the_artifact_holds_the_roles_playbooks_and_module_only(installed):
    root = installed["root"]
    assert sorted(path.name for path in (root / "roles").iterdir()) == ROLES
    playbooks = sorted(path.name for path in (root / "playbooks").iterdir())
    assert playbooks == sorted([f"{name}.yml" for name in PLAYBOOKS] + ["vars"])
    for kept in (
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "requirements.yml",
        "meta/runtime.yml",
    ):
        assert (root / kept).is_file(), kept
    assert (root / "plugins/modules/https_get.py").is_file()
    assert (root / "plugins/filter/status.py").is_file()
    for left_out in ("app", "molecule", "tests", "images", "inventory", ".venv"):
        assert not (root / left_out).exists(), left_out


def test_galaxy_yml_names_the_version_and_the_community_docker_pin(installed):
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    requirements = yaml.safe_load((ROOT / "requirements.yml").read_text())
    manifest = (installed["root"] / "MANIFEST.json").read_text()
    assert f'"version": "{galaxy["version"]}"' in manifest
    (pinned,) = requirements["collections"]
    assert pinned["name"] == "community.docker"
    assert "community.docker" in galaxy["dependencies"]


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_shows_every_option_with_its_real_default(installed, role):
    out = run("ansible-doc", "--json", "-t", "role", f"berth.deploy.{role}",
              cwd=installed["cwd"], env=installed["env"])  # fmt: skip
    options = json.loads(out)[f"berth.deploy.{role}"]["entry_points"]["main"]["options"]
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults/main.yml").read_text())
    assert set(options) == set(defaults)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_ansible_doc_documents_its_module(installed):
    out = run("ansible-doc", "--json", "-t", "module", "berth.deploy.https_get",
              cwd=installed["cwd"], env=installed["env"])  # fmt: skip
    doc = json.loads(out)["berth.deploy.https_get"]
    assert set(doc["doc"]["options"]) == {
        "server_name", "address", "port", "path", "ca_file", "timeout",
    }  # fmt: skip
    assert set(doc["return"]) == {
        "status", "error", "certificate_sha256", "certificate_not_after",
    }  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_every_modules_documentation_parses(installed, module):
    out = run("ansible-doc", "--json", "-t", "module", f"berth.deploy.{module}",
              cwd=installed["cwd"], env=installed["env"])  # fmt: skip
    doc = json.loads(out)[f"berth.deploy.{module}"]["doc"]
    assert doc["module"] == module and doc["options"], doc


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_its_playbooks_pass_syntax_check_from_outside_the_repo(installed, playbook):
    out = run("ansible-playbook", "-i", "localhost,", f"berth.deploy.{playbook}",
              "--syntax-check", cwd=installed["cwd"], env=installed["env"])  # fmt: skip
    assert "ansible_collections/berth/deploy/playbooks" in out


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_the_repositorys_playbooks_run_from_any_directory(tmp_path, playbook):
    env = plain_environment()
    run("ansible-playbook", "-i", str(ROOT / "inventory"), str(ROOT / f"playbooks/{playbook}.yml"),
        "--syntax-check", cwd=tmp_path, env=env)  # fmt: skip
