#!/usr/bin/env python3
"""Drive a steady HTTP load at one URL and print what happened, as JSON.

    python3 bench/load.py URL [--rate 50] [--duration 120] [--cafile PEM]

Sends --rate requests a second, each on a new connection, until --duration
seconds have passed or SIGTERM/SIGINT arrives, then waits for the requests in
flight and prints {"sent", "failed", "max_latency_ms", "errors"}. A request
fails on any status other than 200 or any connection error; an https URL's
certificate must chain to --cafile (or the system's roots). Standard library
only, so it also runs inside a test host. Send it only to loopback or to a test
host of your own.
"""

import argparse
import collections
import json
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def request(url, timeout, context=None):
    """Return (error or None, latency in seconds)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            response.read()
            error = None if response.status == 200 else f"HTTP {response.status}"
    except OSError as e:
        error = failure(e)
    return error, time.monotonic() - started


def failure(error):
    """Name what failed a request: "HTTP 502", "ConnectionRefusedError", ..."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    return type(getattr(error, "reason", error)).__name__


def paced(rate, duration):
    """Yield rate times a second until duration has passed or SIGTERM/SIGINT."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    started = time.monotonic()
    for i in range(int(rate * duration)):
        if stop.wait(max(0.0, started + i / rate - time.monotonic())):
            return
        yield i


def drive(url, rate, duration, timeout, context=None):
    with ThreadPoolExecutor(max_workers=min(4 * rate, 200)) as pool:
        futures = [
            pool.submit(request, url, timeout, context) for _ in paced(rate, duration)
        ]
    results = [f.result() for f in futures]
    errors = collections.Counter(error for error, _ in results if error)
    return {
        "sent": len(results),
        "failed": sum(errors.values()),
        "max_latency_ms": round(max((lat for _, lat in results), default=0) * 1000),
        "errors": dict(errors),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=int, default=50, help="requests a second")
    parser.add_argument("--duration", type=float, default=120, help="seconds, at most")
    parser.add_argument("--timeout", type=float, default=10, help="per request")
    parser.add_argument("--cafile", help="PEM file of the CA to trust for https")
    args = parser.parse_args(argv)
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    figures = drive(args.url, args.rate, args.duration, args.timeout, context)
    json.dump(figures, sys.stdout)
    print()


if __name__ == "__main__":
    main()
