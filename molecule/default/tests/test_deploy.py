"""What a deploy of playbooks/deploy.yml promises, checked on the test host
after converge, idempotence and side_effect.yml (a post, a second version, a
Redis restart)."""

import hashlib
import json
import os
import re

import pytest
from on_test_host import inspect, page

from playbooks import playbook

RECORDS = "/var/lib/berth-molecule"
COUNTER = re.compile(r"This page has been seen (\d+) times")


def get(host, settings, path, cookie=""):
    port = settings["app_published_port"]
    return page(host, f"http://127.0.0.1:{port}{path}", cookie)


def counter(body):
    match = COUNTER.search(body)
    assert match, "the page shows no counter (is Redis reachable?)"
    return int(match.group(1))


@pytest.fixture(scope="module")
def versions(settings):
    return tuple(settings["berth_molecule_versions"])


@pytest.fixture(scope="module")
def side_effect(host):
    return json.loads(host.file(f"{RECORDS}/side-effect.json").content_string)


@pytest.fixture(scope="module")
def secret_key(host, settings):
    content = host.file(f"{settings['app_instance_dir']}/config.py").content_string
    match = re.search(r'^SECRET_KEY = "(.*)"$', content, re.MULTILINE)
    assert match, "config.py has no SECRET_KEY line"
    return match.group(1)


def test_engine_runs_under_systemd(host):
    docker = host.service("docker")
    assert docker.is_running
    assert docker.is_enabled


def releases(host, settings):
    return host.check_output(
        "docker ps --all --filter label=berth.app=%s --format '{{.Names}}'",
        settings["app_name"],
    ).split()


def history(host, settings):
    path = f"{settings['host_state_dir']}/{settings['app_name']}-history.json"
    return json.loads(host.file(path).content_string)


def test_only_the_second_version_runs_and_it_is_healthy(host, settings, versions):
    names = releases(host, settings)
    assert len(names) == 1
    app = inspect(host, names[0])
    assert app["State"]["Status"] == "running"
    assert app["State"]["Health"]["Status"] == "healthy"
    assert (
        app["Config"]["Labels"]["berth.release"]
        == history(host, settings)["live"]["id"]
    )
    # It runs the second build as pulled from the registry, by its ID.
    pulled = inspect(host, f"{settings['app_image']}:{versions[1]}")
    assert app["Image"] == pulled["Id"]
    assert pulled["Config"]["Labels"]["org.opencontainers.image.version"] == versions[1]


def test_the_history_records_the_live_release_and_the_one_before(
    host, settings, versions
):
    recorded = history(host, settings)
    live = recorded["live"]
    assert live["version"] == versions[1]
    assert live["containers"] == releases(host, settings)
    assert live["image_id"] == inspect(host, live["containers"][0])["Image"]
    assert live["image"] == f"{settings['app_image']}:{versions[1]}"
    assert [earlier["version"] for earlier in recorded["previous"]] == [versions[0]]
    assert recorded["next"] is None
    state_format = host.file(f"{settings['host_state_dir']}/state-format")
    assert state_format.content_string.strip() == "2"


def test_the_proxy_serves_the_recorded_release(host, settings):
    live = history(host, settings)["live"]
    caddyfile = host.file(
        f"{settings['host_state_dir']}/proxy/Caddyfile"
    ).content_string
    assert f"# release {live['id']}\n" in caddyfile
    port = settings["app_container_port"]
    assert f"reverse_proxy {live['containers'][0]}:{port} " in caddyfile


def test_redis_runs_healthy_on_its_own_network_only(host, settings):
    redis = inspect(host, settings["redis_container_name"])
    assert redis["State"]["Status"] == "running"
    assert redis["State"]["Health"]["Status"] == "healthy"
    assert redis["Config"]["Image"] == settings["redis_image"]
    assert list(redis["NetworkSettings"]["Networks"]) == [
        settings["host_redis_network"]
    ]
    # No host port: neither asked for nor bound.
    assert not redis["HostConfig"]["PortBindings"]
    assert all(not bound for bound in redis["NetworkSettings"]["Ports"].values())
    assert host.file(f"{settings['host_state_dir']}/redis.conf").mode == 0o600


def test_redis_was_restarted_by_the_side_effect(host, settings):
    redis = inspect(host, settings["redis_container_name"])
    assert redis["RestartCount"] == 0  # a restart by request, not a crash loop
    app = inspect(host, releases(host, settings)[0])
    # Redis (re)started after the second version did: the side effect's restart.
    assert redis["State"]["StartedAt"] > app["State"]["StartedAt"]


def test_only_the_proxy_publishes_a_port(host, settings):
    proxy = inspect(host, settings["app_proxy_container_name"])
    assert proxy["State"]["Status"] == "running"
    published = proxy["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    assert published == str(settings["app_published_port"])
    app = inspect(host, releases(host, settings)[0])
    assert not app["HostConfig"]["PortBindings"]
    assert sorted(app["NetworkSettings"]["Networks"]) == sorted(
        [settings["host_network"], settings["host_redis_network"]]
    )
    # The app is told its port, and listens on it (the proxy serves it).
    assert f"PORT={settings['app_container_port']}" in app["Config"]["Env"]


def test_config_py_is_private_to_the_app_user(host, settings):
    config = host.file(f"{settings['app_instance_dir']}/config.py")
    assert config.mode == 0o600
    assert config.uid == 10001
    assert config.gid == 10001


def test_secret_key_is_generated_and_never_changed(host, settings, secret_key):
    assert re.fullmatch(r"[0-9a-f]{64}", secret_key)
    assert secret_key != "dev"
    # Written once by converge after the first deploy, never replaced since:
    # idempotence and the second version's deploy kept the key.
    recorded = host.file(f"{RECORDS}/secret-key.sha256").content_string.strip()
    assert hashlib.sha256(secret_key.encode()).hexdigest() == recorded
    key_file = f"{settings['host_state_dir']}/{settings['app_name']}-secret-key"
    assert host.file(key_file).content_string == secret_key
    assert host.file(key_file).mode == 0o600


def test_no_secret_reaches_the_ansible_log(host, settings, secret_key):
    log_path = os.environ["ANSIBLE_LOG_PATH"]
    with open(log_path, encoding="utf-8") as log_file:
        log = log_file.read()
    # Every step logged here: the deploy ran twice, then the second version.
    assert log.count("app : Write config.py from app_config_template]") >= 3
    redis_password = host.file(
        f"{settings['host_state_dir']}/redis-password"
    ).content_string
    assert len(redis_password) >= 32
    assert secret_key not in log
    assert redis_password not in log


def test_index_answers_and_counts_every_view(host, settings):
    status, body = get(host, settings, "/")
    assert status == 200
    first = counter(body)
    status, body = get(host, settings, "/")
    assert status == 200
    assert counter(body) == first + 1


def test_post_and_counter_survive_new_version_and_redis_restart(
    host, settings, side_effect
):
    status, body = get(host, settings, "/")
    assert status == 200
    assert side_effect["post_title"] in body
    assert counter(body) > int(side_effect["counter"])


def test_users_stay_logged_in_across_the_new_version(host, settings, side_effect):
    # The session cookie is signed with SECRET_KEY: it still works only if the
    # new release got the same key.
    status, body = get(host, settings, "/", side_effect["cookie"])
    assert status == 200
    assert f"<span>{side_effect['user']}</span>" in body
    assert "Log Out" in body


def test_readyz_answers_200(host, settings):
    status, body = get(host, settings, "/readyz")
    assert status == 200
    assert json.loads(body) == {"status": "ready"}


VALIDATION = "Validate the variables of every role and the release asked for"


def deploy(*extra_vars):
    """playbooks/deploy.yml as `make deploy` runs it, which ends early when the
    host is as the last deploy left it (converge turns that off)."""
    done = playbook("deploy.yml", *(f"-e{v}" for v in extra_vars))
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)", output)
    return {
        "output": output,
        "nothing to do": "Nothing to do: the host is as the last deploy" in output,
        "ok": int(recap.group(1)),
        "changed": int(recap.group(2)),
    }


def test_a_deploy_with_nothing_to_do_ends_at_once_unless_the_host_or_inputs_changed(
    host, settings, versions
):
    live = f"app_version={versions[1]}"
    deploy(live)  # the stamp of this deploy, whatever the last one was

    # The data changes and the deploy has still nothing to do: a view counted
    # in Redis, a backup, a file the app writes in its instance directory.
    assert get(host, settings, "/")[0] == 200
    host.check_output("/usr/local/sbin/berth-backup create")
    host.check_output("echo data > %s/written-by-the-app", settings["app_instance_dir"])
    unchanged = deploy(live)
    assert unchanged["nothing to do"], unchanged["output"]
    assert unchanged["changed"] == 0
    assert "Run the proxy" not in unchanged["output"]
    # Every deploy validates every role's variables, before the comparison.
    assert VALIDATION in unchanged["output"]

    # A file of the platform's and a container of the app's, changed by hand:
    # every task runs and puts them back.
    settings_file = host.file(f"{settings['host_state_dir']}/backup.json")
    written = settings_file.content_string
    host.check_output("echo '{}' > %s", settings_file.path)
    proxy = settings["app_proxy_container_name"]
    host.check_output("docker update --pids-limit 300 %s", proxy)
    drifted = deploy(live)
    assert not drifted["nothing to do"], drifted["output"]
    assert "Write redis.conf with the password" in drifted["output"]
    assert settings_file.content_string == written
    assert inspect(host, proxy)["HostConfig"]["PidsLimit"] == 256

    # Only the app's part differs (one of its variables): the app's role runs,
    # with nothing to change, and the platform's roles are skipped.
    app_only = deploy(live, json.dumps({"app_certificate_timeout": 91}))
    assert not app_only["nothing to do"], app_only["output"]
    assert app_only["changed"] == 0
    assert "Run the proxy" in app_only["output"]
    assert "Write redis.conf with the password" not in app_only["output"]
    assert VALIDATION in app_only["output"]

    # Wrong variables are refused before any change, all in one message: a
    # platform's, the release asked for, and one an earlier berth read.
    wrong = {
        "redis_maxmemory": ("512mb", "redis_maxmemory below it"),
        "app_version": (
            "latest",
            "app_version must be an image tag naming one release",
        ),
        "app_uid": (10001, "set app_user to UID:GID instead"),
    }
    refused = playbook(
        "deploy.yml",
        "-e",
        json.dumps({name: value for name, (value, _) in wrong.items()}),
    )
    assert refused.returncode != 0
    # On stderr, maybe wrapped over lines.
    said = " ".join((refused.stdout + refused.stderr).split())
    for _, message in wrong.values():
        assert message in said, said[-3000:]
    assert "Take the deploy lock" not in said
