#!/usr/bin/env python3
"""berth's performance report: capacity, deploy times and a swap under load.

    make bench                 # or: .venv/bin/python bench/perf.py --tag <built tag>
    make bench-smoke           # the same, each measurement cut to a second

On this machine (inventory/, loopback only), with the app image built (make
image), every load comes from one tool, hey (Debian's package), after a
warm-up of the same length:

- capacity: a bare WSGI hello on waitress, flaskr's /hello and its index, each
  in the app's image limited to one CPU and reached directly; then the index
  through berth's proxy with app_replicas 1 and 2, with each process's CPU;
- deploy times over the inventory's connection: a deploy with nothing to do,
  a new version whose image is on the host, and make rollback;
- a swap under load: berth's deploy of a new version at 50 requests a second
  and at 80 % of the proxy's capacity, and beside it a plain recreate of a
  container: requests failed, p50 and p99 latency and the longest gap.

Writes bench/results/report.md, report.json and swap.png (the latency of every
request across the swap and the recreate, the switch marked).
"""

import argparse
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redeploy import ROOT, deploy, sh, wait_until_ready

RESULTS = ROOT / "bench" / "results"
NETWORK = "berth-bench"
REDIS = "berth-bench-redis"
BARE = "berth-bench-bare"
FLASKR = "berth-bench-flaskr"
RECREATE = "berth-bench-recreate"
PUBLIC = "http://127.0.0.1:8000"
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


def capacity(url, seconds, stats_of=()):
    """Closed-loop throughput at url after a warm-up; with stats_of, the CPU of
    those containers midway, as docker stats reports it (100 % = one core)."""
    hey(url, seconds=seconds)
    cpu = {}
    if stats_of:
        sampler = threading.Timer(seconds / 3, lambda: cpu.update(docker_cpu(stats_of)))
        sampler.start()
    result = figures(hey(url, seconds=seconds), seconds=seconds)
    if stats_of:
        sampler.join()
        result["cpu_percent"] = cpu
    return result


def docker_cpu(names):
    out = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}", *names],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {line.split()[0]: line.split()[1] for line in out.splitlines()}


def output(*args):
    return sh(*args, capture_output=True, text=True).stdout.strip()


def address(container):
    networks = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    return output("docker", "inspect", "--format", networks, container)


def direct_capacity(image, redis_image, seconds):
    """The bare hello, /hello and the index, each server on one CPU."""
    quietly("docker", "rm", "-f", REDIS, BARE, FLASKR)
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
        sh("docker", "run", "-d", "--name", BARE, *limits, "--entrypoint", "python3",
           image, "-c", BARE_HELLO, stdout=subprocess.DEVNULL)  # fmt: skip
        sh("docker", "run", "-d", "--name", FLASKR, *limits,
           "--volume", f"{instance}:/var/lib/flaskr", image,
           stdout=subprocess.DEVNULL)  # fmt: skip
        bare, flaskr = (f"http://{address(name)}:8080" for name in (BARE, FLASKR))
        wait_until_ready(bare + "/")
        wait_until_ready(flaskr + "/readyz")
        rows = {
            "bare hello": capacity(bare + "/", seconds),
            "flaskr /hello": capacity(flaskr + "/hello", seconds),
            "flaskr index": capacity(flaskr + "/", seconds),
        }
    finally:
        quietly("docker", "rm", "-f", REDIS, BARE, FLASKR)
        quietly("rm", "-rf", str(instance))
    for row in rows.values():
        row["of_bare"] = round(row["req_per_s"] / rows["bare hello"]["req_per_s"], 2)
    return rows


def live_containers():
    history = json.loads(Path("/var/lib/berth/flaskr-history.json").read_text())
    return history["live"]["containers"]


def timed(action):
    started = time.monotonic()
    action()
    return round(time.monotonic() - started, 1)


def swap_under_load(url, action, rate, requests, mark):
    """Run action() while hey sends requests at rate, starting 2 s before it
    (requests must last beyond it); return the responses, their figures and
    the seconds from the load's start to mark()."""
    results = {}
    started = time.time()
    load = threading.Thread(
        target=lambda: results.update(r=hey(url, requests=requests, rate=rate))
    )
    load.start()
    time.sleep(2)
    action()
    load.join()
    responses = results["r"]
    return {
        **figures(responses, sent=requests),
        "rate": rate,
        "switch_s": round(mark() - started, 2),
        "responses": responses,
    }


def recreate_under_load(image, first, second, rate, requests):
    """A plain recreate of one container on its own port, under the same load."""
    instance = "/var/lib/berth/flaskr"

    def run(tag):
        # On the proxy's network and Redis's, as a release is.
        sh("docker", "create", "--name", RECREATE, "--network", "berth",
           "--publish", f"127.0.0.1:{RECREATE_PORT}:8080",
           "--volume", f"{instance}:/var/lib/flaskr", f"{image}:{tag}",
           stdout=subprocess.DEVNULL)  # fmt: skip
        sh("docker", "network", "connect", "berth-redis", RECREATE)
        sh("docker", "start", RECREATE, stdout=subprocess.DEVNULL)

    quietly("docker", "rm", "-f", RECREATE)
    run(first)
    wait_until_ready(f"http://127.0.0.1:{RECREATE_PORT}/readyz")
    switched = []

    def recreate():
        switched.append(time.time())
        sh("docker", "rm", "--force", RECREATE, stdout=subprocess.DEVNULL)
        run(second)

    try:
        return swap_under_load(
            f"http://127.0.0.1:{RECREATE_PORT}/",
            recreate,
            rate,
            requests,
            lambda: switched[0],
        )
    finally:
        quietly("docker", "rm", "-f", RECREATE)


def caddyfile_written():
    return Path("/var/lib/berth/proxy/Caddyfile").stat().st_mtime


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
            f"Commit {report['commit']}, {report['cores']} cores; load from hey, "
            f"{CLIENTS} clients, {report['seconds']} s per measurement after a warm-up"
            " as long."
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
        "## Deploy times (inventory/, this machine)",
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
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument(
        "--swap-seconds", type=int, default=20, help="of load after a swap starts"
    )
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args()
    image = f"{args.image}:{args.tag}"
    RESULTS.mkdir(parents=True, exist_ok=True)

    # Three releases of the image: a release is its image's content, so each
    # after the first differs by a label.
    first, second, third = "bench-a", "bench-b", "bench-c"
    sh("docker", "tag", image, f"{args.image}:{first}")
    for tag in (second, third):
        sh("docker", "build", "--quiet", "--tag", f"{args.image}:{tag}", "-",
           input=f"FROM {image}\nLABEL org.berth.bench={tag}\n",
           text=True, stdout=subprocess.DEVNULL)  # fmt: skip

    def ansible(version, replicas=1):
        deploy(version, [*args.extra, "-e", f"app_replicas={replicas}"])

    ansible(first)
    redis_image = output(
        "docker", "inspect", "--format", "{{.Config.Image}}", "berth-redis"
    )
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": output("git", "rev-parse", "--short", "HEAD"),
        "cores": os.cpu_count(),
        "seconds": args.seconds,
        "capacity": direct_capacity(image, redis_image, args.seconds),
        "deploy_s": {},
        "swap": {},
    }
    rows = report["capacity"]
    for replicas in (1, 2):
        ansible(first, replicas)
        row = capacity(
            PUBLIC + "/", args.seconds,
            stats_of=["berth-proxy", "berth-redis", *live_containers()],
        )  # fmt: skip
        row["of_bare"] = round(row["req_per_s"] / rows["bare hello"]["req_per_s"], 2)
        rows[f"index via proxy, {replicas} replica(s)"] = row
    one, two = (rows[f"index via proxy, {n} replica(s)"]["req_per_s"] for n in (1, 2))
    report["replica_ratio"] = round(two / one, 2)

    ansible(first)
    report["deploy_s"]["nothing to do"] = timed(lambda: ansible(first))
    swaps = {}
    for version, rate in ((second, 50), (third, max(50, int(one * 0.8)))):
        took = {}
        swaps[f"berth swap at {rate}/s"] = swap_under_load(
            PUBLIC + "/",
            lambda v=version, t=took: t.update(s=timed(lambda: ansible(v))),
            rate,
            # A deploy lasts about as long as one with nothing to do.
            rate * int(2 * report["deploy_s"]["nothing to do"] + args.swap_seconds),
            caddyfile_written,
        )
        if version == second:
            report["deploy_s"]["new version, image on the host"] = took["s"]
            report["deploy_s"]["make rollback"] = timed(
                lambda: sh(str(ROOT / ".venv/bin/ansible-playbook"), "playbooks/rollback.yml",
                           "-i", "inventory", *args.extra, stdout=subprocess.DEVNULL)
            )  # fmt: skip
    swaps["plain recreate at 50/s"] = recreate_under_load(
        args.image, first, second, 50, 50 * args.swap_seconds
    )
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
