"""The deployed stack, tried as an attacker would, and read with `docker
inspect`: every container is bounded and unprivileged, hostile requests get
the answer they should, and the site serves throughout."""

import json

import pytest
from on_test_host import BENCH, copy_bench, inspect

from playbooks import ROOT, playbook

# The flaskr release's page counter and Flask-Limiter's counts, in Redis.
COUNTER_KEYS = "flaskr:views:*"
LIMITER_KEYS = "LIMITS:LIMITER/*"


def live_release(host, settings):
    history = f"{settings['host_state_dir']}/{settings['app_name']}-history.json"
    return json.loads(host.file(history).content_string)["live"]["containers"][0]


@pytest.fixture(scope="module")
def containers(host, settings):
    """Each service's container: what it must run as, and what it may add."""
    return {
        live_release(host, settings): ("10001:10001", []),  # flaskr's user
        settings["redis_container_name"]: ("999:999", []),
        settings["app_proxy_container_name"]: ("", ["NET_BIND_SERVICE"]),
    }


def redis_cli(host, settings, *args):
    """redis-cli in the Redis container, its password passed in the environment."""
    password = f"{settings['host_state_dir']}/redis-password"
    return host.check_output(
        "REDISCLI_AUTH=$(cat %s) docker exec -e REDISCLI_AUTH %s redis-cli "
        + " ".join(["%s"] * len(args)),
        password,
        settings["redis_container_name"],
        *args,
    )


# Run on the test host (it has python3, no curl): GET a URL with a Host header,
# print the status and the response's headers as JSON.
HEAD = """
import json, sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Host": sys.argv[2]})
try:
    response = urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as error:
    response = error
print(json.dumps({"status": response.status, "headers": dict(response.headers)}))
"""


def head(host, settings, host_header="127.0.0.1"):
    url = f"http://127.0.0.1:{settings['app_published_port']}/"
    return json.loads(host.check_output("python3 -c %s %s %s", HEAD, url, host_header))


def keys(host, settings, pattern):
    return redis_cli(host, settings, "--scan", "--pattern", pattern).split()


def test_every_container_is_bounded_and_unprivileged(host, containers):
    for name, (user, added) in containers.items():
        config = inspect(host, name)["HostConfig"]
        assert config["Memory"] > 0, name
        assert config["PidsLimit"] > 0, name
        assert config["CapDrop"] == ["ALL"], name
        assert (config["CapAdd"] or []) == added, name
        assert "no-new-privileges:true" in config["SecurityOpt"], name
        assert config["ReadonlyRootfs"], name
        assert inspect(host, name)["Config"]["User"] == user, name


def test_the_release_tmp_is_sized(host, settings):
    tmpfs = inspect(host, live_release(host, settings))["HostConfig"]["Tmpfs"]
    assert tmpfs == {"/tmp": "size=64m"}


def test_the_proxy_cannot_reach_redis(host, settings):
    proxy = inspect(host, settings["app_proxy_container_name"])
    redis = inspect(host, settings["redis_container_name"])
    release = inspect(host, live_release(host, settings))
    assert list(proxy["NetworkSettings"]["Networks"]) == [settings["host_network"]]
    assert list(redis["NetworkSettings"]["Networks"]) == [
        settings["host_redis_network"]
    ]
    assert set(release["NetworkSettings"]["Networks"]) == {
        settings["host_network"],
        settings["host_redis_network"],
    }
    network = json.loads(
        host.check_output("docker network inspect %s", settings["host_redis_network"])
    )[0]
    assert network["Internal"]


def test_the_proxy_sends_security_headers_and_serves_only_its_names(host, settings):
    page = head(host, settings)
    assert page["status"] == 200
    assert page["headers"]["Content-Security-Policy"].startswith(
        "default-src 'self'; frame-ancestors 'none'"
    )
    assert page["headers"]["X-Frame-Options"] == "DENY"
    assert page["headers"]["X-Content-Type-Options"] == "nosniff"
    assert page["headers"]["Referrer-Policy"] == "same-origin"
    assert "Server" not in page["headers"]
    assert head(host, settings, "localhost")["status"] == 200
    assert head(host, settings, "attacker.example")["status"] == 421


@pytest.fixture
def limits_reset(host, settings):
    """Start with no login counted, and clear the counts afterwards: the abuse
    leaves its address rate-limited, and the tests after it log in."""

    def reset():
        for key in keys(host, settings, LIMITER_KEYS):
            redis_cli(host, settings, "DEL", key)

    reset()
    yield
    reset()


def restarts(host, containers):
    return {
        name: (
            state["RestartCount"],
            state["State"]["StartedAt"],
            state["State"]["OOMKilled"],
        )
        for name in containers
        for state in [inspect(host, name)]
    }


def test_hostile_requests_are_refused_and_the_site_serves_throughout(
    host, settings, containers, limits_reset
):
    copy_bench(host, ROOT)
    before = restarts(host, containers)
    url = f"http://127.0.0.1:{settings['app_published_port']}"
    figures = json.loads(host.check_output("python3 %s/abuse.py %s", BENCH, url))
    print(json.dumps(figures, indent=2))
    attacks = figures["attacks"]
    for kind in (
        "body over the limit",
        "streamed body over the limit",
        "unknown Host header",
        "title or body over its length",
        "spellings of one page",
        "paths that match no route",
        "forged log line",
        "index pages past the end",
        "slow headers",
    ):
        assert attacks[kind]["refused"] == attacks[kind]["sent"], (kind, attacks[kind])
    # The user's own login used one of the five attempts its name has a minute.
    login = attacks["login flood on one user name"]
    assert login["refused"] == login["sent"] - 4, login
    # The user's registration used one of the address's ten.
    register = attacks["registration flood"]
    assert register["refused"] == register["sent"] - 9, register
    assert figures["server_errors"] == 0, figures
    assert figures["normal"]["failed"] == 0, figures["normal"]
    assert restarts(host, containers) == before

    # One key for one page however it is spelt, none for paths of no route.
    counted = keys(host, settings, COUNTER_KEYS)
    assert f"flaskr:views:/{figures['post']}/update" in counted
    assert not [key for key in counted if "/0" in key or "no-such-page" in key]
    # The forged line is one escaped field of one line of the access log.
    log = host.check_output("docker logs %s 2>&1", live_release(host, settings))
    assert not [line for line in log.splitlines() if line.startswith("FORGED")]
    assert "\\x0aFORGED" in log


def test_a_failed_reload_puts_the_previous_caddyfile_back(host, settings):
    caddyfile = host.file(f"{settings['host_state_dir']}/proxy/Caddyfile")
    before = caddyfile.content_string
    proxy = settings["app_proxy_container_name"]
    # A paused proxy cannot be told to reload: a real failure of the reload.
    host.check_output("docker pause %s", proxy)
    try:
        # The live version: only the Caddyfile would change.
        extra = {
            "app_version": settings["berth_molecule_versions"][1],
            "app_security_headers": {"X-Frame-Options": "DENY"},
        }
        done = playbook("deploy.yml", "-e", json.dumps(extra))
    finally:
        host.check_output("docker unpause %s", proxy)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "The proxy did not take the new configuration" in output
    assert caddyfile.content_string == before
    assert host.check_output("ls %s/proxy", settings["host_state_dir"]) == "Caddyfile"
    # Serving still, with the configuration it had.
    page = head(host, settings)
    assert page["status"] == 200
    assert "Content-Security-Policy" in page["headers"]


def test_a_proxy_an_earlier_berth_started_is_updated_in_place_and_reloaded(
    host, settings
):
    """berth 3.2 and earlier left Caddy's admin API on its default address and
    the proxy without limits: a deploy sets them on the running proxy and
    reloads it where it listens, then on its socket."""
    caddyfile = host.file(f"{settings['host_state_dir']}/proxy/Caddyfile")
    before = caddyfile.content_string
    proxy = settings["app_proxy_container_name"]
    socket = "/config/admin.sock"
    reload = "docker exec %s caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --address %s"
    # The proxy as such a berth left it: its Caddyfile has no admin line and
    # Caddy runs it, and the proxy's memory and processes are not as this
    # berth sets them.
    host.check_output("sed -i '/^\\s*admin /d' %s", caddyfile.path)
    host.check_output(reload, proxy, f"unix/{socket}")
    assert host.run("docker exec %s test -S %s", proxy, socket).rc == 1
    host.check_output(
        "docker update --memory 256m --memory-swap 256m --pids-limit 512 %s", proxy
    )
    started = inspect(host, proxy)["State"]["StartedAt"]

    extra = {"app_version": settings["berth_molecule_versions"][1]}
    done = playbook("deploy.yml", "-e", json.dumps(extra))
    assert done.returncode == 0, done.stdout + done.stderr

    # Updated in place, not restarted, and running this berth's configuration.
    state = inspect(host, proxy)
    assert state["State"]["StartedAt"] == started
    assert state["HostConfig"]["Memory"] == 128 * 2**20
    assert state["HostConfig"]["PidsLimit"] == 256
    assert caddyfile.content_string == before
    assert host.run("docker exec %s test -S %s", proxy, socket).rc == 0
    assert head(host, settings)["status"] == 200
