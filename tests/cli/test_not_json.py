"""A 2xx answer that should be JSON and is not (a proxy's login page, a torn or empty body): one clear
`error:` line naming what came, exit 1 (ServerError), never a traceback; for GET, LIST, a watch's
event line and the service proxy (`get-endpoint --check`, `chat`).

A tiny local HTTP server plays the API server (plain http://: no credentials are sent, as kubectl
does), with a route table the test fills: the fault-injection pattern of test_cluster_access.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kubectl_kaito import kubeconfig as kc
from kubectl_kaito.client import Client
from kubectl_kaito.errors import ServerError
from kubectl_kaito.resources import Resources
from tests.fixtures.kube import kubeconfig, write
from tests.helpers import run_cli

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"
LOGIN = (
    "<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title></head>\n"
    "<body><form action='/login'>" + "x" * 2000 + "</form></body></html>\n"
)
# (status, content type, body) or a callable writing the answer itself (for streams)
Answer = tuple[int, str, bytes] | Callable[[BaseHTTPRequestHandler], None]


class FakeAPI:
    """An HTTP server answering by path (query ignored) from `routes`; anything else is a 404 Status."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.seen: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                api.seen.append(self.path)
                answer = api.routes.get(path)
                if callable(answer):
                    answer(self)
                    return
                if answer is None:
                    status = {
                        "kind": "Status",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                        "message": f"{path} not found",
                        "details": {"name": path.rsplit("/", 1)[-1]},
                    }
                    answer = (404, "application/json", json.dumps(status).encode())
                code, ctype, body = answer
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, path: str, obj: Any) -> None:
        self.routes[path] = (200, "application/json", json.dumps(obj).encode())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    server = FakeAPI()
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path / "kubeconfig", kubeconfig(server.url, user={"token": "t"}))))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NO_COLOR", "1")
    yield server
    server.close()


def workspace(name: str = "ws", rv: str = "1") -> dict[str, Any]:
    """A ready inference Workspace, as KAITO v0.12 reports it."""
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {
            "name": name,
            "namespace": "default",
            "resourceVersion": rv,
            "uid": f"uid-{name}",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "resource": {"instanceType": "Standard_NC24ads_A100_v4"},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        "status": {
            "conditions": [
                {"type": "InferenceReady", "status": "True", "reason": "Ready"},
                {"type": "WorkspaceSucceeded", "status": "True", "reason": "Ready"},
            ]
        },
    }


def service(name: str = "ws") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.0.0.7",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
        },
    }


def one_error_line(stderr: str, *needles: str) -> str:
    """stderr is one `error:` line (plus an optional `hint:`), naming what the server sent."""
    assert "Traceback" not in stderr and "AttributeError" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert len(errors[0]) < 400  # trimmed: never the whole body
    return errors[0]


def connect() -> Resources:
    return Resources(Client(kc.load(None, None, None)))


# ---- GET and LIST ------------------------------------------------------------------------------------


def test_get_answered_by_a_login_page_is_one_line_exit_1(api: FakeAPI) -> None:
    api.routes[f"{WS}/ws"] = (200, "text/html; charset=utf-8", LOGIN.encode())
    r = run_cli("status", "--workspace-name", "ws")
    assert r.exit_code == 1 and r.stdout == ""
    line = one_error_line(r.stderr, "not with JSON", "text/html", "Sign in - Corporate Proxy")
    assert "x" * 200 not in line


def test_list_answered_with_a_torn_body_is_one_line_exit_1(api: FakeAPI) -> None:
    torn = b'{"kind":"WorkspaceList","apiVersion":"kaito.sh/v1beta1","items":[{"metad'
    api.routes[WS] = (200, "application/json", torn)
    r = run_cli("status")
    assert r.exit_code == 1 and r.stdout == ""
    one_error_line(r.stderr, "not with JSON", "application/json", "WorkspaceList")


def test_list_answered_with_json_that_is_not_an_object(api: FakeAPI) -> None:
    api.routes[WS] = (200, "application/json", b'"maintenance"')
    r = run_cli("status", "-o", "json")
    assert r.exit_code == 1 and r.stdout == ""
    assert "maintenance" in r.stderr and "Traceback" not in r.stderr


def test_empty_200_is_an_error_not_an_empty_object(api: FakeAPI) -> None:
    api.routes[f"{WS}/ws"] = (200, "application/json", b"")
    with pytest.raises(ServerError, match="not with JSON: an empty body") as e:
        connect().get_workspace("ws")
    assert e.value.exit_code == 1


# ---- watch -------------------------------------------------------------------------------------------


def _stream(lines: list[bytes]) -> Callable[[BaseHTTPRequestHandler], None]:
    """A watch answer: 200, chunked, these lines, then the end of the stream."""

    def answer(h: BaseHTTPRequestHandler) -> None:
        if "watch=true" not in h.path:
            body = json.dumps(
                {
                    "kind": "WorkspaceList",
                    "apiVersion": "kaito.sh/v1beta1",
                    "metadata": {"resourceVersion": "1"},
                    "items": [workspace()],
                }
            ).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in lines:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        h.wfile.write(b"0\r\n\r\n")

    return answer


@pytest.mark.parametrize(
    "line",
    [
        b"<html><title>Session expired</title></html>\n",
        b'"Session expired"\n',
        b'{"type": "MODIFIED", "object": "Session expired"}\n',
    ],
    ids=["html", "json-string", "object-not-an-object"],
)
def test_watch_event_line_that_is_not_an_event_is_an_error(api: FakeAPI, line: bytes) -> None:
    modified = json.dumps({"type": "MODIFIED", "object": workspace(rv="2")}).encode() + b"\n"
    api.routes[WS] = _stream([modified, line])
    events: list[dict[str, Any]] = []
    with pytest.raises(ServerError, match="not with JSON") as e:
        for event in connect().watch_workspaces("default", timeout=5):
            events.append(event)
    assert "Session expired" in e.value.message
    assert [ev["type"] for ev in events] == ["ADDED", "MODIFIED"]  # what came before still counts


def test_watch_torn_last_line_still_resumes(api: FakeAPI) -> None:
    """A cut stream (the last line has no newline) is not an error: the watch re-opens from the last event."""
    modified = json.dumps({"type": "MODIFIED", "object": workspace(rv="2")}).encode() + b"\n"
    api.routes[WS] = _stream([modified, b'{"type": "MODIFIED", "obj'])
    events = list(connect().watch_workspaces("default", timeout=1.5))
    assert events[:2] == [{"type": "ADDED", "object": workspace()}, {"type": "MODIFIED", "object": workspace(rv="2")}]
    assert sum("watch=true" in p for p in api.seen) >= 2


# ---- the service proxy (the one /v1/models client) -------------------------------------------------------


def _serving(api: FakeAPI, models: Answer) -> None:
    api.json(f"{WS}/ws", workspace())
    api.json("/api/v1/namespaces/default/services/ws", service())
    api.routes["/api/v1/namespaces/default/services/ws:http/proxy/v1/models"] = models


def test_get_endpoint_check_answered_by_a_login_page(api: FakeAPI) -> None:
    _serving(api, (200, "text/html", LOGIN.encode()))
    r = run_cli("get-endpoint", "--workspace-name", "ws", "--check")
    assert r.exit_code == 1 and r.stdout == ""
    one_error_line(r.stderr, "/v1/models", "not with JSON", "Sign in - Corporate Proxy")


def test_chat_answered_by_a_login_page(api: FakeAPI) -> None:
    _serving(api, (200, "text/html", LOGIN.encode()))
    r = run_cli("chat", "ws", "-m", "hello")
    assert r.exit_code == 1 and r.stdout == ""
    one_error_line(r.stderr, "/v1/models", "not with JSON", "Sign in - Corporate Proxy")


def test_chat_and_check_read_the_same_models_client(api: FakeAPI) -> None:
    """One /v1/models client: the same answer gives the same served model to both commands."""
    body = json.dumps({"object": "list", "data": [{"id": "phi-4-mini-instruct", "object": "model"}]}).encode()
    _serving(api, (200, "application/json", body))
    r = run_cli("get-endpoint", "--workspace-name", "ws", "--check", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["served_model"] == "phi-4-mini-instruct"


# ---- one Service lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["get-endpoint", "--workspace-name", "ws"], ["chat", "ws", "-m", "hello"]],
    ids=["get-endpoint", "chat"],
)
def test_a_missing_service_is_exit_3_with_the_same_line(api: FakeAPI, argv: list[str]) -> None:
    api.json(f"{WS}/ws", workspace())
    r = run_cli(*argv)
    assert r.exit_code == 3 and r.stdout == "", r.stderr
    one_error_line(r.stderr, "workspace default/ws has no inference Service ws")


def test_status_shows_no_endpoint_for_a_missing_service(api: FakeAPI) -> None:
    api.json(f"{WS}/ws", workspace())
    api.json("/api/v1/namespaces/default/pods", {"kind": "PodList", "metadata": {}, "items": []})
    api.json("/api/v1/namespaces/default/events", {"kind": "EventList", "metadata": {}, "items": []})
    r = run_cli("status", "--workspace-name", "ws")  # the endpoint is in the text view (-o json: the Workspace)
    assert r.exit_code == 0, r.stderr
    assert "/api/v1/namespaces/default/services/ws" in api.seen
    assert "Endpoint:       <none>" in r.stdout.splitlines()
