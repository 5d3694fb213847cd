"""`kubectl kaito connect` against the simulated cluster: a real relay process, real HTTP clients."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.helpers import run_cli, subprocess_env

MODEL = "phi-4-mini-instruct"
PROXY = "/api/v1/namespaces/default/services/my-llm:http/proxy"


def answer(text: str, turn: int = 1) -> str:
    return f"Hello from {MODEL}. You said: {text} (turn {turn})"


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def can_bind(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing left listening: the port can be bound again."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


class Relay:
    """`kubectl-kaito connect ...` as a process; stdout's first line is read once it listens."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubectl_kaito", "connect", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()
        if not self.first_line.startswith("OPENAI_BASE_URL="):
            self.proc.kill()
            self.proc.wait()
            self._reader.join(timeout=5)
            raise AssertionError((self.first_line, self.stderr()))
        self.base_url = self.first_line.split("=", 1)[1]

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> int:
        """Ctrl-C, as a terminal sends it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
        return code


@pytest.fixture
def ws(sim: Any) -> str:
    sim.seed_workspace("my-llm", model=MODEL, ready=True)
    return "my-llm"


@pytest.fixture
def relay(sim: Any, ws: str) -> Iterator[Relay]:
    r = Relay(ws, "--port", "0", "-v")
    yield r
    r.stop()


def chats(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.openai.requests if r["path"] == "/v1/chat/completions"]


# ---- what a client gets ---------------------------------------------------------------------------


def test_prints_the_base_url_and_an_example_curl(sim: Any, relay: Relay) -> None:
    assert relay.first_line == f"OPENAI_BASE_URL=http://127.0.0.1:{relay.port}/v1"
    sim.wait_until(lambda: "Try: curl" in relay.stderr(), timeout=5)
    assert f'"model": "{MODEL}"' in relay.stderr()  # the served name, read from /v1/models
    assert relay.port != 0 and not can_bind(relay.port)  # --port 0 picked a real port, and listens on it


def test_non_streaming_chat_completion_passes_through_unchanged(sim: Any, relay: Relay) -> None:
    payload = json.dumps(chat_body("hi", temperature=0.25, extra_field={"kept": [1, 2]}), separators=(",", ":"))
    r = httpx.post(
        relay.base_url + "/chat/completions",
        content=payload,
        headers={"Content-Type": "application/json", "X-Request-Id": "abc-123"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == answer("hi")
    [req] = chats(sim)
    assert req["body"] == json.loads(payload)  # unknown fields too: the body is not rebuilt
    assert req["headers"]["X-Request-Id"] == "abc-123"
    assert req["via"] == "proxy" and req["workspace"] == "my-llm"
    # it went through the API server's service proxy, as chat does
    assert ("POST", PROXY + "/v1/chat/completions") in [(q.method, q.path) for q in sim.requests]
    sim.wait_until(lambda: "POST /v1/chat/completions 200 " in relay.stderr(), timeout=5)  # -v: one line each


def test_streaming_is_server_sent_events_as_they_arrive(sim: Any, relay: Relay) -> None:
    sim.openai.chunk_delay = 0.3  # slow enough to see pieces arrive apart
    arrivals: list[float] = []
    raw = b""
    with httpx.stream("POST", relay.base_url + "/chat/completions", json=chat_body("yo", stream=True)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for piece in r.iter_raw():
            arrivals.append(time.monotonic())
            raw += piece
    events = [e for e in raw.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == answer("yo")
    # unbuffered: the answer came in many pieces spread over its whole duration, not all at the end
    assert len(arrivals) >= 5 and arrivals[-1] - arrivals[0] > 1.0


def test_ten_concurrent_requests(sim: Any, relay: Relay) -> None:
    sim.openai.chunk_delay = 0.1  # each streamed answer takes over a second

    def one(i: int, stream: bool = True) -> str:
        with httpx.Client(timeout=60) as c:
            if not stream:
                return c.post(relay.base_url + "/chat/completions", json=chat_body(f"q{i}")).json()["choices"][0][
                    "message"
                ]["content"]
            out = ""
            with c.stream("POST", relay.base_url + "/chat/completions", json=chat_body(f"q{i}", stream=True)) as r:
                for line in r.iter_lines():
                    if line.startswith("data: {"):
                        out += json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
            return out

    t0 = time.monotonic()
    assert one(99) == answer("q99")
    alone = time.monotonic() - t0
    t0 = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(10)))
    together = time.monotonic() - t0
    assert results == [answer(f"q{i}") for i in range(10)]
    # ten streams at once take about as long as one; relayed one after another they would take ten times as long
    assert together < 4 * alone, (together, alone)
    with ThreadPoolExecutor(10) as pool:  # and non-streamed answers, all at once
        assert list(pool.map(lambda i: one(i, stream=False), range(10))) == [answer(f"q{i}") for i in range(10)]


def test_the_callers_authorization_never_reaches_the_cluster(sim: Any, relay: Relay) -> None:
    token = sim.kubeconfig()["users"][0]["user"]["token"]
    r = httpx.post(
        relay.base_url + "/chat/completions",
        json=chat_body("hi"),
        headers={"Authorization": "Bearer sk-users-own-key", "Impersonate-User": "admin", "Cookie": "session=1"},
    )
    assert r.status_code == 200, r.text
    [api] = [q for q in sim.requests if q.path == PROXY + "/v1/chat/completions"]
    assert api.headers["Authorization"] == f"Bearer {token}"  # the kubeconfig's, replacing the caller's
    assert "Impersonate-User" not in api.headers and "Cookie" not in api.headers
    assert api.user != "admin"
    assert "sk-users-own-key" not in json.dumps(dict(chats(sim)[0]["headers"]))


@pytest.mark.parametrize("target", ["/v1/../../../../api/v1/secrets", "/v1/%2e%2e/%2E%2E/x", "/..%2f..%2fapi"])
def test_paths_cannot_climb_out_of_the_service_proxy(sim: Any, relay: Relay, target: str) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 "), data
    assert not [q for q in sim.requests if "secrets" in q.path or q.path.endswith("/x")]


def test_model_errors_keep_their_status_and_body(sim: Any, relay: Relay) -> None:
    r = httpx.post(relay.base_url + "/chat/completions", json={**chat_body("x"), "model": "gpt-4"})
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "The model `gpt-4` does not exist."
    sim.openai.max_prompt_chars = 10
    r = httpx.post(relay.base_url + "/chat/completions", json=chat_body("x" * 50))
    assert r.status_code == 400 and r.json()["error"]["type"] == "BadRequestError"
    assert httpx.get(relay.base_url + "/models").json()["data"][0]["id"] == MODEL
    sim.openai.max_prompt_chars = 32_000
    sim.openai.mode = "fail_midstream"  # a 500 for a plain request; an error event inside a stream
    r = httpx.post(relay.base_url + "/chat/completions", json=chat_body("x"))
    assert r.status_code == 500 and r.json()["error"]["type"] == "InternalServerError"
    with httpx.stream("POST", relay.base_url + "/chat/completions", json=chat_body("x", stream=True)) as s:
        body = s.read().decode()
    assert s.status_code == 200
    assert body.rstrip("\n").rsplit("\n\n", 1)[-1].startswith('data: {"error": {"object": "error"')


def test_an_answer_broken_midstream_reaches_the_caller_broken(sim: Any, relay: Relay) -> None:
    sim.openai.mode = "drop_midstream"
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream("POST", relay.base_url + "/chat/completions", json=chat_body("x", stream=True)) as r:
            assert r.status_code == 200
            for _ in r.iter_bytes():
                pass
    sim.wait_until(lambda: "broke" in relay.stderr(), timeout=5)
    sim.openai.mode = "normal"  # the relay goes on serving
    assert httpx.post(relay.base_url + "/chat/completions", json=chat_body("again")).status_code == 200


def test_curl(sim: Any, relay: Relay) -> None:
    curl = shutil.which("curl")
    if not curl:
        pytest.skip("curl not installed")
    out = subprocess.run(
        [
            curl,
            "-sS",
            "-N",
            relay.base_url + "/chat/completions",
            "-H",
            "Content-Type: application/json",
            "-H",
            "Authorization: Bearer anything",
            "-d",
            json.dumps(chat_body("from curl", stream=True)),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("data: [DONE]\n\n")
    assert "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in out.stdout.splitlines()
        if line.startswith("data: {")
    ) == answer("from curl")


def test_ctrl_c_ends_with_130_and_frees_the_port(sim: Any, ws: str) -> None:
    r = Relay(ws, "--port", "0")
    port = r.port
    assert r.stop() == 130
    assert "stopped" in r.stderr() and "Traceback" not in r.stderr()
    assert can_bind(port)


def test_print_env_lines_are_for_eval_and_let_go_of_stdout(sim: Any, ws: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl_kaito", "connect", ws, "--port", "0", "--print-env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        out = proc.stdout.read()  # returns only because the relay lets go of stdout: $(...) would too
        assert proc.poll() is None  # ...while it keeps serving
        lines = out.splitlines()
        assert lines[0].startswith("export OPENAI_BASE_URL=http://127.0.0.1:")
        assert lines[1] == 'export OPENAI_API_KEY="${OPENAI_API_KEY:-unused}"'
        assert lines[2] == f"export KAITO_CONNECT_PID={proc.pid}"
        env = subprocess.run(
            ["sh", "-c", out + '\nprintf "%s %s" "$OPENAI_BASE_URL" "$OPENAI_API_KEY"'],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"]},
        ).stdout
        url, key = env.split(" ")
        assert key == "unused"
        assert httpx.get(url + "/models").json()["data"][0]["id"] == MODEL
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


# ---- bad input: one line, the documented exit code, nothing listening --------------------------------------


def test_port_in_use_is_exit_1(sim: Any, ws: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run_cli("connect", ws, "--port", str(port))
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the address is already in use",
        "hint: choose another --port (--port 0 picks a free one)",
    ]


def test_missing_workspace_is_exit_3(sim: Any) -> None:
    port = free_port()
    r = run_cli("connect", "nope", "--port", str(port))
    assert r.exit_code == 3 and r.stdout == ""
    assert r.stderr.startswith("error: ") and "nope" in r.stderr.splitlines()[0]
    assert can_bind(port)


def test_not_ready_workspace_is_exit_4(sim: Any) -> None:
    sim.seed_workspace("slow", model=MODEL, ready=False)
    port = free_port()
    r = run_cli("connect", "slow", "--port", str(port))
    assert r.exit_code == 4 and r.stdout == ""
    assert r.stderr.startswith("error: ") and "not ready" in r.stderr.splitlines()[0]
    assert can_bind(port)


def test_a_model_not_answering_is_exit_4(sim: Any, ws: str) -> None:
    sim.openai.mode = "hang"
    port = free_port()
    r = run_cli("connect", ws, "--port", str(port), "--timeout", "1s")
    assert r.exit_code == 4 and r.stdout == ""
    assert r.stderr.startswith("error: ")
    assert can_bind(port)


@pytest.mark.parametrize("value", ["-1", "65536", "99999999999999999999", "abc", "8080.5"])
def test_bad_port_is_exit_2(value: str) -> None:
    r = run_cli("connect", "my-llm", f"--port={value}")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and "--port" in r.stderr


@pytest.mark.parametrize("value", ["example.com", "1.2.3", "\n127.0.0.1", ""])
def test_bad_address_is_exit_2(value: str) -> None:
    r = run_cli("connect", "my-llm", "--address", value)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: invalid --address ")


def test_pflag_forms(sim: Any) -> None:
    r = run_cli("connect", "my-llm", "--port=70000")
    assert r.exit_code == 2 and "invalid --port 70000" in r.stderr


def test_another_address_warns_that_there_is_no_authentication(sim: Any, ws: str) -> None:
    r = Relay(ws, "--port", "0", "--address", "0.0.0.0")
    try:
        sim.wait_until(lambda: "Try: curl" in r.stderr(), timeout=5)
        assert "warning: listening on 0.0.0.0:" in r.stderr() and "no authentication" in r.stderr()
        assert r.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(r.base_url + "/models").status_code == 200
    finally:
        r.stop()


def test_loopback_gives_no_warning(sim: Any, relay: Relay) -> None:
    sim.wait_until(lambda: "Try: curl" in relay.stderr(), timeout=5)
    assert "warning" not in relay.stderr()


def test_workspace_deleted_while_connected_answers_the_api_servers_status(sim: Any, relay: Relay) -> None:
    sim.openai.mode = "normal"
    run_cli("delete", "my-llm", "--yes")
    sim.wait_until(lambda: httpx.get(relay.base_url + "/models").status_code != 200, timeout=10)
    r = httpx.get(relay.base_url + "/models")
    assert r.status_code in (404, 503)
    assert r.json()["kind"] == "Status"  # the API server's own answer, passed through


def test_a_model_that_stops_answering_gets_504_and_one_warning(sim: Any, ws: str) -> None:
    r = Relay(ws, "--port", "0", "--timeout", "1s")
    try:
        sim.openai.mode = "hang"
        t0 = time.monotonic()
        got = httpx.post(r.base_url + "/chat/completions", json=chat_body("hi"), timeout=30)
        assert time.monotonic() - t0 < 10
        assert got.status_code == 504
        assert "sent nothing in time" in got.json()["error"]["message"]
        sim.wait_until(lambda: "warning: POST /v1/chat/completions: " in r.stderr(), timeout=5)
        sim.openai.mode = "normal"
    finally:
        assert r.stop() == 130


def test_an_api_server_gone_away_gets_502_and_one_warning(sim: Any, ws: str) -> None:
    r = Relay(ws, "--port", "0")
    try:
        sim.stop()
        got = httpx.post(r.base_url + "/chat/completions", json=chat_body("hi"), timeout=30)
        assert got.status_code == 502
        assert got.json()["error"]["message"].startswith("cannot reach the Kubernetes API server")
        sim.wait_until(lambda: "warning: POST /v1/chat/completions: cannot reach" in r.stderr(), timeout=5)
        assert "Traceback" not in r.stderr()
    finally:
        assert r.stop() == 130


def test_kill_ends_with_0_and_frees_the_port(sim: Any, ws: str) -> None:
    """`kill PID` (SIGTERM) is how a relay started with `&` is stopped: a background job of a
    non-interactive shell ignores SIGINT."""
    r = Relay(ws, "--port", "0")
    port = r.port
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(timeout=15) == 0, r.stderr()
    r.stop()
    assert "stopped" in r.stderr() and "Traceback" not in r.stderr()
    assert can_bind(port)


def test_exec_plugin_credentials_are_asked_again_when_the_cluster_refuses_them(
    sim: Any, ws: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay runs for hours: a token that stops working (401) is replaced by running the exec
    plugin again, and the caller's request still succeeds."""
    from tests.fixtures.kube import b64, exec_user, kubeconfig, plugin_runs, write

    old, new = "token-before-rotation", "token-after-rotation"
    sim.tokens[old] = "kaito-sim-admin"
    log = tmp_path / "runs.log"
    env = {"EXEC_PLUGIN_LOG": str(log), "EXEC_PLUGIN_TOKENS": f"{old},{new}", "EXEC_PLUGIN_TTL": "3600"}
    doc = kubeconfig(sim.url, cluster={"certificate-authority-data": b64(sim.ca_pem)}, user=exec_user(env=env))
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path / "exec-kc", doc)))
    r = Relay(ws, "--port", "0")
    try:
        assert httpx.post(r.base_url + "/chat/completions", json=chat_body("one")).status_code == 200
        assert len(plugin_runs(log)) == 1
        del sim.tokens[old]  # revoked
        sim.tokens[new] = "kaito-sim-admin"
        got = httpx.post(r.base_url + "/chat/completions", json=chat_body("two"))
        assert got.status_code == 200, got.text
        assert got.json()["choices"][0]["message"]["content"] == answer("two")
        assert len(plugin_runs(log)) == 2
        assert [q.headers["Authorization"] for q in sim.requests if q.path.endswith("/chat/completions")][-2:] == [
            f"Bearer {old}",
            f"Bearer {new}",
        ]
    finally:
        r.stop()


def test_a_callers_control_characters_never_reach_the_terminal_raw(sim: Any, relay: Relay) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as s:
        s.sendall(b"GET /v1/models\x1b[31mred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
    sim.wait_until(lambda: "GET /v1/models\\x1b[31mred " in relay.stderr(), timeout=5)
    assert "\x1b" not in relay.stderr()
