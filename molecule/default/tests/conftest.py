"""What the default scenario's verifiers share: the test host by `docker
exec`, and the inventory's variables (molecule/shared/tests/docker_exec.py)."""

from docker_exec import host, inventory_host, settings  # noqa: F401
