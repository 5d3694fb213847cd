"""Sockets to the API server: TCP, HTTP proxies (CONNECT, TLS inside TLS), TLS contexts, the pool.

The HTTP/1.1 messages themselves are `http11.py`'s (no http.client: it costs ~9 ms at start-up);
`client.py` sends requests over the connections a `Pool` hands out and maps every failure to our errors.
"""

from __future__ import annotations

import io
import os
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from kubectl_kaito import __version__, http11
from kubectl_kaito.credentials import ssl_context as build_ssl_context
from kubectl_kaito.kubeconfig import ClusterConfig, check_proxy_url, proxy_credentials

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

# Without --request-timeout, connecting (TCP + proxy + TLS handshake) still gives up after this
# long, so an unreachable cluster fails in seconds, not minutes.
CONNECT_TIMEOUT = 5.0
MAX_IDLE_CONNECTIONS = 4
USER_AGENT = f"kubectl-kaito/{__version__} (python)"

# ---- sockets: proxies and TLS ------------------------------------------------------------------


class ProxyError(OSError):
    """The proxy refused or broke the CONNECT tunnel."""


class _RawReader(io.RawIOBase):
    """Lets `makefile()` wrap a socket stand-in that only has recv_into."""

    def __init__(self, sock: _TLSInTLS) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._sock.recv_into(b)


class _TLSInTLS:
    """TLS to the API server inside TLS to an https:// proxy: the ssl module cannot wrap an SSLSocket
    twice, so the inner session runs over memory BIOs. Only what `Connection` uses is provided."""

    def __init__(self, sock: ssl.SSLSocket, ctx: ssl.SSLContext, server_hostname: str) -> None:
        self._sock = sock
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = ctx.wrap_bio(self._in, self._out, server_hostname=ascii_name(server_hostname))
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
            data: bytes = self._io(self._tls.read, n)
            return data
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
            raise ProxyError("the proxy closed the connection during CONNECT")
        buf += chunk
        if len(buf) > 65536:
            raise ProxyError("the proxy sent an oversized CONNECT reply")
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(None, 2)
    if len(status) < 2 or not status[1].isdigit():
        raise ProxyError("the proxy sent an invalid CONNECT reply")
    if status[1] != "200" or rest:
        raise ProxyError(f"the proxy refused CONNECT: {' '.join(status[1:])}")


class Connection:
    """One keep-alive HTTP/1.1 connection to the API server: optionally through a CONNECT proxy
    (http or https), then TLS with our own server_hostname (tls-server-name). Requests and responses
    are `http11`'s; `sock` is None until `connect()` and after `close()`."""

    __slots__ = ("_fp", "_host_header", "_proxy", "_server_hostname", "_tls", "ctx", "host", "port", "sock", "timeout")

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
        self.host = host
        self.port = port
        self.ctx = ctx
        self.timeout = connect_timeout
        self.sock: Any = None
        self._tls = tls
        self._server_hostname = server_hostname
        self._proxy = proxy  # (host, port, is_tls, basic credentials)
        self._fp: io.BufferedReader | None = None
        # Host as http.client writes it: IPv6 in brackets, the port only when not the scheme's default.
        name = host if host.isascii() else host.encode("idna").decode("ascii")
        name = f"[{name}]" if ":" in name else name
        self._host_header = name if port == (443 if tls else 80) else f"{name}:{port}"

    def connect(self) -> None:
        """TCP (to the proxy or the server), CONNECT, TLS; raises OSError/ssl.SSLError/ProxyError."""
        host, port = (self._proxy[0], self._proxy[1]) if self._proxy else (self.host, self.port)
        # getaddrinfo takes the name as bytes too (typeshed's create_connection says str only)
        sock: Any = socket.create_connection((ascii_name(host), port), self.timeout)  # type: ignore[arg-type]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._proxy:
                p_host, _, p_tls, p_auth = self._proxy
                if p_tls:
                    assert self.ctx is not None
                    sock = self.ctx.wrap_socket(sock, server_hostname=ascii_name(p_host))  # as Go: same TLS config
                _connect_tunnel(sock, self.host, self.port, p_auth)
                if self._tls and p_tls:
                    assert self.ctx is not None
                    sock = _TLSInTLS(sock, self.ctx, self._server_hostname)
                elif self._tls:
                    assert self.ctx is not None
                    sock = self.ctx.wrap_socket(sock, server_hostname=ascii_name(self._server_hostname))
            elif self._tls:
                assert self.ctx is not None
                sock = self.ctx.wrap_socket(sock, server_hostname=ascii_name(self._server_hostname))
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._fp = sock.makefile("rb")

    def request(self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]) -> None:
        """Send one request (head and body in one write)."""
        assert self.sock is not None
        self.sock.sendall(http11.request_bytes(method, target, self._host_header, headers, body))

    def getresponse(self, method: str) -> http11.Response:
        """Read the answer's status line and headers; raises http11.HTTPError or OSError."""
        assert self._fp is not None
        return http11.Response(self._fp, method)

    def idle_and_open(self) -> bool:
        """True when nothing has arrived on this idle connection: a server that closed it (idle timeout,
        restart, load balancer) has sent EOF or a TLS close_notify, which makes the socket readable. A
        closed connection is dropped here, before a request is written that could not be retried."""
        if self.sock is None:
            return False
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        import select  # noqa: PLC0415  (a reused connection only: one request never needs it)

        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        """Close the socket (any response still being read ends with it)."""
        sock, fp, self.sock, self._fp = self.sock, self._fp, None, None
        if fp is not None:
            fp.close()
        if sock is not None:
            sock.close()


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


# ---- the pool ----------------------------------------------------------------------------------------


class Pool:
    """Keep-alive connections to one API server (directly or through its proxy), and the TLS context
    they share; thread-safe. The context is rebuilt (and idle connections dropped) when the client
    certificate changes (an exec plugin handed out a new one)."""

    def __init__(
        self,
        cfg: ClusterConfig,
        *,
        timeout: float | None,
        env: Mapping[str, str] | None,
        client_cert: Callable[[], tuple[bytes, bytes] | None],
    ) -> None:
        self.config = cfg
        parts = urlsplit(cfg.server)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")  # e.g. Rancher's /k8s/clusters/c-xxxx
        self.server_hostname = cfg.tls_server_name or self.host
        self.connect_timeout = timeout or CONNECT_TIMEOUT
        self.proxy_url = proxy_for(cfg, env)
        self.proxy: tuple[str, int, bool, str | None] | None = None  # (host, port, is_tls, basic credentials)
        if self.proxy_url:
            pp = urlsplit(self.proxy_url)
            p_tls = pp.scheme == "https"
            port = pp.port or (443 if p_tls else 80)
            self.proxy = (pp.hostname or "", port, p_tls, proxy_credentials(self.proxy_url))
        self.proxy_tls = bool(self.proxy and self.proxy[2])
        self._client_cert = client_cert
        self._lock = threading.Lock()
        self._ctx: ssl.SSLContext | None = None
        self._ctx_cert: tuple[bytes, bytes] | None = None
        self._idle: list[Connection] = []

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context (CA, client certificate from the kubeconfig or exec plugin)."""
        cert = self._client_cert()
        with self._lock:
            if self._ctx is None or cert != self._ctx_cert:
                self._ctx = build_ssl_context(self.config, cert)
                self._ctx_cert = cert
                stale, self._idle = self._idle, []
                for conn in stale:
                    conn.close()
            return self._ctx

    def acquire(self, fresh: bool) -> tuple[Connection, bool]:
        """(connection, reused): an idle one unless `fresh`; a new one is not yet connected."""
        ctx = self.ssl_context() if self.tls or self.proxy_tls else None
        if not fresh:
            with self._lock:
                while self._idle:
                    conn = self._idle.pop()
                    if conn.ctx is ctx and conn.idle_and_open():
                        return conn, True
                    conn.close()
        conn = Connection(
            self.host,
            self.port,
            tls=self.tls,
            ctx=ctx,
            server_hostname=self.server_hostname,
            proxy=self.proxy,
            connect_timeout=self.connect_timeout,
        )
        return conn, False

    def release(self, conn: Connection) -> None:
        """Give a connection whose response was read in full back for reuse."""
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS and conn.ctx is self._ctx:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close idle keep-alive connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def ascii_name(host: str) -> str | bytes:
    """A host name for getaddrinfo and TLS: an ASCII one as bytes, so socket and ssl do not load the idna
    codec (and with it unicodedata and stringprep: ~1 ms of every start) only to copy it; any other as
    str (they encode it with idna)."""
    return host.encode("ascii") if host.isascii() else host
