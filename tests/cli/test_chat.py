"""`kubectl kaito chat` in-process against the simulated cluster and its OpenAI stand-in."""

from __future__ import annotations

import io
import json
import socket
from typing import Any

import pytest
import yaml

from tests.helpers import run_cli

MODEL = "phi-4-mini-instruct"


def answer(text: str, turn: int = 1, model: str = MODEL) -> str:
    """What the stand-in says (deterministic, so history is visible in the answer)."""
    return f"Hello from {model}. You said: {text} (turn {turn})"


def chats(sim: Any) -> list[dict[str, Any]]:
    """The chat requests the model server received."""
    return [r for r in sim.openai.requests if r["path"] == "/v1/chat/completions"]


@pytest.fixture
def ws(sim: Any) -> str:
    sim.seed_workspace("my-llm", model=MODEL, ready=True)
    return "my-llm"


# ---- one question -------------------------------------------------------------------------------


def test_message_streams_through_the_service_proxy(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == answer("hi") + "\n"
    [req] = chats(sim)
    assert req["model"] == MODEL  # read from /v1/models, not guessed
    assert req["stream"] is True
    assert (req["temperature"], req["max_tokens"], req["top_p"]) == (0.7, 1024, 0.9)
    assert req["messages"] == [{"role": "user", "content": "hi"}]
    assert req["via"] != "direct" and req["workspace"] == ws
    paths = [(r.method, r.path) for r in sim.requests]
    assert ("GET", f"/api/v1/namespaces/default/services/{ws}:http/proxy/v1/models") in paths
    assert ("POST", f"/api/v1/namespaces/default/services/{ws}:http/proxy/v1/chat/completions") in paths


def test_positional_name_and_flags_reach_the_payload(sim: Any, ws: str) -> None:
    r = run_cli(
        "chat",
        ws,
        "-m",
        "hi",
        "--system-prompt",
        "Be brief.",
        "--temperature",
        "0.25",
        "--max-tokens",
        "100",
        "--top-p",
        "0.5",
    )
    assert r.exit_code == 0, r.stderr
    [req] = chats(sim)
    assert (req["temperature"], req["max_tokens"], req["top_p"]) == (0.25, 100, 0.5)
    assert req["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]


def test_no_stream_sends_one_post(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--no-stream")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == answer("hi") + "\n"
    [req] = chats(sim)
    assert req["stream"] is False


def test_piped_stdin_is_one_question(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, input="What is KAITO?\nIn one line.\n")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == answer("What is KAITO?\nIn one line.") + "\n"
    assert r.stderr == ""  # no banner, no prompt: scripts get only the answer


def test_empty_stdin_is_a_usage_error(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, input="  \n")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "error: no message: stdin was empty" in r.stderr
    assert chats(sim) == []


def test_output_json_is_the_whole_response(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "-o", "json")
    assert r.exit_code == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["object"] == "chat.completion"
    assert body["model"] == MODEL
    assert body["choices"][0]["message"]["content"] == answer("hi")
    assert body["usage"]["total_tokens"] > 0
    assert chats(sim)[0]["stream"] is False  # -o asks for the server's own object


def test_output_yaml(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "-o", "yaml")
    assert r.exit_code == 0, r.stderr
    assert yaml.safe_load(r.stdout)["choices"][0]["message"]["content"] == answer("hi")


def test_model_flag_skips_the_lookup(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--model", MODEL)
    assert r.exit_code == 0, r.stderr
    assert not [q for q in sim.openai.requests if q["path"] == "/v1/models"]


def test_unknown_model_is_the_servers_404(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--model", "gpt-5")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert "The model `gpt-5` does not exist." in r.stderr


def test_cut_off_answer_warns_on_stderr(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--max-tokens", "2")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "Hello from\n"
    assert "warning: the answer was cut off at max_tokens=2" in r.stderr


# ---- a session ----------------------------------------------------------------------------------


def test_session_keeps_history_and_clear_forgets_it(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, input="first\nsecond\n/clear\nthird\n", stdin_tty=True)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "\n".join([answer("first", 1), answer("second", 2), answer("third", 1)]) + "\n"
    assert r.stderr.startswith(
        f"Connected to workspace {ws} (model {MODEL}). Type /help for commands, /quit to exit.\n>>> "
    )
    assert "History cleared." in r.stderr
    second = chats(sim)[1]["messages"]
    assert second == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": answer("first", 1)},
        {"role": "user", "content": "second"},
    ]
    assert chats(sim)[2]["messages"] == [{"role": "user", "content": "third"}]


def test_session_set_params_and_quit(sim: Any, ws: str) -> None:
    script = "/set temperature 0.3\n/set max_tokens 200\n/set system Be terse.\n/params\n/model\nhi\n/quit\nnot sent\n"
    r = run_cli("chat", "--workspace-name", ws, input=script, stdin_tty=True)
    assert r.exit_code == 0, r.stderr
    assert "temperature = 0.3\n" in r.stderr
    assert "max_tokens = 200\n" in r.stderr
    assert "temperature: 0.3\nmax_tokens: 200\ntop_p: 0.9\nsystem: Be terse.\n" in r.stderr
    assert f"model: {MODEL} (workspace default/{ws})" in r.stderr
    [req] = chats(sim)
    assert (req["temperature"], req["max_tokens"]) == (0.3, 200)
    assert req["messages"][0] == {"role": "system", "content": "Be terse."}
    assert r.stdout == answer("hi") + "\n"


class FlippingStdin(io.StringIO):
    """A terminal stdin that runs a callback before handing out each line (to change the server mid-session)."""

    def __init__(self, lines: list[tuple[str, Any]]) -> None:
        super().__init__()
        self._lines = list(lines)

    def isatty(self) -> bool:
        return True

    def readline(self, *args: Any) -> str:  # type: ignore[override]  # a scripted stdin: readline with any arguments
        if not self._lines:
            return ""
        line, before = self._lines.pop(0)
        if before:
            before()
        return line


def test_session_survives_an_error_mid_stream(sim: Any, ws: str) -> None:
    import os

    from kubectl_kaito import cli
    from kubectl_kaito.console import Console

    def set_mode(mode: str) -> Any:
        return lambda: setattr(sim.openai, "mode", mode)

    stdin = FlippingStdin([("one\n", set_mode("fail_midstream")), ("two\n", set_mode("normal"))])
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["chat", "--workspace-name", ws], console=Console(stdin, out, err, env=dict(os.environ)))
    assert code == 0
    assert "error: the model server reported an error mid-answer: Internal server error" in err.getvalue()
    # the failed turn is not in the history: the next question is turn 1 again
    assert out.getvalue().endswith(answer("two", 1) + "\n")


def test_output_json_needs_a_question(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-o", "json", input="", stdin_tty=True)
    assert r.exit_code == 2
    assert "needs a single question" in r.stderr


# ---- failures -------------------------------------------------------------------------------------


def test_missing_workspace_is_exit_3(sim: Any) -> None:
    r = run_cli("chat", "--workspace-name", "nope", "-m", "hi")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert 'error: workspace "nope" not found in namespace "default"' in r.stderr


def test_workspace_not_ready_is_exit_4(sim: Any) -> None:
    sim.seed_workspace("slow-llm", ready=False)
    r = run_cli("chat", "--workspace-name", "slow-llm", "-m", "hi", "-o", "json")
    assert r.exit_code == 4
    assert r.stdout == ""
    assert "error: workspace default/slow-llm is not ready: " in r.stderr
    assert "hint: see `kubectl kaito status --workspace-name slow-llm -n default`" in r.stderr
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert err["code"] == "NOT_READY"
    assert chats(sim) == []


def test_error_mid_stream_is_exit_1_and_stdout_stays_empty(sim: Any, ws: str) -> None:
    sim.openai.mode = "fail_midstream"
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: the model server reported an error mid-answer: Internal server error: the engine died while generating"
    ]


def test_dropped_connection_mid_stream_is_exit_1(sim: Any, ws: str) -> None:
    sim.openai.mode = "drop_midstream"
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert "error:" in r.stderr


def test_non_streamed_server_error_is_exit_1(sim: Any, ws: str) -> None:
    sim.openai.mode = "fail_midstream"  # the stand-in answers 500 when not streaming
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--no-stream")
    assert r.exit_code == 1
    assert "the engine died while generating" in r.stderr


def test_too_long_prompt_is_exit_1_with_the_models_message(sim: Any, ws: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-o", "json", input="x" * 40_000)
    assert r.exit_code == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("error: the model server refused the request: This model's maximum context length is")
    assert json.loads(lines[-1])["code"] == "VALIDATION_ERROR"


def test_server_that_never_answers_times_out_with_exit_4(sim: Any, ws: str) -> None:
    sim.openai.mode = "hang"
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--model", MODEL, "--timeout", "1s", "-o", "json")
    assert r.exit_code == 4
    assert r.stdout == ""
    assert "sent nothing within 1s" in r.stderr
    assert json.loads(r.stderr.strip().splitlines()[-1])["code"] == "TIMEOUT"


def test_model_lookup_that_never_answers_times_out_with_exit_4(sim: Any, ws: str) -> None:
    sim.openai.mode = "hang"
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--timeout", "500ms")
    assert r.exit_code == 4
    assert r.stdout == ""
    assert chats(sim) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--temperature", "2.5"), "invalid --temperature 2.5"),
        (("--top-p", "0"), "invalid --top-p 0"),
        (("--max-tokens", "0"), "invalid --max-tokens 0"),
        (("--timeout", "soon"), "invalid --timeout value"),
        (("-o", "table"), "unknown output format 'table'"),
        (("--endpoint", "http://x"), "not both"),
    ],
)
def test_bad_flags_are_exit_2_before_any_request(sim: Any, ws: str, args: tuple[str, ...], needle: str) -> None:
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", *args)
    assert r.exit_code == 2
    assert needle in r.stderr
    assert sim.openai.requests == []


def test_no_target_is_exit_2() -> None:
    r = run_cli("chat", "-m", "hi")
    assert r.exit_code == 2
    assert "no workspace given" in r.stderr


# ---- --endpoint ------------------------------------------------------------------------------------


def test_endpoint_needs_no_kubeconfig(sim: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    for url in (sim.openai_url, sim.openai_url.rstrip("/") + "/v1/chat/completions"):
        r = run_cli("chat", "--endpoint", url, "-m", "hi")
        assert r.exit_code == 0, r.stderr
        assert r.stdout == answer("hi") + "\n"
    assert all(q["via"] == "direct" for q in chats(sim))


def test_endpoint_session(sim: Any) -> None:
    r = run_cli("chat", "--endpoint", sim.openai_url, input="a\nb\n", stdin_tty=True)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == answer("a", 1) + "\n" + answer("b", 2) + "\n"
    assert r.stderr.startswith(f"Connected to {sim.openai_url.rstrip('/')}/v1 (model {MODEL}).")


def test_endpoint_that_does_not_answer_is_exit_4() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_cli("chat", "--endpoint", f"http://127.0.0.1:{port}", "-m", "hi", "-o", "json")
    assert r.exit_code == 4
    assert r.stdout == ""
    assert f"error: the endpoint http://127.0.0.1:{port}/v1 did not answer" in r.stderr
    assert json.loads(r.stderr.strip().splitlines()[-1])["code"] == "NOT_READY"


def test_endpoint_timeout(sim: Any) -> None:
    sim.openai.mode = "hang"
    r = run_cli("chat", "--endpoint", sim.openai_url, "-m", "hi", "--timeout", "1")
    assert r.exit_code == 4
    assert "sent nothing within 1s" in r.stderr


def test_service_proxy_503_is_exit_4(sim: Any, ws: str) -> None:
    svc = sim.get("v1", "Service", ws, "default")
    for port in svc["spec"]["ports"]:
        if port.get("name") == "http":
            port["targetPort"] = 8080  # nothing listens there: the API server answers 503
    sim.apply(svc)
    r = run_cli("chat", "--workspace-name", ws, "-m", "hi", "--model", MODEL)
    assert r.exit_code == 4
    assert r.stdout == ""
    assert "error: workspace default/my-llm is not answering (503): error trying to reach service" in r.stderr
    assert f"hint: see `kubectl kaito status --workspace-name {ws} -n default`" in r.stderr
