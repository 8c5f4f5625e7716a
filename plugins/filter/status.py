"""Filters of `make status` (playbooks/status.yml): each host's report, what
in it is red, and the table people read; and of `make audit`, an entry of
the audit log as a line."""

import re
from datetime import UTC, datetime


def container_summary(result):
    """One container of a docker_container_info result (looped over names):
    its name, whether it runs, when it started, its Docker health."""
    state = (result.get("container") or {}).get("State") or {}
    return {
        "name": result.get("item"),
        "running": bool(state.get("Running")),
        "started": state.get("StartedAt"),
        "health": (state.get("Health") or {}).get("Status", "none"),
        "restarts": (result.get("container") or {}).get("RestartCount", 0),
    }


def redis_info_number(reply, field):
    """A number in the reply of Redis's INFO (`used_memory:1234`), 0 when the
    reply lacks it: a Redis that did not answer uses and allows nothing
    that the report could show."""
    found = re.search(field + ":([0-9]+)", reply)
    return int(found.group(1)) if found else 0


def df_rows(output, paths):
    """`df --output=target,size,avail --block-size=1 PATH...` as one dict a
    path: its mount point, size and free bytes."""
    rows = [line.split() for line in output.splitlines()[1:]]
    return [
        {"path": path, "mount": mount, "size": int(size), "free": int(free)}
        for path, (mount, size, free) in zip(paths, rows, strict=True)
    ]


def age_hours(timestamp, now=None):
    """Hours from an ISO 8601 time (UTC, with Z) to now."""
    then = datetime.fromisoformat(timestamp)
    return ((now or datetime.now(UTC)) - then).total_seconds() / 3600


def status_problems(report, limits, now=None):
    """What is red in one host's report, in words; an empty list when all is
    well. limits: min_free_percent, certificate_min_days; the backups'
    own limit is in their report."""
    if report.get("unreachable"):
        return [f"unreachable: {report['unreachable']}"]
    problems = []
    app = report["app"]
    live = app["live"]
    if not live:
        problems.append(f"no release of {app['name']} is deployed")
    else:
        for container in live["containers"]:
            if not container["running"] or container["health"] not in (
                "healthy",
                "none",
            ):
                state = "running" if container["running"] else "not running"
                problems.append(
                    f"{container['name']} is {state}, health {container['health']}"
                )
    if app["ready_status"] != 200:
        problems.append(
            f"not serving: {app['ready_url']} answered {app['ready_status'] or 'nothing'}"
        )
    if app["certificate_expires"]:
        days = -age_hours(app["certificate_expires"], now) / 24
        if days < limits["certificate_min_days"]:
            problems.append(
                f"the certificate of {app['domain']} expires in {days:.0f} days"
            )
    redis = report["redis"]
    if not (redis["running"] and redis["health"] == "healthy" and redis["answered"]):
        problems.append(f"Redis is not serving (health {redis['health']})")
    elif not redis["aof_enabled"]:
        problems.append("Redis's append-only file is off")
    backup = report["backup"]
    if backup["age_hours"] is None:
        problems.append("no backup yet: make backup")
    elif backup["age_hours"] > backup["max_age_hours"]:
        problems.append(
            f"the newest backup is {backup['age_hours']:.0f} hours old"
            f" (more than {backup['max_age_hours']})"
        )
    for disk in report["disk"]:
        percent = 100 * disk["free"] / disk["size"]
        if percent < limits["min_free_percent"]:
            problems.append(f"disk nearly full: {percent:.0f} % free at {disk['path']}")
    return problems


def status_reports(hosts, hostvars, limits):
    """Each host's report (berth_status), a host that gave none marked
    unreachable, with what is red in it under "problems"."""
    reports = []
    for host in hosts:
        report = hostvars[host].get("berth_status") or {
            "host": host,
            "unreachable": "no report: the host is unreachable or a task failed",
        }
        reports.append(dict(report, problems=status_problems(report, limits)))
    return reports


def size(number):
    """Bytes for people: 1.5 GiB, 20 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if number < 1024 or unit == "GiB":
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1024
    raise AssertionError("unreachable")


def host_rows(report):
    """The table's rows for one host: (what, state)."""
    if report.get("unreachable"):
        return [("host", "unreachable: " + report["unreachable"])]
    app, redis = report["app"], report["redis"]
    live = app["live"]
    rows = []
    if live:
        rows.append(
            (
                "live release",
                f"{live['version']} (release {live['id']}), deployed {live.get('deployed', '?')}",
            )
        )
        rows.append(("image", live["image"]))
        for container in live["containers"]:
            state = (
                f"up since {container['started']}"
                if container["running"]
                else "not running"
            )
            rows.append(
                (f"  {container['name']}", f"{state}, health {container['health']}")
            )
    else:
        rows.append(("live release", "none"))
    rows.append(
        ("ready", f"{app['ready_url']} -> {app['ready_status'] or 'no answer'}")
    )
    rows.append(("rollback to", ", ".join(app["rollback_targets"]) or "none"))
    rows.append(("deploy lock", report["lock"] or "free"))
    memory = (
        f"{size(redis['used_memory'])} of {size(redis['maxmemory'])}"
        if redis["maxmemory"]
        else size(redis["used_memory"])
    )
    up = "up" if redis["running"] else "down"
    aof = "on" if redis["aof_enabled"] else "off"
    rows.append(
        ("redis", f"{up}, health {redis['health']}, AOF {aof}, memory {memory}")
    )
    backup = report["backup"]
    rows.append(
        (
            "newest backup",
            f"{backup['archive']}, {backup['age_hours']:.1f} hours old"
            if backup["archive"]
            else "none",
        )
    )
    for disk in report["disk"]:
        rows.append(
            (
                f"disk {disk['path']}",
                f"{size(disk['free'])} free of {size(disk['size'])}",
            )
        )
    if app["domain"]:
        rows.append(
            (
                "certificate",
                f"{app['domain']} until {app['certificate_expires'] or 'none served'}",
            )
        )
    return rows


def red_hosts(reports):
    """The hosts with problems and their problems, on one line, for the
    failure of `make status` (the table above it has them one a line)."""
    return "; ".join(
        f"{report['host']}: {list(report['problems'])}"
        for report in reports
        if report["problems"]
    )


def status_table(reports):
    """The reports of every host as one table, red lines last."""
    lines = []
    for report in reports:
        verdict = "RED" if report["problems"] else "ok"
        lines.append(f"{report['host']}: {verdict}")
        rows = host_rows(report)
        width = max(len(what) for what, _ in rows)
        lines += [f"  {what:<{width}}  {state}" for what, state in rows]
        lines += [f"  ! {problem}" for problem in report["problems"]]
    return "\n".join(lines)


def audit_line(entry):
    """One entry of the audit log (roles/host/tasks/audit.yml) as a line."""
    return (
        f"{entry['time']}  {entry['who']}@{entry['from']}  {entry['action']}: "
        f"{entry['what']} -> {entry['result']}"
    )


def audit_report(entries, host, last):
    """One host's part of `make audit`: the host, then its last entries as
    lines, indented, or a line that says there is none yet."""
    lines = ["  " + audit_line(entry) for entry in entries[-last:]]
    return [f"{host}:"] + (lines or ["  (no entry yet)"])


class FilterModule:
    def filters(self):
        return {
            "audit_report": audit_report,
            "container_summary": container_summary,
            "df_rows": df_rows,
            "red_hosts": red_hosts,
            "redis_info_number": redis_info_number,
            "status_reports": status_reports,
            "status_table": status_table,
        }
