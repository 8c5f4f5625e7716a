"""The repository is the collection berth.deploy (playbooks/collections links
to it), so the tests import its plugins as Ansible does:
ansible_collections.berth.deploy.plugins...."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "playbooks" / "collections"))
