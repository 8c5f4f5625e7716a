"""Day-2 operations on the converged host, run as a user runs them: make
status, logs, shell, redis-cli, backup and audit, with this scenario's
inventory."""

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import tarfile
import time

import pytest
import testinfra
from on_test_host import BENCH, OnTestHost, copy_bench, load, page

import playbooks
from playbooks import INVENTORY, ROOT, playbook


def make(target, *variables, check=True, **options):
    """playbooks.make, which must succeed unless check is false."""
    done = playbooks.make(target, *variables, **options)
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
    the fetched archive unpacked, what make printed, and what the backup
    holds (users, posts, the count of a page the load does not read)."""
    copy_bench(host, ROOT)
    fetched = tmp_path_factory.mktemp("backups")
    url = f"http://127.0.0.1:{settings['app_published_port']}"
    login_count = seen_count(page(host, f"{url}/auth/login")[1])
    with load(host, f"{url}/", "backup") as reads:
        started = time.monotonic()
        done = make("backup", f"BACKUP_DIR={fetched}")
        seconds = time.monotonic() - started
    (archive,) = fetched.glob("backup-*.tar.gz")
    print(
        f"\nmake backup: {seconds:.1f} s; the load during it: {json.dumps(reads.figures)}"
    )
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    (root,) = unpacked.iterdir()
    database = sqlite3.connect(root / "instance/flaskr.sqlite")
    users, posts = (
        database.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("user", "post")
    )
    return {
        "figures": reads.figures, "archive": archive, "root": root, "output": done.stdout,
        "login_count": login_count, "users": users, "posts": posts,
    }  # fmt: skip


def test_a_backup_under_load_fails_no_request(backup):
    assert backup["figures"]["sent"] > 50, backup["figures"]
    assert backup["figures"]["failed"] == 0, backup["figures"]


def test_the_fetched_backup_matches_its_checksum_and_holds_the_data(backup):
    archive, root = backup["archive"], backup["root"]
    assert archive.stat().st_mode & 0o777 == 0o600
    digest, name = archive.with_name(archive.name + ".sha256").read_text().split()
    assert name == archive.name
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest
    manifest = json.loads((root / "manifest.json").read_text())
    assert [db["integrity_check"] for db in manifest["databases"]] == ["ok"]
    assert manifest["redis"]["redis_check_rdb"] == "RDB looks OK"
    state = {"flaskr-secret-key", "redis-password", "flaskr-history.json"}
    assert state <= set(manifest["state"])
    # The copy is a whole database: the side effect's user and post are in it.
    assert backup["users"] >= 1 and backup["posts"] >= 1
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
    # Caddy logs to its standard error, which docker logs keeps apart.
    proxy = make("logs", "SERVICE=proxy")
    assert '"logger":"http' in proxy.stdout + proxy.stderr


def test_shell_runs_in_the_live_release():
    done = make("shell", stdin="print('database:', app.config['DATABASE'])\n")
    # flaskr's instance directory in its image.
    assert "database: /var/lib/flaskr/flaskr.sqlite" in done.stdout, done.stdout


def test_redis_cli_is_authenticated_and_never_shows_the_password(host, settings):
    password_file = f"{settings['host_state_dir']}/redis-password"
    password = host.file(password_file).content_string.strip()
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
    # Who and from where, for each; the hardening tests' failed deploys among them.
    assert all(entry["who"] and entry["from"] for entry in entries), entries
    assert [entries[i]["result"] for i in (0, 1, -1)] == ["ok", "ok", "ok"], entries
    shown = make("audit", "LINES=2").stdout.splitlines()
    assert shown[0] == f"{host.backend.get_hostname()}:", shown
    assert shown[-1].endswith(" -> ok") and "backup: backup-" in shown[-1], shown


# --- Restore -----------------------------------------------------------------

# Run on a test host: GET url every 50 ms until killed, then print what came
# back: each status with whether it was the maintenance page.
POLL = """
import json, signal, sys, time, urllib.error, urllib.request
seen = []
def stop(*_):
    print(json.dumps(seen)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
            seen.append([response.status, ""])
    except urllib.error.HTTPError as error:
        seen.append([error.code, "maintenance" if b"Back in a moment" in error.read() else ""])
    except OSError as error:
        seen.append([0, str(error)])
    time.sleep(0.05)
"""


def seen_count(body):
    match = re.search(r"This page has been seen (\d+) times", body)
    assert match, body[-500:]
    return int(match.group(1))


def site_state(host, settings):
    """What a refused restore must leave as it was."""
    state_dir = settings["host_state_dir"]
    return {
        "history": host.file(f"{state_dir}/flaskr-history.json").content_string,
        "caddyfile": host.file(f"{state_dir}/proxy/Caddyfile").content_string,
        "audit": host.file(f"{state_dir}/audit.log").content_string,
        "started": host.check_output(
            "docker inspect -f '{{.Name}} {{.State.StartedAt}}' $(docker ps -aq)"
        ),
        "backups": host.check_output("ls -a %s/backups", state_dir),
    }


@pytest.mark.parametrize("damage", ["one byte changed", "cut short"])
def test_a_damaged_archive_is_refused_and_nothing_changes(
    host, settings, backup, tmp_path, damage
):
    data = bytearray(backup["archive"].read_bytes())
    if damage == "one byte changed":
        data[len(data) // 2] ^= 0x01
    else:
        data = data[: len(data) // 2]
    damaged = tmp_path / backup["archive"].name
    damaged.write_bytes(data)
    damaged.with_name(damaged.name + ".sha256").write_text(
        backup["archive"].with_name(backup["archive"].name + ".sha256").read_text()
    )
    before = site_state(host, settings)
    done = make("restore", f"BACKUP={damaged}", check=False)
    assert done.returncode != 0
    assert (
        "does not match its SHA-256" in done.stdout
        and "Nothing was changed" in done.stdout
    ), done.stdout
    assert site_state(host, settings) == before


def test_an_archive_whose_database_is_damaged_is_refused_on_the_host(
    host, settings, backup, tmp_path
):
    # A checksum that matches, made for an archive whose database is not one.
    root = tmp_path / backup["root"].name
    shutil.copytree(backup["root"], root)
    database = root / "instance/flaskr.sqlite"
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree
    database.write_bytes(data)
    archive = tmp_path / backup["archive"].name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname=root.name)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(
        f"{digest}  {archive.name}\n"
    )
    before = site_state(host, settings)
    done = make("restore", f"BACKUP={archive}", check=False)
    assert done.returncode != 0
    assert "does not verify: flaskr.sqlite: PRAGMA integrity_check" in done.stdout, (
        done.stdout
    )
    assert "Nothing was changed" in done.stdout
    assert site_state(host, settings) == before


@pytest.fixture(scope="module")
def new_host(settings, tmp_path_factory):
    """A new test host on the scenario's network, as Molecule makes them, with
    an inventory of its own: the scenario's variables, this host alone."""
    name = f"{settings['berth_molecule_prefix']}-newhost"
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--hostname", name,
         "--network", f"{settings['berth_molecule_prefix']}-net",
         "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_PTRACE",
         "--security-opt", "seccomp=unconfined", "--cgroupns", "host",
         "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "-v", "/var/lib/docker",
         "--tmpfs", "/run", "--tmpfs", "/run/lock",
         "berth/molecule-engine:bookworm", "/lib/systemd/systemd"],
        capture_output=True, check=True,
    )  # fmt: skip
    inventory = tmp_path_factory.mktemp("newhost")
    shutil.copytree(f"{INVENTORY}/group_vars", inventory / "group_vars")
    (inventory / "hosts.yml").write_text(
        json.dumps(
            {
                "app": {
                    "hosts": {name: {"ansible_connection": "community.docker.docker"}}
                }
            }
        )
    )
    yield {
        "name": name,
        "inventory": str(inventory),
        "host": testinfra.get_host(f"docker://{name}"),
    }
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)


def test_a_backup_restores_on_a_new_host(host, settings, versions, backup, new_host):
    new = new_host["host"]
    first = make(
        "restore",
        f"BACKUP={backup['archive']}",
        inventory=new_host["inventory"],
        check=False,
    )
    assert first.returncode != 0 and "Deploy first" in first.stdout, first.stdout
    deployed = playbook(
        "deploy.yml",
        "-e",
        f"app_version={versions[1]}",
        inventory=new_host["inventory"],
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    url = f"http://127.0.0.1:{settings['app_published_port']}"
    side_effect = json.loads(
        host.file("/var/lib/berth-molecule/side-effect.json").content_string
    )
    status, body = page(new, f"{url}/")
    assert (
        status == 200 and side_effect["post_title"] not in body
    )  # a new site, with no post

    new.check_output(
        "setsid nohup python3 -c %s %s > /tmp/poll.json 2>&1 < /dev/null & echo $! > /tmp/poll.pid",
        POLL,
        f"{url}/",
    )
    started = time.monotonic()
    done = make(
        "restore",
        f"BACKUP={backup['archive']}",
        inventory=new_host["inventory"],
        check=False,
    )
    seconds = time.monotonic() - started
    new.run("kill -TERM $(cat /tmp/poll.pid)")
    time.sleep(1)
    assert done.returncode == 0, done.stdout[-3000:]
    seen = json.loads(new.file("/tmp/poll.json").content_string)
    statuses = [status for status, _ in seen]
    print(f"\nmake restore on a new host: {seconds:.1f} s; answers meanwhile: "
          f"{ {s: statuses.count(s) for s in set(statuses)} }")  # fmt: skip
    # Before, the new site; during, the maintenance page; after, the restored site.
    assert set(statuses) <= {200, 503}, seen
    assert next(reason for status, reason in seen if status == 503) == "maintenance"
    first, last = statuses.index(503), len(statuses) - 1 - statuses[::-1].index(503)
    assert all(status == 503 for status in statuses[first : last + 1]), statuses

    # The post, its user and their session are back: the SECRET_KEY came back.
    status, body = page(new, f"{url}/", side_effect["cookie"])
    assert status == 200
    assert (
        f"<span>{side_effect['user']}</span>" in body
        and side_effect["post_title"] in body
    )
    # A page the load never read counts on from its value at the backup.
    assert seen_count(page(new, f"{url}/auth/login")[1]) == backup["login_count"] + 1
    counts = new.check_output(
        "python3 -c %s",
        "import sqlite3; db = sqlite3.connect('/var/lib/berth/flaskr/flaskr.sqlite');"
        " print(*(db.execute(f'SELECT count(*) FROM {t}').fetchone()[0] for t in ('user', 'post')))",
    )
    assert counts == f"{backup['users']} {backup['posts']}"
    entries = new.file(
        f"{settings['host_state_dir']}/audit.log"
    ).content_string.splitlines()
    assert json.loads(entries[-1])["action"] == "restore"
    assert backup["archive"].name in json.loads(entries[-1])["what"]


# Run on a test host: GET a URL n times from 8 threads; print the statuses.
GET_MANY = """
import collections, json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
def get(_):
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        return response.status
with ThreadPoolExecutor(8) as pool:
    print(json.dumps(collections.Counter(pool.map(get, range(int(sys.argv[2]))))))
"""


def test_replicas_serve_together_and_the_day2_verbs_see_them(
    settings, versions, new_host
):
    """app_replicas=2 on the new host, swapped to under reads and new posts:
    none fails or is lost, both replicas serve, the counter counts every
    view, and status, logs and shell see the replicas."""
    new, inventory = new_host["host"], new_host["inventory"]
    copy_bench(new, ROOT)
    url = f"http://127.0.0.1:{settings['app_published_port']}"
    with (
        load(new, f"{url}/", "replicas") as reads,
        OnTestHost(
            new, "writes-replicas", f"{BENCH}/writes.py {url} --rate 5 --duration 300"
        ) as posts,
    ):
        deployed = playbook(
            "deploy.yml", "-e", f"app_version={versions[1]}", "-e", "app_replicas=2",
            inventory=inventory,
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stdout[-3000:]
        time.sleep(5)  # new posts with both replicas writing
    print(f"\nswap to 2 replicas: reads {reads.figures}, posts {posts.figures}")
    assert reads.figures["sent"] > 0 and reads.figures["failed"] == 0
    assert posts.figures["created"] > 0 and posts.figures["failed"] == 0
    assert posts.figures["missing"] == []

    history = json.loads(
        new.file(f"{settings['host_state_dir']}/flaskr-history.json").content_string
    )
    replicas = history["live"]["containers"]
    assert len(replicas) == 2
    before = seen_count(page(new, f"{url}/auth/register")[1])
    statuses = json.loads(
        new.check_output("python3 -c %s %s 200", GET_MANY, f"{url}/auth/register")
    )
    assert statuses == {"200": 200}
    assert seen_count(page(new, f"{url}/auth/register")[1]) == before + 201
    for replica in replicas:
        served = new.check_output("docker logs %s 2>&1", replica)
        assert '"GET /auth/register" 200' in served, replica

    # The new host has snapshots but no backup of its own: the only red.
    done = make("status", "FORMAT=json", inventory=inventory, check=False)
    (report,) = json.loads(done.stdout)
    assert report["problems"] == ["no backup yet: make backup"], report
    assert [c["name"] for c in report["app"]["live"]["containers"]] == replicas
    assert all(c["running"] for c in report["app"]["live"]["containers"])
    logs = make("logs", "LINES=50", inventory=inventory).stdout
    for replica in replicas:
        assert f"{replica} | " in logs and '"GET /auth/register" 200' in logs, logs[
            -2000:
        ]
    shell = make("shell", inventory=inventory,
                 stdin="print('database:', app.config['DATABASE'])\n")  # fmt: skip
    assert "database: /var/lib/flaskr/flaskr.sqlite" in shell.stdout, shell.stdout


def test_remove_keeps_the_data_and_purge_needs_the_hosts_name(settings, new_host):
    new, inventory = new_host["host"], new_host["inventory"]
    state_dir = settings["host_state_dir"]
    make("remove", inventory=inventory)
    assert new.check_output("docker ps -aq") == ""
    assert new.file(f"{settings['app_instance_dir']}/flaskr.sqlite").is_file
    volumes = set(new.check_output("docker volume ls -q").split())
    assert {"berth-redis-data", "berth-proxy-data"} <= volumes
    assert new.file(f"{state_dir}/flaskr-secret-key").is_file
    assert new.check_output("ls %s/backups", state_dir)  # the restore's snapshot
    last = json.loads(
        new.file(f"{state_dir}/audit.log").content_string.splitlines()[-1]
    )
    assert (last["action"], last["what"]) == ("remove", "berth, keeping the data")

    refused = make(
        "remove", "PURGE=1", "CONFIRM=another-host", inventory=inventory, check=False
    )
    assert refused.returncode != 0 and "Nothing was changed" in refused.stdout, (
        refused.stdout
    )
    assert new.file(f"{state_dir}/flaskr-secret-key").is_file
    make("remove", "PURGE=1", f"CONFIRM={new_host['name']}", inventory=inventory)
    assert not new.file(state_dir).exists
    volumes = set(new.check_output("docker volume ls -q").split())
    assert not volumes & {"berth-redis-data", "berth-proxy-data", "berth-proxy-config"}
