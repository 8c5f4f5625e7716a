#!/usr/bin/env python3
"""Failed requests and lost posts in a redeploy: berth's swap against a recreate.

    make bench-redeploy        # or: .venv/bin/python bench/redeploy.py [--rate 50]

On this machine (inventory/, loopback only), with the app image already built
(make image): makes two releases of it (the second with one label more, so
that its content differs, as a new version's would), deploys the first with
playbooks/deploy.yml, then, under a steady load at the public port, deploys the
second. As the baseline, a plain container runs the first version on its own
loopback port and is recreated with the second under the same load. The load
is bench/load.py's reads and bench/writes.py's new posts. Prints requests sent,
failed and the longest latency, and posts written, failed and lost, for both,
side by side.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = [sys.executable, str(ROOT / "bench" / "load.py")]
WRITES = [sys.executable, str(ROOT / "bench" / "writes.py")]
BASELINE = "berth-bench-recreate"
Rates = collections.namedtuple("Rates", "requests posts")


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, cwd=ROOT, **kwargs)


def deploy(version, extra):
    sh(
        str(ROOT / ".venv" / "bin" / "ansible-playbook"),
        "playbooks/deploy.yml",
        "-i",
        "inventory",
        "-e",
        f"app_version={version}",
        *extra,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )


def under_load(base_url, rates, action):
    """Run action() under load.py's reads and writes.py's posts at base_url.

    Return their figures: the reads', with the writes' under "posts".
    """
    scripts = {
        "reads": [*LOAD, base_url + "/", "--rate", str(rates.requests)],
        "posts": [*WRITES, base_url, "--rate", str(rates.posts)],
    }
    running = {
        name: subprocess.Popen(
            [*command, "--duration", "300"], stdout=subprocess.PIPE, text=True
        )
        for name, command in scripts.items()
    }
    try:
        time.sleep(2)  # a steady state before the change
        action()
        time.sleep(2)  # and after it
    finally:
        for process in running.values():
            process.terminate()
    figures = {
        name: json.loads(process.communicate(timeout=60)[0])
        for name, process in running.items()
    }
    return {**figures["reads"], "posts": figures["posts"]}


def run_baseline(image, first, second, port, rates):
    """A plain recreate: remove the container, run the new version in its place."""
    instance = "/var/lib/berth/flaskr"

    def run(version):
        # On the proxy's network and Redis's, as a release is.
        sh(
            "docker", "create", "--name", BASELINE, "--network", "berth",
            "--publish", f"127.0.0.1:{port}:8080",
            "--volume", f"{instance}:/var/lib/flaskr",
            f"{image}:{version}",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        sh("docker", "network", "connect", "berth-redis", BASELINE)
        sh("docker", "start", BASELINE, stdout=subprocess.DEVNULL)

    subprocess.run(["docker", "rm", "-f", BASELINE], capture_output=True, check=False)
    run(first)
    wait_until_ready(f"http://127.0.0.1:{port}/readyz")
    try:

        def recreate():
            sh("docker", "rm", "--force", BASELINE, stdout=subprocess.DEVNULL)
            run(second)

        return under_load(f"http://127.0.0.1:{port}", rates, recreate)
    finally:
        sh("docker", "rm", "--force", BASELINE, stdout=subprocess.DEVNULL)


def wait_until_ready(url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="flaskr")
    parser.add_argument("--from-tag", default="latest", help="image tag to benchmark")
    parser.add_argument("--rate", type=int, default=50, help="requests a second")
    parser.add_argument("--post-rate", type=float, default=5, help="new posts a second")
    parser.add_argument("--port", type=int, default=8000, help="berth's public port")
    parser.add_argument("--baseline-port", type=int, default=8001)
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()

    first, second = "bench-a", "bench-b"
    built = f"{args.image}:{args.from_tag}"
    sh("docker", "tag", built, f"{args.image}:{first}")
    # berth names a release by its image's content: the same image under
    # another tag would be no new release to swap to.
    sh(
        "docker", "build", "--quiet", "--tag", f"{args.image}:{second}", "-",
        input=f"FROM {built}\nLABEL org.berth.bench={second}\n",
        text=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip

    deploy(first, args.extra)
    rates = Rates(requests=args.rate, posts=args.post_rate)
    swap = under_load(
        f"http://127.0.0.1:{args.port}", rates, lambda: deploy(second, args.extra)
    )
    recreate = run_baseline(args.image, first, second, args.baseline_port, rates)

    print(
        f"Redeploy under {rates.requests} requests/s and {rates.posts:g} new posts/s"
        " at the public port"
    )
    print(f"{'':26}{'berth swap':>14}{'plain recreate':>16}")
    rows = (
        ("requests sent", lambda f: f["sent"]),
        ("requests failed", lambda f: f["failed"]),
        ("longest latency (ms)", lambda f: f["max_latency_ms"]),
        ("posts written", lambda f: f["posts"]["created"]),
        ("posts failed", lambda f: f["posts"]["failed"]),
        ("posts lost", lambda f: len(f["posts"]["missing"])),
    )
    for label, figure in rows:
        print(f"{label:26}{figure(swap):>14}{figure(recreate):>16}")
    for name, figures in (("berth swap", swap), ("plain recreate", recreate)):
        errors = {
            **figures["errors"],
            **{f"post {error}": n for error, n in figures["posts"]["errors"].items()},
        }
        print(f"errors, {name}: {json.dumps(errors)}")


if __name__ == "__main__":
    main()
