"""The repository is the collection berth.deploy (playbooks/collections links
to it), so the tests import its plugins as Ansible does:
ansible_collections.berth.deploy.plugins...."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "playbooks" / "collections"))


def engine_answers():
    """Whether a Docker engine answers on this machine."""
    docker = shutil.which("docker")
    return (
        bool(docker)
        and subprocess.run(
            [docker, "info"], capture_output=True, check=False
        ).returncode
        == 0
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "engine: needs this machine's Docker engine; skipped without one"
    )


def pytest_collection_modifyitems(config, items):
    needing = [item for item in items if "engine" in item.keywords]
    if needing and not engine_answers():
        for item in needing:
            item.add_marker(pytest.mark.skip(reason="no Docker engine here"))
