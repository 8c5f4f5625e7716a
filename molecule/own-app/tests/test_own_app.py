"""An app that is not flaskr, deployed by inventory variables only, from a
registry that asks for a password.

The tests run in order and build on each other: after converge the site's
first version serves; the second is deployed as a user would, with the login
in group_vars/app/vault.yml; then a re-pushed tag, a wrong password and a
failing migration. Names, paths and ports come from the inventory.
"""

import base64
import json
import os
import re
import shutil
import subprocess

import host_snapshot
import pytest
import yaml
from on_test_host import copy_bench, inspect, load

import playbooks
from playbooks import INVENTORY, ROOT

SCENARIO = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
CREDENTIALS = f"{SCENARIO}/registry-credentials.yml"
VAULT_PASSWORD_FILE = f"{SCENARIO}/vault-password"
VAULT = ["-e", f"@{CREDENTIALS}", f"--vault-password-file={VAULT_PASSWORD_FILE}"]

# Every deploy's output, for the last test: no secret may be in any of them.
OUTPUTS = []


@pytest.fixture(scope="module", autouse=True)
def bench(host):
    """bench/ on the test host, for the loads below."""
    copy_bench(host, ROOT)


@pytest.fixture(scope="module")
def credentials():
    """The registry login, decrypted from the scenario's vault file."""
    printed = subprocess.run(
        [
            "ansible-vault",
            "view",
            f"--vault-password-file={VAULT_PASSWORD_FILE}",
            CREDENTIALS,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(printed)


@pytest.fixture(scope="module")
def paths(settings):
    root, app = settings["host_state_dir"], settings["app_name"]
    return {
        "history": f"{root}/{app}-history.json",
        "secret_key": f"{root}/{app}-secret-key",
        "config": f"{settings['app_instance_dir']}/{settings['app_config_file']}",
        "migrations": f"{settings['app_instance_dir']}/migrations.log",
    }


def kept(done):
    """(return code, output) of a finished run, its output kept in OUTPUTS."""
    OUTPUTS.append(done.stdout + done.stderr)
    return done.returncode, done.stdout + done.stderr


def deploy(version, *extra):
    """playbooks/deploy.yml with the scenario's vault file, as converge ran it."""
    return kept(
        playbooks.playbook("deploy.yml", "-e", f"app_version={version}", *VAULT, *extra)
    )


def url(settings, path="/"):
    return f"http://127.0.0.1:{settings['app_published_port']}{path}"


def get(host, settings, path, auth=None):
    """GET through the proxy, on the test host: (status, body)."""
    token = base64.b64encode(auth.encode()).decode() if auth else ""
    headers = {"Authorization": f"Basic {token}"} if auth else {}
    script = (
        "import urllib.request, urllib.error\n"
        f"request = urllib.request.Request({url(settings, path)!r}, headers={headers!r})\n"
        "try:\n"
        "    response = urllib.request.urlopen(request, timeout=10)\n"
        "    print(response.status); print(response.read().decode())\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code)\n"
    )
    status, _, body = host.check_output("python3 -c %s", script).partition("\n")
    return int(status), body


def history(host, paths):
    return json.loads(host.file(paths["history"]).content_string)


def containers(host, settings):
    """ID and name of every container of the app, running or not."""
    return host.check_output(
        "docker ps --all --no-trunc --filter label=berth.app=%s --format '{{.ID}} {{.Names}}'",
        settings["app_name"],
    ).splitlines()


def assert_live(host, settings, paths, page):
    """The proxy serves `page`, from the one container the history names."""
    status, body = get(host, settings, "/")
    assert status == 200
    assert f"<h1>{page}</h1>" in body
    live = history(host, paths)["live"]
    assert [line.split()[1] for line in containers(host, settings)] == live[
        "containers"
    ]
    return live


def test_the_site_serves_from_an_image_without_shell_python_or_healthcheck(
    host, settings, paths
):
    live = assert_live(host, settings, paths, "site site-1")
    assert get(host, settings, settings["app_ready_path"])[0] == 200
    container = inspect(host, live["containers"][0])
    assert container["Config"]["User"] == settings["app_user"]
    assert "PORT=3000" in container["Config"]["Env"]
    assert "SITE_GREETING=hello" in container["Config"]["Env"]
    assert container["Config"]["Cmd"] == settings["app_command"]
    assert "Health" not in container["State"]
    assert "Healthcheck" not in inspect(host, container["Image"])["Config"]
    for missing in ("/bin/sh", "python3"):
        assert (
            host.run("docker exec %s %s -c true", live["containers"][0], missing).rc
            != 0
        )


def test_the_config_template_gets_the_secret_key_and_redis_url(host, settings, paths):
    config = host.file(paths["config"])
    assert config.mode == 0o600
    assert (config.uid, config.gid) == (10002, 10002)
    secret_key = host.file(paths["secret_key"]).content_string
    assert f"/private:admin:{secret_key}\n" in config.content_string
    redis_password = host.file(
        f"{settings['host_state_dir']}/redis-password"
    ).content_string
    assert f":{redis_password}@" in config.content_string
    # The site reads it: /private/ is for admin, with that key.
    assert get(host, settings, "/private/")[0] == 401
    assert get(host, settings, "/private/", auth="admin:wrong")[0] == 401
    assert get(host, settings, "/private/", auth=f"admin:{secret_key}")[0] == 200


def test_the_migration_ran_once_for_the_release(host, paths):
    # converge ran it; the idempotent deploy after it did not.
    assert (
        host.file(paths["migrations"]).content_string.count("<h1>site site-1</h1>") == 1
    )


def test_the_extra_volume_is_mounted(host, settings):
    uploads = host.check_output(
        "docker volume inspect --format '{{.Mountpoint}}' site-uploads"
    )
    host.check_output(
        "printf kept > %s/kept.txt && chmod 0644 %s/kept.txt", uploads, uploads
    )
    assert get(host, settings, "/uploads/kept.txt") == (200, "kept")


def vault_inventory(tmp_path):
    """The scenario's inventory laid out as the README says: the plain
    settings in group_vars/app/vars.yml, the login in group_vars/app/vault.yml."""
    shutil.copy(os.environ["MOLECULE_INVENTORY_FILE"], tmp_path / "hosts.yml")
    (tmp_path / "group_vars" / "app").mkdir(parents=True)
    shutil.copy(f"{INVENTORY}/group_vars/all", tmp_path / "group_vars" / "all.yml")
    shutil.copy(
        f"{INVENTORY}/group_vars/app", tmp_path / "group_vars" / "app" / "vars.yml"
    )
    shutil.copy(CREDENTIALS, tmp_path / "group_vars" / "app" / "vault.yml")
    return tmp_path


def test_make_deploy_with_the_vault_layout_swaps_under_load(
    host, settings, paths, tmp_path
):
    inventory = vault_inventory(tmp_path)
    before = assert_live(host, settings, paths, "site site-1")
    with load(host, url(settings), "site-2") as reads:
        code, output = kept(
            playbooks.make(
                "deploy",
                "VERSION=site-2",
                f"ANSIBLE_ARGS=--vault-password-file={VAULT_PASSWORD_FILE}",
                inventory=inventory,
            )
        )
    assert code == 0, output
    print("swap site-1 -> site-2:", reads.figures)
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    live = assert_live(host, settings, paths, "site site-2")
    assert live["containers"] != before["containers"]
    assert [release["version"] for release in history(host, paths)["previous"]] == [
        "site-1"
    ]
    migrations = host.file(paths["migrations"]).content_string
    assert migrations.index("site site-1") < migrations.index("site site-2")


def test_the_proxys_reloads_drop_no_connection(host, settings):
    # Every switch is a reload: Caddy's new listening socket takes over from
    # the old one, which hands over the connections queued on it.
    proxy = settings["app_proxy_container_name"]
    migrate = host.check_output(
        "nsenter --target $(docker inspect --format '{{.State.Pid}}' %s) --net cat /proc/sys/net/ipv4/tcp_migrate_req",
        proxy,
    )
    assert migrate == "1"
    with load(host, url(settings), "reloads", rate=300) as reads:
        for _ in range(60):
            host.check_output(
                "docker exec %s caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --force",
                proxy,
            )
    print("60 reloads:", reads.figures)
    assert reads.figures["sent"] > 3000, reads.figures
    assert reads.figures["failed"] == 0, reads.figures


def test_a_repushed_tag_is_a_new_release_beside_the_live_one(host, settings, paths):
    before = assert_live(host, settings, paths, "site site-2")
    # The registry's port on this machine, and the push login prepare.yml made.
    port = (
        subprocess.check_output(
            ["docker", "port", f"{settings['berth_molecule_prefix']}-registry", "5000"],
            text=True,
        )
        .split(":")[-1]
        .strip()
    )
    tag = f"127.0.0.1:{port}/site:site-2"
    environment = {**os.environ, "DOCKER_CONFIG": f"{EPHEMERAL}/docker-config"}
    for argv in (
        [
            "docker",
            "build",
            "--quiet",
            "--build-arg",
            "VERSION=site-2-repushed",
            "-t",
            tag,
            f"{ROOT}/molecule/images/site",
        ],
        ["docker", "push", "--quiet", tag],
    ):
        subprocess.run(argv, env=environment, capture_output=True, check=True)
    with load(host, url(settings), "repushed") as reads:
        code, output = deploy("site-2")
    assert code == 0, output
    print("swap to the re-pushed site-2:", reads.figures)
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    live = assert_live(host, settings, paths, "site site-2-repushed")
    assert live["version"] == "site-2"
    assert live["image_id"] != before["image_id"]
    assert live["containers"] != before["containers"]


def test_a_deploy_with_nothing_new_changes_nothing_and_prints_no_secret(
    host, credentials
):
    code, output = deploy("site-2", "-vvv", "--diff")
    assert code == 0, output
    assert "changed=0" in output
    assert "failed=0" in output


def snapshot(host, settings, paths):
    """What a deploy that fails early must leave as it was."""
    return containers(host, settings), host.file(paths["history"]).content_string


def test_check_mode_shows_a_new_release_and_changes_nothing(host, settings, paths):
    before = snapshot(host, settings, paths)
    code, output = deploy("site-1", "--check", "--diff")
    assert code == 0, output
    assert re.search(r"changed: \[\S+\] => \(item=site-[0-9a-f]{12}-1\)", output)
    assert snapshot(host, settings, paths) == before
    assert_live(host, settings, paths, "site site-2-repushed")


# --check --diff of what a user may try first, with the comparison with the
# last deploy on, as by default: a version the host does not have (site-3 is
# in the registry only), a rollback, a configuration change, and the live
# version again, which the registry says is what the host has.
CHECKS = {
    "new version": (["site-3"], r"would pull \S+/site:site-3 and start release"),
    "rollback": (
        ["site-2", "-e", "app_rollback=true"],
        r"would start release [0-9a-f]{12} of site site-2",
    ),
    "config": (
        ["site-2", "-e", json.dumps({"app_config": {"GREETING": "bonjour"}})],
        r"would pull \S+:site-2 \(.+\) and start release [0-9a-f]{12} of site site-2",
    ),
    "nothing new": (["site-2"], r"Nothing to do"),
}


@pytest.mark.parametrize("case", CHECKS)
def test_check_mode_says_what_a_deploy_would_do_and_changes_nothing(
    host, settings, paths, case
):
    arguments, says = CHECKS[case]
    unpulled = f"{settings['app_image']}:site-3"
    assert host.run("docker image inspect %s", unpulled).rc != 0
    before = host_snapshot.snapshot(host, settings), snapshot(host, settings, paths)
    code, output = deploy(*arguments, "--check", "--diff")
    assert code == 0, output
    assert re.search(says, output), output
    if case == "rollback":
        assert "would pull" not in output
    if case == "config":
        assert re.search(r"changed: \[\S+\] => \(item=site-[0-9a-f]{12}-1\)", output)
        assert "GREETING" not in output  # the file holds the SECRET_KEY: no diff shown
    after = host_snapshot.snapshot(host, settings), snapshot(host, settings, paths)
    assert after == before
    assert host.run("docker image inspect %s", unpulled).rc != 0
    assert_live(host, settings, paths, "site site-2-repushed")


def test_a_wrong_registry_password_fails_before_any_change(
    host, settings, paths, credentials
):
    before = snapshot(host, settings, paths)
    with load(host, url(settings), "wrong-password") as reads:
        code, output = deploy("site-1", "-e", "app_registry_password=not-the-password")
    assert code != 0
    registry = settings["app_registry_url"]
    assert (
        f"Docker could not log in to {registry} as {credentials['app_registry_username']}"
        in output
    )
    assert "Nothing was pulled and no service was changed" in output
    assert snapshot(host, settings, paths) == before
    assert reads.figures["failed"] == 0, reads.figures
    assert_live(host, settings, paths, "site site-2-repushed")


def test_a_failing_migration_stops_the_deploy_and_the_live_release_serves(
    host, settings, paths
):
    before = snapshot(host, settings, paths)
    migrations = host.file(paths["migrations"]).content_string
    failing = ["/busybox", "sh", "-c", "echo migration failed on purpose; exit 3"]
    with load(host, url(settings), "migration") as reads:
        code, output = deploy(
            "site-1", "-e", json.dumps({"app_migrate_command": failing})
        )
    assert code != 0
    assert "failed in" in output and "with exit code 3" in output
    assert "migration failed on purpose" in output
    assert snapshot(host, settings, paths) == before
    assert host.file(paths["migrations"]).content_string == migrations
    assert reads.figures["failed"] == 0, reads.figures
    assert_live(host, settings, paths, "site site-2-repushed")


def test_the_volume_and_the_instance_directory_outlived_every_release(host, settings):
    assert get(host, settings, "/uploads/kept.txt") == (200, "kept")
    assert host.file(settings["app_instance_dir"]).is_directory


def test_the_password_is_in_no_output_and_no_file_but_dockers_login(
    host, settings, credentials
):
    password = credentials["app_registry_password"]
    user_and_password = f"{credentials['app_registry_username']}:{password}"
    secrets = [password, base64.b64encode(user_and_password.encode()).decode()]
    with open(os.environ["ANSIBLE_LOG_PATH"], encoding="utf-8") as log:
        outputs = [log.read(), *OUTPUTS]
    assert len(outputs) > 5
    for secret in secrets:
        assert not [output for output in outputs if secret in output]
    # On the test host, Docker's own store holds the login, 0600.
    login = host.file("/root/.docker/config.json")
    assert login.mode == 0o600
    assert settings["app_registry_url"] in json.loads(login.content_string)["auths"]
    # And no other file berth or Ansible writes does.
    for secret in secrets:
        found = host.run(
            "grep -rlF --exclude=config.json -e %s /etc /root /home /tmp /var/lib/berth /var/log /opt",
            secret,
        )
        assert found.rc == 1, found.stdout
    # Nor does anything this machine's run left behind, but the pushes' login.
    found = subprocess.run(
        [
            "grep",
            "-rlF",
            "--exclude-dir=docker-config",
            "-e",
            password,
            EPHEMERAL,
            SCENARIO,
        ],
        capture_output=True,
        check=False,
    )
    assert found.returncode == 1, found.stdout
