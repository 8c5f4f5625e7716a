"""Bench scripts run inside a test host while a deploy runs from this machine.

The scenarios' verifiers import it (the verifier's PYTHONPATH has this
directory): bench/load.py and bench/writes.py run on the test host, where the
proxy's port is, and print what they saw when stopped.
"""

import json
import time

from docker_exec import copy_to

BENCH = "/opt/berth-bench"  # where bench/ is copied on the test host


def copy_bench(host, root):
    """Copy bench/load.py, writes.py (which imports it) and abuse.py to the
    test host."""
    for script in ("load.py", "writes.py", "abuse.py"):
        copy_to(host, f"{root}/bench/{script}", BENCH)


# Run on a test host: GET a URL (with an optional Cookie header), print the
# status and the body as JSON. The host has python3 but no curl.
HTTP_GET = """
import json, sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    request.add_header("Cookie", sys.argv[2])
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        status, body = response.status, response.read()
except urllib.error.HTTPError as error:
    status, body = error.code, error.read()
print(json.dumps({"status": status, "body": body.decode()}))
"""


def page(host, url, cookie=""):
    """GET url on a test host: (status, body)."""
    answer = json.loads(host.check_output("python3 -c %s %s %s", HTTP_GET, url, cookie))
    return answer["status"], answer["body"]


def inspect(host, name):
    """`docker inspect` of one container on the test host."""
    return json.loads(host.check_output("docker inspect %s", name))[0]


def stop_and_read(host, name):
    """Stop a bench script started with its pid in /tmp/<name>.pid and return
    the JSON it printed on stopping into /tmp/<name>.json."""
    host.run("kill -TERM $(cat /tmp/%s.pid)", name)
    out = f"/tmp/{name}.json"
    for _ in range(60):
        if host.file(out).content_string.strip():
            break
        time.sleep(0.5)
    printed = host.file(out).content_string
    assert printed.startswith("{"), f"{name}: {printed}"
    return json.loads(printed)


class OnTestHost:
    """A bench script running inside the test host while the block runs.

    Afterwards .figures holds the JSON it printed once stopped.
    """

    def __init__(self, host, name, command):
        self.host, self.name, self.command = host, name, command

    def __enter__(self):
        self.host.check_output(
            f"setsid nohup python3 {self.command} > /tmp/%s.json 2>&1 < /dev/null"
            " & echo $! > /tmp/%s.pid",
            self.name,
            self.name,
        )
        time.sleep(2)  # a steady state before the change
        return self

    def __exit__(self, *exc):
        time.sleep(2)  # and after it
        self.figures = stop_and_read(self.host, self.name)
        if self.figures.get("failed"):
            # Shown with the failing test: what the proxy and the engine saw.
            print(self.host.run(DIAGNOSE).stdout)


# The proxy's warnings and errors, and the engine's (its userland proxy
# forwards the published port on loopback), of the last five minutes.
DIAGNOSE = (
    "for proxy in $(docker ps --quiet --filter label=berth.proxy); do"
    ' docker logs --since 5m $proxy 2>&1 | grep -v \'"level":"info"\' | tail -n 30; done;'
    " journalctl --unit docker --since -5min --no-pager 2>&1 | grep -iv 'level=info' | tail -n 30"
)


def load(host, url, name, rate=50, cafile=None):
    """bench/load.py: `rate` requests a second at url (https: trusting the CA
    in cafile, a path on the test host)."""
    command = f"{BENCH}/load.py {url} --rate {rate} --duration 300"
    if cafile:
        command += f" --cafile {cafile}"
    return OnTestHost(host, f"load-{name}", command)
