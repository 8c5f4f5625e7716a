"""When a release's container is ready, from what Docker reports of it
(plugins/module_utils/readiness.py, the decision of berth.deploy.release_ready)."""

import pytest
from ansible_collections.berth.deploy.plugins.module_utils.readiness import (
    ASK,
    FAILED,
    WAITING,
    address,
    container_state,
)


def inspected(status, running=None, restarting=False, health=None):
    state = {"Status": status, "Running": status == "running" if running is None else running,
             "Restarting": restarting}  # fmt: skip
    if health:
        state["Health"] = {"Status": health}
    return {"State": state}


@pytest.mark.parametrize(
    ("container", "then"),
    [
        # No HEALTHCHECK: running is enough to ask its ready path.
        (inspected("running"), ASK),
        (inspected("running", health="healthy"), ASK),
        (inspected("running", health="starting"), WAITING),
        # An unhealthy container may pass its next checks: the time limit decides.
        (inspected("running", health="unhealthy"), WAITING),
        (inspected("created"), WAITING),
        (inspected("restarting", running=False, restarting=True), WAITING),
        (inspected("exited"), FAILED),
        (inspected("dead"), FAILED),
        # Gone: removed by something else, or never created.
        ({}, FAILED),
        (None, FAILED),
    ],
)
def test_what_to_do_with_a_container(container, then):
    assert container_state(container) == then


def test_its_address_on_the_network_asked():
    container = {"NetworkSettings": {"Networks": {"berth": {"IPAddress": "172.18.0.4"},
                                                  "berth-redis": {"IPAddress": "172.19.0.3"}}}}  # fmt: skip
    assert address(container, "berth") == "172.18.0.4"
    assert address(container, "other") is None
    assert address({}, "berth") is None
