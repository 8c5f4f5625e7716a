#!/usr/bin/env python3
"""Send the requests an attacker would, through the proxy, and print how each
kind was answered while a steady reader checks that the site keeps serving.

    python3 bench/abuse.py BASE_URL [--slow-clients 100]

Kinds: bodies over the limit (declared and streamed), an unknown Host header,
clients that never finish their headers, login and registration floods,
titles and bodies over their lengths, spellings of one page and paths that
match no route (for the page counter), a forged log line, and index pages
past the end. Prints, as JSON, {"attacks": {kind: {"sent", "refused",
"statuses"}}, "normal": {"sent", "failed", "p50_ms", "p99_ms", "max_ms"},
"server_errors", "post"}: "refused" counts the answers each kind should get,
"server_errors" every 5xx seen, "post" the id of the post written to test
the counter. Standard library only, so it runs inside a test host. Send it only to loopback or to a test host of your own: it leaves
its address rate-limited for a minute.
"""

import argparse
import collections
import http.client
import json
import re
import socket
import statistics
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie

TOO_LARGE = 2 * 1024 * 1024  # over the default 1 MiB limit
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """HTTP/1.1 requests to the proxy, one connection each, with a session."""

    def __init__(self, base_url, seen):
        url = urllib.parse.urlsplit(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.cookies, self.seen = {}, seen

    def request(self, method, path, body=None, headers=None, chunked=False):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body, headers, encode_chunked=chunked)
            response = connection.getresponse()
            page = response.read().decode(errors="replace")
        except OSError:
            # The proxy may answer 413 and close before the body is sent.
            response = connection.getresponse()
            page = ""
        finally:
            connection.close()
        for cookie in SimpleCookie(response.headers.get("Set-Cookie", "")).values():
            self.cookies[cookie.key] = cookie.value
        self.seen[response.status] += 1
        return response.status, page

    def submit(self, path, **fields):
        """POST the form at path with the CSRF token its page carries."""
        _, page = self.request("GET", path)
        token = CSRF_TOKEN.search(page)
        fields["csrf_token"] = token.group(1) if token else ""
        form = urllib.parse.urlencode(fields)
        content_type = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, form, content_type)


def attack(results, kind, refused_status, attempts):
    """Record how each attempt (a callable returning a status) was answered."""
    statuses = collections.Counter(str(attempt()) for attempt in attempts)
    results[kind] = {
        "sent": sum(statuses.values()),
        "refused": statuses[str(refused_status)],
        "statuses": dict(statuses),
    }


def oversized(client, site, body, chunked=False):
    """POST a body over the limit: the proxy's 413. A streamed body may still
    be on its way when the proxy answers 413 and closes, and the client then
    reads a reset instead of the answer: that is the refusal too, provided
    the site then serves (site: a callable returning the status of GET /)."""
    try:
        return client.request("POST", "/healthz", body, chunked=chunked)[0]
    except (
        ConnectionError,
        http.client.HTTPException,
    ):  # HTTPException: no answer read
        status = site()
        return 413 if status == 200 else f"reset, then GET / answered {status}"


def slow_clients(base_url, count, results):
    """Open connections that send a header line every 2 s and never finish;
    count those the proxy closes."""
    url = urllib.parse.urlsplit(base_url)
    sockets = []
    for _ in range(count):
        s = socket.create_connection((url.hostname, url.port or 80), timeout=5)
        s.sendall(f"GET / HTTP/1.1\r\nHost: {url.hostname}\r\n".encode())
        sockets.append(s)
    closed, deadline = set(), time.monotonic() + 60
    while len(closed) < count and time.monotonic() < deadline:
        time.sleep(2)
        for i, s in enumerate(sockets):
            if i in closed:
                continue
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed.add(i)
    for s in sockets:
        s.close()
    results["slow headers"] = {
        "sent": count,
        "refused": len(closed),
        "statuses": {"closed": len(closed), "open": count - len(closed)},
    }


class Reader(threading.Thread):
    """GET / five times a second, as a visitor would, until stopped."""

    def __init__(self, base_url):
        super().__init__(daemon=True)
        self.client = Client(base_url, collections.Counter())
        self.latencies, self.failed = [], 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.2):
            started = time.monotonic()
            try:
                status, _ = self.client.request("GET", "/")
            except OSError:
                status = None
            self.latencies.append((time.monotonic() - started) * 1000)
            self.failed += status != 200

    def figures(self):
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return {
            "sent": len(self.latencies),
            "failed": self.failed,
            "p50_ms": round(cuts[49], 1),
            "p99_ms": round(cuts[98], 1),
            "max_ms": round(max(self.latencies), 1),
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--slow-clients", type=int, default=100)
    args = parser.parse_args(argv)
    seen, results = collections.Counter(), {}
    reader = Reader(args.base_url)
    reader.start()
    time.sleep(1)

    def anonymous():
        return Client(args.base_url, seen)

    def site():
        return anonymous().request("GET", "/")[0]

    big = b"x" * TOO_LARGE
    attack(results, "body over the limit", 413, [
        lambda: oversized(anonymous(), site, big) for _ in range(10)
    ])  # fmt: skip
    attack(results, "streamed body over the limit", 413, [
        lambda: oversized(anonymous(), site, iter([big]), chunked=True)
        for _ in range(5)
    ])  # fmt: skip
    attack(results, "unknown Host header", 421, [
        lambda: anonymous().request("GET", "/", headers={"Host": "attacker.example"})[0]
        for _ in range(20)
    ])  # fmt: skip

    # A user of its own, to write oversized posts and count page views.
    name = f"abuser-{int(time.time())}"
    user = anonymous()
    user.submit("/auth/register", username=name, password=name)
    user.submit("/auth/login", username=name, password=name)
    user.submit("/create", title=name, body="A post of the abuse test.")
    _, index = user.request("GET", "/")
    post = int(re.search(r'href="/(\d+)/update"', index).group(1))

    def refused_post(**fields):
        status, page = user.submit("/create", **fields)
        return "form again" if status == 200 and "must be at most" in page else status

    attack(results, "title or body over its length", "form again", [
        lambda: refused_post(title="t" * 201, body="b"),
        lambda: refused_post(title="t", body="b" * 20001),
        lambda: refused_post(title="t", body="b" * 900_000),
    ])  # fmt: skip
    attack(results, "spellings of one page", 200, [
        lambda i=i: user.request("GET", f"/{'0' * i}{post}/update")[0]
        for i in range(1, 21)
    ])  # fmt: skip
    attack(results, "paths that match no route", 404, [
        lambda i=i: anonymous().request("GET", f"/no-such-page-{i}")[0]
        for i in range(20)
    ])  # fmt: skip
    attack(results, "forged log line", 404, [
        lambda: anonymous().request("GET", "/%0aFORGED%20200%20GET%20/admin")[0]
    ])  # fmt: skip
    attack(results, "index pages past the end", 404, [
        lambda page=page: anonymous().request("GET", f"/?page={page}")[0]
        for page in ("99999999", "0", "-1", "abc", "9" * 400)
    ])  # fmt: skip

    flood = anonymous()
    attack(results, "login flood on one user name", 429, [
        lambda: flood.submit("/auth/login", username=name, password="wrong")[0]
        for _ in range(30)
    ])  # fmt: skip
    attack(results, "registration flood", 429, [
        lambda i=i: anonymous().submit(
            "/auth/register", username=f"{name}-{i}", password="x"
        )[0]
        for i in range(20)
    ])  # fmt: skip

    slow_clients(args.base_url, args.slow_clients, results)
    time.sleep(1)
    reader.stopping.set()
    reader.join()
    seen.update(reader.client.seen)
    print(
        json.dumps(
            {
                "attacks": results,
                "normal": reader.figures(),
                "server_errors": sum(n for code, n in seen.items() if code >= 500),
                "post": post,
            }
        )
    )


if __name__ == "__main__":
    main()
