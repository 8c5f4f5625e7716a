#!/usr/bin/env python3
"""Write posts to the blog at a steady rate, then check that every one was kept.

    python3 bench/writes.py BASE_URL [--rate 5] [--duration 120]

Registers a user of its own, logs in and creates a post --rate times a second
until --duration seconds have passed or SIGTERM/SIGINT arrives. Then reads the
index, every page of it, and prints, as JSON, {"created", "failed", "missing",
"errors", "index_pages"}: the posts the app accepted, the attempts that failed,
the accepted posts the index does not show, and the pages it read. Standard library and bench/load.py only, so the two
also run inside a test host. Send it only to loopback or to a test host of
your own.
"""

import argparse
import collections
import html
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from load import failure, paced  # bench/load.py, beside this script

CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # A form's redirect says whether it was accepted; following it would
    # only add page views.
    def redirect_request(self, *args):
        return None


class Blog:
    """One logged-in user of the blog at base_url."""

    def __init__(self, base_url, timeout):
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect
        )

    def read(self, path):
        with self.opener.open(self.base_url + path, timeout=self.timeout) as page:
            return page.read().decode()

    def submit(self, path, **fields):
        """Post the form at path with its CSRF token; return where it redirects."""
        token = CSRF_TOKEN.search(self.read(path)).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, **fields}).encode()
        try:
            self.opener.open(self.base_url + path, data, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            if e.code == 302:
                return e.headers["Location"]
            raise
        return None  # the form came back: the app refused it

    def sign_up(self, username, password):
        self.submit("/auth/register", username=username, password=password)
        if self.submit("/auth/login", username=username, password=password) != "/":
            raise SystemExit(f"writes.py: could not log in as {username}")

    def read_index(self):
        """Every page of the index, following its rel="next" links."""
        pages = [html.unescape(self.read("/"))]
        while link := NEXT_PAGE.search(pages[-1]):
            pages.append(html.unescape(self.read(link.group(1))))
        return pages

    def create_post(self, title):
        return self.submit("/create", title=title, body="Written under load.") == "/"


def write(blog, prefix, rate, duration):
    created, errors = [], collections.Counter()
    for i in paced(rate, duration):
        title = f"{prefix} {i}"
        try:
            if blog.create_post(title):
                created.append(title)
            else:
                errors["refused"] += 1
        except OSError as e:
            errors[failure(e)] += 1
    return created, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--rate", type=float, default=5, help="posts a second")
    parser.add_argument("--duration", type=float, default=120, help="seconds, at most")
    parser.add_argument("--timeout", type=float, default=10, help="per request")
    args = parser.parse_args(argv)
    writer = f"writer-{os.getpid()}-{int(time.time())}"
    blog = Blog(args.base_url, args.timeout)
    blog.sign_up(writer, password=writer)
    created, errors = write(blog, writer, args.rate, args.duration)
    pages = blog.read_index()
    index = "".join(pages)
    json.dump(
        {
            "created": len(created),
            "failed": sum(errors.values()),
            "missing": [title for title in created if f"<h1>{title}</h1>" not in index],
            "errors": dict(errors),
            "index_pages": len(pages),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
