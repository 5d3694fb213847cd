"""`connect`'s relay: a local HTTP endpoint that passes every request through the API server's
service proxy to a workspace's Service, so an OpenAI SDK, an IDE or curl can use the model.

Requests and answers pass through unchanged (method, path, query, body, status, headers), except:
- the caller's own credentials (Authorization, Proxy-Authorization, Cookie) and Kubernetes
  impersonation headers are dropped: the kubeconfig's credentials replace them, and they go only
  to the API server (the httpx client of `Resources.http_client` has base_url = the API server and
  the request URL is always a path under the service proxy, never a URL from the caller);
- paths with `.` or `..` segments are refused (400), so nobody can climb out of the service proxy
  into the rest of the API with the cluster credentials;
- hop-by-hop headers are the relay's own (HTTP/1.1 keep-alive, chunked framing).
Answers stream: each piece goes out as soon as it arrives (Server-Sent Events unbuffered).

One thread per connection (ThreadingHTTPServer); the one httpx.Client pools upstream connections.
httpx is imported only inside functions.
"""

from __future__ import annotations

import errno
import json
import signal
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from kubectl_kaito.errors import KaitoError

if TYPE_CHECKING:
    import httpx

    from kubectl_kaito.inference import ChatClient
    from kubectl_kaito.resources import Resources

MAX_BODY = 64 * 1024 * 1024  # a request body larger than this is refused (413): it would be held in memory
# Hop-by-hop headers (RFC 9110 7.6.1) and framing: each side of the relay has its own.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "expect",
    }
)
# The caller's credentials never reach the cluster: the kubeconfig's credentials replace them.
CALLER_ONLY = frozenset({"authorization", "proxy-authorization", "cookie", "user-agent"})
# Headers the API server itself acts on (impersonation, front-proxy identity): never from the caller.
CLUSTER_PREFIXES = ("impersonate-", "x-remote-")


@dataclass
class Upstream:
    """Where the relay sends requests: the service-proxy path prefix and the authenticated client."""

    client: ChatClient
    prefix: str  # the service proxy path, no trailing slash (from resources.proxy_path)
    models: list[str] = field(default_factory=list)

    @property
    def http(self) -> httpx.Client:
        return self.client.http

    @property
    def where(self) -> str:
        return self.client.target.where

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_upstream(cluster: Resources, workspace: str, namespace: str, timeout: float | None) -> Upstream:
    """Check the workspace as `chat` does (missing: exit 3; not ready or not answering /v1/models:
    exit 4; a tuning workspace: exit 1) and return where to relay to, with the served model ids."""
    from kubectl_kaito import inference  # noqa: PLC0415

    client = inference.open_workspace(cluster, workspace, namespace, timeout)
    try:
        models = client.models()
        details = client.target.details
        prefix = cluster.proxy_path(namespace, details["service"], details["port"]).rstrip("/")
    except BaseException:
        client.close()
        raise
    return Upstream(client, prefix, models)


# ---- request checks and header filters (pure) -----------------------------------------------------


def safe_path(target: str) -> bool:
    """A request target the relay may append to the service-proxy prefix: an origin-form path
    (`/v1/...`, not `http://host/...`) with no `.`/`..` segment, raw or percent-encoded."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    path = target.split("?", 1)[0].split("#", 1)[0]
    for text in (path, unquote(path)):
        if "\\" in text or any(seg in (".", "..") for seg in text.split("/")):
            return False
    return True


def request_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The caller's headers that go on to the model: no hop-by-hop, no caller credentials, nothing
    the API server would act on. Accept-Encoding passes (the body comes back as sent, still encoded);
    without one we ask for `identity`, since httpx would otherwise ask for gzip on the caller's behalf."""
    out = []
    for name, value in items:
        low = name.lower()
        if low in HOP_BY_HOP or low in CALLER_ONLY or low.startswith(CLUSTER_PREFIXES):
            continue
        out.append((name, value))
    if not any(name.lower() == "accept-encoding" for name, _ in out):
        out.append(("Accept-Encoding", "identity"))
    return out


def response_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answer's headers that go back to the caller (all but hop-by-hop and framing)."""
    return [(n, v) for n, v in items if n.lower() not in HOP_BY_HOP]


def error_body(status: int, message: str) -> bytes:
    """An OpenAI-style error object, so SDKs show the relay's own failures like the model's."""
    return json.dumps({"error": {"message": message, "type": "kubectl_kaito_connect", "code": status}}).encode()


# ---- the server ------------------------------------------------------------------------------------


class RelayServer(ThreadingHTTPServer):
    """One thread per connection; threads are daemons so Ctrl-C never waits for an open stream."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        upstream: Upstream,
        log: Callable[[str], None],
        warn: Callable[[str], None],
        verbose: bool,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.upstream = upstream
        self.log = log
        self.warn = warn
        self.verbose = verbose
        self._log_lock = threading.Lock()
        super().__init__(address, RelayHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn): slow or hanging without DNS.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback to sys.stderr; one line instead (never a traceback).
        import sys as _sys  # noqa: PLC0415

        exc = _sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return
        self.report(
            f"connect: a request from {client_address[0]} failed: {exc.__class__.__name__}: {exc}", warning=True
        )

    def report(self, line: str, *, warning: bool = False) -> None:
        """One line on stderr, never interleaved with another thread's."""
        with self._log_lock:
            (self.warn if warning else self.log)(line)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class RelayHandler(BaseHTTPRequestHandler):
    """Relays one request at a time on its connection (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    server: RelayServer

    # every method is relayed the same way; the model server says which it allows
    def do_GET(self) -> None:
        self._relay()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def setup(self) -> None:
        super().setup()
        # Each SSE event is its own small write: without TCP_NODELAY, Nagle's algorithm holds it
        # until the caller's delayed ACK (~40 ms on Linux) and the stream would arrive in bursts.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        # http.server writes to sys.stderr; the relay reports through the console (`-v`), and a
        # malformed request line is worth a line only when asked.
        if self.server.verbose:
            line = format % args
            self.server.report("connect: " + (line if line.isprintable() else repr(line)[1:-1]))

    def _request_label(self) -> str:
        """`POST /v1/chat/completions` for stderr: a caller's control characters (terminal escape
        sequences) are shown escaped, never written raw."""
        text = f"{self.command} {self.path}"
        return text if text.isprintable() else repr(text)[1:-1]

    def _local_answer(self, status: int, message: str) -> None:
        """An answer from the relay itself (the request never reached the model), with a warning."""
        body = error_body(status, message)
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None after answering 400/413 itself."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    self.close_connection = True
                    self._local_answer(400, "malformed chunked request body")
                    return None
                if size == 0:
                    while self.rfile.readline(8192).strip():  # trailers: read and dropped
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    self._local_answer(413, f"request body larger than {MAX_BODY} bytes")
                    return None
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._local_answer(400, f"invalid Content-Length {raw!r}")
            return None
        if length > MAX_BODY:
            self.close_connection = True
            self._local_answer(413, f"request body larger than {MAX_BODY} bytes")
            return None
        return self.rfile.read(length)

    def _relay(self) -> None:
        import httpx  # noqa: PLC0415

        t0 = time.monotonic()
        server = self.server
        status: int | str = "-"
        try:
            status = self._exchange(httpx, server)
        except (BrokenPipeError, ConnectionResetError):  # the caller went away mid-answer
            self.close_connection = True
            status = f"{status} (caller disconnected)"
        finally:
            if server.verbose:
                server.report(f"{self._request_label()} {status} {time.monotonic() - t0:.3f}s")

    def _exchange(self, httpx: Any, server: RelayServer) -> int:
        """Relay one request; the status the caller got."""
        if not safe_path(self.path):
            self.close_connection = True
            self._local_answer(400, f"refused request target {self.path!r}: only paths under / without . or ..")
            return 400
        body = self._read_body()
        if body is None:
            return 400
        up = server.upstream
        try:
            request = up.http.build_request(
                self.command, up.prefix + self.path, content=body, headers=request_headers(self.headers.items())
            )
            response = up.http.send(request, stream=True)
        except httpx.TimeoutException:
            message = f"{up.where} sent nothing in time"
            server.report(f"{self._request_label()}: {message}", warning=True)
            self._local_answer(504, message)
            return 504
        except httpx.HTTPError as exc:
            message = f"cannot reach the Kubernetes API server to talk to {up.where}: {exc}"
            server.report(f"{self._request_label()}: {message}", warning=True)
            self._local_answer(502, message)
            return 502
        except KaitoError as err:  # the credentials failed (an exec plugin that cannot log in, ...)
            message = f"cannot authenticate to the Kubernetes API server: {err.message}"
            server.report(f"{self._request_label()}: {message}", warning=True)
            self._local_answer(502, message)
            return 502
        try:
            self._answer(httpx, response, server)
        finally:
            response.close()
        return response.status_code

    def _answer(self, httpx: Any, response: httpx.Response, server: RelayServer) -> None:
        """Status, headers, then the body piece by piece as it arrives."""
        self.send_response_only(response.status_code, response.reason_phrase or None)
        for name, value in response_headers(response.headers.multi_items()):
            self.send_header(name, value)
        length = response.headers.get("Content-Length")
        head = self.command == "HEAD" or response.status_code in (204, 304) or 100 <= response.status_code < 200
        chunked = False
        if head:
            if length is not None:
                self.send_header("Content-Length", length)
        elif length is not None and "transfer-encoding" not in response.headers:
            self.send_header("Content-Length", length)
        elif self.request_version == "HTTP/1.1":
            self.send_header("Transfer-Encoding", "chunked")
            chunked = True
        else:  # an HTTP/1.0 caller: the end of the body is the end of the connection
            self.close_connection = True
        self.end_headers()
        if head:
            return
        try:
            # iter_raw: the bytes as the server sent them (still gzip if it gzipped), each piece
            # written at once: wfile is unbuffered, so an SSE event leaves as soon as it arrives.
            for piece in response.iter_raw():
                if not piece:
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        except httpx.HTTPError as exc:
            # The answer broke half way: the caller must see a broken answer, not a complete one,
            # so the connection closes without the last chunk.
            self.close_connection = True
            server.report(
                f"{self._request_label()}: the answer from {server.upstream.where} broke: {exc}", warning=True
            )
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def listen(
    upstream: Upstream,
    address: str,
    port: int,
    *,
    log: Callable[[str], None],
    warn: Callable[[str], None],
    verbose: bool = False,
) -> RelayServer:
    """Bind the relay (port 0: a free one). A port in use or not allowed -> KaitoError (exit 1)."""
    try:
        return RelayServer((address, port), upstream, log, warn, verbose)
    except OSError as exc:
        why = {
            errno.EADDRINUSE: "the address is already in use",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "that address is not on this machine",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        raise KaitoError(
            f"cannot listen on {host_port(address, port)}: {why}",
            hint="choose another --port (--port 0 picks a free one)",
            details={"address": address, "port": port},
        ) from None


def host_port(address: str, port: int) -> str:
    """`127.0.0.1:8080`, `[::1]:8080`."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def is_loopback(address: str) -> bool:
    import ipaddress  # noqa: PLC0415

    return ipaddress.ip_address(address).is_loopback


def base_url(server: RelayServer, address: str) -> str:
    """The OpenAI base URL a client on this machine uses (a wildcard address is reached on loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)
    return f"http://{host_port(host, server.port)}/v1"


class Terminated(Exception):
    """SIGTERM arrived (`kill PID`): stop serving, exit 0."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While serving, SIGTERM raises `Terminated` in the main thread (a background relay, started
    with `&`, ignores SIGINT in a non-interactive shell, so `kill PID` is how it is stopped)."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding test): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
