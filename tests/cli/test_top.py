"""`kubectl kaito top` against the simulated cluster, under load of a known shape from the stand-in.

Tolerances: the stand-in sleeps exactly what it is told (time to first token, tokens per second,
max_num_seqs slots), so a gauge read while the load holds still is exact, and a rate is the
stand-in's throughput within 15% (a window of a few seconds holds a whole number of requests).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import run_cli

MODEL = "phi-4-mini-instruct"
CHAT = "/api/v1/namespaces/{ns}/services/{ws}:80/proxy/v1/chat/completions"
TOLERANCE = 0.15


class Load:
    """Clients streaming chat completions through the service proxy, each one after the other."""

    def __init__(
        self,
        sim: Any,
        ws: str,
        *,
        clients: int,
        max_tokens: int,
        prompt_chars: int = 400,
        loop: bool = True,
        ns: str = "default",
    ) -> None:
        self.sim, self.path, self.loop = sim, CHAT.format(ns=ns, ws=ws), loop
        self.body = {
            "messages": [{"role": "user", "content": "x" * prompt_chars}],
            "max_tokens": max_tokens,
            "ignore_eos": True,
            "stream": True,
        }
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def _client(self) -> None:
        ctx = ssl.create_default_context(cadata=self.sim.ca_pem.decode())
        with httpx.Client(
            base_url=self.sim.url, verify=ctx, timeout=60, headers={"Authorization": f"Bearer {self.sim.token}"}
        ) as c:
            while not self.stop.is_set():
                try:
                    with c.stream("POST", self.path, json=self.body) as r:
                        for _ in r.iter_lines():
                            pass
                except httpx.HTTPError:
                    return  # the simulator stopped
                if not self.loop:
                    return

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def _items(stdout: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(stdout)
    assert doc["kind"] == "WorkspaceMetricsList"
    return {i["name"]: i for i in doc["items"]}


def _within(measured: float, expected: float) -> bool:
    return abs(measured - expected) <= TOLERANCE * expected


def test_gauges_and_generation_rate_of_requests_in_flight(sim_factory) -> None:
    # 3 requests of 200 tokens at 50 tokens/s, 2 slots: for 4 s, 2 run and 1 waits
    sim = sim_factory(ttft=0.2, tokens_per_second=50, max_num_seqs=2)
    sim.seed_workspace("my-llm", model=MODEL)
    with Load(sim, "my-llm", clients=3, max_tokens=200, loop=False):
        time.sleep(0.5)
        r = run_cli("top", "my-llm", "-o", "json", "--interval", "1.5s")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    item = _items(r.stdout)["my-llm"]
    [pod] = item["podMetrics"]
    assert pod["status"] == "OK" and pod["error"] is None
    assert pod["runningRequests"] == 2 and pod["waitingRequests"] == 1
    assert _within(pod["generationTokensPerSecond"], 2 * 50)
    assert pod["promptTokensPerSecond"] == 0  # nothing new was admitted in the window
    assert pod["ttftSeconds"] == {"p50": None, "p90": None}  # no first token in the window
    # the KV cache holds both running requests' prompts (100 tokens each) and what they generated so far
    assert 200 / 8192 < pod["kvCacheUsage"] < (200 + 2 * 50 * 2.5) / 8192
    assert pod["gpus"] == 1 and pod["node"] and pod["intervalSeconds"] == pytest.approx(1.5, abs=0.3)
    assert item["runningRequests"] == 2 and item["gpus"] == 1 and item["answering"] == 1


def test_token_rates_and_ttft_of_a_busy_server(sim_factory) -> None:
    # one slot kept busy by 3 clients: requests run back to back, each 0.1 + 19 * 0.01 = 0.29 s;
    # each waits for the two ahead of it, so its TTFT is about 2 * 0.29 + 0.1 = 0.68 s
    sim = sim_factory(ttft=0.1, tokens_per_second=100, max_num_seqs=1)
    sim.seed_workspace("my-llm", model=MODEL)
    per_request = 0.1 + 19 * 0.01
    with Load(sim, "my-llm", clients=3, max_tokens=20):
        time.sleep(1.0)  # past the first requests, whose TTFT is shorter
        r = run_cli("top", "my-llm", "-o", "json", "--interval", "3s")
    assert r.exit_code == 0, r.stderr
    pod = _items(r.stdout)["my-llm"]["podMetrics"][0]
    assert _within(pod["promptTokensPerSecond"], 100 / per_request), pod  # 400 characters: 100 tokens
    assert _within(pod["generationTokensPerSecond"], 20 / per_request), pod
    assert pod["runningRequests"] == 1 and 1 <= pod["waitingRequests"] <= 2
    # vLLM's TTFT buckets are ... 0.25, 0.5, 0.75, 1.0 ...: the observations (about 0.68 s, give or take a
    # busy machine's scheduling) fall in (0.5, 0.75] or next to it, and histogram_quantile interpolates there
    p50, p90 = pod["ttftSeconds"]["p50"], pod["ttftSeconds"]["p90"]
    assert 0.25 < p50 <= p90 <= 1.0, pod["ttftSeconds"]
    assert p50 != p90  # interpolated inside a bucket, not a bucket's bound


def test_a_pod_that_does_not_answer_shows_as_such_and_the_others_still_do(sim) -> None:
    sim.seed_workspace("big", model=MODEL, count=2)
    sim.seed_workspace("small", model=MODEL)
    sim.seed_workspace("gone", model=MODEL)
    sim.openai.pod_faults[("default", "big-1")] = "hang"
    sim.openai.pod_faults[("default", "gone-0")] = "refuse"
    start = time.monotonic()
    r = run_cli("top", "-o", "json", "--interval", "500ms")
    took = time.monotonic() - start
    assert r.exit_code == 0, r.stderr
    items = _items(r.stdout)
    big = {p["name"]: p for p in items["big"]["podMetrics"]}
    assert big["big-0"]["status"] == "OK" and big["big-0"]["runningRequests"] == 0
    assert big["big-1"]["status"] == "NoAnswer" and big["big-1"]["error"] == "no answer within 0.5s"
    assert big["big-1"]["runningRequests"] is None
    assert items["big"]["pods"] == 2 and items["big"]["answering"] == 1 and items["big"]["gpus"] == 2
    gone = items["gone"]["podMetrics"][0]
    assert gone["status"] == "Unreachable" and "503" in gone["error"] and "connection refused" in gone["error"]
    assert items["small"]["podMetrics"][0]["status"] == "OK"
    assert took < 5  # two rounds of at most one pod timeout each, plus the interval

    t = run_cli("top", "--interval", "500ms")
    assert t.exit_code == 0
    lines = t.stdout.splitlines()
    assert lines[0].split() == [
        "WORKSPACE",
        "POD",
        "NODE",
        "GPUS",
        "STATUS",
        "RUNNING",
        "WAITING",
        "KV-CACHE",
        "PROMPT-TOK/S",
        "GEN-TOK/S",
        "TTFT-P50",
        "TTFT-P90",
    ]
    rows = {tuple(line.split()[:2]): line.split() for line in lines[1:]}
    assert rows[("big", "big-1")][4:] == ["NoAnswer"] + ["-"] * 7
    assert rows[("big", "(total)")][2:4] == ["2", "1/2"]
    assert rows[("small", "small-0")][4:8] == ["OK", "0", "0", "0.0%"]
    assert "warning: pod default/big-1 (workspace big): NoAnswer: no answer within 0.5s" in t.stderr


def test_json_and_yaml_fields_are_stable(sim) -> None:
    sim.seed_workspace("my-llm", model=MODEL)
    r = run_cli("top", "-o", "json", "--interval", "200ms")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    rates = [
        "runningRequests",
        "waitingRequests",
        "kvCacheUsage",
        "promptTokensPerSecond",
        "generationTokensPerSecond",
        "ttftSeconds",
        "intervalSeconds",
    ]
    [item] = doc["items"]
    assert list(item) == ["namespace", "name", "gpus", "pods", "answering", *rates, "podMetrics"]
    assert list(item["podMetrics"][0]) == ["name", "node", "gpus", "status", "error", *rates]
    y = run_cli("top", "-o", "yaml", "--interval", "200ms")
    assert y.exit_code == 0
    assert list(yaml.safe_load(y.stdout)["items"][0]) == list(item)


def test_all_namespaces_and_label_selector(sim) -> None:
    sim.seed_workspace("a", namespace="team-a", model=MODEL, labels={"team": "search"})
    sim.seed_workspace("b", namespace="team-b", model=MODEL)
    r = run_cli("top", "-A", "--once", "--interval", "200ms")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAMESPACE", "WORKSPACE", "POD"]
    assert [line.split()[:3] for line in lines[1:]] == [["team-a", "a", "a-0"], ["team-b", "b", "b-0"]]
    s = run_cli("top", "-A", "-l", "team=search", "-o", "json", "--interval", "200ms")
    assert [(i["namespace"], i["name"]) for i in json.loads(s.stdout)["items"]] == [("team-a", "a")]


def test_a_workspace_whose_pod_is_not_running(sim) -> None:
    sim.seed_workspace("cold", model=MODEL, ready=False)
    r = run_cli("top", "cold", "-o", "json", "--interval", "200ms")
    assert r.exit_code == 0, r.stderr
    pod = _items(r.stdout)["cold"]["podMetrics"][0]
    # a loading model: the pod runs but the server is not up yet, or the pod is still starting
    assert pod["status"] in ("Unreachable", "NotRunning") and pod["runningRequests"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0"], "invalid --interval value '0': it must be at least 100ms"),
        (["--interval", "nan"], "invalid --interval value 'nan': not a duration"),
        (["--interval", "-1s"], "it must not be negative"),
        (["x", "-A"], "a workspace cannot be shown by name across all namespaces"),
        (["x", "-l", "a=b"], "give a workspace name or -l/--selector, not both"),
        (["Bad_Name"], "invalid workspace name 'Bad_Name'"),
        (["-o", "wide"], "unknown output format 'wide'"),
    ],
)
def test_usage_errors(sim, args: list[str], message: str) -> None:
    r = run_cli("top", *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and message in r.stderr and "Traceback" not in r.stderr


def test_missing_workspace_and_none_at_all(sim) -> None:
    r = run_cli("top", "nope", "--interval", "200ms")
    assert r.exit_code == 3 and r.stdout == "" and "nope" in r.stderr
    e = run_cli("top", "--interval", "200ms")
    assert e.exit_code == 0 and e.stdout == ""
    assert e.stderr == "No resources found in default namespace.\n"  # kubectl 1.37.1's line, on stderr
    j = run_cli("top", "-o", "json", "--interval", "200ms")
    assert json.loads(j.stdout) == {"kind": "WorkspaceMetricsList", "items": []}
