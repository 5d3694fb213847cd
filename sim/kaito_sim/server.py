"""The HTTPS API server: routing, auth, discovery, CRUD, watch, logs, service proxy."""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import openapi, tables
from .api import ApiError, bad_request, not_found
from .logs import follow as follow_log
from .openai import AbortConnection, Response
from .resources import ResourceType
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .util import CIDict, parse_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import SimCluster

OPEN_PATHS = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
DEFAULT_WATCH_SECONDS = 1800.0


@dataclass
class SimRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: CIDict
    body: bytes = b""
    time: float = field(default_factory=time.time)
    user: str | None = None

    @property
    def url(self) -> str:
        if not self.query:
            return self.path
        from urllib.parse import urlencode

        return f"{self.path}?{urlencode(self.query)}"


class _Abort(Exception):
    """Stop handling this request (the response was already written or the client went away)."""


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    block_on_close = False

    def __init__(self, addr, handler, sim: SimCluster | None, ssl_ctx: ssl.SSLContext | None) -> None:
        self.sim = sim
        self.ssl_ctx = ssl_ctx
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.conns_lock:
            self.conns.add(sock)
        return sock, addr

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self.conns_lock:
            conns = list(self.conns)
            self.conns.clear()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):  # quiet: clients disconnect all the time
        pass

    def fast_shutdown(self) -> None:
        """shutdown() without waiting for the poll interval: wake the selector with a connection."""
        self._BaseServer__shutdown_request = True
        try:
            host, port = self.server_address[:2]
            assert isinstance(host, str)  # an AF_INET server's address: (str, int)
            with socket.create_connection((host, port), timeout=1):
                pass
        except OSError:
            pass
        self.shutdown()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kaito-sim"
    wbufsize = 256 * 1024  # one TLS record per response instead of one per header line
    disable_nagle_algorithm = True
    sys_version = ""

    def log_message(self, format, *args):
        pass

    def setup(self) -> None:
        req = self.request
        if isinstance(req, ssl.SSLSocket):
            req.settimeout(10)
            try:
                req.do_handshake()
            except (ssl.SSLError, OSError):
                self._handshake_failed = True
            req.settimeout(None)
        super().setup()

    def handle(self) -> None:
        if getattr(self, "_handshake_failed", False):
            self.close_connection = True
            return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, OSError, _Abort):
            self.close_connection = True

    # ----- body & responses -----
    def read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = self.rfile.readline(65537)
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self,
        code: int,
        data: bytes,
        content_type: str = "application/json",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in headers or []:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(), "application/json", headers)

    def start_chunked(self, code: int, content_type: str, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in headers or []:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def client_gone(self) -> bool:
        """True when the client closed the connection (checked while a stream is idle)."""
        conn = self.connection
        try:
            if isinstance(conn, ssl.SSLSocket) and conn.pending():
                return False
            readable, _, _ = select.select([conn], [], [], 0)
            if not readable:
                return False
            conn.settimeout(0.05)
            try:
                return conn.recv(1) == b""
            finally:
                conn.settimeout(None)
        except (ssl.SSLWantReadError, TimeoutError):
            return False
        except (OSError, ValueError):
            return True

    def abort_connection(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort()

    def send_openai_response(self, resp: Response) -> None:
        if isinstance(resp.body, (bytes, bytearray)):
            ctype = next((v for k, v in resp.headers if k.lower() == "content-type"), "application/json")
            self.send_bytes(
                resp.status, bytes(resp.body), ctype, [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
            )
            return
        ctype = next((v for k, v in resp.headers if k.lower() == "content-type"), "text/event-stream")
        self.start_chunked(resp.status, ctype, [(k, v) for k, v in resp.headers if k.lower() != "content-type"])
        try:
            for chunk in resp.body:
                self.write_chunk(chunk)
        except AbortConnection:
            self.abort_connection()
        self.end_chunked()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = lambda self: self.dispatch()

    def dispatch(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class OpenAIHandler(BaseHandler):
    """Plain-HTTP server that only serves the OpenAI stand-in (SimCluster.openai_url)."""

    def dispatch(self) -> None:
        body = self.read_body()
        standin = self.server.standin  # type: ignore[attr-defined]  # self.server is our SimHTTPServer (typed BaseServer)
        try:
            resp = standin.handle(self.command, self.path, CIDict(self.headers.items()), body, ctx={"via": "direct"})
        except AbortConnection:
            self.abort_connection()
            return
        self.send_openai_response(resp)


class ApiHandler(BaseHandler):
    @property
    def sim(self) -> SimCluster:
        return self.server.sim  # type: ignore[attr-defined]  # self.server is our SimHTTPServer (typed BaseServer)

    # ------------------------------------------------------------ entry
    def dispatch(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        body = self.read_body()
        record = SimRequest(self.command, path, query, CIDict(self.headers.items()), body)
        self.sim._record(record)
        try:
            user = self._authenticate()
            if user is None and path not in OPEN_PATHS:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            record.user = user
            self.route(path, query, body)
        except ApiError as exc:
            self.send_json(exc.code, exc.status())
        except _Abort:
            raise
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - surface as a 500 Status like the real server
            if self.sim.debug:
                traceback.print_exc()
            self.send_json(500, ApiError(500, "InternalError", f"Internal error occurred: {exc!r}").status())

    def _authenticate(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            if token in self.sim.tokens:
                return self.sim.tokens[token]
            raise ApiError(401, "Unauthorized", "Unauthorized")
        conn = self.connection
        if isinstance(conn, ssl.SSLSocket):
            try:
                cert = conn.getpeercert()
            except ValueError:
                cert = None
            if cert:
                subject: Any = cert.get("subject", ())  # typeshed: a union with str; it is RDN tuples
                for rdn in subject:
                    for k, v in rdn:
                        if k == "commonName":
                            return v
                return "unknown"
        return None

    # ------------------------------------------------------------ routing
    def route(self, path: str, query: dict[str, str], body: bytes) -> None:
        sim = self.sim
        method = self.command
        p = path.rstrip("/") or "/"
        if p in ("/healthz", "/livez", "/readyz"):
            self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
            return
        if p == "/version":
            self.send_json(200, sim.version_info())
            return
        if p == "/api":
            self.send_json(200, sim.registry.api_versions(f"127.0.0.1:{sim.port}"))
            return
        if p == "/apis":
            self.send_json(200, sim.registry.api_group_list())
            return
        if p.startswith("/openapi"):
            status, doc = openapi.serve(sim, p, query)
            self.send_json(status, doc) if status == 200 else self.send_json(
                status, ApiError(404, "NotFound", "the server could not find the requested resource").status()
            )
            return
        parts = [x for x in p.split("/") if x]
        if parts[0] == "api":
            if len(parts) == 1:
                return
            group, version, rest = "", parts[1], parts[2:]
            if version != "v1":
                raise self._404()
        elif parts[0] == "apis":
            if len(parts) == 2:
                doc = sim.registry.api_group(parts[1])
                if doc is None:
                    raise self._404()
                self.send_json(200, doc)
                return
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise self._404()
        if not rest:
            doc = sim.registry.api_resource_list(group, version)
            if doc is None:
                raise self._404()
            self.send_json(200, doc)
            return
        watch_prefix = False
        if rest[0] == "watch":
            watch_prefix = True
            rest = rest[1:]
        ns: str | None = None
        if (
            rest
            and rest[0] == "namespaces"
            and len(rest) >= 3
            and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            ns, rest = rest[1], rest[2:]
        plural = rest[0] if rest else ""
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        tail = rest[3:]
        rt = sim.registry.lookup(group, version, plural)
        if rt is None:
            raise self._404()
        if ns is not None and not rt.namespaced:
            raise self._404()
        if sub is not None and sub not in rt.subresources:
            raise self._404()
        is_watch = watch_prefix or query.get("watch") in ("1", "true", "True")
        if rt.key == "/services" and sub == "proxy":
            self.service_proxy(
                ns or "default", name or "", "/" + "/".join(tail), query, body, trailing_slash=path.endswith("/")
            )
            return
        if rt.key == "/pods" and sub == "proxy":
            self.pod_proxy(ns or "default", name or "", "/" + "/".join(tail), body)
            return
        if tail:
            raise self._404()
        if rt.key == "/pods" and sub == "log":
            self.pod_log(ns or "default", name or "", query)
            return
        if sub == "scale" and rt.custom:
            _scale(self, rt, version, ns, name or "", method, query, body)
            return
        if sub in ("scale", "finalize", "proxy"):
            raise (
                self._404()
                if sub == "proxy"
                else ApiError(
                    405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
                )
            )
        self.resource(rt, version, ns, name, sub, method, query, body, is_watch)

    def _404(self) -> ApiError:
        return ApiError(404, "NotFound", "the server could not find the requested resource", {})

    # ------------------------------------------------------------ CRUD
    def resource(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        name: str | None,
        sub: str | None,
        method: str,
        query: dict[str, str],
        body: bytes,
        is_watch: bool,
    ) -> None:
        api = self.sim.api
        dry_run = query.get("dryRun") == "All"
        fv = query.get("fieldValidation") or "Warn"
        accept = self.headers.get("Accept") or ""
        as_table = tables.wants_table(accept)
        include = query.get("includeObject") or "Metadata"

        def warn_headers(ws: list[str]) -> list[tuple[str, str]]:
            return [("Warning", f'299 - "{w}"') for w in ws]

        if name is None:
            if method in ("GET", "HEAD"):
                if is_watch:
                    self.watch(rt, version, ns, query, as_table, include)
                    return
                try:
                    limit = int(query["limit"]) if query.get("limit") else None
                except ValueError:
                    raise bad_request(f"invalid limit {query['limit']!r}") from None
                lst = api.list(
                    rt,
                    version,
                    ns,
                    label_selector=query.get("labelSelector"),
                    field_selector=query.get("fieldSelector"),
                    limit=limit,
                    continue_token=query.get("continue"),
                )
                if as_table:
                    self.send_json(
                        200,
                        tables.to_table(rt, version, lst["items"], include_object=include, list_meta=lst["metadata"]),
                    )
                else:
                    self.send_json(200, lst)
                return
            if method == "POST":
                obj = self._decode(body)
                out, warns = api.create(rt, version, ns, obj, dry_run=dry_run, field_validation=fv)
                self.send_json(201, out, warn_headers(warns))
                return
            if method == "DELETE":
                opts = self._decode(body, allow_empty=True) or {}
                lst = api.delete_collection(
                    rt,
                    version,
                    ns,
                    label_selector=query.get("labelSelector"),
                    field_selector=query.get("fieldSelector"),
                    dry_run=dry_run,
                    propagation=query.get("propagationPolicy") or opts.get("propagationPolicy"),
                )
                self.send_json(200, lst)
                return
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if method in ("GET", "HEAD"):
            if is_watch:
                query = dict(query)
                sel = f"metadata.name={name}"
                query["fieldSelector"] = f"{query['fieldSelector']},{sel}" if query.get("fieldSelector") else sel
                self.watch(rt, version, ns, query, as_table, include)
                return
            obj = api.get(rt, version, ns, name)
            if as_table:
                self.send_json(
                    200,
                    tables.to_table(
                        rt,
                        version,
                        [obj],
                        include_object=include,
                        list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                    ),
                )
            else:
                self.send_json(200, obj)
            return
        if method == "PUT":
            out, warns = api.replace(
                rt, version, ns, name, self._decode(body), subresource=sub, dry_run=dry_run, field_validation=fv
            )
            self.send_json(200, out, warn_headers(warns))
            return
        if method == "PATCH":
            out, warns = api.patch(
                rt,
                version,
                ns,
                name,
                self.headers.get("Content-Type") or "",
                body,
                subresource=sub,
                dry_run=dry_run,
                field_validation=fv,
            )
            self.send_json(200, out, warn_headers(warns))
            return
        if method == "DELETE":
            opts = self._decode(body, allow_empty=True) or {}
            propagation = query.get("propagationPolicy") or opts.get("propagationPolicy")
            if opts.get("dryRun") == ["All"]:
                dry_run = True
            out = api.delete(
                rt, version, ns, name, dry_run=dry_run, propagation=propagation, preconditions=opts.get("preconditions")
            )
            self.send_json(200, out)
            return
        if method == "POST":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _decode(self, body: bytes, allow_empty: bool = False) -> Any:
        if not body.strip():
            if allow_empty:
                return None
            raise bad_request(
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml"
            )
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            from .protobuf import ProtobufError, decode_object

            try:
                return decode_object(body)
            except ProtobufError as exc:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - "
                    f"accepted media types include: application/json, application/yaml ({exc})",
                    None,
                ) from None
        if ctype not in ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "*/*", ""):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml",
                None,
            )
        try:
            if ctype in ("application/yaml", "application/x-yaml", "text/yaml"):
                import yaml

                return yaml.safe_load(body.decode())
            return json.loads(body)
        except ValueError as exc:
            raise bad_request(f"error decoding the request body: {exc}") from None

    # ------------------------------------------------------------ watch
    def watch(
        self, rt: ResourceType, version: str, ns: str | None, query: dict[str, str], as_table: bool, include: str
    ) -> None:
        sim = self.sim
        store = sim.store
        try:
            lsel = parse_label_selector(query.get("labelSelector"))
            fsel = parse_field_selector(query.get("fieldSelector"), set(rt.field_labels) if rt.field_labels else None)
        except SelectorError as exc:
            raise bad_request(str(exc)) from None

        def matches(obj: dict) -> bool:
            meta = obj.get("metadata") or {}
            if rt.namespaced and ns is not None and meta.get("namespace") != ns:
                return False
            return lsel(meta.get("labels") or {}) and fsel(obj)

        try:
            timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else DEFAULT_WATCH_SECONDS
        except ValueError:
            raise bad_request("invalid timeoutSeconds") from None
        if sim.watch_max_seconds is not None:
            timeout = min(timeout, sim.watch_max_seconds)
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        send_initial = query.get("sendInitialEvents") == "true"
        rv_param = query.get("resourceVersion") or ""
        initial: list[dict] = []
        expired_msg = None
        with store.lock:
            current = store.rv
            if rv_param in ("", "0") or send_initial:
                initial = [o for o in store.list(rt.key, ns if rt.namespaced else None) if matches(o)]
                start_rv = current
            else:
                try:
                    start_rv = int(rv_param)
                except ValueError:
                    raise bad_request(f"invalid resource version: {rv_param}") from None
                if start_rv < store.oldest_rv:
                    expired_msg = f"too old resource version: {start_rv} ({store.oldest_rv + 1})"
        if expired_msg and sim.watch_expired_mode == "http":
            raise ApiError(410, "Expired", expired_msg)

        def encode(typ: str, obj: dict) -> bytes:
            if as_table and typ in ("ADDED", "MODIFIED", "DELETED"):
                obj = tables.to_table(
                    rt,
                    version,
                    [obj],
                    include_object=include,
                    list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                )
            return json.dumps({"type": typ, "object": obj}, separators=(",", ":")).encode() + b"\n"

        def bookmark(rv: int, initial_end: bool = False) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return (
                json.dumps(
                    {
                        "type": "BOOKMARK",
                        "object": {"kind": rt.kind, "apiVersion": rt.api_version(version), "metadata": meta},
                    },
                    separators=(",", ":"),
                ).encode()
                + b"\n"
            )

        def gone(msg: str) -> bytes:
            return (
                json.dumps(
                    {"type": "ERROR", "object": ApiError(410, "Expired", msg).status()}, separators=(",", ":")
                ).encode()
                + b"\n"
            )

        self.start_chunked(200, "application/json")
        if expired_msg:
            self.write_chunk(gone(expired_msg))
            self.end_chunked()
            return
        buf = [encode("ADDED", sim.api.present(rt, version, o)) for o in initial]
        if send_initial and bookmarks:
            buf.append(bookmark(start_rv, initial_end=True))
        if buf:
            self.write_chunk(b"".join(buf))
        deadline = time.time() + timeout
        last_rv = start_rv
        last_bookmark = time.time()
        interval = sim.bookmark_interval
        while not sim.stopping.is_set():
            remaining = deadline - time.time()
            if remaining <= 0:
                break
            wait = min(remaining, interval if bookmarks else 1.0, 1.0)
            events = store.wait_events_after(last_rv, wait)
            if last_rv < store.oldest_rv:
                self.write_chunk(gone(f"too old resource version: {last_rv} ({store.oldest_rv + 1})"))
                break
            out = []
            for ev in events:
                if ev.key != rt.key:
                    continue
                now_match = matches(ev.obj)
                old_match = ev.old is not None and matches(ev.old)
                typ = ev.type
                if typ == "MODIFIED":
                    if now_match and not old_match:
                        typ = "ADDED"
                    elif old_match and not now_match:
                        typ = "DELETED"
                    elif not now_match:
                        continue
                elif not now_match:
                    continue
                out.append(encode(typ, sim.api.present(rt, version, ev.obj)))
            if events:
                last_rv = events[-1].rv
            if out:
                self.write_chunk(b"".join(out))
            if bookmarks and time.time() - last_bookmark >= interval:
                self.write_chunk(bookmark(last_rv))
                last_bookmark = time.time()
            elif not out and self.client_gone():
                self.close_connection = True
                return
        if bookmarks and not sim.stopping.is_set():
            self.write_chunk(bookmark(last_rv))
        self.end_chunked()

    # ------------------------------------------------------------ logs
    def pod_log(self, ns: str, pod_name: str, query: dict[str, str]) -> None:
        sim = self.sim
        pods_rt = sim.registry.by_key("/pods")
        assert pods_rt is not None  # a built-in type: always registered
        pod = sim.store.get("/pods", ns, pod_name)
        if pod is None:
            raise not_found(pods_rt, pod_name)
        spec = pod.get("spec") or {}
        containers = [c.get("name") for c in spec.get("containers") or []]
        init = [c.get("name") for c in spec.get("initContainers") or []]
        container = query.get("container")
        if not container:
            default = ((pod.get("metadata") or {}).get("annotations") or {}).get(
                "kubectl.kubernetes.io/default-container"
            )
            if len(containers) == 1:
                container = containers[0]
            elif default in containers:
                container = default
            else:
                raise bad_request(
                    f"a container name must be specified for pod {pod_name}, choose one of: "
                    f"[{' '.join(containers)}]"
                    + (f" or one of the init containers: [{' '.join(init)}]" if init else "")
                )
        if container not in containers and container not in init:
            raise bad_request(f"container {container} is not valid for pod {pod_name}")
        previous = query.get("previous") in ("true", "1")
        follow = query.get("follow") in ("true", "1")
        timestamps = query.get("timestamps") in ("true", "1")
        try:
            tail = int(query["tailLines"]) if query.get("tailLines") else None
            since = None
            if query.get("sinceSeconds"):
                since = time.time() - int(query["sinceSeconds"])
            elif query.get("sinceTime"):
                since = parse_rfc3339(query["sinceTime"])
            limit_bytes = int(query["limitBytes"]) if query.get("limitBytes") else None
        except ValueError as exc:
            raise bad_request(f"invalid log options: {exc}") from None
        status = pod.get("status") or {}
        cstat = next(
            (
                c
                for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
                if c.get("name") == container
            ),
            None,
        )
        if previous:
            buf = sim.logs.find(ns, pod_name, container, previous=True)
            if buf is None:
                raise bad_request(f'previous terminated container "{container}" in pod "{pod_name}" not found')
        else:
            buf = sim.logs.find(ns, pod_name, container)
            if buf is None or buf.end_index() == 0:
                if not spec.get("nodeName"):
                    raise bad_request(f"pod {pod_name} does not have a host assigned")
                waiting = ((cstat or {}).get("state") or {}).get("waiting")
                if cstat is None or waiting:
                    reason = (waiting or {}).get("reason") or "ContainerCreating"
                    if reason in ("ImagePullBackOff", "ErrImagePull"):
                        reason = "trying and failing to pull image"
                    if reason != "CrashLoopBackOff":
                        raise bad_request(f'container "{container}" in pod "{pod_name}" is waiting to start: {reason}')
            if buf is None:
                buf = sim.logs.buffer(ns, pod_name, container)
        start = buf.start_index(tail=tail, since=since)
        if buf.cut:  # fault (SimCluster.cut_logs): the lines, then the connection drops mid-body
            self.start_chunked(200, "text/plain")
            for chunk in follow_log(buf, start, timestamps=timestamps, stop=sim.stopping, follow_=False):
                self.write_chunk(chunk)
            self.close_connection = True
            return
        if not follow:
            data = b"".join(
                follow_log(buf, start, timestamps=timestamps, stop=sim.stopping, limit_bytes=limit_bytes, follow_=False)
            )
            self.send_bytes(200, data, "text/plain")
            return
        self.start_chunked(200, "text/plain")
        for chunk in follow_log(
            buf,
            start,
            timestamps=timestamps,
            stop=sim.stopping,
            limit_bytes=limit_bytes,
            alive=lambda: not self.client_gone(),
        ):
            self.write_chunk(chunk)
            if sim.store.get("/pods", ns, pod_name) is None:
                break
        if buf.cut:  # cut while being followed: no terminator, the connection just ends
            self.close_connection = True
            return
        self.end_chunked()

    # ------------------------------------------------------------ service proxy
    def service_proxy(
        self, ns: str, spec: str, rest: str, query: dict[str, str], body: bytes, trailing_slash: bool
    ) -> None:
        sim = self.sim
        svc_rt = sim.registry.by_key("/services")
        assert svc_rt is not None  # a built-in type: always registered
        parts = spec.split(":")
        scheme = "http"
        if len(parts) == 3:
            scheme, name, port = parts
        elif len(parts) == 2:
            name, port = parts
        else:
            name, port = parts[0], ""
        svc = sim.store.get("/services", ns, name)
        if svc is None:
            raise not_found(svc_rt, name)
        ports = (svc.get("spec") or {}).get("ports") or []
        chosen = None
        if port:
            chosen = next((p for p in ports if p.get("name") == port or str(p.get("port")) == port), None)
            if chosen is None:
                raise ApiError(503, "ServiceUnavailable", f'no service port "{port}" found for service "{name}"')
        elif ports:
            chosen = next((p for p in ports if not p.get("name")), ports[0])
        target = (chosen or {}).get("targetPort", (chosen or {}).get("port"))
        custom = sim.proxy_handlers.get((ns, name))
        if rest == "/" and not trailing_slash:
            rest = ""
        path = rest or "/"
        if self.path.find("?") >= 0:
            path += "?" + self.path.split("?", 1)[1]
        headers = CIDict(self.headers.items())
        if custom is not None:
            resp = custom(self.command, path, headers, body)
            self.send_openai_response(resp)
            return
        ws = sim.workspace_for_service(svc)
        unavailable = ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
        if ws is None or not sim.workspace_serving(ws):
            raise unavailable
        if scheme == "https" or str(target) not in ("5000", "http"):
            pod_ip = "10.244.0.10"
            raise ApiError(
                503,
                "ServiceUnavailable",
                f"error trying to reach service: dial tcp {pod_ip}:{target}: connect: connection refused",
            )
        preset = sim.workspace_preset(ws)
        try:
            resp = sim.openai.handle(
                self.command,
                path,
                headers,
                body,
                model=sim.served_model(ws),
                root=preset,
                max_model_len=sim.model_max_len(ws),
                ctx={"via": "proxy", "workspace": name, "namespace": ns},
            )
        except AbortConnection:
            self.abort_connection()
            return
        # uvicorn's access log line, as vLLM writes it
        from http import HTTPStatus

        try:
            phrase = HTTPStatus(resp.status).phrase
        except ValueError:
            phrase = ""
        client_port = 40000 + (hash(self.client_address) % 20000)
        sim.append_logs(
            ns,
            f"{ws['metadata']['name']}-0",
            [
                f'INFO:     10.244.0.1:{client_port} - "{self.command} {path.split("?")[0]} HTTP/1.1" '
                f"{resp.status} {phrase}"
            ],
        )
        self.send_openai_response(resp)

    # ------------------------------------------------------------ pod proxy
    def pod_proxy(self, ns: str, spec: str, rest: str, body: bytes) -> None:
        """/api/v1/namespaces/N/pods/[SCHEME:]NAME[:PORT]/proxy/PATH: the model server of one pod
        (port 5000 or "http"); 503 as the API server's dial error when nothing listens there."""
        sim = self.sim
        parts = spec.split(":")
        scheme, name, port = (
            ("http", parts[0], "")
            if len(parts) == 1
            else (("http", parts[0], parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2]))
        )
        pod = sim.store.get("/pods", ns, name)
        pods = sim.registry.by_key("/pods")
        assert pods is not None  # the core types are always registered
        if pod is None:
            raise not_found(pods, name)
        # A pod still downloading its model answers /metrics with KAITO's download gauges only
        # (KaitoController.start_download), before any model server listens.
        download = (
            sim.controller.download_metrics(ns, name) if rest == "/metrics" and port in ("", "5000", "http") else None
        )
        if download is not None:
            self.send_openai_response(
                Response(200, [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], download.encode())
            )
            return
        status = pod.get("status") or {}
        pod_ip = status.get("podIP") or "10.244.0.10"
        refused = ApiError(
            503,
            "ServiceUnavailable",
            f"error trying to reach service: dial tcp {pod_ip}:{port or 80}: connect: connection refused",
        )
        ws_name = ((pod.get("metadata") or {}).get("labels") or {}).get("kaito.sh/workspace", "")
        ws = sim.store.get("kaito.sh/workspaces", ns, ws_name) if ws_name else None
        if (
            scheme != "http"
            or port not in ("5000", "http")
            or ws is None
            or status.get("phase") != "Running"
            or not sim.workspace_serving(ws)
        ):
            raise refused
        fault = sim.openai.pod_faults.get((ns, name))
        if fault == "refuse":
            raise refused
        if fault == "hang":  # accepts the connection, never answers (until the simulator stops)
            sim.openai.stop_event.wait(sim.openai.hang_seconds)
            self.abort_connection()
        path = rest or "/"
        if self.path.find("?") >= 0:
            path += "?" + self.path.split("?", 1)[1]
        try:
            resp = sim.openai.handle(
                self.command,
                path,
                CIDict(self.headers.items()),
                body,
                model=sim.served_model(ws),
                root=sim.workspace_preset(ws),
                max_model_len=sim.model_max_len(ws),
                ctx={"via": "pod-proxy", "workspace": ws_name, "namespace": ns, "pod": name},
            )
        except AbortConnection:
            self.abort_connection()
            return
        self.send_openai_response(resp)


def make_server_ssl_context(cert_file: str, key_file: str, ca_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.load_verify_locations(cafile=ca_file)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


# ------------------------------------------------------------------ InferenceSet additions (issue 14)
def _dig(obj: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _scale_paths(rt: ResourceType, version: str) -> dict[str, str]:
    for v in ((rt.crd or {}).get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            return dict((v.get("subresources") or {}).get("scale") or {})
    return {}


def _scale_of(rt: ResourceType, version: str, obj: dict) -> dict:
    """The autoscaling/v1 Scale of a custom resource, read through its CRD's scale paths."""
    paths = _scale_paths(rt, version)
    m = obj["metadata"]
    status: dict[str, Any] = {"replicas": int(_dig(obj, paths.get("statusReplicasPath", ".status.replicas")) or 0)}
    sel = _dig(obj, paths.get("labelSelectorPath", "")) if paths.get("labelSelectorPath") else None
    if sel:
        status["selector"] = sel
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
        "spec": {"replicas": int(_dig(obj, paths.get("specReplicasPath", ".spec.replicas")) or 0)},
        "status": status,
    }


def _scale(
    self: ApiHandler,
    rt: ResourceType,
    version: str,
    ns: str | None,
    name: str,
    method: str,
    query: dict[str, str],
    body: bytes,
) -> None:
    """GET/PUT/PATCH on a custom resource's scale subresource (the CRD's specReplicasPath)."""
    api = self.sim.api
    obj = api.get(rt, version, ns, name)
    if method in ("GET", "HEAD"):
        self.send_json(200, _scale_of(rt, version, obj))
        return
    if method not in ("PUT", "PATCH"):
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    cur = _scale_of(rt, version, obj)
    try:
        sent = json.loads(body or b"null")
    except ValueError:
        raise bad_request(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml"
        ) from None
    if method == "PATCH":
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/json-patch+json":
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - "
                f"accepted media types include: application/merge-patch+json ({ctype})",
                None,
            )
        new = dict(cur, spec=dict(cur["spec"], **((sent or {}).get("spec") or {})))
    else:
        if not isinstance(sent, dict) or sent.get("kind") not in (None, "Scale"):
            raise bad_request("invalid Scale body")
        new = sent
    replicas = (new.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise ApiError(
            422,
            "Invalid",
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
            f"{json.dumps(replicas)}: must be greater than or equal to 0",
            None,
        )
    path = _scale_paths(rt, version).get("specReplicasPath", ".spec.replicas").strip(".").split(".")
    patch: dict[str, Any] = {path[-1]: replicas}
    for part in reversed(path[:-1]):
        patch = {part: patch}
    out, warns = api.patch(
        rt,
        version,
        ns,
        name,
        "application/merge-patch+json",
        json.dumps(patch).encode(),
        dry_run=query.get("dryRun") == "All",
    )
    self.send_json(200, _scale_of(rt, version, out), [("Warning", f'299 - "{w}"') for w in warns])


class GatewayHandler(BaseHandler):
    """The simulated inference Gateway (plain HTTP): a request's body `model` picks the InferenceSet of
    that name (Body-Based Routing), the InferencePool's endpoint picker a ready replica."""

    def dispatch(self) -> None:
        sim = self.server.sim  # type: ignore[attr-defined]
        body = self.read_body()
        model: str | None = None
        try:
            parsed = json.loads(body) if body.strip() else None
            if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
                model = parsed["model"]
        except ValueError:
            pass
        ws = sim.iset_controller.route(model)
        if ws is None:
            self.send_bytes(503, b"no healthy upstream", "text/plain", [])
            return
        try:
            resp = sim.openai.handle(
                self.command,
                self.path,
                CIDict(self.headers.items()),
                body,
                model=sim.served_model(ws),
                root=sim.workspace_preset(ws),
                max_model_len=sim.model_max_len(ws),
                ctx={"via": "gateway"},
            )
        except AbortConnection:
            self.abort_connection()
            return
        self.send_openai_response(resp)
