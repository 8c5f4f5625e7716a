"""The lookup berth.deploy.code_digest (plugins/lookup/code_digest.py): the
digest of berth's code in a deploy's stamp changes with any file's name or
content under the directories named, and with nothing else."""

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "code_digest",
    Path(__file__).resolve().parents[2] / "plugins/lookup/code_digest.py",
)
code_digest = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(code_digest)


def digest(root):
    return code_digest.LookupModule().run([str(root), "roles", "playbooks"])[0]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "roles/app/tasks").mkdir(parents=True)
    (tmp_path / "roles/app/tasks/main.yml").write_text("- name: A task\n")
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks/deploy.yml").write_text("- name: A play\n")
    return tmp_path


def test_the_same_tree_has_the_same_digest(tree, tmp_path_factory):
    copy = tmp_path_factory.mktemp("copy")
    for path in tree.rglob("*"):
        target = copy / path.relative_to(tree)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    assert digest(tree) == digest(copy)
    assert len(digest(tree)) == 64


@pytest.mark.parametrize(
    "change",
    [
        lambda tree: (tree / "roles/app/tasks/main.yml").write_text("- name: B task\n"),
        lambda tree: (tree / "roles/app/tasks/main.yml").rename(
            tree / "roles/app/tasks/other.yml"
        ),
        lambda tree: (tree / "playbooks/rollback.yml").write_text(""),
        lambda tree: (tree / "roles/app/tasks/main.yml").unlink(),
    ],
    ids=["content", "name", "new file", "file removed"],
)
def test_any_change_of_the_code_changes_the_digest(tree, change):
    before = digest(tree)
    change(tree)
    assert digest(tree) != before


def test_compiled_python_other_directories_and_linked_trees_do_not_count(tree):
    before = digest(tree)
    (tree / "roles/__pycache__").mkdir()
    (tree / "roles/__pycache__/x.cpython-311.pyc").write_bytes(b"\0")
    (tree / "roles/y.pyc").write_bytes(b"\0")
    (tree / "app").mkdir()
    (tree / "app/main.py").write_text("print()\n")
    # As playbooks/collections/ansible_collections/berth/deploy links to the
    # repository's root.
    (tree / "playbooks/collections").mkdir()
    (tree / "playbooks/collections/deploy").symlink_to(tree)
    assert digest(tree) == before
