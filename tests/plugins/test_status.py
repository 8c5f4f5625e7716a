"""The filters of make status and make audit (plugins/filter/status.py):
what is red in a host's report, and how the table reads."""

import copy
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "status", Path(__file__).resolve().parents[2] / "plugins/filter/status.py"
)
status = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(status)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMITS = {"min_free_percent": 10, "certificate_min_days": 14}
GREEN = {
    "host": "web1",
    "app": {
        "name": "flaskr",
        "live": {
            "id": "abc123", "version": "1.2", "image": "registry/flaskr:1.2", "deployed": "2026-11-27T10:00:00Z",
            "containers": [{"name": "flaskr-abc123-1", "running": True, "started": "2026-11-27T10:00:00Z",
                            "health": "healthy", "restarts": 0}],
        },
        "rollback_targets": ["1.1"],
        "ready_url": "https://blog.example.com/readyz",
        "ready_status": 200,
        "domain": "blog.example.com",
        "certificate_expires": "2027-02-01T00:00:00Z",
    },
    "redis": {"running": True, "health": "healthy", "answered": True, "aof_enabled": True,
              "used_memory": 1 << 20, "maxmemory": 200 << 20},
    "lock": None,
    "disk": [{"path": "/var/lib/berth", "mount": "/", "size": 100 << 30, "free": 50 << 30}],
    "backup": {"archive": "/var/lib/berth/backups/backup-web1.tar.gz", "age_hours": 3.0, "max_age_hours": 26},
}  # fmt: skip


def report(**changes):
    changed = copy.deepcopy(GREEN)
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = changed
        for parent in parents:
            target = target[parent]
        target[key] = value
    return changed


def test_a_healthy_host_has_no_problem():
    assert status.status_problems(GREEN, LIMITS, NOW) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"app__ready_status": 502}, "not serving: https://blog.example.com/readyz answered 502"),
        ({"app__ready_status": 0}, "not serving: https://blog.example.com/readyz answered nothing"),
        ({"app__live": None}, "no release of flaskr is deployed"),
        ({"redis__running": False}, "Redis is not serving (health healthy)"),
        ({"redis__aof_enabled": False}, "Redis's append-only file is off"),
        ({"backup__age_hours": None, "backup__archive": None}, "no backup yet: make backup"),
        ({"backup__age_hours": 30.0}, "the newest backup is 30 hours old (more than 26)"),
        ({"disk": [{"path": "/var/lib/docker", "mount": "/", "size": 100, "free": 5}]},
         "disk nearly full: 5 % free at /var/lib/docker"),
        ({"app__certificate_expires": "2026-12-01T12:00:00Z"},
         "the certificate of blog.example.com expires in 4 days"),
    ],
)  # fmt: skip
def test_each_red_condition_is_named(changes, problem):
    assert problem in status.status_problems(report(**changes), LIMITS, NOW)


def test_a_stopped_release_container_is_red():
    stopped = report()
    stopped["app"]["live"]["containers"][0].update(running=False, health="unhealthy")
    assert status.status_problems(stopped, LIMITS, NOW) == [
        "flaskr-abc123-1 is not running, health unhealthy"
    ]


def test_an_unreachable_host_is_red():
    assert status.status_problems(
        {"host": "web2", "unreachable": "timed out"}, LIMITS
    ) == ["unreachable: timed out"]


def test_df_rows_reads_dfs_output():
    output = "Mounted on 1B-blocks Avail\n/ 1000 400\n/var/lib/docker 2000 1000\n"
    assert status.df_rows(output, ["/var/lib/berth", "/var/lib/docker"]) == [
        {"path": "/var/lib/berth", "mount": "/", "size": 1000, "free": 400},
        {
            "path": "/var/lib/docker",
            "mount": "/var/lib/docker",
            "size": 2000,
            "free": 1000,
        },
    ]


def test_the_table_names_the_host_its_verdict_and_its_problems():
    red = dict(report(app__ready_status=502), problems=["not serving"])
    table = status.status_table([dict(GREEN, problems=[]), red])
    assert table.splitlines()[0] == "web1: ok"
    assert (
        "  live release         1.2 (release abc123), deployed 2026-11-27T10:00:00Z"
        in table
    )
    assert (
        "  redis                up, health healthy, AOF on, memory 1.0 MiB of 200.0 MiB"
        in table
    )
    assert "web1: RED" in table and table.endswith("  ! not serving")


def test_an_audit_entry_reads_as_one_line():
    entry = {"time": "2026-11-27T12:00:00Z", "who": "ann", "from": "laptop", "action": "deploy",
             "what": "flaskr 1.1 -> 1.2", "result": "ok"}  # fmt: skip
    assert (
        status.audit_line(entry)
        == "2026-11-27T12:00:00Z  ann@laptop  deploy: flaskr 1.1 -> 1.2 -> ok"
    )


def test_the_audit_report_shows_a_hosts_last_entries_indented():
    entries = [{"time": f"t{n}", "who": "ann", "from": "laptop", "action": "deploy", "what": "flaskr", "result": "ok"}
               for n in range(3)]  # fmt: skip
    assert status.audit_report(entries, "web1", 2) == [
        "web1:",
        "  t1  ann@laptop  deploy: flaskr -> ok",
        "  t2  ann@laptop  deploy: flaskr -> ok",
    ]


def test_the_audit_report_of_a_host_with_no_entry_says_so():
    assert status.audit_report([], "web1", 20) == ["web1:", "  (no entry yet)"]


def test_the_red_hosts_are_named_with_their_problems():
    reports = [
        dict(GREEN, problems=[]),
        {"host": "web2", "problems": ["Redis's append-only file is off"]},
        {"host": "web3", "problems": ["no backup yet: make backup", "unreachable"]},
    ]
    assert status.red_hosts(reports) == (
        'web2: ["Redis\'s append-only file is off"]; '
        "web3: ['no backup yet: make backup', 'unreachable']"
    )


@pytest.mark.parametrize(
    ("field", "number"),
    [("used_memory", 1048576), ("maxmemory", 0), ("aof_enabled", 1), ("missing", 0)],
)
def test_a_number_is_read_from_redis_info(field, number):
    reply = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:0\r\naof_enabled:1\r\n"
    assert status.redis_info_number(reply, field) == number


def test_redis_info_of_a_redis_that_did_not_answer_is_zero():
    assert status.redis_info_number("", "used_memory") == 0
