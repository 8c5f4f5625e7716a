"""What a run that must change nothing leaves as it was on a test host: its
containers (ID, name, state, start, restarts), images (IDs), networks,
volumes, every file under the state and instance directories (mode, owner,
size, time) and any other paths named. The verifiers import it (the
verifier's PYTHONPATH has this directory)."""


def snapshot(host, settings, named=()):
    """The host's state, by kind: compare one taken before with one after."""
    dirs = f"{settings['host_state_dir']} {settings['app_instance_dir']}"
    commands = {
        "containers": "docker ps --all --quiet --no-trunc | xargs --no-run-if-empty docker inspect --format"
        " '{{.Id}} {{.Name}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}'",
        "images": "docker images --all --quiet --no-trunc | sort",
        "networks": "docker network ls --quiet --no-trunc",
        "volumes": "docker volume ls --quiet",
        "files": f"find {dirs} -printf '%p %m %u %g %s %T@\\n' | sort",
    }
    if named:
        commands["named paths"] = (
            f"stat --format '%n %a %u %g %s %Y' {' '.join(named)} 2>/dev/null || true"
        )
    return {name: host.check_output(command) for name, command in commands.items()}
