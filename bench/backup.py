#!/usr/bin/env python3
"""The time of a backup and of a restore, and the requests failed meanwhile.

    make bench-backup          # or: .venv/bin/python bench/backup.py [--posts 10000]

On this machine (inventory/, loopback only), where `make deploy` has deployed
flaskr: adds --posts posts to its database (by one user made for it, in one
transaction on the host), then runs playbooks/backup.yml under a steady load
of reads of the login page at the public port (bench/load.py; not the index,
which lists every post), then playbooks/restore.yml with
the archive it fetched, under the same load. Prints the database's size, each
playbook's time, the load's figures during each (during the restore every
request gets the maintenance page: 503 is expected there, any other failure
is not), and the posts counted after the restore.
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = [sys.executable, str(ROOT / "bench" / "load.py")]
DATABASE = Path("/var/lib/berth/flaskr/flaskr.sqlite")


def add_posts(count):
    """count posts by the user "bench" (made once), in one transaction."""
    database = sqlite3.connect(DATABASE, timeout=30)
    with database:
        database.execute(
            "INSERT OR IGNORE INTO user (username, password) VALUES ('bench', 'not-a-hash')"
        )
        (author,) = database.execute(
            "SELECT id FROM user WHERE username = 'bench'"
        ).fetchone()
        database.executemany(
            "INSERT INTO post (author_id, title, body) VALUES (?, ?, ?)",
            (
                (author, f"Post {n}", "A post of the backup bench. " * 20)
                for n in range(count)
            ),
        )
    (posts,) = database.execute("SELECT count(*) FROM post").fetchone()
    database.close()
    return posts


def playbook(name, *extra):
    """Run playbooks/<name>.yml on this machine: its time in seconds."""
    started = time.monotonic()
    subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), f"playbooks/{name}.yml", "-i", "inventory", *extra],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )  # fmt: skip
    return time.monotonic() - started


def under_load(url, rate, action):
    """Run action() while load.py reads url: (action's result, load's figures)."""
    load = subprocess.Popen(
        [*LOAD, url, "--rate", str(rate)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(2)  # a steady state first
    try:
        result = action()
    finally:
        time.sleep(2)
        load.terminate()
        figures = json.loads(load.communicate(timeout=60)[0])
    return result, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=int, default=50, help="reads a second during each"
    )
    # Not the index, which lists every post: with thousands it is the load.
    parser.add_argument("--url", default="http://127.0.0.1:8000/auth/login")
    arguments = parser.parse_args()

    posts = add_posts(arguments.posts)
    size = DATABASE.stat().st_size
    with tempfile.TemporaryDirectory() as fetched:
        backup_seconds, backup_load = under_load(
            arguments.url,
            arguments.rate,
            lambda: playbook("backup", "-e", f"backup_fetch_dir={fetched}"),
        )
        (archive,) = Path(fetched).glob("backup-*.tar.gz")
        archive_bytes = archive.stat().st_size
        restore_seconds, restore_load = under_load(
            arguments.url,
            arguments.rate,
            lambda: playbook("restore", "-e", f"backup_restore_archive={archive}"),
        )
    database = sqlite3.connect(DATABASE)
    (restored,) = database.execute("SELECT count(*) FROM post").fetchone()
    print(
        json.dumps(
            {
                "posts": posts,
                "database_bytes": size,
                "archive_bytes": archive_bytes,
                "backup_seconds": round(backup_seconds, 1),
                "load_during_backup": backup_load,
                "restore_seconds": round(restore_seconds, 1),
                "load_during_restore": restore_load,
                "posts_after_restore": restored,
            },
            indent=2,
        )
    )
    return 0 if restored == posts and not backup_load["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
