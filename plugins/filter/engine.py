"""Filters of roles/docker's tasks: what dpkg and stat said about the Docker
engine on the host, read once in Python rather than in a chain of filters."""

import re

# dpkg-query's ${db:Status-Status} of a package whose files are not on disk.
NOT_ON_DISK = re.compile(r" (not-installed|config-files)$")


def dpkg_installed(lines):
    """The packages whose files are on disk, from the lines of
    `dpkg-query --show --showformat='${Package} ${db:Status-Status}\\n'`:
    every state but not-installed and config-files (removed, its
    configuration kept) leaves them there."""
    return [
        line.split()[0]
        for line in lines
        if line.strip() and not NOT_ON_DISK.search(line)
    ]


def first_existing(stat_results, default):
    """The first path that exists, from the results of ansible.builtin.stat
    looped over candidate paths (in the order tried), else default: Debian
    and Docker install dockerd at different paths."""
    for result in stat_results:
        if (result.get("stat") or {}).get("exists"):
            return result["item"]
    return default


class FilterModule:
    def filters(self):
        return {
            "dpkg_installed": dpkg_installed,
            "first_existing": first_existing,
        }
