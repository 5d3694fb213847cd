"""The only module that talks to the Kubernetes API server.

Transport is stdlib `http.client` over `ssl` (no `kubernetes`, no `httpx` on the normal path:
start-up time matters for a kubectl plugin). Connections are kept alive and reused within the
process. Every failure leaves as a `KaitoError` subclass:

- cannot connect (refused, DNS, TLS, proxy, connect timeout) -> ClusterUnavailableError (exit 5)
- 401 -> UnauthorizedError (after re-asking an exec plugin once), 403 -> ForbiddenError,
  404 -> NotFoundError, 409 -> ConflictError, 400/422 -> InvalidError, 5xx -> ServerError
- a read that outlives `--request-timeout` -> WaitTimeoutError

`timeout` has kubectl's `--request-timeout` meaning: per request, None/0 = none. It bounds
connecting and non-streaming reads; watches and `logs -f` are not cut off by it.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from kubectl_kaito import __version__, kaito
from kubectl_kaito.errors import (
    ClusterUnavailableError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    KaitoError,
    NotFoundError,
    NotReadyError,
    ProviderNotInstalledError,
    ServerError,
    UnauthorizedError,
    UsageError,
    WaitTimeoutError,
)
from kubectl_kaito.kubeconfig import (
    ClusterConfig,
    Credentials,
    check_proxy_url,
    proxy_credentials,
    proxy_display,
)
from kubectl_kaito.kubeconfig import (
    ssl_context as build_ssl_context,
)

if TYPE_CHECKING:
    import httpx

# Without --request-timeout, connecting (TCP + proxy + TLS handshake) still gives up after this
# long, so an unreachable cluster fails in seconds, not minutes.
CONNECT_TIMEOUT = 5.0
MAX_IDLE_CONNECTIONS = 4
MAX_RETRY_AFTER = 3  # 429/503 with Retry-After: retries, each waiting at most 5 s
USER_AGENT = f"kubectl-kaito/{__version__} (python)"
JSON = "application/json"
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# ---- sockets: proxies and TLS ------------------------------------------------------------------


class _ProxyError(OSError):
    """The proxy refused or broke the CONNECT tunnel."""


class _RawReader(io.RawIOBase):
    """Lets http.client `makefile()` a socket stand-in that only has recv_into."""

    def __init__(self, sock: _TLSInTLS) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._sock.recv_into(b)


class _TLSInTLS:
    """TLS to the API server inside TLS to an https:// proxy: the ssl module cannot wrap an SSLSocket
    twice, so the inner session runs over memory BIOs. Only what http.client uses is provided."""

    def __init__(self, sock: ssl.SSLSocket, ctx: ssl.SSLContext, server_hostname: str) -> None:
        self._sock = sock
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = ctx.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._io(self._tls.do_handshake)

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self._sock.sendall(data)

    def _io(self, fn: Callable[..., Any], *args: Any) -> Any:
        while True:
            try:
                result = fn(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self._sock.recv(65536)
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
                continue
            self._flush()
            return result

    def sendall(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        while view:
            view = view[self._io(self._tls.write, view) :]

    def recv(self, n: int) -> bytes:
        try:
            return self._io(self._tls.read, n)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def recv_into(self, buf: Any, nbytes: int = 0) -> int:
        data = self.recv(nbytes or len(buf))
        buf[: len(data)] = data
        return len(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_RawReader(self))

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._sock.gettimeout()

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


def _connect_tunnel(sock: Any, host: str, port: int, auth: str | None) -> None:
    """HTTP CONNECT through a proxy; the reply is read up to its blank line and nothing beyond
    (the server speaks only after our TLS ClientHello or request)."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", f"User-Agent: {USER_AGENT}"]
    if auth:
        lines.append(f"Proxy-Authorization: Basic {auth}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise _ProxyError("the proxy closed the connection during CONNECT")
        buf += chunk
        if len(buf) > 65536:
            raise _ProxyError("the proxy sent an oversized CONNECT reply")
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(None, 2)
    if len(status) < 2 or not status[1].isdigit():
        raise _ProxyError("the proxy sent an invalid CONNECT reply")
    if status[1] != "200" or rest:
        raise _ProxyError(f"the proxy refused CONNECT: {' '.join(status[1:])}")


class _Connection(http.client.HTTPConnection):
    """One keep-alive HTTP/1.1 connection to the API server: optionally through a CONNECT proxy
    (http or https), then TLS with our own server_hostname (tls-server-name)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: bool,
        ctx: ssl.SSLContext | None,
        server_hostname: str,
        proxy: tuple[str, int, bool, str | None] | None,
        connect_timeout: float | None,
    ) -> None:
        # host/port stay the API server's, so http.client writes the right Host header.
        super().__init__(host, port, timeout=connect_timeout)
        self.default_port = 443 if tls else 80
        self.ctx = ctx
        self._tls = tls
        self._server_hostname = server_hostname
        self._proxy = proxy  # (host, port, is_tls, basic credentials)

    def connect(self) -> None:
        """TCP (to the proxy or the server), CONNECT, TLS; raises OSError/ssl.SSLError/_ProxyError."""
        address = (self._proxy[0], self._proxy[1]) if self._proxy else (self.host, self.port)
        sock: Any = socket.create_connection(address, self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._proxy:
                p_host, _, p_tls, p_auth = self._proxy
                if p_tls:
                    assert self.ctx is not None
                    sock = self.ctx.wrap_socket(sock, server_hostname=p_host)  # as Go: same TLS config
                _connect_tunnel(sock, self.host, self.port, p_auth)
                if self._tls and p_tls:
                    assert self.ctx is not None
                    sock = _TLSInTLS(sock, self.ctx, self._server_hostname)
                elif self._tls:
                    assert self.ctx is not None
                    sock = self.ctx.wrap_socket(sock, server_hostname=self._server_hostname)
            elif self._tls:
                assert self.ctx is not None
                sock = self.ctx.wrap_socket(sock, server_hostname=self._server_hostname)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


# ---- proxies from the environment (Go's http.ProxyFromEnvironment) ---------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # noqa: PLC0415

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _no_proxy(host: str, port: int, no_proxy: str) -> bool:
    """Go's NO_PROXY matching: "*", IPs, CIDRs, "host[:port]", "domain" and ".domain"."""
    import ipaddress  # noqa: PLC0415

    host = host.lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            net = None
        if net is not None:
            if ip is not None and ip in net:
                return True
            continue
        entry_port = None
        name = entry
        if name.startswith("[") and "]" in name:
            name, _, rest = name[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif name.count(":") == 1:
            name, _, p = name.partition(":")
            if p.isdigit():
                entry_port = int(p)
        if entry_port is not None and entry_port != port:
            continue
        if name.startswith("*."):
            name = name[1:]
        if name.startswith("."):
            if host.endswith(name):
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(cfg: ClusterConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy to use: the kubeconfig's proxy-url, else HTTPS_PROXY/HTTP_PROXY minus NO_PROXY
    (never for loopback hosts), as kubectl does."""
    if cfg.proxy_url:
        return cfg.proxy_url
    env = os.environ if env is None else env
    parts = urlsplit(cfg.server)
    host = parts.hostname or ""
    if not host or _is_loopback(host):
        return None
    if parts.scheme == "https":
        value = env.get("HTTPS_PROXY") or env.get("https_proxy")
    else:
        value = env.get("HTTP_PROXY") or env.get("http_proxy")
    if not value:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if _no_proxy(host, port, env.get("NO_PROXY") or env.get("no_proxy") or ""):
        return None
    if "://" not in value:
        value = "http://" + value
    return check_proxy_url(value, cfg.cluster_name or "?")


# ---- responses and errors --------------------------------------------------------------------------


class Response:
    """An open streaming response (watch, logs -f): read it, then `close()` (or use `with`)."""

    def __init__(
        self, resp: http.client.HTTPResponse, conn: _Connection, on_error: Callable[[BaseException], KaitoError]
    ) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self._resp = resp
        self._conn = conn
        self._on_error = on_error

    def readline(self) -> bytes:
        """One line including its b"\\n" (the last may lack it); b"" when the server is done."""
        try:
            return self._resp.readline()
        except http.client.IncompleteRead as e:
            return bytes(e.partial)  # the server closed mid-chunk: what arrived is all there is
        except (OSError, http.client.HTTPException) as e:
            raise self._on_error(e) from None

    def read1(self, size: int = 65536) -> bytes:
        """What is available now (at least one byte, waiting only if nothing is); b"" at the end."""
        try:
            return self._resp.read1(size)
        except http.client.IncompleteRead as e:
            return bytes(e.partial)
        except (OSError, http.client.HTTPException) as e:
            raise self._on_error(e) from None

    def read(self) -> bytes:
        """The rest of the body."""
        try:
            return self._resp.read()
        except http.client.IncompleteRead as e:
            return bytes(e.partial)
        except (OSError, http.client.HTTPException) as e:
            raise self._on_error(e) from None

    def iter_lines(self) -> Iterator[bytes]:
        """Lines as they arrive; ends when the server closes the stream."""
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def close(self) -> None:
        """Close the response and its connection (a stream's connection is never reused)."""
        try:
            self._resp.close()
        finally:
            self._conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def status_message(body: bytes | str | dict[str, Any] | None) -> tuple[str, str, str]:
    """(message, reason, details.name) of a Kubernetes Status body; else the body's text (trimmed).

    A 404 for a missing object names it in details.name; a 404 for a resource type the server
    does not serve (KAITO not installed) has no name."""
    obj: Any = body
    if isinstance(body, (bytes, str)):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            obj = json.loads(text)
        except ValueError:
            return " ".join(text.split())[:500], "", ""
    if isinstance(obj, dict) and (obj.get("kind") == "Status" or "message" in obj):
        details = obj.get("details")
        name = details.get("name") if isinstance(details, dict) else None
        return str(obj.get("message") or ""), str(obj.get("reason") or ""), str(name or "")
    return "", "", ""


# ---- the client --------------------------------------------------------------------------------------


class Cluster:
    """A client for one API server (from a resolved ClusterConfig). Thread-safe."""

    def __init__(
        self,
        cfg: ClusterConfig,
        *,
        timeout: float | None = None,
        verbose: int = 0,
        log: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = cfg
        self.server = cfg.server
        self.namespace = cfg.namespace
        self.context = cfg.context
        self.timeout: float | None = timeout if timeout and timeout > 0 else None
        self.verbose = verbose
        self._log = log or _stderr_line
        parts = urlsplit(cfg.server)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")  # e.g. Rancher's /k8s/clusters/c-xxxx
        self._server_hostname = cfg.tls_server_name or self._host
        self._connect_timeout = self.timeout or CONNECT_TIMEOUT
        self.proxy_url = proxy_for(cfg, env)
        self._proxy: tuple[str, int, bool, str | None] | None = None
        if self.proxy_url:
            pp = urlsplit(self.proxy_url)
            p_tls = pp.scheme == "https"
            self._proxy = (
                pp.hostname or "",
                pp.port or (443 if p_tls else 80),
                p_tls,
                proxy_credentials(self.proxy_url),
            )
        self.credentials = Credentials(cfg, env=env)
        # kubectl (client-go) sends no credentials at all to a plain http:// server.
        self._use_credentials = self._tls
        self._lock = threading.Lock()
        self._ctx: ssl.SSLContext | None = None
        self._ctx_cert: tuple[bytes, bytes] | None = None
        self._idle: list[_Connection] = []
        self._workspace_version: str | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        *,
        timeout: float | None = None,
        verbose: int = 0,
    ) -> Cluster:
        """Load the kubeconfig (kubectl's rules) and build a client for it."""
        from kubectl_kaito.kubeconfig import load  # noqa: PLC0415

        return cls(load(kubeconfig, context, namespace), timeout=timeout, verbose=verbose)

    def close(self) -> None:
        """Close idle keep-alive connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections ---------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context (CA, client certificate from the kubeconfig or exec plugin); rebuilt when
        an exec plugin hands out a new certificate."""
        cert = self.credentials.client_cert() if self._use_credentials else None
        with self._lock:
            if self._ctx is None or cert != self._ctx_cert:
                self._ctx = build_ssl_context(self.config, cert)
                self._ctx_cert = cert
                stale, self._idle = self._idle, []
                for conn in stale:
                    conn.close()
            return self._ctx

    def _acquire(self, fresh: bool) -> tuple[_Connection, bool]:
        need_tls = self._tls or bool(self._proxy and self._proxy[2])
        ctx = self.ssl_context() if need_tls else None
        if not fresh:
            with self._lock:
                while self._idle:
                    conn = self._idle.pop()
                    if conn.ctx is ctx and conn.sock is not None:
                        return conn, True
                    conn.close()
        conn = _Connection(
            self._host,
            self._port,
            tls=self._tls,
            ctx=ctx,
            server_hostname=self._server_hostname,
            proxy=self._proxy,
            connect_timeout=self._connect_timeout,
        )
        return conn, False

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS and conn.ctx is self._ctx:
                self._idle.append(conn)
                return
        conn.close()

    def _hint_cluster(self) -> str:
        ctx = f" --context {self.context}" if self.context else ""
        return f"is the cluster running and reachable? check: kubectl cluster-info{ctx}"

    def _connect_error(self, e: BaseException) -> KaitoError:
        where = f"the Kubernetes API server at {self.server}"
        details = {"server": self.server}
        via = f" (through the proxy {proxy_display(self.proxy_url)})" if self.proxy_url else ""
        if isinstance(e, _ProxyError):
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: {e}",
                hint="check proxy-url in the kubeconfig (or HTTPS_PROXY/NO_PROXY)",
                details=details,
            )
        if isinstance(e, ssl.SSLCertVerificationError):
            reason = e.verify_message or e.reason or "certificate verify failed"
            return ClusterUnavailableError(
                f"cannot connect to {where}: TLS certificate verification failed ({reason})",
                hint="the server's certificate does not match certificate-authority(-data) or the server name "
                f'(tls-server-name) of cluster "{self.config.cluster_name}" in {self.config.source}; '
                "get a fresh kubeconfig for this cluster",
                details=details,
            )
        if isinstance(e, ssl.SSLError):
            return ClusterUnavailableError(
                f"cannot connect to {where}: TLS handshake failed ({e.reason or e.__class__.__name__})",
                hint="is the server URL right, and does the server speak TLS? " + self._hint_cluster(),
                details=details,
            )
        if isinstance(e, socket.gaierror):
            name = self._proxy[0] if self._proxy else self._host
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: cannot resolve the host name {name}",
                hint=self._hint_cluster(),
                details=details,
            )
        if isinstance(e, TimeoutError):
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: no answer within {self._connect_timeout:g}s",
                hint=self._hint_cluster() + " (or raise --request-timeout)",
                details=details,
            )
        if isinstance(e, ConnectionRefusedError):
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: connection refused", hint=self._hint_cluster(), details=details
            )
        text = getattr(e, "strerror", None) or str(e) or e.__class__.__name__
        return ClusterUnavailableError(
            f"cannot connect to {where}{via}: {text}", hint=self._hint_cluster(), details=details
        )

    def _read_error(self, e: BaseException, method: str, url: str) -> KaitoError:
        if isinstance(e, TimeoutError):
            return WaitTimeoutError(
                f"{method} {self.server}{url} timed out after {self.timeout:g}s waiting for the API server"
                if self.timeout
                else f"{method} {self.server}{url} timed out waiting for the API server",
                hint="raise --request-timeout (0 means no timeout)",
            )
        if isinstance(e, KaitoError):
            return e
        text = getattr(e, "strerror", None) or str(e) or e.__class__.__name__
        return ClusterUnavailableError(
            f"the connection to the Kubernetes API server at {self.server} broke: {text}",
            hint=self._hint_cluster(),
            details={"server": self.server},
        )

    # -- the request loop ----------------------------------------------------------------------

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        if not path.startswith("/"):
            path = "/" + path
        url = self._prefix + path
        if query:
            items: list[tuple[str, str]] = []
            for key, value in query.items():
                if value is None:
                    continue
                values = value if isinstance(value, (list, tuple)) else [value]
                for v in values:
                    items.append((key, ("true" if v else "false") if isinstance(v, bool) else str(v)))
            if items:
                url += "?" + urlencode(items)
        return url

    def _headers(self, accept: str, content_type: str | None, auth: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        if auth:
            headers["Authorization"] = auth
        return headers

    def _log_request(self, method: str, url: str, status: int | str, t0: float, headers: Mapping[str, str]) -> None:
        if self.verbose < 1:
            return
        ms = (time.monotonic() - t0) * 1000
        self._log(f"{method} {self.server}{url} {status} {ms:.0f}ms")
        if self.verbose >= 2:
            for k, v in headers.items():
                if k.lower() == "authorization":
                    v = v.split(" ", 1)[0] + " <redacted>"
                self._log(f"  {k}: {v}")

    def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        *,
        stream: bool,
        stream_timeout: float | None = None,
    ) -> tuple[_Connection, http.client.HTTPResponse]:
        """One exchange up to the response headers; a stale keep-alive connection is retried once.
        Reads time out after --request-timeout, or `stream_timeout` for streams (None = never)."""
        read_timeout = stream_timeout if stream else self.timeout
        for attempt in (0, 1):
            conn, reused = self._acquire(fresh=stream or attempt > 0)
            t0 = time.monotonic()
            if conn.sock is None:
                try:
                    conn.connect()
                except (OSError, ssl.SSLError) as e:
                    conn.close()
                    self._log_request(method, url, "ERROR", t0, headers)
                    raise self._connect_error(e) from None
            conn.sock.settimeout(read_timeout)
            try:
                conn.request(method, url, body=data, headers=headers)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as e:
                conn.close()
                if reused and attempt == 0:
                    continue  # the server had closed this idle keep-alive connection
                self._log_request(method, url, "ERROR", t0, headers)
                raise self._read_error(e, method, url) from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self._log_request(method, url, "ERROR", t0, headers)
                raise self._read_error(e, method, url) from None
            self._log_request(method, url, resp.status, t0, headers)
            return conn, resp
        raise AssertionError("unreachable")

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
        stream: bool = False,
        stream_timeout: float | None = None,
    ) -> tuple[_Connection, http.client.HTTPResponse, bytes | None]:
        """Send with auth; 401 re-asks the exec plugin once; Retry-After is honoured a few times.
        Returns (conn, resp, body): body is already read for errors and non-streams."""
        url = self._url(path, query)
        data: bytes | None
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        refreshed = False
        retries = 0
        while True:
            auth = self.credentials.authorization() if self._use_credentials else None
            headers = self._headers(accept, content_type if data is not None else None, auth)
            conn, resp = self._send(method, url, data, headers, stream=stream, stream_timeout=stream_timeout)
            status = resp.status
            if stream and 200 <= status < 300:
                return conn, resp, None
            try:
                payload = resp.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise self._read_error(e, method, url) from None
            if resp.will_close or stream:
                conn.close()
            else:
                self._release(conn)
            if status == 401 and not refreshed and self._use_credentials and self.credentials.refreshable:
                refreshed = True
                if self.credentials.refresh():
                    continue
            retry_after = resp.getheader("Retry-After")
            if status in (429, 503) and retry_after and retries < MAX_RETRY_AFTER:
                retries += 1
                try:
                    delay = min(max(float(retry_after), 0.0), 5.0)
                except ValueError:
                    delay = 1.0
                time.sleep(delay)
                continue
            return conn, resp, payload

    def api_error(self, status: int, body: bytes | str | dict[str, Any] | None, *, what: str = "") -> KaitoError:
        """The KaitoError for an API server answer (also for service-proxy responses via httpx)."""
        message, reason, name = status_message(body)
        details: dict[str, Any] = {"status": status}
        if reason:
            details["reason"] = reason
        if name:
            details["name"] = name
        if status == 401:
            return UnauthorizedError(
                f"the API server at {self.server} did not accept the credentials of user "
                f'"{self.config.user}" ({message or "Unauthorized"})',
                hint="log in again or refresh the kubeconfig (expired token or certificate?); "
                f"check: kubectl auth whoami{' --context ' + self.context if self.context else ''}",
                details=details,
            )
        if not message:
            phrase = http.client.responses.get(status, "")
            message = f"{what + ': ' if what else ''}the API server answered {status} {phrase}".strip()
        if status == 403:
            return ForbiddenError(
                message, hint="ask a cluster admin for the RBAC permission named above", details=details
            )
        if status == 404:
            return NotFoundError(message, details=details)
        if status == 409:
            return ConflictError(message, details=details)
        if status in (400, 422):
            return InvalidError(message, details=details)
        if status == 504 or reason == "Timeout":
            return WaitTimeoutError(message, details=details)
        return ServerError(message, details=details)

    # -- generic REST --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = JSON,
        stream: bool = False,
        accept: str = JSON,
    ) -> Any:
        """One API call. `body`: dict/list (sent as JSON), str or bytes. Returns the decoded JSON (or
        text when the answer is not JSON); with `stream=True` an open `Response` to read and close."""

        def send(p: str) -> tuple[_Connection, http.client.HTTPResponse, bytes | None]:
            conn, resp, payload = self._exchange(
                method, p, query=query, body=body, content_type=content_type, accept=accept, stream=stream
            )
            if not 200 <= resp.status < 300:
                raise self.api_error(resp.status, payload)
            return conn, resp, payload

        try:
            conn, resp, payload = send(path)
        except NotFoundError as e:
            retry = self._recheck_workspace_version(path, e)
            if retry is None:
                raise
            path = retry
            conn, resp, payload = send(path)
        self._confirm_workspace_version(path)
        if stream:
            url = self._url(path, query)
            return Response(resp, conn, lambda e: self._read_error(e, method, url))
        assert payload is not None
        ctype = resp.getheader("Content-Type") or ""
        if not payload:
            return {}
        if "json" in ctype or payload[:1] in (b"{", b"["):
            try:
                return json.loads(payload)
            except ValueError:
                pass
        return payload.decode("utf-8", "replace")

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET one object (or any JSON document)."""
        return self.request("GET", path, query=query)

    def list(self, path: str, query: Mapping[str, Any] | None = None, *, page_size: int = 500) -> dict[str, Any]:
        """GET a collection, following limit/continue. Returns the first page's envelope with all
        items merged: {"kind", "apiVersion", "metadata": {"resourceVersion"}, "items": [...]}."""
        for attempt in (0, 1):
            q: dict[str, Any] = dict(query or {})
            items: list[Any] = []
            first: dict[str, Any] | None = None
            token: str | None = None
            try:
                while True:
                    if page_size:
                        q["limit"] = page_size
                    if token:
                        q["continue"] = token
                    page = self.get(path, q)
                    items.extend(page.get("items") or [])
                    if first is None:
                        first = page
                    token = (page.get("metadata") or {}).get("continue") or None
                    if not token:
                        break
            except ServerError as e:
                # 410 Gone: the continue token expired (etcd compacted); start over once, as client-go does.
                if e.details.get("status") == 410 and token and attempt == 0:
                    continue
                raise
            assert first is not None
            result = {k: v for k, v in first.items() if k != "items"}
            meta = dict(first.get("metadata") or {})
            meta.pop("continue", None)
            meta.pop("remainingItemCount", None)
            result["metadata"] = meta
            result["items"] = items
            return result
        raise AssertionError("unreachable")

    def create(self, path: str, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST an object to a collection; `dry_run` asks the server to validate only (dryRun=All)."""
        return self.request("POST", path, query={"dryRun": "All"} if dry_run else None, body=obj)

    def replace(self, path: str, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """PUT an object (needs metadata.resourceVersion for optimistic concurrency)."""
        return self.request("PUT", path, query={"dryRun": "All"} if dry_run else None, body=obj)

    def delete(self, path: str, *, dry_run: bool = False, propagation: str = "Background") -> dict[str, Any]:
        """DELETE an object; returns the object (being deleted) or a Status."""
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        if dry_run:
            options["dryRun"] = ["All"]
        return self.request("DELETE", path, query={"dryRun": "All"} if dry_run else None, body=options)

    def patch(
        self, path: str, patch: dict[str, Any] | list[Any], *, patch_type: str = "merge", dry_run: bool = False
    ) -> dict[str, Any]:
        """PATCH an object; patch_type: merge (default), strategic, json (a list of ops)."""
        try:
            ctype = PATCH_TYPES[patch_type]
        except KeyError:
            raise UsageError(f"unknown patch type {patch_type!r}; use one of {', '.join(PATCH_TYPES)}") from None
        return self.request("PATCH", path, query={"dryRun": "All"} if dry_run else None, body=patch, content_type=ctype)

    # -- watch -------------------------------------------------------------------------------

    def watch(
        self,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Watch a collection path; yields {"type": ADDED|MODIFIED|DELETED, "object": {...}}.

        - No resource_version: list first, yield every item as ADDED, then watch from the list's
          resourceVersion (kubectl get -w). With one: changes after it.
        - When the server ends the stream (timeoutSeconds, restarts, proxies) the watch re-opens from
          the last resourceVersion seen; BOOKMARK events move it and are not yielded.
        - 410 Gone: re-list and yield the differences (ADDED, MODIFIED, DELETED for objects that
          vanished meanwhile), then continue from the new list's resourceVersion.
        - `timeout` (seconds, total): when it passes the generator just returns; callers decide
          what that means (e.g. raise WaitTimeoutError). Filter with query labelSelector/fieldSelector.
        """
        deadline = time.monotonic() + timeout if timeout is not None else None
        base = {k: v for k, v in (query or {}).items() if k not in ("watch", "resourceVersion", "timeoutSeconds")}
        known: dict[tuple[str, str], dict[str, Any]] = {}
        rv = resource_version
        if rv is None:
            rv, events = self._relist(path, base, known)
            yield from events
        idle_backoff = 0.0
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            q = dict(base, watch="true", allowWatchBookmarks="true")
            if rv:
                q["resourceVersion"] = rv
            if remaining is not None:
                q["timeoutSeconds"] = max(1, math.ceil(remaining))
            try:
                # With a deadline, the server should end the stream at timeoutSeconds; the socket
                # timeout (a little later) covers a server that does not.
                conn, resp, payload = self._exchange(
                    "GET", path, query=q, stream=True, stream_timeout=None if remaining is None else remaining + 5
                )
            except WaitTimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                raise
            if resp.status == 410:
                rv, events = self._relist(path, base, known)
                yield from events
                continue
            if not 200 <= resp.status < 300:
                raise self.api_error(resp.status, payload)
            got_event = False
            gone = False
            try:
                while True:
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return  # the caller's time is up (finally closes the stream)
                        if conn.sock is not None:
                            conn.sock.settimeout(left)  # timeoutSeconds is whole seconds: be exact here
                    try:
                        line = resp.readline()
                    except TimeoutError:
                        break
                    except (http.client.IncompleteRead, http.client.HTTPException, OSError):
                        break  # stream cut: re-open from rv
                    if not line:
                        break
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        event = json.loads(line)
                    except ValueError:
                        break  # a torn line: re-open from the last complete event
                    etype = event.get("type")
                    obj = event.get("object") or {}
                    if etype == "ERROR":
                        if obj.get("code") == 410:
                            gone = True
                            break
                        raise self.api_error(int(obj.get("code") or 500), obj)
                    new_rv = (obj.get("metadata") or {}).get("resourceVersion")
                    if new_rv:
                        rv = new_rv
                    got_event = True
                    if etype == "BOOKMARK":
                        continue
                    key = _key(obj)
                    if etype == "DELETED":
                        known.pop(key, None)
                    else:
                        known[key] = obj
                    yield {"type": etype, "object": obj}
            finally:
                resp.close()
                conn.close()
            if gone:
                rv, events = self._relist(path, base, known)
                yield from events
                continue
            # A server that closes at once, again and again, must not turn this into a busy loop.
            idle_backoff = 0.0 if got_event else min(max(idle_backoff * 2, 0.05), 1.0)
            if idle_backoff:
                if deadline is not None:
                    idle_backoff = min(idle_backoff, max(deadline - time.monotonic(), 0))
                time.sleep(idle_backoff)

    def _relist(
        self, path: str, query: Mapping[str, Any], known: dict[tuple[str, str], dict[str, Any]]
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """List and diff against what the watcher has seen; updates `known` in place."""
        listing = self.list(path, query)
        events: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for item in listing.get("items") or []:
            key = _key(item)
            seen.add(key)
            old = known.get(key)
            if old is None:
                events.append({"type": "ADDED", "object": item})
            elif (old.get("metadata") or {}).get("resourceVersion") != (item.get("metadata") or {}).get(
                "resourceVersion"
            ):
                events.append({"type": "MODIFIED", "object": item})
            known[key] = item
        for key in [k for k in known if k not in seen]:
            events.append({"type": "DELETED", "object": known.pop(key)})
        return (listing.get("metadata") or {}).get("resourceVersion"), events

    # -- logs --------------------------------------------------------------------------------

    def stream_logs(
        self,
        namespace: str,
        pod: str,
        *,
        container: str | None = None,
        follow: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        since_time: str | None = None,
        timestamps: bool = False,
        previous: bool = False,
    ) -> Iterator[bytes]:
        """A pod's log as whole lines (bytes ending in b"\\n"), as they arrive when `follow`.
        A container still starting (400 "... is waiting to start") raises NotReadyError."""
        query: dict[str, Any] = {
            "container": container,
            "follow": "true" if follow else None,
            "tailLines": tail_lines,
            "sinceSeconds": since_seconds,
            "sinceTime": since_time,
            "timestamps": "true" if timestamps else None,
            "previous": "true" if previous else None,
        }
        path = f"/api/v1/namespaces/{_q(namespace)}/pods/{_q(pod)}/log"
        conn, resp, payload = self._exchange(
            "GET", path, query=query, accept="*/*", stream=True, stream_timeout=None if follow else self.timeout
        )
        if not 200 <= resp.status < 300:
            err = self.api_error(resp.status, payload)
            if resp.status == 400 and ("waiting to start" in err.message or "ContainerCreating" in err.message):
                raise NotReadyError(err.message, hint="wait for the pod to start, then try again", details=err.details)
            raise err
        url = self._url(path, query)
        stream = Response(resp, conn, lambda e: self._read_error(e, "GET", url))
        try:
            # Whatever has arrived (read1: one chunk at most, never waiting for more), split in C:
            # several times faster than a readline per line on a chunked stream.
            pending = b""
            while True:
                data = stream.read1()
                if not data:
                    break
                lines = (pending + data).split(b"\n")
                pending = lines.pop()  # the unfinished tail ("" after a newline)
                for line in lines:
                    yield line + b"\n"
            if pending:
                yield pending + b"\n"
        finally:
            stream.close()

    # -- services through the API server ---------------------------------------------------------

    def proxy_path(self, namespace: str, service: str, port: str | int, path: str = "") -> str:
        """The API server's service-proxy path: /api/v1/namespaces/N/services/NAME:PORT/proxy/PATH."""
        rest = path.lstrip("/")
        return f"/api/v1/namespaces/{_q(namespace)}/services/{_q(service)}:{_q(str(port))}/proxy/{rest}"

    def http_client(self, timeout: float | None = None) -> httpx.Client:
        """An httpx.Client with base_url=server (path prefix included), the same TLS (CA, client
        certificate) and proxy, and the current Authorization (re-asked once on a 401). `timeout`
        defaults to --request-timeout; None = no read timeout (streaming)."""
        import httpx  # noqa: PLC0415  (0.13 s: only callers of the service proxy pay it)

        creds = self.credentials if self._use_credentials else None
        sni = self.config.tls_server_name
        verbose, log, server = self.verbose, self._log, self.server

        class _Auth(httpx.Auth):
            def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
                if sni:
                    request.extensions["sni_hostname"] = sni  # httpcore: SNI and hostname check
                if creds is None:  # plain http://: kubectl sends no credentials either
                    yield request
                    return
                value = creds.authorization()
                if value:
                    request.headers["Authorization"] = value
                response = yield request
                if response.status_code == 401 and creds.refreshable and creds.refresh():
                    value = creds.authorization()
                    if value:
                        request.headers["Authorization"] = value
                    yield request

        def _log_response(response: httpx.Response) -> None:
            req = response.request
            log(f"{req.method} {req.url} {response.status_code}")

        ctx = self.ssl_context() if self._tls or (self._proxy and self._proxy[2]) else None
        proxy: httpx.Proxy | None = None
        if self.proxy_url:
            proxy = (
                httpx.Proxy(self.proxy_url, ssl_context=ctx)
                if self._proxy and self._proxy[2]
                else httpx.Proxy(self.proxy_url)
            )
        t = self.timeout if timeout is None else (timeout or None)
        return httpx.Client(
            base_url=server,
            verify=ctx if ctx is not None else True,
            auth=_Auth(),
            proxy=proxy,
            trust_env=False,  # the proxy decision was made above, as kubectl makes it
            timeout=httpx.Timeout(t, connect=self._connect_timeout),
            headers={"User-Agent": USER_AGENT},
            event_hooks={"response": [_log_response]} if verbose else None,
        )

    # -- KAITO and typed helpers (plain dicts) ---------------------------------------------------

    def server_version(self) -> dict[str, Any]:
        """GET /version (gitVersion, major, minor, ...)."""
        return self.get("/version")

    def workspace_version(self) -> str:
        """The Workspace API version the server serves: v1beta1 when it serves workspaces, else v1alpha1.
        Discovery (/apis/kaito.sh/<version>), asked at most once per process."""
        if self._workspace_version is not None:
            return self._workspace_version
        for version in kaito.VERSIONS:
            try:
                resources = self.get(f"/apis/{kaito.GROUP}/{version}")
            except NotFoundError:
                continue
            names = {r.get("name") for r in resources.get("resources") or [] if isinstance(r, dict)}
            if kaito.PLURAL in names:
                self._workspace_version = version
                return version
        raise ProviderNotInstalledError(
            "KAITO is not installed in this cluster (the workspaces.kaito.sh resource is not served)",
            hint="install it with: kubectl kaito install-provider",
            details={"server": self.server},
        )

    def workspace_path(self, namespace: str | None, name: str | None = None) -> str:
        """/apis/kaito.sh/<version>/namespaces/N/workspaces[/NAME]; namespace None = all namespaces.

        Until a request has confirmed the version, the path names the newest one (v1beta1, what
        KAITO v0.12 serves) without asking discovery first: one round trip fewer for every command.
        request() falls back to discovery when the server does not serve that path."""
        version = self._workspace_version or kaito.VERSIONS[0]
        base = f"/apis/{kaito.GROUP}/{version}"
        path = f"{base}/namespaces/{_q(namespace)}/{kaito.PLURAL}" if namespace else f"{base}/{kaito.PLURAL}"
        return f"{path}/{_q(name)}" if name else path

    def _workspace_version_in(self, path: str) -> str | None:
        """The version in a Workspace resource path (not a discovery path), else None."""
        prefix = f"/apis/{kaito.GROUP}/"
        if not path.startswith(prefix):
            return None
        version, _, rest = path[len(prefix):].partition("/")
        return version if f"/{kaito.PLURAL}" in f"/{rest}" or rest.startswith(kaito.PLURAL) else None

    def _confirm_workspace_version(self, path: str) -> None:
        """A Workspace path that answered proves the server serves its version."""
        if self._workspace_version is None:
            self._workspace_version = self._workspace_version_in(path)

    def _recheck_workspace_version(self, path: str, err: NotFoundError) -> str | None:
        """After a 404 on an unconfirmed Workspace path: was it the object or the resource type?

        A missing object names itself in the Status (the 404 stands). A type the server does not serve
        sends discovery: KAITO not installed raises ProviderNotInstalledError; another served version
        gives the path to retry with."""
        tried = self._workspace_version_in(path)
        if tried is None or self._workspace_version is not None or err.details.get("name"):
            return None
        actual = self.workspace_version()
        if actual == tried:
            return None
        prefix = f"/apis/{kaito.GROUP}/"
        return prefix + actual + path[len(prefix) + len(tried):]

    def get_workspace(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One Workspace; NotFoundError names it and the namespace."""
        ns = namespace or self.namespace
        try:
            return self.get(self.workspace_path(ns, name))
        except NotFoundError as e:
            raise NotFoundError(
                f'workspace "{name}" not found in namespace "{ns}"',
                hint=f"list the workspaces with: kubectl kaito status -n {ns}",
                details={**e.details, "name": name, "namespace": ns},
            ) from None

    def list_workspaces(
        self, namespace: str | None = None, *, all_namespaces: bool = False, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Workspaces in `namespace` (default: the current one), or in all namespaces."""
        ns = None if all_namespaces else (namespace or self.namespace)
        query = {"labelSelector": label_selector} if label_selector else None
        return self.list(self.workspace_path(ns), query)["items"]

    def create_workspace(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST a Workspace; the URL's version follows the object's apiVersion (the server insists)."""
        ns = (obj.get("metadata") or {}).get("namespace") or self.namespace
        api_version = str(obj.get("apiVersion") or "")
        group, _, version = api_version.partition("/")
        if group == kaito.GROUP and version:
            path = f"/apis/{kaito.GROUP}/{version}/namespaces/{_q(ns)}/{kaito.PLURAL}"
        else:
            path = self.workspace_path(ns)
        return self.create(path, obj, dry_run=dry_run)

    def delete_workspace(self, name: str, namespace: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """DELETE a Workspace; NotFoundError names it."""
        ns = namespace or self.namespace
        try:
            return self.delete(self.workspace_path(ns, name), dry_run=dry_run)
        except NotFoundError as e:
            raise NotFoundError(
                f'workspace "{name}" not found in namespace "{ns}"',
                hint=f"list the workspaces with: kubectl kaito status -n {ns}",
                details={**e.details, "name": name, "namespace": ns},
            ) from None

    def get_service(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One core/v1 Service."""
        return self.get(f"/api/v1/namespaces/{_q(namespace or self.namespace)}/services/{_q(name)}")

    def list_pods(self, namespace: str | None = None, *, label_selector: str | None = None) -> list[dict[str, Any]]:
        """Pods in a namespace (default: the current one), optionally by label selector."""
        query = {"labelSelector": label_selector} if label_selector else None
        return self.list(f"/api/v1/namespaces/{_q(namespace or self.namespace)}/pods", query)["items"]


def _q(part: str) -> str:
    """Quote one path segment (names are DNS labels, but never trust a user's string in a URL)."""
    return quote(str(part), safe="")


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or meta.get("uid") or "")
