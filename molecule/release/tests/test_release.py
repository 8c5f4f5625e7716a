"""Upgrades and zero-downtime releases, driven from this machine against the
test host.

The tests run in order and build on each other, as an operator's day would:
after converge the host the previous berth deployed runs this berth; each
test changes what is live, under a steady load inside the test host, and
checks what the load saw. Names, paths and ports come from the inventory.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import on_test_host
import pytest
from on_test_host import BENCH, OnTestHost, stop_and_read

import playbooks
from playbooks import INVENTORY, ROOT

RECORDS = "/var/lib/berth-molecule"
COUNTER = re.compile(r"This page has been seen (\d+) times")


@pytest.fixture(scope="module")
def versions(settings):
    return settings["berth_molecule_versions"]


@pytest.fixture(scope="module")
def state(settings):
    """Paths of berth's state on the test host."""
    root, app = settings["host_state_dir"], settings["app_name"]
    return {
        "lock": f"{root}/deploy.lock",
        "history": f"{root}/{app}-history.json",
        "caddyfile": f"{root}/proxy/Caddyfile",
        "format": f"{root}/state-format",
        "secret_key": f"{root}/{app}-secret-key",
    }


def finish(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def deploy(version, *extra):
    return finish(playbooks.start("deploy.yml", "-e", f"app_version={version}", *extra))


def make(target, *variables):
    done = playbooks.make(target, *variables)
    return done.returncode, done.stdout + done.stderr


class Clone:
    """A clone of the project whose edits stay uncommitted, where make runs as
    its user would run it: with the project's tools (.venv, which a clone has
    not) and the clone's own roles (its ansible.cfg names them)."""

    def __init__(self, path, image):
        self.path, self.image = path, image
        self.published = []

    def edit(self, name, old, new):
        path = os.path.join(self.path, name)
        with open(path) as file:
            text = file.read()
        assert old in text, f"{name}: {old!r}"
        with open(path, "w") as file:
            file.write(text.replace(old, new, 1))

    def version(self):
        """The tag make gives a build of the clone as it is."""
        return subprocess.check_output(
            ["images/version.sh"], cwd=self.path, text=True
        ).strip()

    def make(self, target, *variables):
        venv = os.path.join(ROOT, ".venv")
        environment = dict(os.environ)
        # As in a user's shell: no provisioner's path to this project's roles.
        environment.pop("ANSIBLE_COLLECTIONS_PATH", None)
        done = subprocess.run(
            ["make", "--no-print-directory", "-o", f"{venv}/.installed", target,
             f"VENV={venv}", f"IMAGE={self.image}", *variables],
            cwd=self.path, env=environment, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    def publish(self, registry):
        self.published.append(self.version())
        return self.make("publish", f"REGISTRY={registry}")


@pytest.fixture
def clone(settings, registry):
    """A fresh clone in the scenario's directory. Afterwards the clone goes,
    and so do the tags its builds left on this machine (the layers stay)."""
    path = tempfile.mkdtemp(
        prefix="clone-", dir=os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    )
    subprocess.run(["git", "clone", "--quiet", ROOT, path], check=True)
    # Built under a name of the scenario's, not over this machine's flaskr:latest;
    # make publish pushes it as <registry>/flaskr all the same.
    made = Clone(path, f"{settings['berth_molecule_prefix']}/flaskr")
    yield made
    shutil.rmtree(path)
    tags = [f"{made.image}:latest"]
    for version in made.published:
        tags += [f"{made.image}:{version}", f"{registry}/flaskr:{version}"]
    subprocess.run(["docker", "image", "rm", *tags], capture_output=True, check=False)


@pytest.fixture(scope="module")
def registry(settings):
    """The scenario's registry as this machine reaches it (prepare.yml)."""
    name = f"{settings['berth_molecule_prefix']}-registry"
    published = subprocess.check_output(["docker", "port", name, "5000"], text=True)
    return published.split()[0]  # 127.0.0.1:<port chosen by Docker>


def url(settings):
    return f"http://127.0.0.1:{settings['app_published_port']}"


def load(host, settings, name):
    """bench/load.py: 50 requests a second at the public port."""
    return on_test_host.load(host, f"{url(settings)}/", name)


def writes(host, settings):
    """bench/writes.py: 5 new posts a second, all of them checked afterwards."""
    command = f"{BENCH}/writes.py {url(settings)} --rate 5 --duration 300"
    return OnTestHost(host, "writes", command)


def index(host, settings):
    """GET / on the test host (one more view) and return the page."""
    return host.check_output(
        "python3 -c %s",
        "import urllib.request; print(urllib.request.urlopen("
        f"'{url(settings)}/', timeout=10).read().decode())",
    )


def views(page):
    return int(COUNTER.search(page).group(1))


def views_of_index(host, settings):
    """GET / on the test host (one more view) and return its counter."""
    return views(index(host, settings))


def history(host, state):
    return json.loads(host.file(state["history"]).content_string)


def live(host, state):
    return history(host, state)["live"]


def earlier(host, state):
    return [release["version"] for release in history(host, state)["previous"]]


def served(host, state):
    """The release the proxy's configuration names."""
    caddyfile = host.file(state["caddyfile"]).content_string
    return re.search(r"^# release ([0-9a-f]+)$", caddyfile, re.MULTILINE).group(1)


def releases(host, settings):
    return host.check_output(
        "docker ps --all --filter label=berth.app=%s --format '{{.Names}}'",
        settings["app_name"],
    ).split()


def assert_serving(host, settings, state, version):
    """version is live, recorded, served by the proxy, and alone on the host."""
    release = live(host, state)
    assert release["version"] == version
    assert served(host, state) == release["id"]
    assert releases(host, settings) == release["containers"]
    assert not host.file(state["lock"]).exists


def test_upgrade_from_the_previous_berth_kept_everything(
    host, settings, state, versions
):
    reads = stop_and_read(host, "upgrade-reads")
    posts = stop_and_read(host, "upgrade-writes")
    # The load ran from before converge until now: the upgrade and the
    # idempotent deploy after it failed no request and lost no post.
    assert reads["sent"] > 500, reads
    assert reads["failed"] == 0, reads
    assert posts["created"] > 50, posts
    assert posts["failed"] == 0, posts
    assert posts["missing"] == [], posts
    # Every count kept and every view counted once: the upgrade leaves Redis
    # running. (The load, the writer's look at each index page, this look.)
    before = int(host.file(f"{RECORDS}/views-before-upgrade").content_string)
    assert (
        views_of_index(host, settings)
        == before + reads["sent"] + posts["index_pages"] + 1
    )
    # The SECRET_KEY the previous berth generated is the one in use.
    key = host.file(state["secret_key"]).content_string
    recorded = host.file(f"{RECORDS}/secret-key.sha256").content_string.strip()
    assert hashlib.sha256(key.encode()).hexdigest() == recorded
    # The previous berth's history, in state format 2, is this berth's: the
    # second release live, the first one kept for a rollback.
    assert host.file(state["format"]).content_string.strip() == "2"
    assert_serving(host, settings, state, versions[1])
    assert earlier(host, state) == [versions[0]]


def test_redeploy_under_load_fails_no_request_and_keeps_every_write(
    host, settings, state, versions
):
    before = views_of_index(host, settings)
    with load(host, settings, "swap") as reads, writes(host, settings) as posts:
        code, output = deploy(versions[2])
    assert code == 0, output
    assert_serving(host, settings, state, versions[2])
    assert earlier(host, state) == versions[1::-1]
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    # Both releases wrote to the one SQLite database while they ran side by
    # side: every post either release accepted is on the index.
    assert posts.figures["created"] > 50, posts.figures
    assert posts.figures["failed"] == 0, posts.figures
    assert posts.figures["missing"] == [], posts.figures
    # And counted in the one Redis: every request of the load once, none lost
    # or doubled, plus the writer's look at the index and this one.
    assert (
        views_of_index(host, settings)
        == before + reads.figures["sent"] + posts.figures["index_pages"] + 1
    )


def test_broken_release_is_removed_while_the_live_one_serves(
    host, settings, state, versions
):
    broken = settings["berth_molecule_broken_version"]
    with load(host, settings, "broken") as reads:
        code, output = deploy(broken)
    assert code != 0
    assert "did not become ready within 20 s" in output
    assert "broken on purpose" in output  # the release's last log lines
    assert_serving(host, settings, state, versions[2])
    assert earlier(host, state) == versions[1::-1]
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures


UNCOMMITTED = "berth: uncommitted changes in the working tree: deploying them as "
DIRTY_TAG = re.compile(r"^[0-9a-f]{7,}-dirty-[0-9a-f]{8}$")


def test_uncommitted_edits_are_published_and_deployed_under_load(
    host, settings, state, versions, clone, registry
):
    marker = "Built from uncommitted changes."
    clone.edit(
        "app/src/flaskr/templates/base.html", "</footer>", f"  {marker}\n</footer>"
    )
    version = clone.version()
    code, output = clone.publish(registry)
    assert code == 0, output
    replaced = releases(host, settings)
    before = views_of_index(host, settings)
    with load(host, settings, "dirty") as reads, writes(host, settings) as posts:
        code, output = clone.make("deploy", f"INVENTORY={INVENTORY}")
    print(f"{version} deployed:", reads.figures, posts.figures)
    assert code == 0, output
    assert UNCOMMITTED + version in output
    assert DIRTY_TAG.match(live(host, state)["version"]), live(host, state)
    assert_serving(host, settings, state, version)
    # The releases after it: the third, then the second (app_keep_releases 3).
    assert earlier(host, state) == versions[:0:-1]
    assert not set(replaced) & set(releases(host, settings))
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    assert posts.figures["created"] > 50, posts.figures
    assert posts.figures["failed"] == 0, posts.figures
    assert posts.figures["missing"] == [], posts.figures
    page = index(host, settings)
    assert marker in page
    assert (
        views(page) == before + reads.figures["sent"] + posts.figures["index_pages"] + 1
    )


def test_a_broken_uncommitted_edit_goes_with_its_image_while_the_live_one_serves(
    host, settings, state, versions, clone, registry
):
    before = live(host, state)
    clone.edit(
        "app/src/flaskr/__init__.py",
        '    """Create and configure an instance of the app."""\n',
        '    """Create and configure an instance of the app."""\n'
        '    raise RuntimeError("broken uncommitted edit")\n',
    )
    broken = clone.version()
    assert DIRTY_TAG.match(broken), broken
    code, output = clone.publish(registry)
    assert code == 0, output
    with load(host, settings, "dirty-broken") as reads:
        code, output = clone.make("deploy", f"INVENTORY={INVENTORY}")
    print(f"{broken} refused:", reads.figures)
    assert code != 0
    assert UNCOMMITTED + broken in output
    assert "did not become ready within 20 s" in output
    assert "RuntimeError: broken uncommitted edit" in output  # its last log lines
    assert_serving(host, settings, state, before["version"])
    assert live(host, state)["id"] == before["id"]
    assert earlier(host, state) == versions[:0:-1]
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    # No rollback can return to it: its tag left the host with it.
    assert host.run("docker image inspect %s:%s", settings["app_image"], broken).rc != 0


def test_make_rollback_twice_goes_back_two_releases(host, settings, state, versions):
    # From the uncommitted edits to the third release, then to the second.
    for expected, left in ((versions[2], [versions[1]]), (versions[1], [])):
        with load(host, settings, "rollback") as reads:
            code, output = make("rollback")
        assert code == 0, output
        assert_serving(host, settings, state, expected)
        assert earlier(host, state) == left
        assert reads.figures["failed"] == 0, reads.figures
        # It says it rolled back the code only, and how to roll back the data.
        said = " ".join(output.split())
        assert (
            "This rolled back the code only" in said and "make restore BACKUP=" in said
        )
    # A snapshot of the data was kept before each rollback.
    reasons = host.check_output(
        "for a in %s/backups/snapshot-*.tar.gz; do tar -xzOf $a --wildcards '*/manifest.json'; done",
        settings["host_state_dir"],
    )
    assert (
        reasons.count(
            '"reason": "before rolling back to the release before the live one"'
        )
        == 2
    )
    # The second release runs the very image it ran (by ID), its tag's.
    image = host.check_output(
        "docker inspect --format '{{.Image}}' %s", releases(host, settings)[0]
    )
    tagged = host.check_output(
        "docker image inspect --format '{{.Id}}' %s:%s",
        settings["app_image"],
        versions[1],
    )
    assert image == live(host, state)["image_id"] == tagged

    code, output = make("rollback")
    assert code != 0
    assert "No earlier release is kept on this host" in output
    assert_serving(host, settings, state, versions[1])


def test_a_deploy_killed_after_the_switch_is_settled_by_the_next(
    host, settings, state, versions
):
    before = live(host, state)
    process = playbooks.start("deploy.yml", "-e", f"app_version={versions[2]}")
    # Killed once the proxy's configuration names the new release, before
    # the switch records it: the history names it only as next. (Running the
    # proxy, which runs already, changes nothing, whether it ran or not.)
    for line in process.stdout:
        if "Run the proxy, which owns the public port(s)" in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    recorded = history(host, state)
    assert recorded["live"]["id"] == before["id"]
    assert recorded["next"]["live"]["version"] == versions[2]
    assert served(host, state) == recorded["next"]["live"]["id"]

    code, output = make("unlock")
    assert code == 0, output
    code, output = deploy(versions[2])
    assert code == 0, output
    assert_serving(host, settings, state, versions[2])
    assert live(host, state)["id"] == recorded["next"]["live"]["id"]
    assert earlier(host, state) == [versions[1]]
    assert history(host, state)["next"] is None


def test_a_second_deploy_is_refused_while_one_runs(host, settings, state, versions):
    first = playbooks.start("deploy.yml", "-e", f"app_version={versions[1]}")
    try:
        for _ in range(240):
            if host.file(state["lock"]).exists or first.poll() is not None:
                break
            time.sleep(0.25)
        assert host.file(state["lock"]).exists, "the first deploy never took the lock"
        code, output = deploy(versions[1])
    finally:
        first_code, first_output = finish(first)
    assert code != 0
    assert "Another deploy holds the lock on this host" in output
    assert f"deploying {versions[1]}" in output  # who holds it, and since when
    assert " since " in output
    assert first_code == 0, first_output
    assert_serving(host, settings, state, versions[1])


def test_make_unlock_releases_a_stale_lock(host, settings, state, versions):
    host.check_output(
        "echo 'ops@elsewhere since 2026-01-01 00:00:00 UTC, deploying x' > %s",
        state["lock"],
    )
    code, output = deploy(versions[1])
    assert code != 0
    assert "ops@elsewhere since 2026-01-01 00:00:00 UTC" in output
    assert "make unlock" in output

    code, output = make("unlock")
    assert code == 0, output
    assert not host.file(state["lock"]).exists

    code, output = deploy(versions[1])
    assert code == 0, output
    assert "changed=0" in output


def test_the_kept_releases_images_stay(host, settings, state):
    images = host.check_output(
        "docker images --format '{{.Repository}}:{{.Tag}}' %s", settings["app_image"]
    ).split()
    recorded = history(host, state)
    kept = [recorded["live"], *recorded["previous"]]
    assert {release["image"] for release in kept} <= set(images)
