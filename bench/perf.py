#!/usr/bin/env python3
"""berth's performance report: capacity, deploy times and swaps under load.

    make bench                 # or: .venv/bin/python bench/perf.py --tag <built tag>
    make bench-smoke           # the same, each measurement cut to a second or so

With the app image built (make image) and the test-host images (molecule/
images/build.sh default), every load comes from one tool, hey (Debian's
package), after a warm-up as long as the measurement:

- capacity: a bare WSGI hello on waitress, the same hello as a one-route Flask
  app, flaskr's /hello and its index, each in the app's image limited to one
  CPU and reached directly, on this machine;
- on a test host (a container with systemd, an engine and sshd, reached over
  SSH as a server is; removed at the end): the index through berth's proxy
  with app_replicas 1 and 2, with each container's CPU; the time of a deploy
  with nothing to do, of a new version whose image is on the host and of a
  rollback, with no load, and of the new versions of berth's swap at 50
  requests a second and at 80 % of the proxy's capacity; and those swaps,
  beside a plain recreate of a container: requests failed, p50 and p99
  latency and the longest gap.

--berth DIR deploys with another checkout of berth (an earlier one, for a
before-and-after). Writes bench/results/report.md, report.json and swap.png
(the latency of every request across the swaps and the recreate, the switch
marked).
"""

import argparse
import csv
import io
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redeploy import ROOT, sh, wait_until_ready

RESULTS = ROOT / "bench" / "results"
NETWORK = "berth-bench"
REDIS = "berth-bench-redis"
BARE = "berth-bench-bare"
FLASKR = "berth-bench-flaskr"
PLAIN_FLASK = "berth-bench-flask"
HOST = "berth-bench-host"
HOST_IMAGE = "berth/molecule-engine:bookworm"
RECREATE = "berth-bench-recreate"
RECREATE_PORT = 8001
CLIENTS = 8
# A WSGI hello served by the waitress in the app's image, with flaskr's threads.
BARE_HELLO = (
    "import waitress\n"
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [b'Hello, World!']\n"
    "waitress.serve(app, host='0.0.0.0', port=8080, threads=4, ident='bare')\n"
)
# The same hello as a one-route Flask app: what Flask itself costs, the most
# that any Flask app's /hello can reach.
PLAIN_FLASK_HELLO = (
    "import flask, waitress\n"
    "app = flask.Flask('hello')\n"
    "app.add_url_rule('/hello', view_func=lambda: 'Hello, World!')\n"
    "waitress.serve(app, host='0.0.0.0', port=8080, threads=4, ident='flask')\n"
)


def quietly(*args):
    """Run a command whose failure does not matter (removing what may be gone)."""
    subprocess.run(args, check=False, capture_output=True)


def hey(url, seconds=None, requests=None, clients=CLIENTS, rate=None):
    """Run hey; return [(offset s, latency s, status)] for every response.

    hey's CSV leaves out requests that got no response: with requests= the
    number sent is known, so the missing ones are counted as failed."""
    args = ["hey", "-c", str(clients), "-o", "csv"]
    args += ["-z", f"{seconds}s"] if seconds else ["-n", str(requests)]
    if rate:
        args += ["-q", f"{rate / clients:g}"]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True)
    rows = csv.DictReader(io.StringIO(out.stdout))
    return [
        (float(r["offset"]), float(r["response-time"]), int(r["status-code"]))
        for r in rows
    ]


def figures(responses, seconds=None, sent=None):
    """Throughput, failures and latency percentiles of hey's responses."""
    latencies = sorted(latency for _, latency, _ in responses)
    ok = sum(1 for *_, status in responses if status == 200)
    offsets = sorted(offset for offset, *_ in responses)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    result = {
        "requests": sent or len(responses),
        "failed": (sent or len(responses)) - ok,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "longest_gap_ms": round(max(gaps, default=0) * 1000, 1),
    }
    if seconds:
        result["req_per_s"] = round(ok / seconds)
    return result


def percentile(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def capacity(url, seconds, stats=None, names=()):
    """Closed-loop throughput at url after a warm-up; with stats, the CPU of
    the containers names midway (100 % = one core)."""
    hey(url, seconds=seconds)
    cpu = {}
    if stats:
        sampler = threading.Timer(seconds / 3, lambda: cpu.update(stats(names)))
        sampler.start()
    used = cpu_seconds()
    result = figures(hey(url, seconds=seconds), seconds=seconds)
    # The load tool's own share of the cores (with docker stats, if run).
    cpu["hey"] = f"{(cpu_seconds() - used) / seconds:.0%}"
    if stats:
        sampler.join()
    result["cpu_percent"] = cpu
    return result


def cpu_seconds():
    """CPU time of the processes this one ran and waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def docker_cpu(names, docker=("docker",)):
    """Each container's CPU as docker stats reports it."""
    out = subprocess.run(
        [*docker, "stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}", *names],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(line.split() for line in out.splitlines())


def output(*args):
    return sh(*args, capture_output=True, text=True).stdout.strip()


def address(container):
    networks = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    return output("docker", "inspect", "--format", networks, container)


def direct_capacity(image, redis_image, seconds):
    """The bare hello, a plain Flask hello, flaskr's /hello and its index,
    each server on one CPU."""
    quietly("docker", "rm", "-f", REDIS, BARE, PLAIN_FLASK, FLASKR)
    quietly("docker", "network", "create", NETWORK)
    instance = Path(tempfile.mkdtemp(prefix="berth-bench-"))
    (instance / "config.py").write_text(
        f"SECRET_KEY = {os.urandom(16).hex()!r}\nREDIS_URL = 'redis://{REDIS}:6379/0'\n"
    )
    os.chown(instance, 10001, 10001)
    limits = ["--network", NETWORK, "--cpus", "1"]
    try:
        sh("docker", "run", "-d", "--name", REDIS, "--network", NETWORK,
           redis_image, stdout=subprocess.DEVNULL)  # fmt: skip
        for name, program in ((BARE, BARE_HELLO), (PLAIN_FLASK, PLAIN_FLASK_HELLO)):
            sh("docker", "run", "-d", "--name", name, *limits, "--entrypoint",
               "python3", image, "-c", program, stdout=subprocess.DEVNULL)  # fmt: skip
        sh("docker", "run", "-d", "--name", FLASKR, *limits,
           "--volume", f"{instance}:/var/lib/flaskr", image,
           stdout=subprocess.DEVNULL)  # fmt: skip
        bare, flask, flaskr = (
            f"http://{address(name)}:8080" for name in (BARE, PLAIN_FLASK, FLASKR)
        )
        wait_until_ready(bare + "/")
        wait_until_ready(flask + "/hello")
        wait_until_ready(flaskr + "/readyz")
        rows = {
            "bare hello": capacity(bare + "/", seconds),
            "plain Flask /hello": capacity(flask + "/hello", seconds),
            "flaskr /hello": capacity(flaskr + "/hello", seconds),
            "flaskr index": capacity(flaskr + "/", seconds),
        }
    finally:
        quietly("docker", "rm", "-f", REDIS, BARE, PLAIN_FLASK, FLASKR)
        quietly("rm", "-rf", str(instance))
    for row in rows.values():
        row["of_bare"] = round(row["req_per_s"] / rows["bare hello"]["req_per_s"], 2)
    return rows


def swap_under_load(url, action, rate, requests, mark):
    """Run action() while hey sends requests at rate to url, starting 2 s
    before it (requests must last beyond it); return the responses, their
    figures and the seconds from the load's start to mark()."""
    # hey sends requests // clients per client: a whole number each, so that
    # every request not answered 200 is a failure.
    requests = CLIENTS * math.ceil(requests / CLIENTS)
    results = {}
    started = time.time()
    load = threading.Thread(
        target=lambda: results.update(r=hey(url, requests=requests, rate=rate))
    )
    load.start()
    time.sleep(2)
    action()
    load.join()
    return {
        **figures(results["r"], sent=requests),
        "rate": rate,
        "switch_s": round(mark() - started, 2),
        "responses": results["r"],
    }


class TestHost:
    """A host that berth deploys to over SSH: a container of the Molecule
    test-host image (systemd, Debian's engine, sshd) on NETWORK, given a key,
    the images to run (no registry: docker load), and an inventory."""

    def __init__(self, images, settings, berth, extra):
        self.berth, self.extra = berth, extra
        self.dir = Path(tempfile.mkdtemp(prefix="berth-bench-"))
        quietly("docker", "rm", "-fv", HOST)
        quietly("docker", "network", "create", NETWORK)
        # As Molecule runs it (.config/molecule/config.yml).
        sh("docker", "run", "--detach", "--name", HOST, "--hostname", HOST,
           "--network", NETWORK, "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
           "--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined",
           "--cgroupns", "host", "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
           "--volume", "/var/lib/docker", "--tmpfs", "/run", "--tmpfs", "/run/lock",
           HOST_IMAGE, "/lib/systemd/systemd", stdout=subprocess.DEVNULL)  # fmt: skip
        key = self.dir / "key"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        self.run("install", "-d", "-m", "700", "/root/.ssh")
        sh("docker", "cp", f"{key}.pub", f"{HOST}:/root/.ssh/authorized_keys")
        self.address = address(HOST)
        deadline = time.monotonic() + 120
        while self.run("docker", "info", check=False).returncode != 0:
            if time.monotonic() > deadline:
                sys.exit(f"bench: the engine in {HOST} did not start")
            time.sleep(1)
        saved = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        sh("docker", "exec", "-i", HOST, "docker", "load", stdin=saved.stdout,
           stdout=subprocess.DEVNULL)  # fmt: skip
        saved.wait()
        self.inventory = self.dir / "inventory.yml"
        self.inventory.write_text(json.dumps({"app": {"hosts": {HOST: {
            "ansible_host": self.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args":
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "app_bind_address": "0.0.0.0",
            **settings,
        }}}}))  # fmt: skip
        self.url = f"http://{self.address}:8000/"

    def run(self, *args, check=True, **kwargs):
        return subprocess.run(
            ["docker", "exec", HOST, *args], check=check, capture_output=True,
            text=True, **kwargs,
        )  # fmt: skip

    def playbook(self, name, *args):
        """Run one of berth's playbooks against the host; return its seconds."""
        started = time.monotonic()
        run = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "ansible-playbook"), f"playbooks/{name}.yml",
             "-i", str(self.inventory),
             *args, *self.extra],
            cwd=self.berth, capture_output=True, text=True, check=False,
            env={**os.environ, "ANSIBLE_CONFIG": str(self.berth / "ansible.cfg")},
        )  # fmt: skip
        if run.returncode != 0:
            sys.exit(
                f"bench: playbooks/{name}.yml {' '.join(args)} failed:\n{run.stdout[-3000:]}"
            )
        return round(time.monotonic() - started, 1)

    def deploy(self, version, replicas=1):
        return self.playbook(
            "deploy", "-e", f"app_version={version}", "-e", f"app_replicas={replicas}"
        )

    def live_containers(self):
        history = self.run("cat", "/var/lib/berth/flaskr-history.json").stdout
        return json.loads(history)["live"]["containers"]

    def cpu(self, names):
        return docker_cpu(names, ["docker", "exec", HOST, "docker"])

    def caddyfile_written(self):
        return os.stat(
            f"/proc/{self.pid()}/root/var/lib/berth/proxy/Caddyfile"
        ).st_mtime

    def pid(self):
        return output("docker", "inspect", "--format", "{{.State.Pid}}", HOST)

    def recreate_under_load(self, image, first, second, rate, requests):
        """A plain recreate of one container on its own port, under the same load."""

        def run(tag):
            # On the proxy's network and Redis's, as a release is.
            self.run("docker", "create", "--name", RECREATE, "--network", "berth",
                     "--publish", f"{RECREATE_PORT}:8080",
                     "--volume", "/var/lib/berth/flaskr:/var/lib/flaskr", f"{image}:{tag}")  # fmt: skip
            self.run("docker", "network", "connect", "berth-redis", RECREATE)
            self.run("docker", "start", RECREATE)

        url = f"http://{self.address}:{RECREATE_PORT}/"
        self.run("docker", "rm", "-f", RECREATE, check=False)
        run(first)
        wait_until_ready(url + "readyz")
        switched = []

        def recreate():
            switched.append(time.time())
            self.run("docker", "rm", "--force", RECREATE)
            run(second)

        try:
            return swap_under_load(url, recreate, rate, requests, lambda: switched[0])
        finally:
            self.run("docker", "rm", "-f", RECREATE, check=False)

    def remove(self):
        quietly("docker", "rm", "-fv", HOST)
        quietly("rm", "-rf", str(self.dir))


def plot(swaps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(swaps), 1, figsize=(10, 3.2 * len(swaps)), sharex=True)
    for ax, (title, swap) in zip(axes, swaps.items(), strict=True):
        ok = [(o, lat * 1000) for o, lat, s in swap["responses"] if s == 200]
        bad = [(o, lat * 1000) for o, lat, s in swap["responses"] if s != 200]
        ax.scatter([o for o, _ in ok], [lat for _, lat in ok], s=4, label="200")
        if bad:
            ax.scatter([o for o, _ in bad], [lat for _, lat in bad], s=12, color="red",
                       label="other status")  # fmt: skip
        ax.axvline(swap["switch_s"], color="black", linestyle="--", label="switch")
        ax.set_yscale("log")
        ax.set_ylabel("latency (ms)")
        ax.set_title(
            f"{title}: {swap['requests']} requests at {swap['rate']}/s, "
            f"{swap['failed']} failed, longest gap {swap['longest_gap_ms']} ms"
        )
        ax.legend(loc="upper right")
    axes[-1].set_xlabel("seconds since the load started")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def markdown(report):
    lines = [
        f"# berth performance, {report['date']}",
        "",
        (
            f"berth {report['berth']}, image {report['image']}, {report['cores']} cores;"
            f" load from hey, {CLIENTS} clients, {report['seconds']} s per measurement"
            " after a warm-up as long. Direct rows: this machine, one CPU per server."
            " Proxy rows, deploys and swaps: a test host over SSH."
        ),
        "",
        "## Capacity",
        "",
        "| what | req/s | of bare hello | p50 ms | p99 ms | CPU |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in report["capacity"].items():
        cpu = ", ".join(f"{k} {v}" for k, v in row.get("cpu_percent", {}).items())
        lines.append(
            f"| {name} | {row['req_per_s']} | {row.get('of_bare', '')} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {cpu} |"
        )
    lines += [
        "",
        f"2 replicas / 1 replica through the proxy: **{report['replica_ratio']}x**",
        "",
        "## Deploy times over SSH",
        "",
        "| deploy | seconds |",
        "|---|---|",
        *(f"| {name} | {seconds} |" for name, seconds in report["deploy_s"].items()),
        "",
        "## Swap under load",
        "",
        "| what | rate | sent | failed | p50 ms | p99 ms | longest gap ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in report["swap"].items():
        lines.append(
            f"| {name} | {row['rate']}/s | {row['requests']} | {row['failed']} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['longest_gap_ms']} |"
        )
    lines += ["", "![latency across a swap and a recreate](swap.png)", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="flaskr")
    parser.add_argument("--tag", required=True, help="the built image's tag")
    parser.add_argument("--redis-image", default="berth/redis:7-bookworm")
    parser.add_argument("--proxy-image", default="berth/caddy:2-bookworm")
    parser.add_argument(
        "--berth", type=Path, default=ROOT, help="the berth to deploy with"
    )
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument(
        "--swap-seconds", type=int, default=20, help="of load after a swap starts"
    )
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()
    image = f"{args.image}:{args.tag}"
    RESULTS.mkdir(parents=True, exist_ok=True)

    # Four releases of the image: a release is its image's content, so each
    # after the first differs by a label.
    first, second, third, fourth = "bench-a", "bench-b", "bench-c", "bench-d"
    sh("docker", "tag", image, f"{args.image}:{first}")
    for tag in (second, third, fourth):
        sh("docker", "build", "--quiet", "--tag", f"{args.image}:{tag}", "-",
           input=f"FROM {image}\nLABEL org.berth.bench={tag}\n",
           text=True, stdout=subprocess.DEVNULL)  # fmt: skip

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "berth": output("git", "-C", str(args.berth), "rev-parse", "--short", "HEAD"),
        "image": image,
        "cores": os.cpu_count(),
        "seconds": args.seconds,
        "capacity": direct_capacity(image, args.redis_image, args.seconds),
        "deploy_s": {},
        "swap": {},
    }
    rows = report["capacity"]
    releases = [f"{args.image}:{tag}" for tag in (first, second, third, fourth)]
    host = TestHost(
        [*releases, args.redis_image, args.proxy_image],
        {"app_image": args.image, "redis_image": args.redis_image,
         "app_proxy_image": args.proxy_image},
        args.berth, args.extra,
    )  # fmt: skip
    try:
        host.deploy(first)
        for replicas in (1, 2):
            host.deploy(first, replicas)
            row = capacity(
                host.url,
                args.seconds,
                host.cpu,
                ["berth-proxy", "berth-redis", *host.live_containers()],
            )
            row["of_bare"] = round(
                row["req_per_s"] / rows["bare hello"]["req_per_s"], 2
            )
            rows[f"index via proxy, {replicas} replica(s)"] = row
        one, two = (
            rows[f"index via proxy, {n} replica(s)"]["req_per_s"] for n in (1, 2)
        )
        report["replica_ratio"] = round(two / one, 2)

        host.deploy(first)
        deploys = report["deploy_s"]
        deploys["nothing to do"] = host.deploy(first)
        # With no load, as the rows above; the rollback takes the fourth
        # release's image off the host.
        deploys["new version, image on the host"] = host.deploy(fourth)
        deploys["rollback"] = host.playbook("rollback")
        swaps = {}
        for version, rate in ((second, 50), (third, max(50, int(one * 0.8)))):
            took = {}
            # The load lasts as long as the deploy with no load, twice, and then some.
            seconds = int(
                2 * deploys["new version, image on the host"] + args.swap_seconds
            )
            swaps[f"berth swap at {rate}/s"] = swap_under_load(
                host.url,
                lambda v=version, t=took: t.update(s=host.deploy(v)),
                rate,
                rate * seconds,
                host.caddyfile_written,
            )
            deploys[f"new version, during the swap at {rate}/s"] = took["s"]
        # From the first release to the live one, which the history keeps.
        swaps["plain recreate at 50/s"] = host.recreate_under_load(
            args.image, first, third, 50, 50 * seconds
        )
    finally:
        host.remove()
    plot(swaps, RESULTS / "swap.png")
    report["swap"] = {
        name: {k: v for k, v in swap.items() if k != "responses"}
        for name, swap in swaps.items()
    }
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "report.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
