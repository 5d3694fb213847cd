"""The OpenAI stand-in's speed knobs: time to first token, tokens per second, sequences at once,
usage in streams, ignore_eos, deterministic failures."""

from __future__ import annotations

import itertools
import json
import threading
import time

import httpx

MODEL = "phi-4-mini-instruct"


def _stream(url: str, body: dict, client: httpx.Client | None = None) -> tuple[list[float], list[dict], float]:
    """(arrival time of each chunk with text, every chunk, start) of a streamed chat completion."""
    times: list[float] = []
    chunks: list[dict] = []
    http = client or httpx.Client(timeout=30)
    start = time.perf_counter()
    with http.stream("POST", url + "/v1/chat/completions", json={"stream": True, **body}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            obj = json.loads(line[6:])
            chunks.append(obj)
            if obj["choices"] and obj["choices"][0]["delta"].get("content"):
                times.append(time.perf_counter())
    return times, chunks, start


def test_ttft_and_tokens_per_second(sim_factory) -> None:
    sim = sim_factory(ttft=0.3, tokens_per_second=20)
    times, _, start = _stream(sim.openai_url, {"messages": [{"role": "user", "content": "hi"}]})
    assert 0.25 <= times[0] - start <= 0.5
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and all(0.04 <= g <= 0.1 for g in gaps)  # 1/20 s each


def test_ignore_eos_makes_the_answer_max_tokens_long_and_usage_says_so(sim_factory) -> None:
    sim = sim_factory(tokens_per_second=1000)
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 25,
        "ignore_eos": True,
        "stream_options": {"include_usage": True},
    }
    times, chunks, _ = _stream(sim.openai_url, body)
    assert len(times) == 25
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 25
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    # without ignore_eos the answer ends at its own end, shorter than max_tokens
    short, _, _ = _stream(sim.openai_url, {**body, "ignore_eos": False})
    assert len(short) < 25


def test_usage_can_be_left_out_of_streams(sim_factory) -> None:
    sim = sim_factory()
    sim.openai.usage_in_stream = False
    _, chunks, _ = _stream(
        sim.openai_url, {"messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": True}}
    )
    assert all("usage" not in c for c in chunks)


def test_max_num_seqs_queues_the_rest_and_in_flight_is_recorded(sim_factory) -> None:
    sim = sim_factory(ttft=0.3, tokens_per_second=1000, max_num_seqs=2)
    firsts: list[float] = []
    lock = threading.Lock()
    http = httpx.Client(timeout=30)  # one client made beforehand: the four requests leave together
    barrier = threading.Barrier(4)

    def one() -> None:
        barrier.wait()
        times, _, start = _stream(
            sim.openai_url, {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}, http
        )
        with lock:
            firsts.append(times[0] - start)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    firsts.sort()
    assert firsts[1] < 0.55 and firsts[2] > 0.55  # two answered at once, two waited for a free sequence
    assert sim.openai.max_in_flight == 4 and sim.openai.in_flight == 0
    sim.openai.reset_stats()
    assert sim.openai.max_in_flight == 0


def test_every_nth_request_fails_with_the_status_asked(sim_factory) -> None:
    sim = sim_factory()
    sim.openai.fail_every, sim.openai.fail_status = 3, 503
    codes = [
        httpx.post(
            sim.openai_url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
        ).status_code
        for _ in range(6)
    ]
    assert codes == [200, 200, 503, 200, 200, 503]


def test_defaults_are_unchanged(sim) -> None:
    assert (sim.openai.ttft, sim.openai.itl, sim.openai.max_num_seqs, sim.openai.fail_every) == (None, None, None, 0)
    assert sim.openai.chunk_delay == 0.01


def test_command_line_sets_the_speed() -> None:
    from kaito_sim.__main__ import _make_sim, build_parser

    args = build_parser().parse_args(["serve", "--ttft", "0.2", "--tokens-per-second", "50", "--max-num-seqs", "4"])
    sim = _make_sim(args)  # not started: only the options are checked
    assert (sim.openai.ttft, sim.openai.itl, sim.openai.max_num_seqs) == (0.2, 0.02, 4)
    plain = _make_sim(build_parser().parse_args(["serve"]))
    assert (plain.openai.ttft, plain.openai.itl, plain.openai.max_num_seqs) == (None, None, None)
