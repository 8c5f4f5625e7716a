"""Day-2 operations on the converged host, run as a user runs them: make
status, logs, shell, redis-cli, backup and audit, with this scenario's
inventory."""

import hashlib
import json
import os
import sqlite3
import subprocess
import tarfile
import time

import pytest
from on_test_host import copy_bench, load

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def make(*args, stdin="", check=True):
    """`make ARGS INVENTORY=<this scenario's>` in the repository."""
    done = subprocess.run(
        ["make", "--no-print-directory", *args, f"INVENTORY={INVENTORY}"],
        cwd=ROOT, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def versions(settings):
    return tuple(settings["berth_molecule_versions"])


def live_container(host, settings):
    history = host.file(f"{settings['host_state_dir']}/flaskr-history.json")
    return json.loads(history.content_string)["live"]["containers"][0]


def wait_healthy(host, name, seconds=60):
    for _ in range(seconds):
        state = host.check_output(
            "docker inspect -f '{{.State.Health.Status}}' %s", name
        )
        if state == "healthy":
            return
        time.sleep(1)
    pytest.fail(f"{name} is not healthy after {seconds} s")


@pytest.fixture(scope="module")
def backup(host, settings, tmp_path_factory):
    """make backup while a steady load reads the site: the load's figures,
    the fetched archive and what make printed."""
    copy_bench(host, ROOT)
    fetched = tmp_path_factory.mktemp("backups")
    url = f"http://127.0.0.1:{settings['app_published_port']}/"
    with load(host, url, "backup") as reads:
        started = time.monotonic()
        done = make("backup", f"BACKUP_DIR={fetched}")
        seconds = time.monotonic() - started
    (archive,) = fetched.glob("backup-*.tar.gz")
    print(
        f"\nmake backup: {seconds:.1f} s; the load during it: {json.dumps(reads.figures)}"
    )
    return {"figures": reads.figures, "archive": archive, "output": done.stdout}


def test_a_backup_under_load_fails_no_request(backup):
    assert backup["figures"]["sent"] > 50, backup["figures"]
    assert backup["figures"]["failed"] == 0, backup["figures"]


def test_the_fetched_backup_matches_its_checksum_and_holds_the_data(backup, tmp_path):
    archive = backup["archive"]
    assert archive.stat().st_mode & 0o777 == 0o600
    digest, name = archive.with_name(archive.name + ".sha256").read_text().split()
    assert name == archive.name
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    (root,) = tmp_path.iterdir()
    manifest = json.loads((root / "manifest.json").read_text())
    assert [db["integrity_check"] for db in manifest["databases"]] == ["ok"]
    assert manifest["redis"]["redis_check_rdb"] == "RDB looks OK"
    assert {"flaskr-secret-key", "redis-password", "flaskr-history.json"} <= set(
        manifest["state"]
    )
    # The copy is a whole database: the side effect's user and post are in it.
    database = sqlite3.connect(root / "instance/flaskr.sqlite")
    assert database.execute("SELECT count(*) FROM user").fetchone()[0] >= 1
    assert database.execute("SELECT count(*) FROM post").fetchone()[0] >= 1
    assert (root / "redis/dump.rdb").read_bytes().startswith(b"REDIS")


def test_the_backup_is_kept_on_the_host_root_only(host, settings, backup):
    kept = host.file(f"{settings['host_state_dir']}/backups/{backup['archive'].name}")
    assert kept.exists and kept.mode == 0o600 and kept.user == "root"


def test_a_snapshot_was_taken_before_the_second_version_started(
    host, settings, versions
):
    snapshots = host.check_output(
        "ls %s/backups/snapshot-*.tar.gz", settings["host_state_dir"]
    ).split()
    reasons = [
        json.loads(
            host.check_output("tar -xzOf %s --wildcards '*/manifest.json'", path)
        )["reason"]
        for path in snapshots
    ]
    assert f"before deploying {versions[1]}" in reasons, reasons


def test_the_backups_are_scheduled_daily(host):
    timer = host.service("berth-backup.timer")
    assert timer.is_enabled and timer.is_running
    assert (
        "OnCalendar=*-*-* 03:00:00"
        in host.file("/etc/systemd/system/berth-backup.timer").content_string
    )


def test_status_is_green_and_goes_red_when_the_app_stops(
    host, settings, versions, backup
):
    done = make("status", "FORMAT=json")
    (report,) = json.loads(done.stdout)
    assert report["problems"] == [], report
    assert report["app"]["live"]["version"] == versions[1]
    assert report["app"]["ready_status"] == 200
    assert report["redis"]["aof_enabled"] and report["redis"]["maxmemory"] > 0
    assert report["backup"]["archive"].endswith(backup["archive"].name)
    assert report["lock"] is None
    table = make("status").stdout
    assert f"live release             {versions[1]}" in table, table

    container = live_container(host, settings)
    host.check_output("docker stop %s", container)
    try:
        done = make("status", "FORMAT=json", check=False)
        assert done.returncode != 0
        (report,) = json.loads(done.stdout)
        assert any(
            problem.startswith("not serving") for problem in report["problems"]
        ), report
        assert any(
            problem.startswith(f"{container} is not running")
            for problem in report["problems"]
        )
    finally:
        host.check_output("docker start %s", container)
        wait_healthy(host, container)


def test_logs_show_the_live_releases_request_lines(backup):
    # The load above sent its requests to this release.
    lines = make("logs", "LINES=300").stdout.splitlines()
    assert any('"GET /" 200' in line for line in lines), lines[-5:]
    assert (
        "Ready to accept connections"
        in make("logs", "SERVICE=redis", "LINES=10000").stdout
    )
    assert '"logger":"http' in make("logs", "SERVICE=proxy").stdout


def test_shell_runs_in_the_live_release(settings):
    done = make("shell", stdin="print('database:', app.config['DATABASE'])\n")
    assert f"database: {settings['app_data_path']}/flaskr.sqlite" in done.stdout, (
        done.stdout
    )


def test_redis_cli_is_authenticated_and_never_shows_the_password(host, settings):
    password = host.file(settings["redis_password_file"]).content_string.strip()
    done = make("redis-cli", stdin="PING\nCONFIG GET appendonly\n")
    assert done.stdout.split() == ["PONG", "appendonly", "yes"], done.stdout
    shown = make("redis-cli", "ANSIBLE_ARGS=-vvv", stdin="PING\n")
    assert password not in done.stdout + done.stderr + shown.stdout + shown.stderr


def test_the_audit_log_holds_each_action_in_order(host, settings, versions, backup):
    log = host.file(f"{settings['host_state_dir']}/audit.log")
    assert log.mode == 0o600
    entries = [json.loads(line) for line in log.content_string.splitlines()]
    actions = [
        (entry["action"], entry["what"].split(" (release")[0]) for entry in entries
    ]
    first, second = f"flaskr none -> {versions[0]}", f"flaskr {versions[0]}"
    assert actions[0] == ("deploy", first), actions
    assert actions[1][0] == "deploy" and actions[1][1].startswith(second), actions
    assert f"-> {versions[1]}" in entries[1]["what"], entries[1]
    assert actions[-1][0] == "backup" and backup["archive"].name in entries[-1]["what"]
    assert all(
        entry["result"] == "ok" and entry["who"] and entry["from"] for entry in entries
    )
    shown = make("audit", "LINES=2").stdout.splitlines()
    assert shown[0] == f"{host.backend.host}:", shown
    assert shown[-1].endswith(" -> ok") and "backup: backup-" in shown[-1], shown
