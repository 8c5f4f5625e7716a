"""What the https scenario's verifiers share: the test host by `docker
exec` and the inventory's settings (molecule/shared/tests/docker_exec.py), and
the site as this machine reaches it, with the root pebble signs with."""

import json
import ssl
import subprocess
import urllib.request

import pytest
from docker_exec import host, inventory_host, settings  # noqa: F401


def docker_inspect(name):
    """`docker inspect` of a container on this machine."""
    out = subprocess.run(
        ["docker", "inspect", name], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)[0]


@pytest.fixture(scope="module")
def site(settings, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    """The domain, the test host's address on the scenario's network (where
    the domain resolves for pebble), pebble's address there, and a PEM file
    of pebble's root: the root of the certificates it issues, which only its
    management port tells, over HTTPS signed by the scenario's own CA."""
    prefix = settings["berth_molecule_prefix"]
    networks = docker_inspect(f"{prefix}-host")["NetworkSettings"]["Networks"]
    pebble = docker_inspect(settings["berth_molecule_pebble"])
    port = pebble["NetworkSettings"]["Ports"]["15000/tcp"][0]["HostPort"]
    context = ssl.create_default_context(cafile=settings["app_acme_ca_root"])
    with urllib.request.urlopen(
        f"https://127.0.0.1:{port}/roots/0", context=context, timeout=10
    ) as response:
        root = response.read().decode()
    assert root.startswith("-----BEGIN CERTIFICATE-----"), root
    root_file = tmp_path_factory.mktemp("pebble") / "root.pem"
    root_file.write_text(root)
    return {
        "domain": settings["app_domain"],
        "address": networks[f"{prefix}-net"]["IPAddress"],
        "root": str(root_file),
        "pebble": settings["berth_molecule_pebble"],
        "pebble_address": pebble["NetworkSettings"]["Networks"][f"{prefix}-net"][
            "IPAddress"
        ],
    }
