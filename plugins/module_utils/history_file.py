"""Writing an app's release history on the host, for the modules that
record it as they act (release_ready, release_switch): whole, through a
temporary file beside it renamed over it, as to_nice_json formats it."""

import json
import os
import tempfile

# The modules' options (doc fragment berth.deploy.release_history).
HISTORY_OPTIONS = {"history": {"type": "path"}, "record": {"type": "dict"}}


def write_history(module, path, history):
    """history into the JSON file at path (mode 0644), replaced whole."""
    descriptor, temporary = tempfile.mkstemp(
        dir=os.path.dirname(path), prefix=".history."
    )
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps(history, indent=4, sort_keys=True) + "\n")
    os.chmod(temporary, 0o644)
    module.atomic_move(temporary, path)
