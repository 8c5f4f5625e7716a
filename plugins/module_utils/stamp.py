"""The stamp of the last deploy: for each part of a deploy, the digest of its
inputs beside the digest of what it left on the host.

The module berth.deploy.host_stamp runs this on the host, so that no secret
leaves it. What a part left there is digested from: its files' content, mode
and owner; its containers' (named or labelled so) image, state and
configuration; its networks' members; its services' states; and the image
its reference names now, asked of its registry first if it came from one, as
a deploy would. Every command goes through `run`, a function of the argv
that returns (rc, stdout, stderr).
"""

import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor


def output(*command):
    """Run a command: (rc, stdout, stderr); a command that cannot start is
    observed by why."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        return 127, "", f"{command[0]}: {error.strerror}\n"
    return done.returncode, done.stdout, done.stderr


def text(run, *command):
    """What a command printed, errors too: either is observed."""
    _, out, err = run(*command)
    return out + err


def plan(part, skip):
    """What to observe of a part: a spec {"files", "trees", "skip",
    "containers", "labels", "networks", "services", "image"} as the paths,
    the trees and the paths left out, docker's container filters, the
    networks, services and image."""
    return {
        "paths": sorted({os.path.normpath(path) for path in part.get("files", [])}),
        "trees": sorted({os.path.normpath(path) for path in part.get("trees", [])}),
        "skip": sorted(
            {os.path.normpath(path) for path in [*skip, *part.get("skip", [])]}
        ),
        "filters": [f"name=^{name}$" for name in part.get("containers", [])]
        + [f"label={label}" for label in part.get("labels", [])],
        "networks": list(part.get("networks", [])),
        "services": list(part.get("services", [])),
        "image": part.get("image") or "",
    }


def tree(top, skip):
    """Every path under top, but those in skip and all under them."""
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = [d for d in subfolders if os.path.join(folder, d) not in skip]
        for name in subfolders + files:
            yield os.path.join(folder, name)


def digest_files(digest, paths):
    for path in paths:
        try:
            stat = os.lstat(path)
        except OSError as error:
            digest.update(f"{path} {error.strerror}\n".encode())
            continue
        digest.update(f"{path} {stat.st_mode:o} {stat.st_uid} {stat.st_gid}\n".encode())
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as file:
                digest.update(hashlib.sha256(file.read()).digest())


def repository(reference):
    """The repository of an image reference, as RepoDigests name it."""
    name = reference.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name


def registry_digest(reference, run):
    """The digest the registry holds for the reference's tag, or None when it
    cannot be asked (or names several, one per platform). Over HTTPS, else
    over plain HTTP (an insecure registry), with Docker's logins."""
    for insecure in ([], ["--insecure"]):
        rc, out, _ = run(
            "docker", "manifest", "inspect", "--verbose", *insecure, reference
        )
        if rc == 0:
            try:
                found = json.loads(out)
            except ValueError:
                return None
            return (
                found.get("Descriptor", {}).get("digest")
                if isinstance(found, dict)
                else None
            )
    return None


def image_state(reference, run, check_mode):
    """The ID of the image the reference names, as a deploy would find it: a
    tag the host pulled from a registry may name new content there, which a
    deploy pulls; in check mode nothing is pulled, the registry is asked for
    the tag's digest instead, and new content, or a registry that cannot be
    asked, is observed as such."""
    rc, out, _ = run(
        "docker", "image", "inspect", "--format", "{{json .RepoDigests}}", reference
    )
    digests = (json.loads(out) if rc == 0 and out.strip() else None) or []
    # An ID, or a digest, names its content for good: no registry to ask.
    fixed = reference.startswith("sha256:") or "@" in reference
    if digests and not fixed:
        if not check_mode:
            run("docker", "pull", "--quiet", reference)
        else:
            remote = registry_digest(reference, run)
            known = {repository(name) + "@" + name.split("@")[-1] for name in digests}
            if not remote or f"{repository(reference)}@{remote}" not in known:
                return f"{reference} in its registry: {remote or 'unknown'}\n"
    return text(run, "docker", "image", "inspect", "--format", "{{.Id}}", reference)


def observe(part, skip, run=output, check_mode=False):
    """The digest of what a part left on the host. Its commands run at once,
    each waiting on the engine or systemd rather than on the others."""
    seen = plan(part, skip)
    with ThreadPoolExecutor(max_workers=8) as pool:

        def ask(*command):
            return pool.submit(text, run, *command)

        listed = [
            ask("docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", kind)
            for kind in seen["filters"]
        ]
        networks = seen["networks"] and ask(
            "docker", "network", "inspect", "--format",
            "{{.Name}} {{.Id}} {{.Internal}}{{range .Containers}} {{.Name}}{{end}}",
            *seen["networks"],
        )  # fmt: skip
        services = seen["services"] and [
            ask("systemctl", state, *seen["services"])
            for state in ("is-enabled", "is-active")
        ]
        image = seen["image"] and pool.submit(
            image_state, seen["image"], run, check_mode
        )
        digest = hashlib.sha256()
        skip = set(seen["skip"])
        paths = set(seen["paths"])
        for top in seen["trees"]:
            paths |= {top, *tree(top, skip)}
        digest_files(digest, sorted(paths - skip))
        ids = sorted({line for found in listed for line in found.result().split()})
        if ids:
            digest.update(
                text(
                    run, "docker", "inspect", "--format",
                    "{{.Name}} {{.Id}} {{.Image}} {{.State.Status}} {{json .Config}} {{json .HostConfig}}",
                    *ids,
                ).encode()
            )  # fmt: skip
        for found in [networks, *(services or []), image]:
            if found:
                digest.update(found.result().encode())
    return digest.hexdigest()


def stamp(inputs, parts, skip, run=output, check_mode=False):
    """The stamp of this deploy: by part, its inputs and its host's digest,
    the parts observed at once."""
    with ThreadPoolExecutor(max_workers=max(len(parts), 1)) as pool:
        hosts = {
            name: pool.submit(observe, part, skip, run, check_mode)
            for name, part in parts.items()
        }
        return {
            name: {"inputs": inputs[name], "host": hosts[name].result()}
            for name in parts
        }


def compare(recorded, found, locked):
    """What the last deploy's stamp says of this one: the parts whose inputs
    and host, and those whose inputs alone, are as it recorded."""
    recorded = recorded if isinstance(recorded, dict) else {}
    return {
        "locked": locked,
        "unchanged": [name for name in found if recorded.get(name) == found[name]],
        "same_inputs": [
            name
            for name in found
            if isinstance(recorded.get(name), dict)
            and recorded[name].get("inputs") == found[name]["inputs"]
        ],
    }


def read(path):
    """The recorded stamp, or {} when there is none (or it is unreadable)."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def write(path, found):
    """The stamp, 0600, replaced whole."""
    new = path + ".new"
    with open(
        os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        "w",
        encoding="utf-8",
    ) as file:
        json.dump(found, file, indent=2, sort_keys=True)
    os.replace(new, path)
