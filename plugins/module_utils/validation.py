"""The rules berth checks a role's variables against, before anything changes.

Each role keeps its table of rules in meta/validation.yml; the action
berth.deploy.validate (plugins/action/validate.py) reads the variables' values
and calls errors() here. A rule is one of:

    {name: NAME, retired: TEXT}
        NAME, which an earlier berth read, must not be set; TEXT says what
        replaced it.
    {name: NAME or [NAMES], form: FORM, allowed: TEXT, empty: true,
     each: true, hidden: true}
        Each variable must have the form FORM (a key of FORMS); with empty,
        an empty value passes too; with each, the value is a list and every
        item must have the form. allowed says what passes (ALLOWED[FORM]
        when not given). With hidden, the message leaves the value out.
    {check: CHECK, names: [NAMES]}
        CHECKS[CHECK] reads the variables NAMES and says what is wrong with
        them, for what one form cannot say.

A rule whose variables were already found wrong is passed over: one message
a wrong variable, and no check that reads a value it cannot make sense of.
Pure Python, so that tests/plugins proves every rule in milliseconds.
"""

import functools
import json
import os
import re

# Each pattern ends in \Z, as $ also matches before a final newline.
PATTERNS = {
    # A host path berth may own (after normpath): absolute, at least two levels
    # deep, not in a system directory, not a directory of /var or /home itself,
    # with no spaces or colons.
    "host_path": r"^(?!/(bin|boot|dev|etc|lib[^/]*|proc|run|sbin|sys|usr|var/run|var/lock)(/|\Z))"
    r"(?!/(var|home)/[^/]+\Z)/[^/\s:]+/[^\s:]+\Z",
    # A container, network or volume name, which never holds "..".
    "docker_name": r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{1,62}\Z",
    # [registry[:port]/]path, and an image: the same with [:tag][@digest].
    "repository": r"^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+/[a-z0-9][a-z0-9._-]*)?(/[a-z0-9][a-z0-9._-]*)*\Z",
    "image": r"^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+/[a-z0-9][a-z0-9._-]*)?(/[a-z0-9][a-z0-9._-]*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?\Z",
    "tag": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z",
    # A registry to log in to, and one the engine may reach over plain HTTP
    # (host[:port], or a network in CIDR notation).
    "registry": r"^(https?://)?[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?\Z",
    "insecure_registry": r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[0-9]+)?\Z",
    # A DNS name (labels of letters, digits, '-' and, as inventories use them,
    # '_'; not only digits and dots), an IPv4 and an IPv6 address.
    "dns_name": r"^(?![0-9.]+\Z)(?=.{1,253}\Z)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\Z",
    "ipv4": r"^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\Z",
    "ipv6": r"^(?!.*::.*::)(?!.*:::)(?!:[^:])(?!.*[^:]:\Z)[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}\Z",
    "https_url": r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?\Z",
    "url": r"^https?://[^\s]+\Z",
    # Only its scheme: the rest holds the password.
    "redis_url": r"^(rediss?|unix)://",
    "hsts": r"(?i)^max-age=[0-9]+(\s*;\s*(includeSubDomains|preload))*\Z",
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+\Z",
    # A whole number (not true, 2.5 or -1), and one of 1 or more.
    "whole": r"^[0-9]+\Z",
    "positive": r"^[1-9][0-9]*\Z",
    # Sizes above 0: Docker's (bytes, b, k, m, g), log files' (k, m, g),
    # request bodies' (bytes, k, m, g) and Redis's (bytes, b, k, kb, m, mb, g,
    # gb, any case); a duration above 0.
    "docker_size": r"^[1-9][0-9]*[bkmg]?\Z",
    "log_size": r"^[1-9][0-9]*[kmg]\Z",
    "body_size": r"^[1-9][0-9]*[kmg]?\Z",
    "redis_size": r"(?i)^[1-9][0-9]*(b|[kmg]b?)?\Z",
    "duration": r"^[1-9][0-9]*(ms|s|m|h)\Z",
    "time_of_day": r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z",
    "header_name": r"^[A-Za-z0-9-]+\Z",
    "control": r"[\x00-\x1f\x7f]",
    # One of Flask-Limiter's limits: "10 per minute", "10/minute", "5 per 2 hours".
    "rate_limit": r"(?i)^\s*[1-9][0-9]*\s*(/|per)\s*([1-9][0-9]*\s*)?"
    r"(second|minute|hour|day|month|year)s?\s*\Z",
    # Flask reads only upper-case names from config.py, and no upper-case name
    # is a Python keyword.
    "config_name": r"^[A-Z][A-Z0-9_]*\Z",
    # A container's user, UID:GID, and a user on the host by name.
    "uid_gid": r"^[0-9]+:[0-9]+\Z",
    "user_name": r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\Z",
    "log_driver": r"^[A-Za-z0-9][A-Za-z0-9_./:-]*\Z",
    "env_name": r"^[A-Za-z_][A-Za-z0-9_]*\Z",
    "file_name": r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\Z",
    "http_path": r"^/[^\s]*\Z",
    # An absolute path at least two levels deep, with no spaces or colons.
    "deep_path": r"^/[^\s:]+/[^\s:]+\Z",
    "container_path": r"^/[^:\s]+\Z",
    # SOURCE:TARGET[:ro|rw], SOURCE a host path or a volume's name.
    "volume": r"^[^:\s]+:/[^:\s]*(:(ro|rw))?\Z",
}
PATTERNS = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}

# Docker refuses a memory limit below 6 MiB.
DOCKER_LEAST_MEMORY = 6 * 1024 * 1024

# The settings app_config cannot override: config.py.j2 writes them from
# these variables.
CONFIG_OWN_NAMES = {
    "SECRET_KEY": "app_secret_key",
    "REDIS_URL": "app_redis_url",
    "SESSION_COOKIE_SECURE": "app_session_cookie_secure",
    "MAX_CONTENT_LENGTH": "app_max_body_size",
    "AUTH_RATE_LIMIT_PER_ADDRESS": "app_auth_rate_limit_per_address",
    "AUTH_RATE_LIMIT_PER_USERNAME": "app_auth_rate_limit_per_username",
}


def shown(value):
    """A value in a message, as Ansible's to_json writes it."""
    return json.dumps(value, default=str)


def matches(form, value):
    return PATTERNS[form].match(str(value)) is not None


def size_bytes(size):
    """A size of a valid form (b, k, kb, m, mb, g, gb, any case) in bytes,
    k being 1024, as Ansible's human_to_bytes reads it."""
    number, unit = re.match(r"^([0-9]+)([a-z]*)", str(size).lower()).groups()
    return int(number) * 1024 ** "bkmg".index((unit or "b")[0])


def is_host_path(value):
    return matches("host_path", os.path.normpath(str(value)))


def is_port(value):
    return matches("whole", value) and 0 < int(value) < 65536


def is_host_name(value):
    return any(matches(form, value) for form in ("dns_name", "ipv4", "ipv6"))


def is_rate_limits(value):
    limits = re.sub("[,|]", ";", str(value)).split(";")
    return all(matches("rate_limit", limit) for limit in limits)


def is_command(value):
    """A list of strings (exec form) or a string."""
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(part, str) for part in value)
    )


def is_string_map(value, key_form):
    """A mapping of names of the form key_form to strings."""
    return all(matches(key_form, key) for key in value) and all(
        isinstance(text, str) for text in value.values()
    )


def type_name(value):
    """The name of a value's Python type, as Ansible's type_debug says it:
    the built-in type of a value Ansible tagged with its origin."""
    return next(
        kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins"
    )


def is_docker_memory(value):
    return size_bytes(value) >= DOCKER_LEAST_MEMORY


def is_within(path, directory):
    """Whether path is directory or under it (both normalised)."""
    return (os.path.normpath(path) + "/").startswith(os.path.normpath(directory) + "/")


def as_bool(value):
    """A value as Ansible's bool filter reads it."""
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y", "t")


# Whether a value has a form. One that is a pattern reads the value as a
# string: 3 and "3" are counts, true and 2.5 are not.
FORMS = {name: functools.partial(matches, name) for name in PATTERNS}
FORMS |= {
    "host_path": is_host_path,
    "port": is_port,
    "host_name": is_host_name,
    "rate_limits": is_rate_limits,
    "command": is_command,
    "docker_memory": is_docker_memory,
}

# What a form allows, for the rules that do not say it their own way.
ALLOWED = {
    "host_path": "an absolute path at least two levels deep, such as /var/lib/berth, not in /bin, /boot, /dev, "
    "/etc, /lib*, /proc, /run, /sbin, /sys or /usr, not /var/<dir> or /home/<dir> itself, and with no spaces "
    "or colons",
    "docker_name": "a Docker name (2 to 63 letters, digits, '_', '.', '-'; no '/' or '..')",
    "positive": "a whole number of 1 or more",
    "log_size": "a size above 0 with k, m or g, such as 10m",
    "port": "a port number, 1 to 65535",
    "command": "a list of strings (exec form) or a string",
    "docker_memory": "6m or more, Docker's least",
}

CHECKS = {}


def check(function):
    """Register a check under its name; it yields each message."""
    CHECKS[function.__name__] = function
    return function


@check
def two_networks(names, values):
    proxy, redis = names
    if values[proxy] == values[redis]:
        yield (
            f"{proxy} and {redis} must be two networks, so that the proxy cannot reach Redis; "
            f"both are {shown(values[proxy])}."
        )


@check
def instance_dir_apart(names, values):
    state, instance = names
    if is_within(values[state], values[instance]):
        yield (
            f"{instance} must not be {state} or a directory above it ({shown(values[state])}, with secrets "
            f"only root may read), as berth gives it to app_user; got {shown(values[instance])}."
        )


# Written into the proxy's Caddyfile: nothing else may get in with them.
@check
def hostnames(names, values):
    hostnames, domain = names
    wrong = [name for name in values[hostnames] if not is_host_name(name)]
    if wrong or not (values[hostnames] or values[domain]):
        yield (
            f"{hostnames} must list DNS names, such as www.example.com (letters, digits, '-', '_' between "
            f"dots), or IPv4 or IPv6 addresses, at least one without {domain}; got {shown(values[hostnames])} "
            f"(not host names: {shown(wrong)})."
        )


# The file is on this machine, and a relative path is taken from the
# directory Ansible runs in.
@check
def ca_certificate(names, values):
    (name,) = names
    path = values[name]
    if not path:
        return
    if not os.path.isfile(path):
        why = "no such file"
    else:
        with open(os.path.realpath(path), encoding="utf-8", errors="replace") as file:
            if "-----BEGIN CERTIFICATE-----" in file.read():
                return
        why = "no PEM certificate in it"
    yield (
        f"{name} must be empty or the path, on the machine that runs Ansible, of a PEM file holding a CA "
        f"certificate (-----BEGIN CERTIFICATE-----); got {shown(path)} ({why})."
    )


@check
def headers(names, values):
    (name,) = names
    value = values[name]
    if not is_string_map(value, "header_name") or any(
        PATTERNS["control"].search(text) for text in value.values()
    ):
        yield (
            f"{name} must map header names (letters, digits, '-') to strings with no control characters "
            f"such as newlines (quote numbers); got {shown(value)}."
        )


# The release's /tmp counts against its memory.
@check
def tmpfs_in_memory(names, values):
    tmpfs, memory = names
    if size_bytes(values[tmpfs]) >= size_bytes(values[memory]):
        yield (
            f"{tmpfs} must be below {memory} ({values[memory]}), which /tmp counts against; "
            f"got {shown(values[tmpfs])}."
        )


@check
def environment(names, values):
    (name,) = names
    value = values[name]
    if not is_string_map(value, "env_name"):
        types = [type_name(text) for text in value.values()]
        yield (
            f'{name} must map variable names to strings (quote numbers, e.g. WORKERS: "4"); got names '
            f"{shown(list(value))} with values of types {shown(types)}."
        )


@check
def volume_targets(names, values):
    volumes, data_path = names
    for volume in values[volumes]:
        if not matches("volume", volume) or volume.split(":")[1] == values[data_path]:
            yield (
                f"Each of {volumes} must be SOURCE:TARGET or SOURCE:TARGET:ro, with an absolute TARGET other "
                f"than {data_path} ({values[data_path]}); got {shown(volume)}."
            )


# Docker takes a SOURCE that does not begin with / as a volume's name: a
# relative path would silently be a new, empty named volume.
@check
def volume_sources(names, values):
    volumes, state_dir = names
    for volume in values[volumes]:
        source = volume.split(":")[0]
        if source.startswith("/"):
            fine = is_host_path(source) and not is_within(values[state_dir], source)
        else:
            fine = matches("docker_name", source)
        if not fine:
            yield (
                f"The SOURCE of each of {volumes} must be a named volume (2 to 63 letters, digits, '_', '.', '-'; "
                "a relative path is not a host directory), or an absolute host path at least two levels deep, "
                "not in /bin, /boot, /dev, /etc, /lib*, /proc, /run, /sbin, /sys or /usr, not /var/<dir> or "
                f"/home/<dir> itself, and not {state_dir} ({values[state_dir]}) or above it; got {shown(volume)}."
            )


# A template given as an absolute path is on this machine.
@check
def config_template(names, values):
    (name,) = names
    path = values[name]
    if os.path.isabs(path) and not os.path.isfile(path):
        yield f"{name} must be a template file on the controller; nothing is at {shown(path)}."


@check
def config_file(names, values):
    name, template = names
    if values[template] and not matches("file_name", values[name]):
        yield (
            f"{name} must be a file name in the instance directory, such as config.py; "
            f"got {shown(values[name])}."
        )


# config.py.j2 writes each name as it is, and each value as a Python literal.
@check
def config_names(names, values):
    (name,) = names
    wrong = [key for key in values[name] if not matches("config_name", key)]
    wrong += [key for key in values[name] if key in CONFIG_OWN_NAMES]
    if wrong:
        own = ", ".join(
            f"{key} from {variable}" for key, variable in CONFIG_OWN_NAMES.items()
        )
        yield (
            f"{name}'s names must be upper-case Python names, such as PERMANENT_SESSION_LIFETIME (Flask reads "
            f"only those from config.py), other than those berth writes itself ({own}); got {shown(wrong)}."
        )


# A secret's message says what is wrong, never the value.
@check
def secret_key(names, values):
    (name,) = names
    key = values[name]
    if key and len(key) < 16:
        yield (
            f"{name} must be empty (berth generates a key) or at least 16 characters; it has {len(key)} "
            "(its value is not shown)."
        )


@check
def registry_login(names, values):
    missing = [name for name in names if not values[name]]
    if 0 < len(missing) < len(names):
        yield (
            f"A registry login needs {', '.join(names[:-1])} and {names[-1]}, all three; "
            f"missing: {', '.join(missing)}."
        )


# A rollback chooses from the history. (A restore runs the live version
# again and a removal none: their playbooks do not check this rule.)
@check
def release_version(names, values):
    version, rollback = names
    if as_bool(values[rollback]):
        return
    if not matches("tag", values[version]) or values[version] == "latest":
        yield (
            f"{version} must be an image tag naming one release, such as a git short SHA, and not "
            f'"latest"; got {shown(values[version])}.'
        )


# Docker refuses a memory limit below 6 MiB. Redis needs room beside its data,
# and at or above the container's limit the kernel kills Redis before it
# evicts or refuses a write. (Redis's k and m are 1000 and 1000000: reading
# them as 1024 and 1048576 errs on the safe side.)
@check
def redis_memory(names, values):
    limit, maxmemory = names
    limit_bytes = size_bytes(values[limit])
    maxmemory_bytes = size_bytes(values[maxmemory])
    if limit_bytes < DOCKER_LEAST_MEMORY or maxmemory_bytes >= limit_bytes:
        yield (
            f"{limit} must be 6m or more (Docker's least), and {maxmemory} below it; got {limit} "
            f"{shown(values[limit])} ({limit_bytes} bytes) and {maxmemory} {shown(values[maxmemory])} "
            f"({maxmemory_bytes} bytes)."
        )


@check
def distinct_files(names, values):
    directory, *files = names
    if len({os.path.normpath(str(values[name])) for name in names}) < len(names):
        yield (
            f"{' and '.join(files)} must be two different files, neither of them {directory}; got "
            f"{' and '.join(shown(values[name]) for name in files)} in {shown(values[directory])}."
        )


@check
def backup_settings(names, values):
    keep, snapshot_keep, max_age, time, directory = names
    if not (
        all(
            matches("positive", values[name]) for name in (keep, snapshot_keep, max_age)
        )
        and matches("time_of_day", values[time])
        and matches("deep_path", values[directory])
    ):
        yield (
            f"{keep} ({values[keep]}), {snapshot_keep} ({values[snapshot_keep]}) and {max_age} "
            f"({values[max_age]}) must be whole numbers of 1 or more; {time} ({values[time]}) a time of day "
            f"as HH:MM; {directory} ({values[directory]}) an absolute path at least two levels deep."
        )


def names_of(rule):
    """The variables a rule reads."""
    if "check" in rule:
        return list(rule["names"])
    return rule["name"] if isinstance(rule["name"], list) else [rule["name"]]


def form_errors(rule, name, value):
    has = FORMS[rule["form"]]
    allowed = rule.get("allowed") or ALLOWED[rule["form"]]
    if rule.get("empty") and value in ("", None):
        return []
    if rule.get("each"):
        if all(has(item) for item in value):
            return []
        return [f"{name} must list {allowed}; got {shown(value)}."]
    if has(value):
        return []
    if rule.get("hidden"):
        return [f"{name} must be {allowed}."]
    return [f"{name} must be {allowed}; got {shown(value)}."]


def broken(rule, values, wrong):
    """The variables rule finds wrong and its messages, for each way it
    is broken; none for variables already in wrong."""
    names = names_of(rule)
    if "retired" in rule:
        retired = [name for name in names if name in values]
        return [
            ([name], [f"{name} is no longer read: {rule['retired']}"])
            for name in retired
        ]
    if "check" in rule:
        if wrong.intersection(names):
            return []
        read = {name: values.get(name) for name in names}
        return [(names, list(CHECKS[rule["check"]](names, read)))]
    return [
        ([name], form_errors(rule, name, values.get(name)))
        for name in names
        if name not in wrong
    ]


def errors(rules, values, wrong=()):
    """Every message of the rules the values break, in the rules' order.
    values holds the variables that are defined: a retired one is wrong
    when it is there, any other when it breaks its rule. The variables in
    wrong are known to be wrong already (by their type, say)."""
    found = []
    wrong = set(wrong)
    for rule in rules:
        for names, messages in broken(rule, values, wrong):
            if messages:
                found += messages
                wrong.update(names)
    return found
