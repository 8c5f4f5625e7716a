#!/usr/bin/env python3
"""Failed requests during a redeploy: berth's swap against a plain recreate.

    make bench-redeploy        # or: .venv/bin/python bench/redeploy.py [--rate 50]

On this machine (inventory/, loopback only), with the app image already built
(make image): tags it as two versions, deploys the first with
playbooks/deploy.yml, then, under a steady load at the public port, deploys the
second. As the baseline, a plain container runs the first version on its own
loopback port and is recreated with the second under the same load. Prints
requests sent, failed and the longest latency for both, side by side.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = [sys.executable, str(ROOT / "bench" / "load.py")]
BASELINE = "berth-bench-recreate"


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


def under_load(url, rate, action):
    """Run action() while load.py drives url; return load.py's figures."""
    load = subprocess.Popen(
        [*LOAD, url, "--rate", str(rate), "--duration", "300"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # a steady state before the change
        action()
        time.sleep(2)  # and after it
    finally:
        load.terminate()
        output, _ = load.communicate(timeout=60)
    return json.loads(output)


def run_baseline(image, first, second, port, rate):
    """A plain recreate: remove the container, run the new version in its place."""
    instance = "/var/lib/berth/flaskr"

    def run(version):
        sh(
            "docker", "run", "--detach", "--name", BASELINE, "--network", "berth",
            "--publish", f"127.0.0.1:{port}:8080",
            "--volume", f"{instance}:/var/lib/flaskr",
            f"{image}:{version}",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    subprocess.run(["docker", "rm", "-f", BASELINE], capture_output=True, check=False)
    run(first)
    wait_until_ready(f"http://127.0.0.1:{port}/readyz")
    try:

        def recreate():
            sh("docker", "rm", "--force", BASELINE, stdout=subprocess.DEVNULL)
            run(second)

        return under_load(f"http://127.0.0.1:{port}/", rate, recreate)
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
    parser.add_argument("--port", type=int, default=8000, help="berth's public port")
    parser.add_argument("--baseline-port", type=int, default=8001)
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()

    first, second = "bench-a", "bench-b"
    for tag in (first, second):
        sh("docker", "tag", f"{args.image}:{args.from_tag}", f"{args.image}:{tag}")

    deploy(first, args.extra)
    swap = under_load(
        f"http://127.0.0.1:{args.port}/",
        args.rate,
        lambda: deploy(second, args.extra),
    )
    recreate = run_baseline(args.image, first, second, args.baseline_port, args.rate)

    print(f"Redeploy under {args.rate} requests/s at the public port")
    print(f"{'':26}{'berth swap':>14}{'plain recreate':>16}")
    for key, label in (
        ("sent", "requests sent"),
        ("failed", "requests failed"),
        ("max_latency_ms", "longest latency (ms)"),
    ):
        print(f"{label:26}{swap[key]:>14}{recreate[key]:>16}")
    for name, figures in (("berth swap", swap), ("plain recreate", recreate)):
        print(f"errors, {name}: {json.dumps(figures['errors'])}")


if __name__ == "__main__":
    main()
