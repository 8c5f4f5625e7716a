"""The test host as the verifiers reach it: by `docker exec` (testinfra's
docker backend) rather than through testinfra's ansible backend, which runs
a whole `ansible` command line, about a second of CPU, for every command.
The inventory's variables still come from the ansible backend.

A scenario's tests/conftest.py imports these fixtures. Molecule names each
container as its inventory does.
"""

import subprocess

import pytest
import testinfra


@pytest.fixture(scope="module")
def inventory_host(_testinfra_host):
    """The host as Molecule's inventory names it, for its variables."""
    return _testinfra_host


@pytest.fixture(scope="module")
def host(inventory_host):
    """The same host, reached by `docker exec`."""
    return testinfra.get_host(f"docker://{inventory_host.backend.host}")


@pytest.fixture(scope="module")
def settings(inventory_host):
    """The inventory's variables: names, paths and ports of the deploy."""
    return inventory_host.ansible.get_variables()


def copy_to(host, source, destination):
    """Copy a file of this machine into a directory of a host reached by
    `docker exec`, which it creates; the file is left readable by all."""
    host.check_output("mkdir -p %s", destination)
    subprocess.run(
        ["docker", "cp", str(source), f"{host.backend.name}:{destination}/"],
        check=True,
    )
    host.check_output("chmod 0644 %s/%s", destination, source.rsplit("/", 1)[-1])
