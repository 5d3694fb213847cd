"""The stand-in's vLLM-style /metrics: vLLM's names, values that follow the load it serves, per pod,
through the pod proxy and the service proxy."""

from __future__ import annotations

import re
import ssl
import threading
import time

import httpx
import pytest

POD = "/api/v1/namespaces/default/pods/{}/proxy/metrics"
SVC = "/api/v1/namespaces/default/services/{}/proxy/metrics"


def _values(text: str) -> dict[str, float]:
    """name{labels} -> value, labels kept as written (enough for these checks)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def _one(values: dict[str, float], name: str) -> float:
    hits = [v for k, v in values.items() if k == name or k.startswith(name + "{")]
    assert len(hits) == 1, (name, hits)
    return hits[0]


def test_metrics_have_vllms_names_types_and_labels(sim, http) -> None:
    sim.seed_workspace("ws", model="phi-4-mini-instruct")
    r = http.get(POD.format("ws-0:5000"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    for name, typ in (
        ("vllm:num_requests_running", "gauge"),
        ("vllm:num_requests_waiting", "gauge"),
        ("vllm:kv_cache_usage_perc", "gauge"),
        ("vllm:gpu_cache_usage_perc", "gauge"),
        ("vllm:prompt_tokens_total", "counter"),
        ("vllm:generation_tokens_total", "counter"),
        ("vllm:request_success_total", "counter"),
        ("vllm:time_to_first_token_seconds", "histogram"),
        ("vllm:e2e_request_latency_seconds", "histogram"),
    ):
        assert f"# TYPE {name} {typ}\n" in text
    assert 'vllm:num_requests_running{engine="0",model_name="phi-4-mini-instruct"} 0.0' in text
    assert 'vllm:time_to_first_token_seconds_bucket{engine="0",model_name="phi-4-mini-instruct",le="+Inf"} 0.0' in text


@pytest.mark.parametrize("spec", ["ws-0:5000", "ws-0:http", "http:ws-0:5000"])
def test_pod_proxy_forms(sim, http, spec) -> None:
    sim.seed_workspace("ws")
    assert http.get(POD.format(spec)).status_code == 200


def test_pod_proxy_without_a_port_dials_80_where_nothing_listens(sim, http) -> None:
    sim.seed_workspace("ws")
    r = http.get(POD.format("ws-0"))
    assert r.status_code == 503 and ":80: connect: connection refused" in r.json()["message"]


def test_pod_proxy_refuses_other_ports_missing_pods_and_pods_not_serving(sim, http) -> None:
    sim.seed_workspace("ws")
    sim.seed_workspace("cold", ready=False)
    r = http.get(POD.format("ws-0:8080"))
    assert r.status_code == 503 and "connection refused" in r.json()["message"]
    assert http.get(POD.format("nope-0:5000")).status_code == 404
    assert http.get(POD.format("cold-0:5000")).status_code == 503


def test_values_follow_the_load_being_served(sim_factory, http_for) -> None:
    sim = sim_factory(ttft=0.3, tokens_per_second=50, max_num_seqs=2)
    sim.seed_workspace("ws")
    http = http_for(sim)
    chat = "/api/v1/namespaces/default/services/ws:80/proxy/v1/chat/completions"
    body = {"messages": [{"role": "user", "content": "x" * 400}], "max_tokens": 20, "ignore_eos": True, "stream": True}

    def one() -> None:
        with httpx.Client(
            base_url=sim.url,
            verify=ssl.create_default_context(cadata=sim.ca_pem.decode()),
            headers={"Authorization": f"Bearer {sim.token}"},
            timeout=30,
        ) as c:
            with c.stream("POST", chat, json=body) as r:
                for _ in r.iter_lines():
                    pass

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # all four arrived, two hold the sequence slots, two wait
    during = _values(http.get(POD.format("ws-0:5000")).text)
    assert _one(during, "vllm:num_requests_running") == 2
    assert _one(during, "vllm:num_requests_waiting") == 2
    assert _one(during, "vllm:kv_cache_usage_perc") > 0
    for t in threads:
        t.join(30)
    after = _values(http.get(POD.format("ws-0:5000")).text)
    assert _one(after, "vllm:num_requests_running") == 0 and _one(after, "vllm:num_requests_waiting") == 0
    assert _one(after, "vllm:kv_cache_usage_perc") == 0
    assert _one(after, "vllm:prompt_tokens_total") == 4 * 100  # 400 characters: 100 tokens each
    assert _one(after, "vllm:generation_tokens_total") == 4 * 20
    assert (
        after['vllm:request_success_total{engine="0",model_name="phi-4-mini-instruct",finished_reason="length"}'] == 4
    )
    assert _one(after, "vllm:time_to_first_token_seconds_count") == 4
    # two started at once (TTFT about 0.3 s), two waited for a slot (0.3 + 19/50 + 0.3 s, about 1 s)
    ttft_sum = _one(after, "vllm:time_to_first_token_seconds_sum")
    assert 2 * 0.3 + 2 * 0.98 - 0.1 <= ttft_sum <= 2 * 0.3 + 2 * 0.98 + 0.6
    le = 'vllm:time_to_first_token_seconds_bucket{engine="0",model_name="phi-4-mini-instruct",le="%s"}'
    assert after[le % "0.25"] == 0 and after[le % "0.5"] == 2 and after[le % "2.5"] == 4
    # the same server through the Service
    assert _one(_values(http.get(SVC.format("ws:80")).text), "vllm:generation_tokens_total") == 80


def test_each_pod_has_its_own_counters(sim, http) -> None:
    sim.seed_workspace("ws", count=2)
    chat = "/api/v1/namespaces/default/pods/ws-1:5000/proxy/v1/chat/completions"
    r = http.post(chat, json={"messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    tokens = r.json()["usage"]["completion_tokens"]
    assert _one(_values(http.get(POD.format("ws-1:5000")).text), "vllm:generation_tokens_total") == tokens
    assert _one(_values(http.get(POD.format("ws-0:5000")).text), "vllm:generation_tokens_total") == 0


def test_pod_faults_refuse_and_hang(sim, http) -> None:
    sim.seed_workspace("ws")
    sim.openai.pod_faults[("default", "ws-0")] = "refuse"
    assert http.get(POD.format("ws-0:5000")).status_code == 503
    sim.openai.pod_faults[("default", "ws-0")] = "hang"
    with pytest.raises(httpx.TimeoutException):
        http.get(POD.format("ws-0:5000"), timeout=0.5)


def test_exposition_parses_as_prometheus_text() -> None:
    from kaito_sim.metrics import ServerMetrics

    m = ServerMetrics("m")
    t = m.request(10)
    t.run()
    t.tokens(3)
    text = m.render()
    line = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInf]+$')
    for row in text.splitlines():
        assert row.startswith(("# HELP ", "# TYPE ")) or line.match(row), row


def test_each_model_server_has_its_own_sequence_slots(sim_factory, http_for) -> None:
    # max_num_seqs is per server, as each pod runs its own vLLM: one busy workspace makes no other wait
    sim = sim_factory(ttft=0.5, tokens_per_second=1000, max_num_seqs=1)
    sim.seed_workspace("a")
    sim.seed_workspace("b")
    http = http_for(sim)
    done: dict[str, float] = {}

    def one(ws: str) -> None:
        with httpx.Client(
            base_url=sim.url,
            verify=ssl.create_default_context(cadata=sim.ca_pem.decode()),
            headers={"Authorization": f"Bearer {sim.token}"},
            timeout=30,
        ) as c:
            t0 = time.monotonic()
            c.post(
                f"/api/v1/namespaces/default/services/{ws}:80/proxy/v1/chat/completions",
                json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
            )
            done[ws] = time.monotonic() - t0

    threads = [threading.Thread(target=one, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    time.sleep(0.2)
    waiting = [_one(_values(http.get(POD.format(f"{w}-0:5000")).text), "vllm:num_requests_waiting") for w in "ab"]
    for t in threads:
        t.join(10)
    assert waiting == [0, 0]
    assert done["a"] < 0.9 and done["b"] < 0.9  # not one after the other (0.5 s each)
