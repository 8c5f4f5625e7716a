"""Whether a release's container is ready, from what Docker reports of it:
the decision of the module berth.deploy.release_ready, in pure Python so
that tests/plugins proves it without Docker; and how a release is asked
(release_ready, and release_switch through the proxy)."""

import urllib.error
import urllib.request

WAITING, ASK, FAILED = "waiting", "ask", "failed"


def container_state(container):
    """What to do with a container, from `docker inspect`: ASK its ready
    path (it runs, and is healthy if its image has a HEALTHCHECK), keep
    WAITING (it starts, Docker restarts it, or its HEALTHCHECK has not passed
    yet: an unhealthy container may pass later), or give up: FAILED (it
    stopped, and Docker does not restart it)."""
    state = (container or {}).get("State") or {}
    if not state.get("Running"):
        starting = state.get("Restarting") or state.get("Status") == "created"
        return WAITING if starting else FAILED
    health = (state.get("Health") or {}).get("Status", "healthy")
    return ASK if health == "healthy" else WAITING


def address(container, network):
    """The container's IP address on the network, or None."""
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    return (networks.get(network) or {}).get("IPAddress") or None


def answers(url, timeout=2):
    """The status url answers with, or what kept it from answering."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return str(getattr(error, "reason", error))
