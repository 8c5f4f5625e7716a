"""The options of the modules that record the release history as they act
(release_ready, release_switch): plugins/module_utils/history_file.py."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  history:
    description: The release history's file, written once the module's work is done.
    type: path
  record:
    description: The release history to write to O(history), whole.
    type: dict
"""
