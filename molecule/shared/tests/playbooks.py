"""berth's playbooks and make targets, run from a scenario's verifier as a
user runs them: from the repository, against the scenario's inventory (or
another one), with Molecule's colours taken out of what they print.

The scenarios' verifiers import it (their PYTHONPATH has this directory).
"""

import os
import re
import subprocess

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
# The directory Molecule writes the scenario's inventory to.
INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def uncoloured(done):
    """done, its stdout and stderr without terminal colours."""
    done.stdout = COLOURS.sub("", done.stdout or "")
    done.stderr = COLOURS.sub("", done.stderr or "")
    return done


def playbook(name, *arguments, inventory=INVENTORY, env=None):
    """`ansible-playbook -i <inventory> playbooks/<name> ARGUMENTS`, to its
    end: the completed process, whatever it returned."""
    done = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), f"playbooks/{name}", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return uncoloured(done)


def start(name, *arguments, inventory=INVENTORY):
    """The same, started: the process, its output (stderr too) on .stdout as
    it prints it, for a test that acts while it runs."""
    return subprocess.Popen(
        ["ansible-playbook", "-i", str(inventory), f"playbooks/{name}", *arguments],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def make(target, *variables, inventory=INVENTORY, stdin="", cwd=ROOT, env=None):
    """`make TARGET INVENTORY=<inventory> VARIABLES` in the repository (or
    in cwd, a clone of it): the completed process, whatever it returned."""
    done = subprocess.run(
        ["make", "--no-print-directory", target, f"INVENTORY={inventory}", *variables],
        cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return uncoloured(done)
