"""`kubectl kaito bench` against the simulated cluster's OpenAI stand-in set to known speeds.

Tolerances: the stand-in sleeps exactly what it is told, and the client adds the service proxy,
a thread switch and parsing. TTFT and TPOT must land within 30% of what the stand-in was set to.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli

MODEL = "phi-4-mini-instruct"
TOLERANCE = 0.30


def _report(stdout: str) -> dict[str, Any]:
    return json.loads(stdout)


def _within(measured: float, expected: float) -> bool:
    return abs(measured - expected) <= TOLERANCE * expected


@pytest.fixture
def ws(sim_factory) -> Any:
    sim = sim_factory(ttft=0.2, tokens_per_second=25)  # TTFT 200 ms, TPOT 40 ms
    sim.seed_workspace("my-llm", model=MODEL)
    return sim


def test_reports_the_speed_the_server_was_set_to(ws: Any) -> None:
    r = run_cli(
        "bench",
        "my-llm",
        "--requests",
        "8",
        "--concurrency",
        "4",
        "--max-tokens",
        "16",
        "--ignore-eos",
        "--prompt-tokens",
        "32",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""  # no progress off a terminal
    rep = _report(r.stdout)
    assert rep["workspace"] == "my-llm" and rep["namespace"] == "default" and rep["model"] == MODEL
    [run] = rep["runs"]
    assert run["completed"] == 8 and run["failed"] == 0 and run["errors"] == {}
    assert run["token_source"] == "usage"
    assert run["total_output_tokens"] == 8 * 16 and run["total_input_tokens"] == 8 * 32
    assert _within(run["ttft_ms"]["mean"], 200), run["ttft_ms"]
    assert _within(run["ttft_ms"]["p50"], 200)
    assert _within(run["tpot_ms"]["mean"], 40), run["tpot_ms"]
    assert _within(run["itl_ms"]["p50"], 40), run["itl_ms"]
    assert _within(run["e2e_latency_ms"]["mean"], 200 + 15 * 40), run["e2e_latency_ms"]
    # 8 requests of ~0.8 s, 4 at a time: about 1.6 s, so about 5 requests/s and 80 tokens/s
    assert _within(run["request_throughput"], 8 / (2 * 0.8))
    assert run["output_throughput"] == pytest.approx(run["request_throughput"] * 16, rel=0.01)
    sent = [q for q in ws.openai.requests if q["path"] == "/v1/chat/completions"]
    assert len(sent) == 8 and all(q["via"] == "proxy" and q["stream"] is True for q in sent)
    assert all(q["body"]["stream_options"] == {"include_usage": True} and q["max_tokens"] == 16 for q in sent)


def test_never_more_requests_in_flight_than_asked(sim_factory) -> None:
    sim = sim_factory(ttft=0.05, tokens_per_second=200)
    r = run_cli(
        "bench",
        "--endpoint",
        sim.openai_url,
        "--requests",
        "20",
        "--concurrency",
        "3",
        "--max-tokens",
        "8",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    [run] = _report(r.stdout)["runs"]
    assert run["completed"] == 20
    assert sim.openai.max_in_flight == 3  # the server saw exactly 3 at once: never more, and the bound was used
    assert run["max_in_flight"] == 3


def test_a_sweep_runs_once_per_concurrency(sim_factory) -> None:
    sim = sim_factory(ttft=0.05, tokens_per_second=500)
    r = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "6", "--concurrency", "1,2", "--max-tokens", "4")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert out.startswith("Run 1/2: closed loop, concurrency 1\n")
    assert "Run 2/2: closed loop, concurrency 2\n" in out
    assert "  Requests:                 6 succeeded, 0 failed of 6 sent\n" in out
    assert "  METRIC (MS)   MEAN" in out and "\n  TTFT   " in out
    sweep = out.split("Sweep (times in ms)\n")[1].splitlines()
    assert sweep[0].split() == [
        "CONCURRENCY",
        "RATE",
        "OK",
        "FAILED",
        "REQ/S",
        "OUT",
        "TOK/S",
        "TTFT",
        "P50",
        "TPOT",
        "P50",
        "E2E",
        "P50",
    ]
    assert [line.split()[:4] for line in sweep[1:]] == [["1", "-", "6", "0"], ["2", "-", "6", "0"]]


def test_rate_sends_poisson_arrivals_without_a_bound(sim_factory) -> None:
    sim = sim_factory(ttft=0.02, tokens_per_second=1000)
    r = run_cli(
        "bench",
        "--endpoint",
        sim.openai_url,
        "--requests",
        "10",
        "--rate",
        "20",
        "--seed",
        "3",
        "--max-tokens",
        "4",
        "-o",
        "yaml",
    )
    assert r.exit_code == 0, r.stderr
    assert "rate: 20.0\n" in r.stdout and "concurrency: null\n" in r.stdout and "completed: 10\n" in r.stdout
    # the requests left at their Poisson times, not all at once: the run lasts at least until the last one left
    from kubectl_kaito.loadtest import arrival_times

    last = arrival_times(10, 20.0, seed=3)[-1]
    assert last > 0.2
    assert float(r.stdout.split("duration_s: ")[1].split()[0]) >= last


def test_tokens_counted_from_the_stream_when_the_server_reports_no_usage(sim_factory) -> None:
    sim = sim_factory(tokens_per_second=1000)
    sim.openai.usage_in_stream = False
    r = run_cli(
        "bench", "--endpoint", sim.openai_url, "--requests", "3", "--max-tokens", "12", "--ignore-eos", "-o", "json"
    )
    assert r.exit_code == 0, r.stderr
    [run] = _report(r.stdout)["runs"]
    assert run["token_source"] == "stream" and run["total_output_tokens"] == 36
    text = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "1", "--max-tokens", "4")
    assert "  Token counts:             counted from the stream (one per chunk with text)\n" in text.stdout


def test_prompts_file_is_used_in_turn(sim_factory, tmp_path: Path) -> None:
    sim = sim_factory()
    f = tmp_path / "p.jsonl"
    f.write_text(
        '{"prompt": "one"}\n\n{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "two"}]}\n'
    )
    r = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "4", "--prompts", str(f), "-o", "json")
    assert r.exit_code == 0, r.stderr
    sent = [q["messages"][-1]["content"] for q in sim.openai.requests if q["path"] == "/v1/chat/completions"]
    assert sorted(sent) == ["one", "one", "two", "two"]
    assert _report(r.stdout)["load"]["prompt_tokens"] is None


def test_prompts_file_that_is_not_jsonl_is_exit_2_with_the_line(sim_factory, tmp_path: Path) -> None:
    sim = sim_factory()
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "one"}\nnot json\n')
    r = run_cli("bench", "--endpoint", sim.openai_url, "--prompts", str(f))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0] == f"error: invalid --prompts {f} line 2: not JSON"
    missing = run_cli("bench", "--endpoint", sim.openai_url, "--prompts", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "cannot read --prompts" in missing.stderr and "No such file" in missing.stderr
    assert [q for q in sim.openai.requests if q["path"] == "/v1/chat/completions"] == []


def test_some_requests_failing_are_reported_by_kind_with_exit_0(sim_factory) -> None:
    sim = sim_factory()
    sim.openai.fail_every, sim.openai.fail_status = 2, 503
    r = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "6", "--max-tokens", "4", "-o", "json")
    assert r.exit_code == 0, r.stderr
    [run] = _report(r.stdout)["runs"]
    assert run["completed"] == 3 and run["failed"] == 3 and run["errors"] == {"http_503": 3}
    assert run["error_examples"] == {"http_503": "HTTP 503: simulated failure (503)"}


def test_every_request_failing_prints_the_report_and_exits_1(sim_factory) -> None:
    sim = sim_factory()
    sim.openai.mode = "fail_midstream"
    r = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "3")
    assert r.exit_code == 1
    assert "  Errors:                   stream 3\n" in r.stdout
    assert r.stderr.splitlines() == [
        "error: every request failed (stream 3): error mid-answer: Internal server error: the engine died while "
        "generating"
    ]


def test_per_request_timeout_is_an_error_kind(sim_factory) -> None:
    sim = sim_factory(ttft=3.0)
    r = run_cli(
        "bench",
        "--endpoint",
        sim.openai_url,
        "--requests",
        "2",
        "--concurrency",
        "2",
        "--timeout",
        "300ms",
        "-o",
        "json",
    )
    assert r.exit_code == 1
    [run] = _report(r.stdout)["runs"]
    assert run["errors"] == {"timeout": 2}
    assert "error: every request failed (timeout 2)" in r.stderr


def test_endpoint_not_answering_is_exit_4_with_stdout_empty() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    r = run_cli("bench", "--endpoint", f"http://127.0.0.1:{port}", "--requests", "2")
    assert r.exit_code == 4 and r.stdout == ""
    assert r.stderr.startswith(f"error: the endpoint http://127.0.0.1:{port}/v1 did not answer")
    assert "Traceback" not in r.stderr


def test_missing_and_not_ready_workspaces(sim) -> None:
    missing = run_cli("bench", "nope")
    assert missing.exit_code == 3 and missing.stdout == ""
    assert missing.stderr.splitlines()[0] == 'error: workspace "nope" not found in namespace "default"'
    sim.seed_workspace("pending", ready=False)
    pending = run_cli("bench", "pending")
    assert pending.exit_code == 4 and pending.stdout == ""
    assert pending.stderr.startswith("error: workspace default/pending is not ready")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--requests", "0"], "error: invalid --requests 0: must be between 1 and 1000000"),
        (["--concurrency", "0"], "error: invalid --concurrency '0': each value must be between 1 and 10000"),
        (["--concurrency", "4,x"], "error: invalid --concurrency '4,x': 'x' is not a whole number"),
        (["--rate", "inf"], "error: invalid --rate inf: must be a number of requests per second greater than 0"),
        (["--rate", "nan"], "error: invalid --rate nan"),
        (["--max-tokens", "-1"], "error: invalid --max-tokens -1: must be between 1 and 1000000"),
        (["--prompt-tokens", "0"], "error: invalid --prompt-tokens 0"),
        (["--timeout", "-1s"], "error: invalid --timeout value '-1s': it must not be negative"),
        (["--endpoint", "ftp://x"], "error: invalid --endpoint 'ftp://x': expected an http(s) URL"),
        (["-o", "wide"], "error: unknown output format 'wide'"),
    ],
)
def test_bad_flags_are_one_line_exit_2(args: list[str], needle: str) -> None:
    base = [] if "--endpoint" in args else ["--endpoint", "http://127.0.0.1:9"]
    r = run_cli("bench", *base, *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0] == needle or r.stderr.startswith(needle), r.stderr


def test_name_and_endpoint_together_or_neither() -> None:
    both = run_cli("bench", "my-llm", "--endpoint", "http://127.0.0.1:9")
    assert both.exit_code == 2 and "give --workspace-name or --endpoint, not both" in both.stderr
    neither = run_cli("bench")
    assert neither.exit_code == 2 and "no workspace given" in neither.stderr


def test_progress_only_on_a_terminal(sim_factory) -> None:
    sim = sim_factory(ttft=0.3)
    r = run_cli(
        "bench",
        "--endpoint",
        sim.openai_url,
        "--requests",
        "2",
        "--max-tokens",
        "2",
        stderr_tty=True,
        env={"NO_COLOR": "", "TERM": "xterm"},
    )
    assert r.exit_code == 0, r.stderr
    assert "run 1/1" in r.stderr  # the live status line
    assert "run 1/1" not in r.stdout


def test_connection_cut_mid_answer_is_a_connection_error(sim_factory) -> None:
    sim = sim_factory()
    sim.openai.mode = "drop_midstream"
    r = run_cli("bench", "--endpoint", sim.openai_url, "--requests", "2", "-o", "json")
    assert r.exit_code == 1
    [run] = _report(r.stdout)["runs"]
    assert run["errors"] == {"connection": 2}
    assert run["error_examples"]["connection"].startswith("the connection broke: ")
    assert "Traceback" not in r.stderr
