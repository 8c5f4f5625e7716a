"""The module berth.deploy.host_lock (plugins/modules/host_lock.py), run by
Ansible on this machine: one run at a time takes the lock, the state
directory comes with it, and check mode creates nothing."""

import json
import stat

from run_module import run_module


def take(path, holder, *options, **more):
    arguments = {"path": str(path), **more}
    if holder:
        arguments["holder"] = holder
    return run_module("host_lock", *options, **arguments)


def test_the_first_run_takes_it_with_the_state_directory(tmp_path):
    lock = tmp_path / "berth" / "deploy.lock"
    taken = take(lock, "ops@a since now, deploying 1")
    assert taken["held"] and taken["changed"]  # the directory is new
    assert lock.read_text() == "ops@a since now, deploying 1\n"
    assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700


def test_a_second_run_is_refused_and_told_who_holds_it(tmp_path):
    lock = tmp_path / "deploy.lock"
    take(lock, "ops@a since now, deploying 1")
    refused = take(lock, "ops@b since later, deploying 2")
    assert not refused["held"] and not refused["changed"]
    assert refused["holder"] == "ops@a since now, deploying 1"
    assert lock.read_text() == "ops@a since now, deploying 1\n"


def test_check_mode_creates_nothing_and_still_sees_a_holder(tmp_path):
    lock = tmp_path / "berth" / "deploy.lock"
    assert take(lock, "ops@a", "--check")["held"]
    assert not lock.parent.exists()
    lock.parent.mkdir()
    lock.write_text("ops@b since then\n")
    seen = take(lock, "ops@a", "--check")
    assert not seen["held"] and seen["holder"] == "ops@b since then"


def test_releasing_appends_the_audit_entry_then_removes_the_lock(tmp_path):
    lock, log = tmp_path / "deploy.lock", tmp_path / "audit.log"
    take(lock, "ops@a since now, deploying 1")
    entry = {"action": "deploy", "what": "flaskr 1", "result": "ok"}
    released = take(lock, None, state="absent", audit_log=str(log), audit_entry=entry)
    assert released["changed"] and released["holder"] == "ops@a since now, deploying 1"
    assert not lock.exists()
    assert [json.loads(line) for line in log.read_text().splitlines()] == [entry]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    # Nothing held and nothing to record: no change.
    assert not take(lock, None, state="absent")["changed"]
