"""What a deploy of playbooks/deploy.yml promises, checked on the test host
after converge, idempotence and side_effect.yml (a post, a second version, a
Redis restart)."""

import hashlib
import json
import os
import re

import pytest

APP_URL = "http://127.0.0.1:8000"
REDIS = "berth-redis"
CONFIG_PY = "/var/lib/berth/flaskr/config.py"
RECORDS = "/var/lib/berth-molecule"
COUNTER = re.compile(r"This page has been seen (\d+) times")

# Run on the test host: GET a path (with an optional Cookie header), print the
# status and the body as JSON. The host has python3 but no curl.
HTTP_GET = """
import json, sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1] + sys.argv[2])
if sys.argv[3]:
    request.add_header("Cookie", sys.argv[3])
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        status, body = response.status, response.read()
except urllib.error.HTTPError as error:
    status, body = error.code, error.read()
print(json.dumps({"status": status, "body": body.decode()}))
"""


def get(host, path, cookie=""):
    out = host.check_output("python3 -c %s %s %s %s", HTTP_GET, APP_URL, path, cookie)
    page = json.loads(out)
    return page["status"], page["body"]


def counter(body):
    match = COUNTER.search(body)
    assert match, "the page shows no counter (is Redis reachable?)"
    return int(match.group(1))


def inspect(host, name):
    return json.loads(host.check_output("docker inspect %s", name))[0]


@pytest.fixture(scope="module")
def versions(host):
    variables = host.ansible.get_variables()
    return tuple(variables["berth_molecule_versions"])


@pytest.fixture(scope="module")
def side_effect(host):
    return json.loads(host.file(f"{RECORDS}/side-effect.json").content_string)


@pytest.fixture(scope="module")
def secret_key(host):
    content = host.file(CONFIG_PY).content_string
    match = re.search(r'^SECRET_KEY = "(.*)"$', content, re.MULTILINE)
    assert match, "config.py has no SECRET_KEY line"
    return match.group(1)


def test_engine_runs_under_systemd(host):
    docker = host.service("docker")
    assert docker.is_running
    assert docker.is_enabled


def releases(host):
    return host.check_output(
        "docker ps --all --filter label=berth.app=flaskr --format '{{.Names}}'"
    ).split()


def test_only_the_second_version_runs_and_it_is_healthy(host, versions):
    names = releases(host)
    assert len(names) == 1
    assert names[0].startswith(f"flaskr-{versions[1]}-")
    app = inspect(host, names[0])
    assert app["State"]["Status"] == "running"
    assert app["State"]["Health"]["Status"] == "healthy"
    assert app["Config"]["Labels"]["berth.version"] == versions[1]
    assert app["Config"]["Image"] == f"berth-default-registry:5000/flaskr:{versions[1]}"
    # The image is the second build, pulled from the registry: its own label.
    image = inspect(host, app["Image"])
    assert image["Config"]["Labels"]["org.opencontainers.image.version"] == versions[1]


def test_the_deployed_version_is_recorded(host, versions):
    release = host.file("/var/lib/berth/flaskr-release")
    assert release.content_string == f"{versions[1]}\n"
    assert release.user == "root"


def test_redis_runs_healthy_on_the_private_network_only(host):
    redis = inspect(host, REDIS)
    assert redis["State"]["Status"] == "running"
    assert redis["State"]["Health"]["Status"] == "healthy"
    assert redis["Config"]["Image"] == "berth-default-registry:5000/redis:7-bookworm"
    assert list(redis["NetworkSettings"]["Networks"]) == ["berth"]
    # No host port: neither asked for nor bound.
    assert not redis["HostConfig"]["PortBindings"]
    assert all(not bound for bound in redis["NetworkSettings"]["Ports"].values())
    assert host.file("/var/lib/berth/redis.conf").mode == 0o600


def test_redis_was_restarted_by_the_side_effect(host, versions):
    redis = inspect(host, REDIS)
    assert redis["RestartCount"] == 0  # a restart by request, not a crash loop
    app = inspect(host, releases(host)[0])
    # Redis (re)started after the second version did: the side effect's restart.
    assert redis["State"]["StartedAt"] > app["State"]["StartedAt"]


def test_only_the_proxy_publishes_a_port(host):
    proxy = inspect(host, "berth-proxy")
    assert proxy["State"]["Status"] == "running"
    assert proxy["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == "8000"
    app = inspect(host, releases(host)[0])
    assert not app["HostConfig"]["PortBindings"]
    assert list(app["NetworkSettings"]["Networks"]) == ["berth"]


def test_config_py_is_private_to_the_app_user(host):
    config = host.file(CONFIG_PY)
    assert config.mode == 0o600
    assert config.uid == 10001
    assert config.gid == 10001


def test_secret_key_is_generated_and_never_changed(host, secret_key):
    assert re.fullmatch(r"[0-9a-f]{64}", secret_key)
    assert secret_key != "dev"
    # Written once by converge after the first deploy, never replaced since:
    # idempotence and the second version's deploy kept the key.
    recorded = host.file(f"{RECORDS}/secret-key.sha256").content_string.strip()
    assert hashlib.sha256(secret_key.encode()).hexdigest() == recorded
    assert host.file("/var/lib/berth/flaskr-secret-key").content_string == secret_key


def test_no_secret_reaches_the_ansible_log(host, secret_key):
    log_path = os.environ["ANSIBLE_LOG_PATH"]
    with open(log_path, encoding="utf-8") as log_file:
        log = log_file.read()
    # Every step logged here: the deploy ran twice, then the second version.
    assert log.count("TASK [app : Write config.py]") >= 3
    redis_password = host.file("/var/lib/berth/redis-password").content_string
    assert len(redis_password) >= 32
    assert secret_key not in log
    assert redis_password not in log


def test_index_answers_and_counts_every_view(host):
    status, body = get(host, "/")
    assert status == 200
    first = counter(body)
    status, body = get(host, "/")
    assert status == 200
    assert counter(body) == first + 1


def test_post_and_counter_survive_new_version_and_redis_restart(host, side_effect):
    status, body = get(host, "/")
    assert status == 200
    assert side_effect["post_title"] in body
    assert counter(body) > int(side_effect["counter"])


def test_users_stay_logged_in_across_the_new_version(host, side_effect):
    # The session cookie is signed with SECRET_KEY: it still works only if the
    # new release got the same key.
    status, body = get(host, "/", side_effect["cookie"])
    assert status == 200
    assert f"<span>{side_effect['user']}</span>" in body
    assert "Log Out" in body


def test_readyz_answers_200(host):
    status, body = get(host, "/readyz")
    assert status == 200
    assert json.loads(body) == {"status": "ready"}
