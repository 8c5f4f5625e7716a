"""HTTPS with a certificate from a real ACME server (pebble), checked from
this machine against the test host, as a browser on the internet would see it
once the domain resolves there. The tests run in order: the last ones
restart the proxy and deploy a new release."""

import datetime
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import time

import pytest
from docker_exec import copy_to
from on_test_host import copy_bench, load

from playbooks import INVENTORY, ROOT, playbook


def https(site, path="/", verify=True):
    """GET path from the test host over HTTPS, with the domain as the server
    name, trusting pebble's root only. Returns the response (read) and the
    certificate served, decoded (verified) or as DER (not)."""
    context = ssl.create_default_context(cafile=site["root"])
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection((site["address"], 443), timeout=10)
    with context.wrap_socket(raw, server_hostname=site["domain"]) as tls:
        connection = http.client.HTTPConnection(site["domain"], 443, timeout=10)
        connection.sock = tls
        connection.request("GET", path, headers={"Host": site["domain"]})
        response = connection.getresponse()
        response.body = response.read()
        return response, tls.getpeercert(binary_form=not verify)


def pebble_log(site, event):
    """pebble's log lines that tell of event."""
    logs = subprocess.run(
        ["docker", "logs", site["pebble"]], capture_output=True, text=True, check=True
    )
    return [line for line in (logs.stdout + logs.stderr).splitlines() if event in line]


def issued(site):
    """One line for each certificate pebble has issued."""
    return pebble_log(site, "Issued certificate")


def proxy_log(host, settings):
    """The proxy's log, as JSON records."""
    out = host.check_output("docker logs %s 2>&1", settings["app_proxy_container_name"])
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def live_release(host, settings):
    path = f"{settings['host_state_dir']}/{settings['app_name']}-history.json"
    return json.loads(host.file(path).content_string)["live"]


def test_the_certificate_chains_to_pebbles_root_and_names_the_domain(site):
    response, certificate = https(site, "/")
    assert response.status == 200
    names = [value for kind, value in certificate["subjectAltName"] if kind == "DNS"]
    assert names == [site["domain"]]
    issuer = dict(field for rdn in certificate["issuer"] for field in rdn)
    assert issuer["commonName"].startswith("Pebble Intermediate CA"), issuer


def test_a_certificate_pebble_did_not_issue_is_refused(site, settings):
    # The same connection, trusting only the CA of pebble's own listener:
    # proof that the check above did not pass because anything would.
    wrong = dict(site, root=settings["app_acme_ca_root"])
    with pytest.raises(ssl.SSLCertVerificationError):
        https(wrong, "/")


def test_the_first_certificate_came_within_seconds(host, site, settings):
    records = proxy_log(host, settings)
    obtaining = [r["ts"] for r in records if r.get("msg") == "obtaining certificate"]
    obtained = [
        r["ts"] for r in records if r.get("msg") == "certificate obtained successfully"
    ]
    assert obtaining and obtained, "the proxy's log tells of no certificate obtained"
    seconds = obtained[0] - obtaining[0]
    # pebble validated the domain for real: it asked the test host, and the
    # proxy answered its challenge (http-01 or tls-alpn-01, Caddy's choice).
    answers = [
        r
        for r in records
        if r.get("msg", "").startswith("served key authentication")
        and r.get("remote", "").rpartition(":")[0] == site["pebble_address"]
    ]
    assert answers, "the proxy answered no challenge from pebble"
    how = answers[0]["challenge"]
    since_start = obtained[0] - records[0]["ts"]  # the proxy's first record
    print(
        f"\nfirst certificate: ACME took {seconds:.2f} s, validated by {how};"
        f" {since_start:.2f} s after the proxy started"
    )
    assert 0 < seconds < 120  # app_certificate_timeout's default


def test_plain_http_redirects_to_https(site):
    connection = http.client.HTTPConnection(site["address"], 80, timeout=10)
    connection.request("GET", "/auth/login?next=1", headers={"Host": site["domain"]})
    response = connection.getresponse()
    assert response.status == 308
    assert (
        response.getheader("Location") == f"https://{site['domain']}/auth/login?next=1"
    )


def test_https_sends_hsts_and_a_secure_session_cookie(site):
    response, _ = https(site, "/auth/login")
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    # HTTP/3 is not offered: its UDP port is not published.
    assert response.getheader("Alt-Svc") is None
    # The login form's CSRF token lives in the session.
    cookie = response.getheader("Set-Cookie")
    assert cookie.startswith("session="), cookie
    assert "; Secure" in cookie, cookie
    assert "; HttpOnly" in cookie, cookie


def test_the_deploys_last_check_asks_the_host_over_https(site):
    # berth.deploy.https_get, as the deploy ran it, now run ad hoc on the
    # test host: the domain answers; a name with no certificate does not.
    def https_get(server_name):
        done = subprocess.run(
            ["ansible", "-i", INVENTORY, "app", "-m", "berth.deploy.https_get",
             "-a", f"server_name={server_name} path=/readyz", "-o"],
            cwd=ROOT, capture_output=True, text=True, check=False,
            env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": f"{ROOT}/playbooks/collections"},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        answer, _ = json.JSONDecoder().raw_decode(done.stdout.split(" => ", 1)[1])
        return answer

    answer = https_get(site["domain"])
    assert answer["status"] == 200, answer
    assert answer["changed"] is False
    _, der = https(site, "/", verify=False)
    assert answer["certificate_sha256"] == hashlib.sha256(der).hexdigest()
    refused = https_get("other.berth.test")
    assert refused["status"] == 0
    assert "SSL" in refused["error"], refused
    with open(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] + "/ansible.log") as log:
        assert f"Ask the proxy over HTTPS, as {site['domain']}" in log.read()


def test_redeploys_and_a_proxy_restart_keep_the_certificate_and_account(
    host, site, settings
):
    # converge and idempotence have each deployed: one certificate so far.
    assert len(issued(site)) == 1, issued(site)
    _, before = https(site, "/", verify=False)
    proxy = settings["app_proxy_container_name"]
    host.check_output("docker restart %s", proxy)
    for _ in range(30):
        try:
            response, after = https(site, "/", verify=False)
            break
        except OSError:
            time.sleep(1)
    assert response.status == 200
    assert after == before
    assert len(issued(site)) == 1, issued(site)
    # Nor was the ACME account made again: the proxy kept its key.
    accounts = pebble_log(site, "accounts in memory")
    assert len(accounts) == 1 and accounts[0].endswith(
        "There are now 1 accounts in memory"
    )


def test_a_swap_under_https_load_fails_no_request(host, site, settings):
    copy_bench(host, ROOT)
    copy_to(host, site["root"], "/tmp/pebble")
    before = live_release(host, settings)
    started = datetime.datetime.now()
    url = f"https://{site['domain']}/"  # the domain resolves to the test host there
    with load(host, url, "https-swap", cafile="/tmp/pebble/root.pem") as reads:
        done = playbook(
            "deploy.yml", "-e", '{"app_config": {"SWAPPED_UNDER_HTTPS_LOAD": true}}'
        )
    assert done.returncode == 0, done.stdout
    seconds = (datetime.datetime.now() - started).total_seconds()
    print(f"\nHTTPS swap: {json.dumps(reads.figures)} over {seconds:.0f} s")
    assert reads.figures["sent"] > 200, reads.figures
    assert reads.figures["failed"] == 0, reads.figures
    # A new release, with the new configuration, took over from the old one.
    after = live_release(host, settings)
    assert after["id"] != before["id"]
    assert not set(after["containers"]) & set(before["containers"])
    config = host.file(f"{settings['app_instance_dir']}/config.py").content_string
    assert "SWAPPED_UNDER_HTTPS_LOAD = True" in config
    assert len(issued(site)) == 1, issued(site)
