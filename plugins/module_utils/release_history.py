"""The release history of one app on one host, <app>-history.json:

    live      the release the proxy serves: {id, version, image, image_id,
              config, containers, deployed, drained}, or None
    previous  the earlier releases a rollback can return to, newest first
    next      the history as it will be once the proxy serves a new release,
              written just before the switch, so that a deploy killed at any
              point is settled by the proxy's configuration on the next run

Every decision about it is a function here, of plain data: roles/app's tasks
read and write the file and call these through plugins/filter/release_history.py.
"""

import re

EMPTY = {"live": None, "previous": [], "next": None}

# The comment the proxy's Caddyfile starts its release's block with.
SERVED = re.compile(r"^# release ([0-9a-f]+)", re.MULTILINE)


def served_release(caddyfile):
    """The ID of the release a Caddyfile serves, or "" if it names none."""
    found = SERVED.search(caddyfile or "")
    return found.group(1) if found else ""


def settle(recorded, served):
    """The history once a switch an earlier run was killed in is settled: the
    release recorded as next is live if the proxy serves it, else forgotten."""
    history = {**EMPTY, **(recorded or {})}
    upcoming = history["next"]
    if not upcoming:
        return history
    if upcoming["live"]["id"] == served:
        return {**upcoming, "next": None}
    return {**history, "next": None}


def earlier_versions(history):
    return [release["version"] for release in history["previous"]]


def rollback_refusal(history, version):
    """Why a rollback to version (empty: the newest earlier release) cannot
    be, or "" when it can."""
    earlier = earlier_versions(history)
    if earlier and (not version or version in earlier):
        return ""
    if version:
        problem = f"No earlier release is tagged {version}"
    else:
        problem = "No earlier release is kept on this host"
    live = (history["live"] or {}).get("version", "none")
    return (
        f"{problem} (live: {live}; earlier, newest first: "
        f"{', '.join(earlier) or 'none'}). Deploy a version with `make deploy VERSION=<tag>`."
    )


def target(history, image, version, rollback=False, rollback_version=""):
    """{"run": the release to run, "below": the releases that stay below it}.

    A deploy runs image:version, and the live release becomes the newest
    earlier one. A rollback runs an earlier release (by default the newest),
    and the releases after it leave the history: two rollbacks go back two
    releases. A record from state format 1 names no image: its tag of image.
    """
    if not rollback:
        below = [history["live"]] if history["live"] else []
        return {
            "run": {"version": version, "image": f"{image}:{version}"},
            "below": below + history["previous"],
        }
    index = earlier_versions(history).index(rollback_version) if rollback_version else 0
    chosen = history["previous"][index]
    return {
        "run": {"image": f"{image}:{chosen['version']}", **chosen},
        "below": history["previous"][index + 1 :],
    }


def advance(history, release, below, keep, deployed):
    """The live and earlier releases once the proxy serves release (at time
    deployed), or None when release is the live one already.

    The release switched away from stays named as drained, so that the
    proxy's configuration keeps counting its requests. Earlier records of the
    release's image leave: a rollback to one would run the same release again.
    """
    live = history["live"] or {}
    if release["id"] == live.get("id", ""):
        return None
    same = {release["id"], f"format-1:{release['version']}"}
    same |= {
        old["id"]
        for old in below
        if "image_id" in old and old["image_id"] == release.get("image_id")
    }
    return {
        "live": {
            **release,
            "deployed": deployed,
            "drained": live.get("containers", []),
        },
        "previous": [old for old in below if old["id"] not in same][: int(keep) - 1],
    }


def kept(history):
    """The releases a history keeps: the live one and the earlier ones."""
    return ([history["live"]] if history["live"] else []) + history["previous"]


def images(releases):
    # Records migrated from state format 1 name no image.
    return [release["image"] for release in releases if "image" in release]


def image_names(history, image, version):
    """What a deploy may run, to look for on the host: image:version (the
    deploy's), then each kept or upcoming release's image ID and tag (a
    record from state format 1 names no image: its tag of image)."""
    history = {**EMPTY, **(history or {})}
    releases = kept(history) + kept({**EMPTY, **(history["next"] or {})})
    names = [f"{image}:{version}" if version else None]
    for release in releases:
        names += [
            release.get("image_id"),
            release.get("image") or f"{image}:{release['version']}",
        ]
    return [name for name in dict.fromkeys(names) if name]


def target_images(found, release):
    """The host's images of release (by image ID, then tag) among found, the
    images looked for by name: docker_image_info's list, first match first."""
    names = [release.get("image_id"), release["image"]]
    return [found[name] for name in names if name and found.get(name)]


def released_images(before, after):
    """The images of the releases that history after no longer keeps, unless
    a release it keeps runs the same tag."""
    still = set(images(kept(after)))
    return [
        image for image in dict.fromkeys(images(kept(before))) if image not in still
    ]


def keeps_image(history, release):
    """Whether a release the history keeps runs release's image (its tag or its ID)."""
    return any(
        old.get("image") == release["image"]
        or "image_id" in old
        and old["image_id"] == release.get("image_id")
        for old in kept(history)
    )


def retired_containers(found, release):
    """The names of the app's containers (docker_host_info's list) that are
    not release's: those of earlier releases."""
    names = [container["Names"][0].lstrip("/") for container in found]
    return [name for name in names if name not in release["containers"]]
