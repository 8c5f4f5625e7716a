#!/usr/bin/python
"""Switch the proxy to a release and record it as live, in one round trip."""

DOCUMENTATION = r"""
module: release_switch
short_description: Reload the proxy's configuration, wait until the release answers through it, record it as live
description:
  - The proxy (Caddy in a container) runs the configuration the deploy has
    just written. On each reload Caddy listens on a new C(SO_REUSEPORT)
    socket and closes the old one, and the kernel would reset the
    connections still queued on the old one. First, C(tcp_migrate_req)
    (Linux 5.14 and later) is set in the proxy's network namespace, so the
    kernel hands them to the new socket instead.
  - Then Caddy reloads at its admin socket O(admin_socket) if it listens
    there, else at O(admin_address) (a proxy an earlier berth started).
    Caddy finishes the requests in flight. A proxy that has just started may
    not answer yet, so the reload is tried for a few seconds.
  - With O(ready_url), waits until it answers 200 through the proxy, then
    with O(history) writes O(record) there, whole, as the release history.
  - A failure says at which O(stage) it happened - C(reload) (the proxy
    still runs the configuration it ran) or C(ready) - and writes no history.
options:
  proxy:
    description: The proxy's container.
    type: str
    required: true
  admin_socket:
    description: The path of Caddy's admin socket in the proxy's container.
    type: str
    required: true
  admin_address:
    description: The admin address to reload at when the proxy has no socket.
    type: str
    required: true
  force:
    description: Reload also a configuration Caddy already runs (it then reads the files it names again).
    type: bool
    default: false
  ready_url:
    description: A URL of the release through the proxy, to wait for a 200 at.
    type: str
  ready_timeout:
    description: Seconds to wait for O(ready_url).
    type: int
    default: 15
extends_documentation_fragment:
  - berth.deploy.release_history
  - community.docker.docker.api_documentation
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Switch the proxy to the release and record it as live
  berth.deploy.release_switch:
    proxy: berth-proxy
    admin_socket: /config/admin.sock
    admin_address: localhost:2019
    ready_url: http://127.0.0.1:8000/readyz
    history: /var/lib/berth/flaskr-history.json
    record: "{{ history }}"
"""

RETURN = r"""
migrated:
  description: Whether this run set tcp_migrate_req in the proxy's network namespace.
  returned: always
  type: bool
recorded:
  description: Whether the history was written.
  returned: always
  type: bool
stage:
  description: Where it failed, C(reload) or C(ready).
  returned: failure
  type: str
"""

import time

from ansible_collections.berth.deploy.plugins.module_utils.history_file import (
    HISTORY_OPTIONS,
    write_history,
)
from ansible_collections.berth.deploy.plugins.module_utils.readiness import answers
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
)

SETTING = "/proc/sys/net/ipv4/tcp_migrate_req"
# In the proxy's network namespace: 1 unless the kernel has no such setting.
MIGRATE = (
    f'test ! -e {SETTING} || test "$(cat {SETTING})" = 1 '
    f"|| {{ echo 1 > {SETTING} && echo migration set; }}"
)
# In the proxy's container: at its admin socket if it listens there.
RELOAD = (
    'if test -S "$1"; then address=unix/$1; else address=$2; fi; shift 2; '
    'exec caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --address "$address" "$@"'
)


def until(seconds, attempt, succeeded):
    """attempt() until succeeded(its result), a second apart, for at most
    seconds: its last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = attempt()
        if succeeded(result) or time.monotonic() >= deadline:
            return result
        time.sleep(1)


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "proxy": {"type": "str", "required": True},
            "admin_socket": {"type": "str", "required": True},
            "admin_address": {"type": "str", "required": True},
            "force": {"type": "bool", "default": False},
            "ready_url": {"type": "str"},
            "ready_timeout": {"type": "int", "default": 15},
            **HISTORY_OPTIONS,
        },
        required_together=[["history", "record"]],
    )
    module, params = client.module, client.module.params
    proxy = client.get_json("/containers/{0}/json", params["proxy"])
    rc, out, err = module.run_command(
        ["nsenter", f"--target={proxy['State']['Pid']}", "--net", "sh", "-c", MIGRATE]
    )
    if rc != 0:
        module.fail_json(
            msg=f"Cannot set tcp_migrate_req: {err or out}", stage="reload"
        )
    migrated = "migration set" in out

    reload = ["docker", "exec", params["proxy"], "sh", "-c", RELOAD, "reload",
              params["admin_socket"], params["admin_address"]]  # fmt: skip
    if params["force"]:
        reload.append("--force")
    # A proxy that has just started may not answer on its admin endpoint yet.
    rc, out, err = until(
        5, lambda: module.run_command(reload), lambda done: done[0] == 0
    )
    if rc != 0:
        module.fail_json(msg=err or out, stage="reload", rc=rc, stderr=err)

    url, seconds = params["ready_url"], params["ready_timeout"]
    if url:
        status = until(seconds, lambda: answers(url, timeout=1), lambda got: got == 200)
        if status != 200:
            module.fail_json(
                msg=f"{url} did not answer 200 through the proxy within {seconds} s (last: {status})",
                stage="ready",
            )

    if params["history"]:
        write_history(module, params["history"], params["record"])
    module.exit_json(changed=migrated or bool(params["history"]), migrated=migrated,
                     recorded=bool(params["history"]))  # fmt: skip


if __name__ == "__main__":
    main()
