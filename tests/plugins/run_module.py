"""One of the collection's modules, run by Ansible against this machine as a
task runs it on a host: the tests of plugins/modules import it."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
}


def run_module(name, *options, rc=0, **arguments):
    """`ansible localhost -m berth.deploy.<name> -a <arguments> <options>`,
    with this Python (the Docker SDK's): the module's result, once it
    returned rc."""
    run = subprocess.run(
        ["ansible", "localhost", "-m", f"berth.deploy.{name}", "-a", json.dumps(arguments),
         "-e", f"ansible_python_interpreter={sys.executable}", *options],
        cwd=ROOT, env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == rc, run.stdout + run.stderr
    return next(iter(json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"].values()))
