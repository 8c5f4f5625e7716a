"""Zero-downtime releases, driven from this machine against the test host.

The tests run in order and build on each other, as an operator's day would:
the first release is live after converge; each test changes what is live,
under a steady load inside the test host, and checks what the load saw.
"""

import json
import os
import re
import subprocess
import time

import pytest

ROOT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
LOCK = "/var/lib/berth/deploy.lock"
RELEASE = "/var/lib/berth/flaskr-release"
HISTORY = "/var/lib/berth/flaskr-releases"
BENCH = "/opt/berth-bench"  # bench/ as converge.yml copies it


@pytest.fixture(scope="module")
def versions(host):
    variables = host.ansible.get_variables()
    first, second = variables["berth_molecule_versions"]
    return first, second, variables["berth_molecule_broken_version"]


def ansible(playbook, *extra):
    """Start playbooks/<playbook> against the test host; return the process."""
    return subprocess.Popen(
        ["ansible-playbook", "-i", INVENTORY, f"playbooks/{playbook}", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def deploy(version, *extra):
    return finish(ansible("deploy.yml", "-e", f"app_version={version}", *extra))


def make(target):
    done = subprocess.run(
        ["make", "--no-print-directory", target, f"INVENTORY={INVENTORY}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


class OnTestHost:
    """A bench script running inside the test host while the block runs.

    Afterwards .figures holds the JSON it printed once stopped.
    """

    def __init__(self, host, name, command):
        self.host, self.command, self.out = host, command, f"/tmp/{name}.json"

    def __enter__(self):
        self.pid = self.host.check_output(
            f"setsid nohup python3 {self.command} > %s 2>&1 < /dev/null & echo $!",
            self.out,
        )
        time.sleep(2)  # a steady state before the change
        return self

    def __exit__(self, *exc):
        time.sleep(2)  # and after it
        self.host.run("kill -TERM %s", self.pid)
        for _ in range(60):
            if self.host.file(self.out).content_string.strip():
                break
            time.sleep(0.5)
        printed = self.host.file(self.out).content_string
        assert printed.startswith("{"), f"{self.command}: {printed}"
        self.figures = json.loads(printed)


def load(host, name):
    """bench/load.py: 50 requests a second at the public port."""
    command = f"{BENCH}/load.py http://127.0.0.1:8000/ --rate 50 --duration 300"
    return OnTestHost(host, f"load-{name}", command)


def writes(host):
    """bench/writes.py: 5 new posts a second, all of them checked afterwards."""
    command = f"{BENCH}/writes.py http://127.0.0.1:8000 --rate 5 --duration 300"
    return OnTestHost(host, "writes", command)


def views_of_index(host):
    """GET / on the test host (one more view) and return its counter."""
    page = host.check_output(
        "python3 -c %s",
        "import urllib.request; print(urllib.request.urlopen("
        "'http://127.0.0.1:8000/', timeout=10).read().decode())",
    )
    return int(re.search(r"This page has been seen (\d+) times", page).group(1))


def live(host):
    return host.file(RELEASE).content_string.strip()


def releases(host):
    return host.check_output(
        "docker ps --all --filter label=berth.app=flaskr --format '{{.Names}}'"
    ).split()


def test_first_release_is_live(host, versions):
    assert live(host) == versions[0]
    assert not host.file(LOCK).exists


def test_redeploy_under_load_fails_no_request_and_keeps_every_write(host, versions):
    before = views_of_index(host)
    with load(host, "swap") as reads, writes(host) as posts:
        code, output = deploy(versions[1])
    assert code == 0, output
    assert live(host) == versions[1]
    assert len(releases(host)) == 1
    assert releases(host)[0].startswith(f"flaskr-{versions[1]}-")
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    # Both releases wrote to the one SQLite database while they ran side by
    # side: every post either release accepted is on the index.
    assert posts.figures["created"] > 50, posts.figures
    assert posts.figures["failed"] == 0, posts.figures
    assert posts.figures["missing"] == [], posts.figures
    # And counted in the one Redis: every request of the load once, none lost
    # or doubled, plus the writer's look at the index and this one.
    assert views_of_index(host) == before + reads.figures["sent"] + 2


def test_broken_release_is_removed_while_the_live_one_serves(host, versions):
    with load(host, "broken") as reads:
        code, output = deploy(versions[2])
    assert code != 0
    assert "did not become ready within 20 s" in output
    assert "broken on purpose" in output  # the release's last log lines
    assert live(host) == versions[1]
    assert releases(host)[0].startswith(f"flaskr-{versions[1]}-")
    assert len(releases(host)) == 1
    assert not host.file(LOCK).exists
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures


def test_make_rollback_returns_to_the_previous_release(host, versions):
    assert json.loads(host.file(HISTORY).content_string) == list(versions[:2])
    with load(host, "rollback") as reads:
        code, output = make("rollback")
    assert code == 0, output
    assert live(host) == versions[0]
    assert releases(host)[0].startswith(f"flaskr-{versions[0]}-")
    assert json.loads(host.file(HISTORY).content_string) == [versions[1], versions[0]]
    assert reads.figures["failed"] == 0, reads.figures


def test_a_second_deploy_is_refused_while_one_runs(host, versions):
    first = ansible("deploy.yml", "-e", f"app_version={versions[1]}")
    try:
        for _ in range(240):
            if host.file(LOCK).exists or first.poll() is not None:
                break
            time.sleep(0.25)
        assert host.file(LOCK).exists, "the first deploy never took the lock"
        code, output = deploy(versions[1])
    finally:
        first_code, first_output = finish(first)
    assert code != 0
    assert "Another deploy holds the lock on this host" in output
    assert f"deploying {versions[1]}" in output  # who holds it, and since when
    assert " since " in output
    assert first_code == 0, first_output
    assert live(host) == versions[1]
    assert not host.file(LOCK).exists


def test_make_unlock_releases_a_stale_lock(host, versions):
    host.check_output(
        "echo 'ops@elsewhere since 2026-01-01 00:00:00 UTC, deploying x' > %s", LOCK
    )
    code, output = deploy(versions[1])
    assert code != 0
    assert "ops@elsewhere since 2026-01-01 00:00:00 UTC" in output
    assert "make unlock" in output

    code, output = make("unlock")
    assert code == 0, output
    assert not host.file(LOCK).exists

    code, output = deploy(versions[1])
    assert code == 0, output
    assert "changed=0" in output


def test_the_last_releases_images_stay(host, versions):
    images = host.check_output(
        "docker images --format '{{.Tag}}' berth-release-registry:5000/flaskr"
    ).split()
    assert set(versions[:2]) <= set(images)


def test_a_domain_gets_https_with_automatic_certificates(host):
    # The proxy's configuration for app_domain, as the role renders it, read by
    # the proxy image itself (adapting needs no network; getting a certificate
    # would, so it is not attempted here).
    template = "src=roles/app/templates/Caddyfile.j2 dest=/tmp/Caddyfile.https"
    settings = {
        "app_name": "flaskr",
        "app_domain": "blog.example.com",
        "app_acme_email": "ops@example.com",
        "app_container_port": 8080,
        "__app_container_name": "flaskr-live",
    }
    rendered = subprocess.run(
        ["ansible", "-i", INVENTORY, "app", "-m", "ansible.builtin.template",
         "-a", f"{template} mode=0644", "-e", json.dumps(settings)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    proxy_image = host.check_output(
        "docker inspect --format '{{.Config.Image}}' berth-proxy"
    )
    adapted = json.loads(
        host.check_output(
            "docker run --rm -v /tmp/Caddyfile.https:/etc/caddy/Caddyfile:ro %s"
            " caddy adapt --config /etc/caddy/Caddyfile --adapter caddyfile",
            proxy_image,
        )
    )
    server = adapted["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["blog.example.com"]}]
    policy = adapted["apps"]["tls"]["automation"]["policies"][0]
    assert policy["subjects"] == ["blog.example.com"]
    assert {"module": "acme", "email": "ops@example.com"} in policy["issuers"]
