"""top's core without a cluster: the Prometheus text parser, histogram_quantile, rates, rows, the scraper."""

from __future__ import annotations

import math
import threading
import time

import pytest

from kubectl_kaito import top

VLLM = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:prompt_tokens_total{engine="0",model_name="m"} %(prompt)s
vllm:generation_tokens_total{engine="0",model_name="m"} %(gen)s
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="0.1"} %(b1)s
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="0.5"} %(b2)s
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="1.0"} %(b3)s
vllm:time_to_first_token_seconds_bucket{engine="0",model_name="m",le="+Inf"} %(b4)s
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} %(b4)s
"""


def _text(prompt: float = 0, gen: float = 0, b: tuple[float, float, float, float] = (0, 0, 0, 0)) -> str:
    return VLLM % {"prompt": prompt, "gen": gen, "b1": b[0], "b2": b[1], "b3": b[2], "b4": b[3]}


# ---- parser --------------------------------------------------------------------------------------------


def test_parse_labels_escapes_special_values_and_timestamps() -> None:
    samples = top.parse(
        'a_b:c{x="1",y="q\\"uo\\\\te\\nd",} 2.5 1700000000000\n'
        "plain 7\n"
        'inf{le="+Inf"} +Inf\nneg -Inf\nnan NaN\nsci 1.5e3\n# EOF\n'
    )
    assert samples[0] == top.Sample("a_b:c", {"x": "1", "y": 'q"uo\\te\nd'}, 2.5)
    assert samples[1] == top.Sample("plain", {}, 7.0)
    assert samples[2].value == math.inf and samples[3].value == -math.inf and math.isnan(samples[4].value)
    assert samples[5].value == 1500.0


@pytest.mark.parametrize("text", ["<html>login</html>", 'm{x="1} 2', "m{x=1} 2", "m", "m one", "m 1 2 3", "9lives 1"])
def test_parse_refuses_what_is_not_prometheus_text(text: str) -> None:
    with pytest.raises(top.MetricsParseError, match="line 1"):
        top.parse(text)


# ---- histogram_quantile: the values Prometheus gives (promql/quantile.go) ---------------------------------


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (math.inf, 40.0)]
    assert top.histogram_quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * (10 / 20))  # rank 20
    assert top.histogram_quantile(0.9, buckets) == pytest.approx(0.5 + 0.5 * (6 / 10))  # rank 36
    assert top.histogram_quantile(0.2, buckets) == pytest.approx(0.08)  # first bucket starts at 0


def test_histogram_quantile_edges() -> None:
    assert top.histogram_quantile(0.99, [(1.0, 1.0), (math.inf, 10.0)]) == 1.0  # in +Inf: highest finite bound
    assert math.isnan(top.histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))  # no observations
    assert math.isnan(top.histogram_quantile(0.5, [(1.0, 3.0), (2.0, 3.0)]))  # no +Inf bucket
    assert top.histogram_quantile(-1, [(1.0, 1.0), (math.inf, 1.0)]) == -math.inf
    assert top.histogram_quantile(2, [(1.0, 1.0), (math.inf, 1.0)]) == math.inf
    # a scrape racing an observation: counts made monotonic
    assert top.histogram_quantile(0.5, [(1.0, 4.0), (2.0, 3.0), (math.inf, 4.0)]) == pytest.approx(0.5)


def test_counter_and_bucket_deltas_take_a_reset_as_new() -> None:
    assert top.counter_delta(100, 130) == 30
    assert top.counter_delta(100, 20) == 20  # the server restarted
    assert top.bucket_delta([(1.0, 5), (math.inf, 8)], [(1.0, 7), (math.inf, 12)]) == [(1.0, 2), (math.inf, 4)]
    assert top.bucket_delta([(1.0, 5), (math.inf, 8)], [(1.0, 1), (math.inf, 2)]) == [(1.0, 1), (math.inf, 2)]


# ---- snapshots and stats --------------------------------------------------------------------------------


def test_stats_over_an_interval() -> None:
    before = top.snapshot(top.parse(_text(1000, 500, (1, 2, 2, 2))), at=10.0)
    after = top.snapshot(top.parse(_text(1400, 700, (1, 6, 10, 12))), at=12.0)
    s = top.pod_stats(before, after)
    assert (s.running, s.waiting, s.kv_cache) == (3, 1, 0.25)
    assert s.prompt_tps == 200 and s.generation_tps == 100 and s.seconds == 2
    # 10 new observations: 0 <= 0.1, 4 in (0.1, 0.5], 4 in (0.5, 1], 2 above
    assert s.ttft_p50 == pytest.approx(0.5 + 0.5 * (1 / 4))
    assert s.ttft_p90 == 1.0
    first = top.pod_stats(None, after)  # one scrape: gauges only
    assert first.running == 3 and first.prompt_tps is None and first.ttft_p50 is None


def test_older_kv_cache_name_and_sums_over_engines() -> None:
    text = (
        'vllm:num_requests_running{engine="0"} 1\nvllm:num_requests_running{engine="1"} 2\n'
        'vllm:gpu_cache_usage_perc{engine="0"} 0.2\nvllm:gpu_cache_usage_perc{engine="1"} 0.4\n'
    )
    snap = top.snapshot(top.parse(text), 0)
    assert snap.running == 3 and snap.kv_cache == pytest.approx(0.3)
    assert not top.snapshot(top.parse("process_cpu_seconds_total 3\n"), 0).is_vllm


def test_workspace_stats_add_pods_up() -> None:
    a = top.PodStats(
        running=2,
        waiting=0,
        kv_cache=0.2,
        prompt_tps=10,
        generation_tps=5,
        ttft_delta=((0.5, 2), (math.inf, 2)),
        seconds=2,
    )
    b = top.PodStats(
        running=1,
        waiting=3,
        kv_cache=0.4,
        prompt_tps=30,
        generation_tps=15,
        ttft_delta=((0.5, 0), (math.inf, 2)),
        seconds=2,
    )
    w = top.workspace_stats([a, b])
    assert (w.running, w.waiting, w.prompt_tps, w.generation_tps) == (3, 3, 40, 20)
    assert w.kv_cache == pytest.approx(0.3)
    assert w.ttft_delta == ((0.5, 2), (math.inf, 4)) and w.ttft_p90 == 0.5


# ---- pods to targets, rows and the document -------------------------------------------------------------

WS = {"metadata": {"name": "ws", "namespace": "team"}}


def _pod(name: str, phase: str = "Running", gpus: str = "2", labels: dict | None = None) -> dict:
    return {
        "metadata": {"name": name, "labels": labels or {"kaito.sh/workspace": "ws"}},
        "spec": {
            "nodeName": "node-" + name,
            "containers": [
                {"ports": [{"containerPort": 5000, "name": "http"}], "resources": {"limits": {"nvidia.com/gpu": gpus}}}
            ],
        },
        "status": {"phase": phase},
    }


def test_targets_skip_tuning_job_pods_and_count_gpus() -> None:
    pods = [_pod("ws-1", "Pending"), _pod("ws-0"), _pod("ws-abcde", labels={"job-name": "ws"})]
    ts = top.targets(WS, pods)
    assert [(t.pod, t.node, t.gpus, t.running, t.port) for t in ts] == [
        ("ws-0", "node-ws-0", 2, True, "5000"),
        ("ws-1", "node-ws-1", 2, False, "5000"),
    ]


def test_table_rows_have_a_total_for_several_pods_and_show_what_failed() -> None:
    t0, t1 = top.targets(WS, [_pod("ws-0"), _pod("ws-1")])
    ok = top.PodResult(
        t0,
        top.OK,
        None,
        top.PodStats(
            running=1,
            waiting=0,
            kv_cache=0.5,
            prompt_tps=12.34,
            generation_tps=5,
            ttft_delta=((0.5, 1), (math.inf, 1)),
            seconds=2,
        ),
    )
    gone = top.PodResult(t1, top.NO_ANSWER, "no answer within 2s")
    headers, rows = top.table_rows([ok, gone], [("team", "ws"), ("team", "empty")], all_namespaces=True)
    assert headers[:3] == ["NAMESPACE", "WORKSPACE", "POD"]
    assert rows[0] == ["team", "ws", "ws-0", "node-ws-0", "2", "OK", "1", "0", "50.0%", "12.3", "5.0", "250ms", "450ms"]
    assert rows[1][5:] == ["NoAnswer"] + ["-"] * 7
    assert rows[2][:6] == ["team", "ws", "(total)", "", "4", "1/2"]
    assert rows[3] == ["team", "empty", "<none>", "<none>", "0", "NoPods"] + ["-"] * 7
    doc = top.document([ok, gone], [("team", "ws")])
    [item] = doc["items"]
    assert (item["pods"], item["answering"], item["gpus"], item["runningRequests"]) == (2, 1, 4, 1)
    assert item["podMetrics"][1] == {
        "name": "ws-1",
        "node": "node-ws-1",
        "gpus": 2,
        "status": "NoAnswer",
        "error": "no answer within 2s",
        "runningRequests": None,
        "waitingRequests": None,
        "kvCacheUsage": None,
        "promptTokensPerSecond": None,
        "generationTokensPerSecond": None,
        "ttftSeconds": {"p50": None, "p90": None},
        "intervalSeconds": None,
    }


# ---- the scraper ---------------------------------------------------------------------------------------


def test_scraper_rates_from_two_rounds_and_failures_stay_per_pod() -> None:
    t_ok, t_slow, t_bad, t_down = top.targets(WS, [_pod("a"), _pod("b"), _pod("c"), _pod("d", "Pending")])
    texts = iter([_text(0, 0), _text(300, 100)])
    release = threading.Event()
    now = [0.0]

    def fetch(t: top.PodTarget) -> str:
        if t.pod == "b":
            release.wait(5)  # ignores its timeout: the round must not wait for it
            raise top.ScrapeError(top.NO_ANSWER, "late")
        if t.pod == "c":
            return "<html>sign in</html>"
        return next(texts)

    scraper = top.Scraper(fetch, timeout=0.2, clock=lambda: now[0])
    try:
        scraper.round([t_ok, t_slow, t_bad, t_down])
        now[0] = 2.0
        start = time.monotonic()
        results = scraper.round([t_ok, t_slow, t_bad, t_down])
        assert time.monotonic() - start < 2.5
    finally:
        release.set()
        scraper.close()
    assert [r.status for r in results] == [top.OK, top.NO_ANSWER, top.NO_METRICS, top.NOT_RUNNING]
    assert results[0].stats.prompt_tps == 150 and results[0].stats.generation_tps == 50
    assert "not Prometheus text: line 1" in (results[2].error or "")
