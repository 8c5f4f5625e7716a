#!/usr/bin/env python3
"""The stamp of the last deploy: for each part of a deploy, the digest of its
inputs beside the digest of what it left on this host.

    stamp.py check SPEC    prints {"locked": ..., "unchanged": [parts]}: the
                           parts whose inputs and host are as the stamp says
    stamp.py record SPEC   writes the stamp (0600); prints "recorded", or
                           "kept" if it held the same already

SPEC is JSON: {"stamp": path, "lock": path, "skip": [paths], "inputs": {name:
the digest of the part's code and variables}, "parts": {name: part}}, and a
part {"files": [files and directories], "trees": [directories, with all
under them], "containers": [names], "labels": ["key=value"], "networks":
[names], "services": [systemd units], "image": reference}; skip's paths are
left out of every part. The host's digest of a part is taken here, so that
no secret leaves the host, of: the files' content, mode and owner; the
containers' (named or labelled so) image, state and configuration; the
networks' members; the services' states; and the image the reference names
now, asked of its registry first if it came from one (as a deploy would).
"""

import hashlib
import json
import os
import subprocess
import sys


def output(*command):
    """What a command printed, or why it could not run: either is observed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        return f"{command[0]}: {error.strerror}\n"
    return done.stdout + done.stderr


def tree(top, skip):
    """Every path under top, but those in skip and all under them."""
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = [d for d in subfolders if os.path.join(folder, d) not in skip]
        for name in subfolders + files:
            yield os.path.join(folder, name)


def observe(part, skip):
    digest = hashlib.sha256()
    skip = {os.path.normpath(path) for path in skip + part.get("skip", [])}
    paths = [os.path.normpath(path) for path in part.get("files", [])]
    for top in part.get("trees", []):
        paths += [os.path.normpath(top), *tree(os.path.normpath(top), skip)]
    for path in sorted(set(paths) - skip):
        try:
            stat = os.lstat(path)
        except OSError as error:
            digest.update(f"{path} {error.strerror}\n".encode())
            continue
        digest.update(f"{path} {stat.st_mode:o} {stat.st_uid} {stat.st_gid}\n".encode())
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as file:
                digest.update(hashlib.sha256(file.read()).digest())
    found = [f"name=^{name}$" for name in part.get("containers", [])]
    found += [f"label={label}" for label in part.get("labels", [])]
    ids = sorted(
        {
            line
            for kind in found
            for line in output(
                "docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", kind
            ).split()
        }
    )
    if ids:
        digest.update(
            output(
                "docker", "inspect", "--format",
                "{{.Name}} {{.Id}} {{.Image}} {{.State.Status}} {{json .Config}} {{json .HostConfig}}",
                *ids,
            ).encode()
        )  # fmt: skip
    if part.get("networks"):
        digest.update(
            output(
                "docker", "network", "inspect", "--format",
                "{{.Name}} {{.Id}} {{.Internal}}{{range .Containers}} {{.Name}}{{end}}",
                *part["networks"],
            ).encode()
        )  # fmt: skip
    if part.get("services"):
        digest.update(output("systemctl", "is-enabled", *part["services"]).encode())
        digest.update(output("systemctl", "is-active", *part["services"]).encode())
    if part.get("image"):
        # A tag pushed again is new content: pulled, as a deploy would.
        if "@sha256:" in output(
            "docker",
            "image",
            "inspect",
            "--format",
            "{{range .RepoDigests}}{{.}}{{end}}",
            part["image"],
        ):
            output("docker", "pull", "--quiet", part["image"])
        digest.update(
            output(
                "docker", "image", "inspect", "--format", "{{.Id}}", part["image"]
            ).encode()
        )
    return digest.hexdigest()


def main(action, spec):
    spec = json.loads(spec)
    stamp = {
        name: {"inputs": spec["inputs"][name], "host": observe(part, spec["skip"])}
        for name, part in spec["parts"].items()
    }
    try:
        with open(spec["stamp"], encoding="utf-8") as file:
            recorded = json.load(file)
    except (FileNotFoundError, ValueError):
        recorded = {}
    if action == "check":
        found = {
            "locked": os.path.exists(spec["lock"]),
            "unchanged": [name for name in stamp if recorded.get(name) == stamp[name]],
        }
        print(json.dumps(found))
    elif recorded == stamp:
        print("kept")
    else:
        new = spec["stamp"] + ".new"
        with open(
            os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            "w",
            encoding="utf-8",
        ) as file:
            json.dump(stamp, file, indent=2, sort_keys=True)
        os.replace(new, spec["stamp"])
        print("recorded")


if __name__ == "__main__":
    main(*sys.argv[1:])
