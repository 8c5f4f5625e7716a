"""The flaskr image: how it runs, what it holds, and what it must not hold."""

import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import APP_UID, CA_MARKER, ROOT, docker, wait_until

APP_TESTS = sorted(p.name for p in (ROOT / "app/tests").glob("*.py"))


def test_becomes_healthy_and_counts_visits_in_redis(start_app, redis):
    app = start_app(redis)
    app.wait_healthy(timeout=30)

    first, second = app.get("/"), app.get("/")

    assert first.status_code == second.status_code == 200
    counts = [
        int(re.search(r"seen (\d+) times?", r.text).group(1)) for r in (first, second)
    ]
    assert counts[1] == counts[0] + 1
    assert app.get("/readyz").status_code == 200


# A server on the app's port whose /healthz answers 503.
FAILING_HEALTHZ = (
    "import waitress\n"
    "def app(environ, start_response):\n"
    "    start_response('503 Service Unavailable', [])\n"
    "    return [b'']\n"
    "waitress.serve(app, port=8080)\n"
)


@pytest.mark.parametrize(
    "command",
    [["python3", "-c", FAILING_HEALTHZ], ["sleep", "infinity"]],
    ids=["healthz answers 503", "nothing listens"],
)
def test_the_image_probe_fails_unless_healthz_answers_200(start_app, command):
    # The image's own probe, with a start period of 1 s (0 keeps the image's).
    app = start_app(
        options=["--health-start-period", "1s", "--entrypoint", command[0]],
        command=command[1:],
    )
    wait_until(lambda: app.health() == "unhealthy", timeout=30)


def test_runs_as_the_unprivileged_flaskr_user(start_app, redis, image_config):
    app = start_app(redis)
    app.wait_healthy()

    assert docker("exec", app.name, "id", "-u") == str(APP_UID)
    assert docker("exec", app.name, "id", "-g") == str(APP_UID)
    assert image_config["Config"]["User"] == f"{APP_UID}:{APP_UID}"


def test_refuses_to_start_with_the_placeholder_secret_key(start_app):
    app = start_app(redis_url=None)  # no config.py in the instance folder

    assert app.wait_exited() != 0
    logs = app.logs()
    assert "SECRET_KEY" in logs
    assert "/var/lib/flaskr/config.py" in logs


def test_stops_cleanly_and_quickly_on_sigterm(start_app, redis):
    app = start_app(redis)
    app.wait_healthy()

    started = time.monotonic()
    docker("stop", "--time", "10", app.name)
    elapsed = time.monotonic() - started

    assert elapsed < 10, "SIGTERM was ignored; docker stop had to kill it"
    assert app.state()["ExitCode"] == 0


def test_image_metadata(image, image_config):
    config = image_config["Config"]
    labels = config["Labels"]
    tag = image.rsplit(":", 1)[1]

    assert labels["org.opencontainers.image.version"] == tag
    assert re.fullmatch(
        r"[0-9a-f]{40}|unknown", labels["org.opencontainers.image.revision"]
    )
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels["org.opencontainers.image.created"]
    )
    assert "org.opencontainers.image.source" in labels
    assert labels["org.opencontainers.image.base.name"]
    assert config["Cmd"] == ["flaskr-serve"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/var/lib/flaskr" in config["Volumes"]
    assert "FLASKR_INSTANCE_PATH=/var/lib/flaskr" in config["Env"]
    assert config["Healthcheck"]["Test"][:2] == ["CMD", "python3"]


def test_holds_no_tests_compilers_pip_or_caches(saved_image):
    paths = saved_image.files
    names = {Path(p).name for p in paths}
    programs = {Path(p).name for p in paths if Path(p).parent.name in ("bin", "sbin")}

    assert not set(APP_TESTS) & names, "the app's tests are in the image"
    assert not {"gcc", "cc", "c++", "g++", "clang", "make"} & programs
    assert not [n for n in programs if re.fullmatch(r"[\w-]+-gcc(-\d+)?", n)]
    assert not [p for p in paths if p.startswith(("root/.cache", "tmp/build"))]
    assert not [p for p in paths if "/site-packages/pip/" in p], "pip is installed"
    assert not [p for p in paths if re.match(r"var/lib/apt/lists/[^/]+_", p)]


def test_ca_bundle_stays_in_the_builder_stage(image, saved_image):
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)

    assert "ca.crt" not in history
    assert "PIP_CERT" not in history
    assert not saved_image.files_containing(CA_MARKER)


def test_publish_needs_a_registry():
    result = subprocess.run(
        ["make", "--no-print-directory", "publish", "REGISTRY="],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "REGISTRY=host[:port][/path]" in result.stderr
