"""bench/abuse.py counts a body over the limit as refused when the proxy
answers 413, or resets the connection while the body is still on its way,
provided the site then serves: checked against a real socket that does so."""

import collections
import importlib.util
import socket
import struct
import threading
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "abuse", Path(__file__).parents[2] / "bench" / "abuse.py"
)
abuse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(abuse)

BIG = b"x" * abuse.TOO_LARGE


@pytest.fixture
def proxy():
    """A server that refuses every request as a proxy over its limit may: with
    answer=True, 413 then a reset; with answer=False, a reset at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    behaviour = {"answer": True}

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(1024)  # the request line and headers, not the body
            if behaviour["answer"]:
                connection.sendall(
                    b"HTTP/1.1 413 Request Entity Too Large\r\n"
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
            # SO_LINGER 0: close with a reset, the unread body discarded.
            connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", behaviour
    listener.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
@pytest.mark.parametrize("answer", [True, False], ids=["413 then reset", "reset"])
def test_a_refused_body_counts_as_refused_when_the_site_serves(proxy, chunked, answer):
    url, behaviour = proxy
    behaviour["answer"] = answer
    client = abuse.Client(url, collections.Counter())
    body = iter([BIG]) if chunked else BIG
    assert abuse.oversized(client, lambda: 200, body, chunked=chunked) == 413


def test_a_reset_is_no_refusal_when_the_site_then_fails(proxy):
    url, behaviour = proxy
    behaviour["answer"] = False
    client = abuse.Client(url, collections.Counter())
    status = abuse.oversized(client, lambda: 502, iter([BIG]), chunked=True)
    assert status == "reset, then GET / answered 502"
