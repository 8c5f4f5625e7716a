"""Benchmark the flaskr image: its size, the size of its own layers above the
base image, and the time from `docker run` to healthy (with a Redis container).

    python bench/image.py [IMAGE] [--runs N]      # `make bench-image`

Targets: app layers under 25 MB, healthy within 3 s. Exits 1 when one is missed.
Containers and the network are named berth-imgtest-bench-* and removed after.
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

APP_LAYERS_TARGET_MB = 25
HEALTHY_TARGET_S = 3.0
REDIS_IMAGE = os.environ.get("BERTH_BENCH_REDIS_IMAGE", "berth/redis:7-bookworm")
PREFIX = f"berth-imgtest-bench-{os.getpid()}"


def docker(*args, check=True):
    result = subprocess.run(
        ["docker", *args], check=False, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def inspect(image):
    return json.loads(docker("image", "inspect", image))[0]


def sizes(image):
    """(image size, size of the layers above the base image), in bytes."""
    info = inspect(image)
    base = info["Config"]["Labels"].get("org.opencontainers.image.base.name")
    if not base:
        raise SystemExit(f"{image} has no org.opencontainers.image.base.name label")
    return info["Size"], info["Size"] - inspect(base)["Size"]


def state(name):
    return json.loads(docker("inspect", "--format", "{{json .State}}", name))


def serving(url):
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except OSError:
        return False


def start_to_healthy(image, network, redis_url):
    """Seconds from `docker run` to answering /healthz, and to `healthy`."""
    instance = tempfile.mkdtemp(prefix="berth-bench-")
    with open(os.path.join(instance, "config.py"), "w") as config:
        config.write(f"SECRET_KEY = {secrets.token_hex(32)!r}\n")
        config.write(f"REDIS_URL = {redis_url!r}\n")
    for path in (instance, os.path.join(instance, "config.py")):
        os.chown(path, 10001, 10001)
    name = f"{PREFIX}-app"
    try:
        started = time.monotonic()
        docker(
            *("run", "--detach", "--name", name, "--network", network),
            *(
                "--publish",
                "127.0.0.1::8080",
                "--volume",
                f"{instance}:/var/lib/flaskr",
            ),
            image,
        )
        address = docker("port", name, "8080/tcp").splitlines()[0]
        url, answered = f"http://{address}/healthz", None
        while time.monotonic() - started < 60:
            now = time.monotonic()
            if answered is None and serving(url):
                answered = now - started
            current = state(name)
            if not current["Running"]:
                raise SystemExit(f"{image} exited:\n{docker('logs', name)}")
            if current["Health"]["Status"] == "healthy":
                return answered or now - started, now - started
            time.sleep(0.05)
        raise SystemExit(f"{image} was not healthy within 60 s")
    finally:
        docker("rm", "--force", "--volumes", name, check=False)
        shutil.rmtree(instance, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default="flaskr:latest")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    total, own = sizes(args.image)
    network, redis = f"{PREFIX}-net", f"{PREFIX}-redis"
    docker("network", "create", network)
    try:
        docker("run", "--detach", "--name", redis, "--network", network, REDIS_IMAGE)
        timings = [
            start_to_healthy(args.image, network, f"redis://{redis}:6379/0")
            for _ in range(args.runs)
        ]
    finally:
        docker("rm", "--force", "--volumes", redis, check=False)
        docker("network", "rm", network, check=False)

    answered = statistics.median(t[0] for t in timings)
    healthy = statistics.median(t[1] for t in timings)
    own_mb = own / 1e6
    ok = own_mb < APP_LAYERS_TARGET_MB and healthy <= HEALTHY_TARGET_S
    print(f"image            {args.image}")
    print(f"image size       {total / 1e6:.1f} MB")
    print(f"app layers       {own_mb:.1f} MB (target < {APP_LAYERS_TARGET_MB} MB)")
    print(f"start to serving {answered:.2f} s (median of {args.runs})")
    print(
        f"start to healthy {healthy:.2f} s (median of {args.runs}; "
        f"target <= {HEALTHY_TARGET_S:.0f} s; "
        f"runs: {', '.join(f'{t[1]:.2f}' for t in timings)})"
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
