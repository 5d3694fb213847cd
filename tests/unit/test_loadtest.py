"""bench's pure parts: metric definitions (as vLLM's serving benchmark), prompts, load flags."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from kubectl_kaito import loadtest
from kubectl_kaito.errors import UsageError
from kubectl_kaito.loadtest import Outcome


def test_percentile_interpolates_linearly_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    # numpy.percentile(values, [50, 90, 99]) == [3.0, 7.6, 9.76]
    assert loadtest.percentile(values, 50) == 3.0
    assert loadtest.percentile(values, 90) == pytest.approx(7.6)
    assert loadtest.percentile(values, 99) == pytest.approx(9.76)
    assert loadtest.percentile([5.0], 99) == 5.0
    assert loadtest.percentile([4.0, 1.0], 50) == 2.5  # unsorted input


def test_summary_is_in_milliseconds_and_empty_is_null() -> None:
    assert loadtest.summary_ms([0.1, 0.2, 0.3]) == {"mean": 200.0, "p50": 200.0, "p90": 280.0, "p99": 298.0}
    assert loadtest.summary_ms([]) == {"mean": None, "p50": None, "p90": None, "p99": None}


def _ok(ttft: float, e2e: float, itl: list[float], usage: int | None = None, chunks: int | None = None) -> Outcome:
    return Outcome(
        ok=True,
        ttft=ttft,
        e2e=e2e,
        itl=itl,
        chunks=chunks if chunks is not None else len(itl) + 1,
        usage_output=usage,
        usage_input=10 if usage is not None else None,
        prompt_tokens=8,
    )


def test_metrics_follow_vllms_definitions() -> None:
    outcomes = [
        _ok(0.2, 1.2, [0.1] * 10),  # 11 tokens: TPOT = (1.2 - 0.2) / 10 = 100 ms
        _ok(0.4, 0.4, []),  # one token: no TPOT, as vLLM
        Outcome(error="http_503", message="HTTP 503: busy"),
        Outcome(error="timeout"),
        Outcome(error="http_503"),
    ]
    m = loadtest.metrics(outcomes, duration=2.0)
    assert m["completed"] == 2 and m["failed"] == 3
    assert m["errors"] == {"http_503": 2, "timeout": 1}
    assert m["request_throughput"] == 1.0  # successful requests / duration
    assert m["total_output_tokens"] == 12 and m["output_throughput"] == 6.0
    assert m["total_input_tokens"] == 16 and m["total_token_throughput"] == 14.0  # no usage: the synthetic length
    assert m["tpot_ms"]["mean"] == pytest.approx(100.0)
    assert m["ttft_ms"]["mean"] == pytest.approx(300.0) and m["ttft_ms"]["p50"] == pytest.approx(300.0)
    assert m["itl_ms"]["p50"] == pytest.approx(100.0)  # every gap of every request, pooled
    assert m["e2e_latency_ms"]["p99"] == pytest.approx(1192.0)
    assert m["token_source"] == "stream"


def test_usage_counts_win_over_counted_chunks_and_the_source_is_named() -> None:
    # A server that sends several tokens per chunk: the usage says 40, the stream only 5 chunks.
    with_usage = _ok(0.1, 1.0, [0.1] * 4, usage=40)
    assert with_usage.output_tokens == 40
    assert loadtest.metrics([with_usage], 1.0)["token_source"] == "usage"
    assert loadtest.metrics([with_usage, _ok(0.1, 1.0, [0.1])], 1.0)["token_source"] == "mixed"
    assert loadtest.metrics([Outcome(error="timeout")], 1.0)["token_source"] == "none"


def test_metrics_of_a_run_where_everything_failed() -> None:
    m = loadtest.metrics([Outcome(error="connection")], 0.5)
    assert m["completed"] == 0 and m["request_throughput"] == 0.0 and m["ttft_ms"]["mean"] is None


def test_parse_concurrency() -> None:
    assert loadtest.parse_concurrency(None) == [None]
    assert loadtest.parse_concurrency("8") == [8]
    assert loadtest.parse_concurrency("1, 4,16") == [1, 4, 16]
    for bad in ("0", "-1", "x", "1,,2", "1.5", "٣", "99999999", ""):
        with pytest.raises(UsageError) as e:
            loadtest.parse_concurrency(bad)
        assert "--concurrency" in e.value.message


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_bad_rates_are_refused(rate: float) -> None:
    with pytest.raises(UsageError, match="--rate"):
        loadtest.check_rate(rate)


def test_poisson_arrivals_are_reproducible_and_keep_the_rate() -> None:
    a = loadtest.arrival_times(2000, 10.0, seed=7)
    assert a == loadtest.arrival_times(2000, 10.0, seed=7)
    assert a != loadtest.arrival_times(2000, 10.0, seed=8)
    assert a[0] == 0.0 and all(x <= y for x, y in itertools.pairwise(a))
    assert a[-1] / len(a) == pytest.approx(0.1, rel=0.1)  # mean gap 1/rate
    assert loadtest.arrival_times(3, None, seed=1) == [0.0, 0.0, 0.0]


def test_synthetic_prompts_are_reproducible_distinct_and_sized() -> None:
    p = loadtest.synthetic_prompts(5, 64, seed=1)
    assert p == loadtest.synthetic_prompts(5, 64, seed=1)
    assert p != loadtest.synthetic_prompts(5, 64, seed=2)
    texts = [x.messages[0]["content"] for x in p]
    assert len(set(texts)) == 5
    assert all(len(t.split()) == 64 and len(t) == 4 * 64 for t in texts)  # one short word per token
    assert all(x.tokens == 64 and x.messages[0]["role"] == "user" for x in p)


def test_read_prompts_accepts_both_shapes_and_skips_blank_lines() -> None:
    lines = [b'{"prompt": "hi"}', b"", b'{"messages": [{"role": "user", "content": "yo"}]}']
    p = loadtest.read_prompts(lines, "p.jsonl")
    assert [x.messages for x in p] == [[{"role": "user", "content": "hi"}], [{"role": "user", "content": "yo"}]]


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        ([b'{"prompt": "a"}', b"not json"], "line 2: not JSON"),
        ([b'["a"]'], "line 1: not a JSON object"),
        ([b'{"prompt": ""}'], 'line 1: "prompt" must be a non-empty string'),
        ([b'{"text": "a"}'], 'line 1: no "prompt" or "messages" key'),
        ([b'{"messages": []}'], 'line 1: "messages" must be'),
        ([b"", b"\xff\xfe"], "line 2: not UTF-8"),
        ([b"", b"  "], "no prompts in it"),
    ],
)
def test_read_prompts_names_the_bad_line(lines: list[bytes], needle: str) -> None:
    with pytest.raises(UsageError) as e:
        loadtest.read_prompts(lines, "p.jsonl")
    assert e.value.exit_code == 2
    assert e.value.message.startswith("invalid --prompts p.jsonl")
    assert needle in e.value.message


def test_request_body_streams_and_asks_for_usage() -> None:
    [prompt] = loadtest.synthetic_prompts(1, 4, seed=0)
    body = loadtest.build_request("m", prompt, 32, ignore_eos=False)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 32 and "ignore_eos" not in body
    assert loadtest.build_request("m", prompt, 32, ignore_eos=True)["ignore_eos"] is True
    json.dumps(body)
