"""The request loop to the Kubernetes API server, and the ONE mapping of its answers to our errors.

Requests go over `transport.Pool` connections (our own `http11` over `ssl`; no `kubernetes`, no
`httpx`, no `http.client` on the normal path: start-up time matters for a kubectl plugin). The client
knows HTTP and the API machinery (Status bodies, pagination, watch, logs, the service proxy), never a
resource: paths come from `resources.py`. Every failure leaves as a `KaitoError` subclass:

- cannot connect (refused, DNS, TLS, proxy, connect timeout) -> ClusterUnavailableError (exit 5)
- 401 -> UnauthorizedError (after re-asking an exec plugin once), 403 -> ForbiddenError,
  404 -> NotFoundError, 409 -> ConflictError, 400/422 -> InvalidError, 5xx -> ServerError
- a 2xx answer that should be JSON and is not (a proxy's login page, a torn or empty body)
  -> ServerError (exit 1) naming what the server sent, trimmed
- a read that outlives `--request-timeout` -> WaitTimeoutError

`timeout` has kubectl's `--request-timeout` meaning: per request, None/0 = none. It bounds
connecting and non-streaming reads; watches and `logs -f` are not cut off by it.
"""

from __future__ import annotations

import builtins
import json
import math
import socket
import ssl
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from urllib.parse import urlencode

from kubectl_kaito.credentials import Credentials
from kubectl_kaito.errors import (
    ClusterUnavailableError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    KaitoError,
    NotFoundError,
    NotReadyError,
    ServerError,
    StreamCutError,
    UnauthorizedError,
    UsageError,
    WaitTimeoutError,
)
from kubectl_kaito.http11 import REASONS, HTTPError, IncompleteRead, ServerClosed
from kubectl_kaito.http11 import Response as HTTPResponse
from kubectl_kaito.kubeconfig import ClusterConfig, proxy_display
from kubectl_kaito.transport import USER_AGENT, Connection, Pool, ProxyError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    import httpx

IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")  # safe to send again on a new connection
MAX_RETRY_AFTER = 3  # 429/503 with Retry-After: retries, each waiting at most 5 s
JSON = "application/json"
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


def _no_log(line: str) -> None:
    """A client built without the console's writer (tests, completion) keeps its -v lines to itself."""


# ---- responses and errors --------------------------------------------------------------------------


class Response:
    """An open streaming response (watch, logs -f): read it, then `close()` (or use `with`)."""

    def __init__(self, resp: HTTPResponse, conn: Connection, on_error: Callable[[BaseException], KaitoError]) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self._resp = resp
        self._conn = conn
        self._on_error = on_error
        self.cut = False  # the body ended before its end (no chunked terminator, or short of Content-Length)

    def readline(self) -> bytes:
        """One line including its b"\\n" (the last may lack it); b"" when the server is done."""
        try:
            return self._resp.readline()
        except IncompleteRead as e:
            self.cut = True
            return e.partial  # the server closed mid-body: what arrived is all there is
        except (OSError, HTTPError) as e:
            raise self._on_error(e) from None

    def read1(self, size: int = 65536) -> bytes:
        """What is available now (at least one byte, waiting only if nothing is); b"" at the end."""
        try:
            return self._resp.read1(size)
        except IncompleteRead as e:
            self.cut = True
            return e.partial
        except (OSError, HTTPError) as e:
            raise self._on_error(e) from None

    def read(self) -> bytes:
        """The rest of the body."""
        try:
            return self._resp.read()
        except IncompleteRead as e:
            self.cut = True
            return e.partial
        except (OSError, HTTPError) as e:
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


def describe_body(content_type: str | None, payload: bytes | str, limit: int = 80) -> str:
    """What a server sent, for one error line: its type, size and first characters, whitespace
    collapsed (never the whole body: a login page can be long and carry tokens)."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    if not text.strip():
        return "an empty body"
    kind = (content_type or "no Content-Type").split(";")[0].strip() or "no Content-Type"
    flat = " ".join(text.split())
    snippet = flat if len(flat) <= limit else flat[:limit] + "..."
    return f"{len(text)} bytes of {kind}: {snippet!r}"


def error_class(status: int, reason: str = "") -> type[KaitoError]:
    """THE mapping of an API server's HTTP status (and Status reason) to our error class, for its own
    answers and for the Status objects it sends on the service proxy (`inference.http_error`)."""
    if status == 401:
        return UnauthorizedError
    if status == 403:
        return ForbiddenError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status in (400, 422):
        return InvalidError
    if status == 504 or reason == "Timeout":
        return WaitTimeoutError
    return ServerError


# ---- the client --------------------------------------------------------------------------------------


class Client:
    """HTTP to one API server (from a resolved ClusterConfig): requests, errors, watch, logs, the
    service proxy. Knows no resource; `resources.Resources` builds every path. Thread-safe."""

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
        self._log = log or _no_log
        self.credentials = Credentials(cfg, env=env)
        # kubectl (client-go) sends no credentials at all to a plain http:// server.
        self._use_credentials = cfg.server.startswith("https:")
        self.pool = Pool(
            cfg,
            timeout=self.timeout,
            env=env,
            client_cert=lambda: self.credentials.client_cert() if self._use_credentials else None,
        )
        self.proxy_url = self.pool.proxy_url

    def close(self) -> None:
        """Close idle keep-alive connections."""
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context the pool uses (CA, client certificate from the kubeconfig or exec plugin)."""
        return self.pool.ssl_context()

    # -- the one error mapping -----------------------------------------------------------------

    def _hint_cluster(self) -> str:
        ctx = f" --context {self.context}" if self.context else ""
        return f"is the cluster running and reachable? check: kubectl cluster-info{ctx}"

    def _connect_error(self, e: BaseException) -> KaitoError:
        where = f"the Kubernetes API server at {self.server}"
        details = {"server": self.server}
        via = f" (through the proxy {proxy_display(self.proxy_url)})" if self.proxy_url else ""
        if isinstance(e, ProxyError):
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
            name = self.pool.proxy[0] if self.pool.proxy else self.pool.host
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: cannot resolve the host name {name}",
                hint=self._hint_cluster(),
                details=details,
            )
        if isinstance(e, TimeoutError):
            return ClusterUnavailableError(
                f"cannot connect to {where}{via}: no answer within {self.pool.connect_timeout:g}s",
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
        url = self.pool.prefix + path
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
        """kubectl's -v levels (kubectl 1.37.1 prints the same facts through klog): 6 the method, URL,
        status and time; 7 also the request headers, Authorization masked."""
        if self.verbose < V_REQUESTS:
            return
        ms = (time.monotonic() - t0) * 1000
        self._log(request_line(method, f"{self.server}{url}", status, ms))
        if self.verbose >= V_HEADERS:
            for line in header_lines(headers):
                self._log(line)

    def _log_body(self, what: str, data: bytes | None) -> None:
        """-v=8: a request or response body, trimmed as kubectl trims it; -v=9: whole."""
        if self.verbose >= V_BODIES and data:
            self._log(body_line(what, data, self.verbose))

    def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        *,
        stream: bool,
        stream_timeout: float | None = None,
    ) -> tuple[Connection, HTTPResponse]:
        """One exchange up to the response headers. Reads time out after --request-timeout, or
        `stream_timeout` for streams (None = never).

        A reused keep-alive connection the server has closed meanwhile is retried once on a new one:
        when writing the request failed, or when no byte of an answer came and the method is idempotent
        (RFC 9110 9.2.2). A POST or PATCH that may have reached the server is never sent twice."""
        read_timeout = stream_timeout if stream else self.timeout
        for attempt in (0, 1):
            conn, reused = self.pool.acquire(fresh=stream or attempt > 0)
            t0 = time.monotonic()
            if conn.sock is None:
                try:
                    conn.connect()
                except (OSError, ssl.SSLError) as e:
                    conn.close()
                    self._log_request(method, url, "ERROR", t0, headers)
                    raise self._connect_error(e) from None
            conn.sock.settimeout(read_timeout)
            sent = False
            try:
                conn.request(method, url, data, headers)
                sent = True
                resp = conn.getresponse(method)
            except (ServerClosed, ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as e:
                conn.close()
                if reused and attempt == 0 and (not sent or method in IDEMPOTENT):
                    continue  # the server had closed this idle keep-alive connection
                self._log_request(method, url, "ERROR", t0, headers)
                raise self._read_error(e, method, url) from None
            except (OSError, HTTPError) as e:
                conn.close()
                self._log_request(method, url, "ERROR", t0, headers)
                raise self._read_error(e, method, url) from None
            self._log_request(method, url, resp.status, t0, headers)
            if self.verbose >= V_BODIES:  # kubectl 1.37.1 shows the response headers from -v=8
                for line in header_lines(resp.headers, "Response header"):
                    self._log(line)
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
    ) -> tuple[Connection, HTTPResponse, bytes | None]:
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
            self._log_body("Request body", data)
            conn, resp = self._send(method, url, data, headers, stream=stream, stream_timeout=stream_timeout)
            status = resp.status
            if stream and 200 <= status < 300:
                return conn, resp, None
            try:
                payload = resp.read()
            except (OSError, HTTPError) as e:
                conn.close()
                raise self._read_error(e, method, url) from None
            self._log_body("Response body", payload)
            if resp.will_close or stream:
                conn.close()
            else:
                self.pool.release(conn)
            if status == 401 and not refreshed and self._use_credentials and self.credentials.refreshable:
                refreshed = True
                if self.credentials.refresh():
                    continue
            retry_after = resp.headers.get("Retry-After")
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
            phrase = REASONS.get(status, "")
            message = f"{what + ': ' if what else ''}the API server answered {status} {phrase}".strip()
        cls = error_class(status, reason)
        hint = "ask a cluster admin for the RBAC permission named above" if status == 403 else None
        return cls(message, hint=hint, details=details)

    def not_json_error(self, what: str, status: int, content_type: str | None, payload: bytes | str) -> ServerError:
        """A 2xx answer that should be a JSON object and is not: one line naming what came (trimmed)."""
        return ServerError(
            f"{what} answered {status} but not with JSON: {describe_body(content_type, payload)}",
            hint="is something between you and the API server (a proxy or login page)? check: kubectl cluster-info"
            + (f" --context {self.context}" if self.context else ""),
            details={"status": status},
        )

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
        """One API call. `body`: dict/list (sent as JSON), str or bytes. Returns the decoded JSON object;
        an answer that is not one (a proxy's login page, a torn or empty body) is a ServerError naming
        what came. With `stream=True` an open `Response` to read and close."""

        conn, resp, payload = self._exchange(
            method, path, query=query, body=body, content_type=content_type, accept=accept, stream=stream
        )
        if not 200 <= resp.status < 300:
            raise self.api_error(resp.status, payload)
        if stream:
            url = self._url(path, query)
            return Response(resp, conn, lambda e: self._read_error(e, method, url))
        assert payload is not None
        if resp.status == 204 and not payload:
            return {}
        try:
            obj = json.loads(payload)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise self.not_json_error(
                f"{method} {self.server}{self._url(path, query)}",
                resp.status,
                resp.headers.get("Content-Type"),
                payload,
            )
        return obj

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET one object (or any JSON document)."""
        result: dict[str, Any] = self.request("GET", path, query=query)
        return result

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
        result: dict[str, Any] = self.request("POST", path, query={"dryRun": "All"} if dry_run else None, body=obj)
        return result

    def replace(self, path: str, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """PUT an object (needs metadata.resourceVersion for optimistic concurrency)."""
        result: dict[str, Any] = self.request("PUT", path, query={"dryRun": "All"} if dry_run else None, body=obj)
        return result

    def delete(self, path: str, *, dry_run: bool = False, propagation: str = "Background") -> dict[str, Any]:
        """DELETE an object; returns the object (being deleted) or a Status."""
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        if dry_run:
            options["dryRun"] = ["All"]
        result: dict[str, Any] = self.request(
            "DELETE", path, query={"dryRun": "All"} if dry_run else None, body=options
        )
        return result

    def patch(
        self, path: str, patch: dict[str, Any] | builtins.list[Any], *, patch_type: str = "merge", dry_run: bool = False
    ) -> dict[str, Any]:
        """PATCH an object; patch_type: merge (default), strategic, json (a list of ops)."""
        try:
            ctype = PATCH_TYPES[patch_type]
        except KeyError:
            raise UsageError(f"unknown patch type {patch_type!r}; use one of {', '.join(PATCH_TYPES)}") from None
        result: dict[str, Any] = self.request(
            "PATCH", path, query={"dryRun": "All"} if dry_run else None, body=patch, content_type=ctype
        )
        return result

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
                    except (HTTPError, OSError):
                        break  # stream cut: re-open from rv
                    if not line:
                        break
                    whole = line.endswith(b"\n")
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        event = json.loads(line)
                    except ValueError:
                        if not whole:
                            break  # a torn last line (the stream was cut): re-open from the last event
                        event = None
                    if not isinstance(event, dict) or not isinstance(event.get("object") or {}, dict):
                        # a whole line that is no watch event: not the API server talking
                        raise self.not_json_error(
                            f"GET {self.server}{self._url(path, q)}",
                            resp.status,
                            resp.headers.get("Content-Type"),
                            line,
                        )
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
    ) -> tuple[str | None, builtins.list[dict[str, Any]]]:  # builtins: `list` is a method here
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

    def stream_lines(
        self, path: str, query: Mapping[str, Any] | None = None, *, follow: bool = False
    ) -> Iterator[bytes]:
        """A text stream (a pod's log) as whole lines (bytes ending in b"\\n"), as they arrive when
        `follow`. A container still starting (400 "... is waiting to start") raises NotReadyError."""
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
            if stream.cut:  # not the end of the log: the connection dropped mid-body
                raise StreamCutError(
                    "the log stream broke off: unexpected EOF",
                    hint="the connection to the API server (or the node's kubelet) dropped; run the command again",
                )
        finally:
            stream.close()

    # -- the service proxy (and anything else httpx must do) ---------------------------------------------------------

    def http_client(self, timeout: float | None = None) -> httpx.Client:
        """An httpx.Client with base_url=server (path prefix included), the same TLS (CA, client
        certificate) and proxy, and the current Authorization (re-asked once on a 401). `timeout`
        defaults to --request-timeout; None = no read timeout (streaming)."""
        import httpx  # noqa: PLC0415  (0.13 s: only callers of the service proxy pay it)

        creds = self.credentials if self._use_credentials else None
        sni = self.config.tls_server_name
        verbose, log, server = self.verbose, self._log, self.server

        class _Auth(httpx.Auth):
            def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
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

        def _log_request(request: httpx.Request) -> None:
            request.extensions["kaito.t0"] = time.monotonic()
            if verbose >= V_BODIES and not isinstance(request.stream, httpx.AsyncByteStream):
                body = request.read() if request.stream is not None else b""
                if body:
                    log(body_line("Request body", body, verbose))

        def _log_response(response: httpx.Response) -> None:
            # The same -v lines as the client's own requests (the service proxy: chat, --check).
            req = response.request
            t0 = req.extensions.get("kaito.t0", time.monotonic())
            log(request_line(req.method, str(req.url), response.status_code, (time.monotonic() - t0) * 1000))
            if verbose >= V_HEADERS:
                for line in header_lines(req.headers):
                    log(line)
            if verbose >= V_BODIES:
                for line in header_lines(response.headers, "Response header"):
                    log(line)
                if not response.is_stream_consumed and response.headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    log(body_line("Response body", response.read(), verbose))

        ctx = self.ssl_context() if self.pool.tls or self.pool.proxy_tls else None
        proxy: httpx.Proxy | None = None
        if self.proxy_url:
            proxy = httpx.Proxy(self.proxy_url, ssl_context=ctx) if self.pool.proxy_tls else httpx.Proxy(self.proxy_url)
        t = self.timeout if timeout is None else (timeout or None)
        return httpx.Client(
            base_url=server,
            verify=ctx if ctx is not None else True,
            auth=_Auth(),
            proxy=proxy,
            trust_env=False,  # the proxy decision was made above, as kubectl makes it
            timeout=httpx.Timeout(t, connect=self.pool.connect_timeout),
            headers={"User-Agent": USER_AGENT},
            event_hooks={"request": [_log_request], "response": [_log_response]} if verbose >= V_REQUESTS else None,
        )


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or meta.get("uid") or "")


# ---- -v lines (kubectl's levels) ---------------------------------------------------------------------

#: kubectl's (klog's) levels for API requests: 6 method, URL, status and time of every request;
#: 7 also the request headers (Authorization masked); 8 also request and response bodies, trimmed
#: to BODY_TRIM characters; 9 untrimmed.
V_REQUESTS, V_HEADERS, V_BODIES, V_FULL_BODIES = 6, 7, 8, 9
BODY_TRIM = 1024  # kubectl 1.37.1 (client-go's truncateBody) trims bodies to 1024 characters at -v=8


def request_line(method: str, url: str, status: int | str, ms: float) -> str:
    """-v=6: `GET https://host/api/v1/namespaces 200 OK in 2 milliseconds`, as kubectl printed it
    before klog's structured form (kubectl 1.37.1: "Response" verb= url= status="200 OK" milliseconds=)."""
    if isinstance(status, int):
        status = f"{status} {REASONS.get(status, '')}".rstrip()
    return f"{method} {url} {status} in {ms:.0f} milliseconds"


def header_lines(headers: Mapping[str, str] | Any, what: str = "Request header") -> list[str]:
    """-v=7: one `  Request header: Name: value` line per header; credentials masked as kubectl
    1.37.1 masks them (`Authorization: Bearer <masked>`)."""
    out = []
    for k, v in headers.items():
        if k.lower() in ("authorization", "proxy-authorization", "cookie", "set-cookie"):
            scheme = v.split(" ", 1)[0] if " " in v else ""
            v = f"{scheme} <masked>".strip()
        out.append(f"  {what}: {k}: {v}")
    return out


def body_line(what: str, data: bytes | str, level: int) -> str:
    """-v=8: `Response body: {...}` trimmed to flags.BODY_TRIM characters (kubectl's
    ` [truncated N chars]`); -v=9 and above: whole."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if level < V_FULL_BODIES and len(text) > BODY_TRIM:
        text = f"{text[:BODY_TRIM]} [truncated {len(text) - BODY_TRIM} chars]"
    return f"{what}: {text}"
