"""The lookups behind a deploy's stamp: berth.deploy.footprint (what each
part leaves on the host, from its roles' meta/footprint.yml) and
berth.deploy.deploy_inputs (the digest of each part's code and variables)."""

import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "playbooks/collections"))
from ansible_collections.berth.deploy.plugins.lookup import (
    deploy_inputs,
    footprint,
)

PARTS = {"platform": ["docker", "host", "redis", "backup"], "app": ["app"]}


def lookup(plugin, terms, variables, **options):
    """Run a lookup as a play would, with these variables (templates)."""
    variables = {name: trust_as_template(value) for name, value in variables.items()}
    loader = DataLoader()
    templar = Templar(loader=loader, variables=variables)
    return plugin.LookupModule(loader=loader, templar=templar).run(
        terms, variables, **options
    )[0]


def role(root, name, footprint=None, defaults=None, options=(), retired=()):
    """A role with a footprint, defaults, argument specs and validation rules
    (the variables it retired) in root/roles."""
    top = root / "roles" / name
    for folder in ("meta", "defaults", "tasks"):
        (top / folder).mkdir(parents=True, exist_ok=True)
    (top / "tasks/main.yml").write_text(f"- name: {name}\n")
    if footprint is not None:
        (top / "meta/footprint.yml").write_text(yaml.safe_dump(footprint))
    (top / "defaults/main.yml").write_text(yaml.safe_dump(defaults or {}))
    specs = {
        "argument_specs": {"main": {"options": {o: {"type": "str"} for o in options}}}
    }
    (top / "meta/argument_specs.yml").write_text(yaml.safe_dump(specs))
    rules = {"validate": [{"name": old, "retired": "gone"} for old in retired]}
    (top / "meta/validation.yml").write_text(yaml.safe_dump(rules))


def test_every_role_declares_its_footprint():
    for top in (ROOT / "roles").iterdir():
        if top.is_dir():
            declared = yaml.safe_load((top / "meta/footprint.yml").read_text())
            assert set(declared) <= set(footprint.LISTS) | {"image"}, top.name


def test_the_deploys_parts_from_the_roles_footprints():
    found = lookup(
        footprint, [PARTS], {"host_state_dir": "/srv/berth", "app_version": "2"}
    )
    assert "/etc/docker/daemon.json" in found["platform"]["files"]
    assert "/srv/berth/state-format" in found["platform"]["files"]
    assert found["platform"]["services"] == ["docker", "berth-backup.timer"]
    assert found["platform"]["containers"] == ["berth-redis"]
    assert found["app"]["image"] == "flaskr:2"
    assert found["app"]["labels"] == ["berth.app=flaskr"]
    # The archives and the instance directory are data, in no part.
    assert found["app"]["skip"] == found["platform"]["skip"]
    assert "/var/lib/berth/backups" in found["app"]["skip"]
    assert "image" not in lookup(footprint, [PARTS], {})["app"]


def test_a_footprint_is_templated_over_the_roles_defaults(tmp_path):
    role(
        tmp_path,
        "one",
        {"files": ["{{ one_dir }}/a"], "skip": ["{{ one_dir }}/data"]},
        {"one_dir": "/one"},
    )
    role(
        tmp_path,
        "two",
        {"trees": ["{{ one_dir }}"], "containers": ["{{ two_name }}"]},
        {"two_name": "two"},
    )
    found = lookup(
        footprint,
        [{"p": ["one"], "q": ["two"]}],
        {"one_dir": "/given"},
        roles_path=tmp_path / "roles",
    )
    assert found == {
        "p": {"files": ["/given/a"], "skip": ["/given/data"]},
        "q": {"trees": ["/given"], "containers": ["two"], "skip": ["/given/data"]},
    }


def test_a_role_without_a_footprint_is_an_error(tmp_path):
    role(tmp_path, "one")
    with pytest.raises(AnsibleError, match="one has no meta/footprint.yml"):
        lookup(footprint, [{"p": ["one"]}], {}, roles_path=tmp_path / "roles")


def test_the_inputs_are_the_roles_options_but_what_a_deploy_is_asked():
    specs = {
        "host": [
            "host_state_dir",
            "host_skip_unchanged",
            "host_stamp_parts",
            "host_lock_reason",
        ],
        "app": [
            "app_name",
            "app_version",
            "app_rollback",
            "app_rollback_version",
            "app_rotate_secret_key",
            "app_version_x",
        ],
        "redis": ["redis_image", "redis_old"],
    }
    parts = {"platform": ["host", "redis"], "app": ["app"]}
    assert deploy_inputs.names(parts, specs) == {
        "platform": ["host_state_dir", "redis_image", "redis_old"],
        "app": ["app_name", "app_version_x"],
    }


@pytest.fixture
def tree(tmp_path):
    role(tmp_path, "host", {}, options=["host_dir"])
    role(tmp_path, "app", {}, options=["app_name", "app_version"], retired=["app_old"])
    for shared in ("plugins", "playbooks"):
        (tmp_path / shared).mkdir()
        (tmp_path / shared / "x.yml").write_text("x\n")
    return tmp_path


def inputs(tree, **variables):
    parts = {"platform": ["host"], "app": ["app"]}
    return lookup(
        deploy_inputs,
        [parts],
        {"host_dir": "/srv", "app_name": "site", **variables},
        root=tree,
    )


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        (
            lambda tree: (tree / "roles/app/tasks/main.yml").write_text("- name: B\n"),
            {"app"},
        ),
        (lambda tree: (tree / "roles/host/tasks/new.yml").write_text(""), {"platform"}),
        (lambda tree: (tree / "plugins/x.yml").write_text("y\n"), {"platform", "app"}),
        (lambda tree: (tree / "playbooks/y.yml").write_text(""), {"platform", "app"}),
    ],
    ids=["app's code", "host's code", "a plugin", "a playbook"],
)
def test_code_counts_in_the_parts_that_run_it(tree, change, changed):
    before = inputs(tree)
    change(tree)
    after = inputs(tree)
    assert {part for part in before if before[part] != after[part]} == changed


def test_a_value_counts_in_its_part_and_the_release_asked_for_in_none(tree):
    before = inputs(tree)
    assert inputs(tree) == before
    assert inputs(tree, app_version="2") == before
    assert inputs(tree, app_name="other")["platform"] == before["platform"]
    assert inputs(tree, app_name="other")["app"] != before["app"]
    # A variable an earlier berth read counts, set: the validation refuses it.
    assert inputs(tree, app_old="1")["app"] != before["app"]
    # Templated: the value, not the template, counts.
    assert inputs(tree, host_dir="{{ '/srv' }}") == before
    assert inputs(tree, host_dir="/other")["platform"] != before["platform"]


def test_a_roles_default_counts_where_nothing_sets_it(tmp_path):
    # The play need not have loaded the role: its defaults are read, templated
    # with the play's variables, and a value the play sets wins.
    role(tmp_path, "host", {}, defaults={"host_dir": "/srv/{{ host_name }}"},
         options=["host_dir"])  # fmt: skip
    role(tmp_path, "app", {}, options=["app_name"])
    parts = {"platform": ["host"], "app": ["app"]}

    def inputs(**variables):
        return lookup(deploy_inputs, [parts], variables, root=tmp_path)["platform"]

    assert inputs(host_name="a") == inputs(host_dir="/srv/a")
    assert inputs(host_name="a") != inputs(host_name="b")
    assert inputs(host_name="a", host_dir="/other") == inputs(host_dir="/other")
