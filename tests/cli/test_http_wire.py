"""HTTP/1.1 on the wire (kubectl_kaito/http11.py, our replacement for http.client): framing, faults and
limits, each against a tiny raw-socket server on 127.0.0.1 that writes exactly the bytes under test.

The simulator and the rest of the suite cover well-behaved servers; these cover what a proxy, a load
balancer or a hostile server may send: chunk extensions and trailers, torn bodies, close-delimited
bodies, 1xx answers, endless headers, idle keep-alive connections closed under us, 429s, silence.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_kaito import http11
from kubectl_kaito import kubeconfig as kc
from kubectl_kaito.client import Client, request_line
from kubectl_kaito.errors import ClusterUnavailableError, ServerError, StreamCutError
from tests.fixtures.kube import kubeconfig, write
from tests.helpers import run_cli

OBJ = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "one"}}
BODY = json.dumps(OBJ).encode()


def answer(status: str = "200 OK", body: bytes = BODY, *headers: str) -> bytes:
    """A whole response with Content-Length."""
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Peer:
    """One accepted connection, seen from the server."""

    def __init__(self, sock: socket.socket, server: Wire) -> None:
        self.sock = sock
        self._fp = sock.makefile("rb")
        self._server = server

    def request(self) -> str | None:
        """Read one request (head, and a body by Content-Length); its request line, or None at EOF."""
        try:
            first = self._fp.readline()
            if not first:
                return None
            length = 0
            while (line := self._fp.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = self._fp.read(length) if length else b""
        except (OSError, ValueError):  # closed meanwhile (by the test's end)
            return None
        text = first.decode("latin-1").strip()
        self._server.requests.append((text, body))
        return text

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        for closing in (self._fp.close, self.sock.close):
            try:
                closing()
            except OSError:
                pass


class Wire:
    """A raw HTTP server: each connection runs `script(peer, n)` (n counts connections from 0)."""

    def __init__(self, script: Callable[[Peer, int], None]) -> None:
        self.script = script
        self.requests: list[tuple[str, bytes]] = []
        self.connections = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._peers: list[Peer] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            peer = Peer(sock, self)
            self._peers.append(peer)
            n, self.connections = self.connections, self.connections + 1
            threading.Thread(target=self._run, args=(peer, n), daemon=True).start()

    def _run(self, peer: Peer, n: int) -> None:
        try:
            self.script(peer, n)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        self._listener.close()
        for peer in self._peers:
            peer.close()


@pytest.fixture
def wire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Callable[[Peer, int], None]], Wire]]:
    """wire(script) starts a Wire and points $KUBECONFIG at it (plain http://: no credentials sent)."""
    started: list[Wire] = []
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NO_COLOR", "1")

    def start(script: Callable[[Peer, int], None]) -> Wire:
        server = Wire(script)
        started.append(server)
        path = write(tmp_path / "kubeconfig", kubeconfig(server.url, user={"token": "t"}))
        monkeypatch.setenv("KUBECONFIG", str(path))
        return server

    yield start
    for server in started:
        server.close()


def client(**kwargs: Any) -> Client:
    return Client(kc.load(None, None, None), **kwargs)


def serve_each(*answers: bytes, then_close: bool = False) -> Callable[[Peer, int], None]:
    """A keep-alive script: the i-th request on a connection gets answers[i] (the last repeats)."""

    def script(peer: Peer, n: int) -> None:
        i = 0
        while peer.request() is not None:
            peer.send(answers[min(i, len(answers) - 1)])
            i += 1
            if then_close and i == len(answers):
                peer.close()
                return

    return script


def one_error_line(stderr: str, needle: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and all(line.startswith(("error: ", "hint: ")) for line in lines), stderr
    assert needle in errors[0], errors[0]
    return errors[0]


# ---- reason phrases --------------------------------------------------------------------------------------


def test_reason_phrases_are_http_clients_for_every_status() -> None:
    ours = {code: http11.REASONS[code] for code in range(100, 600) if code in http11.REASONS}
    theirs = {code: phrase for code, phrase in http.client.responses.items() if 100 <= code < 600}
    assert ours == theirs
    assert request_line("GET", "https://x/api", 200, 3.2) == "GET https://x/api 200 OK in 3 milliseconds"
    assert request_line("GET", "https://x/api", 299, 3.2) == "GET https://x/api 299 in 3 milliseconds"


# ---- framing ----------------------------------------------------------------------------------------------


def test_chunked_with_extensions_and_trailers_then_the_connection_is_reused(wire: Any) -> None:
    half = len(BODY) // 2
    chunked = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{half:x};name=value;flag\r\n".encode()
        + BODY[:half]
        + f"\r\n{len(BODY) - half:X}\r\n".encode()
        + BODY[half:]
        + b"\r\n0;last=1\r\nX-Trailer: done\r\nX-Other: 2\r\n\r\n"
    )
    server = wire(serve_each(chunked))
    with client() as c:
        assert c.get("/api/v1/namespaces/default/configmaps/one") == OBJ
        assert c.get("/api/v1/namespaces/default/configmaps/one") == OBJ  # the trailers were read to their end
    assert server.connections == 1 and len(server.requests) == 2


def test_close_delimited_body_is_read_to_the_close_and_not_reused(wire: Any) -> None:
    server = wire(serve_each(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY, then_close=True))
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
        assert c.get("/api/v1/x") == OBJ
    assert server.connections == 2


def test_1xx_answers_before_the_answer_are_skipped(wire: Any) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    server = wire(serve_each(interim + answer()))
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
        assert c.get("/api/v1/x") == OBJ  # nothing of the first exchange is left on the connection
    assert server.connections == 1


def test_no_content_and_not_modified_have_no_body_and_keep_the_connection(wire: Any) -> None:
    # no Content-Length: a reader that waited for a body (or for the close) would hang here
    server = wire(
        serve_each(b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", answer())
    )
    with client(timeout=5) as c:
        assert c.request("DELETE", "/api/v1/x") == {}
        with pytest.raises(ServerError, match="304 Not Modified"):
            c.get("/api/v1/x")
        assert c.get("/api/v1/x") == OBJ
    assert server.connections == 1


def test_headers_are_case_insensitive_and_keep_repeated_values() -> None:
    raw = (
        b'HTTP/1.1 200 OK\r\ncontent-TYPE: text/plain\r\nWarning: 299 - "one"\r\nWarning: 299 - "two"\r\n'
        b"X-Folded: a\r\n  b\r\nContent-Length: 3\r\n\r\nabc"
    )
    resp = parse(raw)
    assert resp.headers.get("Content-Type") == "text/plain" and "CONTENT-type" in resp.headers
    assert resp.headers.get_all("warning") == ['299 - "one"', '299 - "two"']
    assert resp.headers.get("WARNING") == '299 - "one", 299 - "two"'
    assert resp.headers["x-folded"] == "a b"
    assert resp.read() == b"abc" and resp.complete and not resp.will_close
    head = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "HEAD")
    assert head.read() == b"" and head.complete


def parse(raw: bytes, method: str = "GET") -> http11.Response:
    return http11.Response(io.BufferedReader(io.BytesIO(raw)), method)


@pytest.mark.parametrize(
    ("raw", "body", "will_close"),
    [
        (b"HTTP/1.0 200 OK\r\n\r\nto the close", b"to the close", True),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab", b"ab", False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nab", b"ab", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", b"ab", False),
        # Transfer-Encoding wins over Content-Length (RFC 9112 6.3)
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
            b"ab",
            False,
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", b"raw", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n", b"ab", False),  # closed in trailers
    ],
    ids=[
        "http10-close",
        "http10-keep-alive",
        "close",
        "same-length-twice",
        "te-over-cl",
        "te-not-chunked",
        "eof-trailers",
    ],
)
def test_body_framing(raw: bytes, body: bytes, will_close: bool) -> None:
    resp = parse(raw)
    assert resp.read() == body and resp.complete and resp.will_close is will_close


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000000\r\n\r\nab", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nab", "invalid Content-Length '2, 3'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nab", "invalid Content-Length '-1'"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nab", "IncompleteRead(0 bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n", "IncompleteRead(0 bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n", "IncompleteRead(2 bytes"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n", "the connection closed in the middle of the header lines"),
        (b"HTTP/2 200\r\n\r\n", "the server did not answer in HTTP/1.1: 'HTTP/2 200'"),
        (b"HTTP/1.1 42 Odd\r\n\r\n", "the server did not answer in HTTP/1.1"),
        (b"", "Remote end closed connection without response"),
    ],
    ids=["huge-length", "two-lengths", "negative-length", "huge-chunk", "negative-chunk", "no-crlf-after-chunk",
         "eof-in-headers", "http2", "bad-status", "nothing"],
)  # fmt: skip
def test_hostile_framing_is_an_error_not_an_allocation_or_a_guess(raw: bytes, error: str) -> None:
    with pytest.raises(http11.HTTPError, match=re.escape(error)):
        parse(raw).read()


def test_verbose_8_prints_every_response_header(wire: Any) -> None:
    wire(serve_each(answer("200 OK", BODY, 'Warning: 299 - "one"', 'Warning: 299 - "two"')))
    lines: list[str] = []
    with client(verbose=8, log=lines.append) as c:
        c.get("/api/v1/x")
    assert lines[0].startswith(f"GET {c.server}/api/v1/x 200 OK in ")
    assert '  Response header: Warning: 299 - "one"' in lines
    assert '  Response header: Warning: 299 - "two"' in lines


# ---- torn bodies ------------------------------------------------------------------------------------------


def torn(head: bytes, sent: bytes) -> Callable[[Peer, int], None]:
    def script(peer: Peer, n: int) -> None:
        if peer.request() is not None:
            peer.send(head + sent)
            peer.close()

    return script


LOG_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"


def test_chunked_body_torn_mid_chunk(wire: Any) -> None:
    wire(
        torn(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", b'40\r\n{"ki')
    )
    with client() as c, pytest.raises(ClusterUnavailableError) as e:
        c.get("/api/v1/x")
    assert e.value.message.endswith("broke: IncompleteRead(4 bytes read, 60 more expected)")
    assert e.value.exit_code == 5


def test_content_length_body_torn(wire: Any) -> None:
    wire(torn(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", b'{"kind":'))
    with client() as c, pytest.raises(ClusterUnavailableError, match=r"broke: IncompleteRead\(8 bytes read, 92 more"):
        c.get("/api/v1/x")


@pytest.mark.parametrize(
    "framing",
    [
        b"Transfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n9\r\nline2\npar",
        b"Content-Length: 100\r\n\r\nline1\nline2\npar",
    ],
    ids=["chunked", "content-length"],
)
def test_a_log_stream_torn_keeps_what_came_then_is_cut(wire: Any, framing: bytes) -> None:
    wire(torn(LOG_HEAD, framing))
    lines: list[bytes] = []
    with client() as c, pytest.raises(StreamCutError, match="the log stream broke off"):
        for line in c.stream_lines("/api/v1/namespaces/default/pods/p/log", follow=True):
            lines.append(line)
    assert lines == [b"line1\n", b"line2\n", b"par\n"]


def test_a_log_stream_ending_properly_is_not_cut(wire: Any) -> None:
    wire(torn(LOG_HEAD, b"Transfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n4\r\nlast\r\n0\r\n\r\n"))
    with client() as c:
        assert list(c.stream_lines("/api/v1/namespaces/default/pods/p/log")) == [b"line1\n", b"last\n"]


# ---- limits: a hostile server cannot make us read forever ----------------------------------------------------


def endless(head: bytes) -> Callable[[Peer, int], None]:
    """Answers every request with `head` and then holds the connection open (never ends it)."""

    def script(peer: Peer, n: int) -> None:
        while peer.request() is not None:
            peer.send(head)

    return script


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n", "got more than 65536 bytes when reading header line"),
        (b"HTTP/1.1 200 " + b"O" * 70000, "got more than 65536 bytes when reading status line"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101, "got more than 100 headers"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 70000,
            "got more than 65536 bytes when reading chunk size",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "the server did not answer in HTTP/1.1: 'SSH-2.0-OpenSSH_9.6'"),
    ],
    ids=["header-line", "status-line", "headers", "chunk-size", "not-http"],
)
def test_oversized_or_foreign_answers_are_one_error_line_without_a_hang(wire: Any, head: bytes, message: str) -> None:
    wire(endless(head))
    t0 = time.monotonic()
    r = run_cli("status", "ws", "--request-timeout", "20s")
    assert time.monotonic() - t0 < 10  # the limit ended it, not the request timeout
    assert r.exit_code == 5 and r.stdout == ""
    line = one_error_line(r.stderr, message)
    assert line.startswith("error: the connection to the Kubernetes API server at http://127.0.0.1:")


def test_exactly_100_headers_are_fine(wire: Any) -> None:
    wire(serve_each(answer("200 OK", BODY, *[f"X-H{i}: 1" for i in range(98)])))  # + Content-Type, -Length
    with client() as c:
        assert c.get("/api/v1/x") == OBJ


# ---- keep-alive -----------------------------------------------------------------------------------------


def test_an_idle_connection_the_server_closed_is_replaced_before_sending(wire: Any) -> None:
    def script(peer: Peer, n: int) -> None:
        if peer.request() is not None:
            peer.send(answer())  # keep-alive by default in HTTP/1.1 ...
            peer.close()  # ... then the server's idle timeout closes it

    server = wire(script)
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
        time.sleep(0.2)
        assert c.request("POST", "/api/v1/x", body={"a": 1}) == OBJ
    assert server.connections == 2
    assert [line for line, _ in server.requests] == ["GET /api/v1/x HTTP/1.1", "POST /api/v1/x HTTP/1.1"]


def _closes_the_second_request_unanswered(peer: Peer, n: int) -> None:
    """Connection 0 answers one request, then reads the next and closes without a word (the race
    between our request and the server's idle close); later connections answer everything."""
    answered = 0
    while peer.request() is not None:
        if n == 0 and answered == 1:
            peer.close()
            return
        peer.send(answer())
        answered += 1


def test_a_get_on_a_connection_closed_under_it_is_sent_again_once(wire: Any) -> None:
    server = wire(_closes_the_second_request_unanswered)
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
        assert c.get("/api/v1/y") == OBJ
    assert [line for line, _ in server.requests] == [
        "GET /api/v1/x HTTP/1.1",
        "GET /api/v1/y HTTP/1.1",
        "GET /api/v1/y HTTP/1.1",
    ]
    assert server.connections == 2


def test_a_post_that_may_have_been_processed_is_never_sent_twice(wire: Any) -> None:
    server = wire(_closes_the_second_request_unanswered)
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
        with pytest.raises(ClusterUnavailableError, match="broke: Remote end closed connection without response"):
            c.create("/api/v1/namespaces/default/configmaps", OBJ)
    assert [line for line, _ in server.requests] == [
        "GET /api/v1/x HTTP/1.1",
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1",
    ]


def test_the_request_on_the_wire(wire: Any) -> None:
    seen: list[bytes] = []

    def raw(peer: Peer, n: int) -> None:
        seen.append(peer.sock.recv(65536))
        peer.send(answer())

    server = wire(raw)
    with client() as c:
        c.patch("/api/v1/x", {"a": 1})
    port = server.url.rsplit(":", 1)[1]
    head, _, body = seen[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "PATCH /api/v1/x HTTP/1.1"
    assert lines[1] == f"Host: 127.0.0.1:{port}"
    assert "Content-Type: application/merge-patch+json" in lines
    assert "Content-Length: 8" in lines and body == b'{"a": 1}'
    assert not any(line.startswith("Authorization") for line in lines)  # plain http://: as kubectl


# ---- 429 and silence ---------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_answers(wire: Any) -> None:
    busy = answer("429 Too Many Requests", b'{"kind":"Status","message":"slow down","code":429}', "Retry-After: 0")
    server = wire(serve_each(busy, busy, answer()))
    with client() as c:
        assert c.get("/api/v1/x") == OBJ
    assert len(server.requests) == 3 and server.connections == 1


def test_429_for_ever_gives_up_after_three_retries(wire: Any) -> None:
    busy = answer("429 Too Many Requests", b"", "Retry-After: 0")
    server = wire(serve_each(busy))
    with client() as c, pytest.raises(ServerError, match="the API server answered 429 Too Many Requests") as e:
        c.get("/api/v1/x")
    assert e.value.exit_code == 1
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    "sent", [b"", b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"kind"'], ids=["nothing", "half"]
)
def test_a_server_that_never_answers_is_cut_by_the_request_timeout(wire: Any, sent: bytes) -> None:
    wire(endless(sent))
    t0 = time.monotonic()
    r = run_cli("status", "ws", "--request-timeout", "0.5s")
    assert time.monotonic() - t0 < 5
    assert r.exit_code == 4 and r.stdout == ""
    one_error_line(r.stderr, "timed out after 0.5s waiting for the API server")


# ---- start-up: the plain cluster path imports no http.client -----------------------------------------------


def test_get_endpoint_imports_neither_http_client_nor_email(sim: Any) -> None:
    sim.seed_workspace("ws")
    code = textwrap.dedent(
        """
        import sys
        from kubectl_kaito import cli
        from tests.helpers import fake_console
        console = fake_console(None)
        code = cli.main(["get-endpoint", "ws"], console=console)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("http", "email"))
        print(code, console.stdout.getvalue().strip(), heavy)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0 http://ws.default.svc.cluster.local/v1/chat/completions []"
