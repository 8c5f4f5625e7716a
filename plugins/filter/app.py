"""Filters of roles/app's tasks: what the proxy's Caddyfile and container
say, which containers the app has, and why a release failed. Each reads
something Docker or Caddy wrote, which in Jinja took a chain of filters."""

import re


def caddy_admin_address(caddyfile, default):
    """The address of the admin API that a Caddyfile sets (`admin ADDRESS`
    in its global options), else default: a proxy an earlier berth started
    listens where its Caddyfile said until its next reload."""
    found = re.search(r"^\s*admin (\S+)", caddyfile, re.MULTILINE)
    return found.group(1) if found else default


def container_names(containers):
    """The names of the containers docker_host_info lists: Docker lists each
    container under its first name, with a leading slash the other modules
    do not take."""
    return [container["Names"][0].removeprefix("/") for container in containers]


def failure_reason(result):
    """Why a release did not become ready, from the failed task's result (the
    failed item of a loop, or the result itself): what Docker reports of
    the container when the task got its state, else the last line of its
    error output, else its message."""
    items = result.get("results", [result])
    failed = next((item for item in items if item.get("failed")), {})
    state = (failed.get("container") or {}).get("State")
    if state:
        health = (state.get("Health") or {}).get("Status", "none")
        return f"Docker reports it {state['Status']}, health {health}, exit code {state['ExitCode']}"
    lines = failed.get("stderr_lines") or []
    if lines and lines[-1]:
        return lines[-1]
    return failed.get("msg", "unknown error")


def repository(reference):
    """The repository of an image reference: without its tag or digest, and
    without Docker Hub's implied docker.io/ and library/."""
    name = re.sub(r"@.*$", "", reference)
    name = re.sub(r":[^:/]*$", "", name)
    return re.sub(r"^(docker\.io/)?(library/)?", "", name)


def built_here(images, reference):
    """Whether the host's image for reference (the first docker_image_info
    found) was built on the host: an image pulled from a registry carries its
    digest in that repository, one built here has none there, and a deploy
    takes it as it is."""
    if not images:
        return False
    pulled_from = {repository(digest) for digest in images[0].get("RepoDigests") or []}
    return repository(reference) not in pulled_from


def release_image_id(pulled, images, reference):
    """The ID of the image a release runs: the one just pulled, else the one
    the host has. --check pulls nothing: a reference the host has no image of
    stands for it, a release the host has not seen."""
    pulled_id = ((pulled or {}).get("image") or {}).get("Id")
    if pulled_id:
        return pulled_id
    return images[0]["Id"] if images else reference


class FilterModule:
    def filters(self):
        return {
            "caddy_admin_address": caddy_admin_address,
            "container_names": container_names,
            "failure_reason": failure_reason,
            "built_here": built_here,
            "release_image_id": release_image_id,
        }
