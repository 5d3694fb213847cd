#!/usr/bin/env python3
"""What `kubectl kaito connect` adds: the same streamed chat requests sent three ways to the simulator's
OpenAI stand-in, and time to first token and throughput compared as ratios.

  direct   httpx straight to the stand-in's own plain-HTTP port (no API server, no relay)
  proxy    httpx to the API server's service proxy with the kubeconfig's token and CA: the path
           `connect` relays to, without the relay
  connect  httpx to `kubectl-kaito connect` (a separate process, started once) on loopback

Starts a SimCluster (threads in this process, so the stand-in and the API server share this
process's CPU with the clients) with one ready workspace. The stand-in streams every answer with
no delay between chunks (`chunk_delay = 0`), so what is measured is the plumbing, not a model.

  TTFT     one request at a time: request sent -> first content chunk received (median, p90)
  rate     CONCURRENCY requests in flight, REQUESTS in all: completed requests/s and streamed
           chunks/s (every `data:` event but [DONE])

Ratios are connect/direct and connect/proxy (TTFT: how many times longer; rate: the fraction kept).
Figures only: nothing is asserted beyond every answer being complete.

Usage:
    python bench/connect_overhead.py [--ttft-requests 100] [--requests 400] [--concurrency 8] [--json]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import cluster_env

MODEL = "phi-4-mini-instruct"
WORKSPACE = "bench-llm"


def payload(i: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "stream": True,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": f"question number {i} for the benchmark"}],
    }


def one(client: Any, url: str, i: int) -> tuple[float, float, int]:
    """(time to first content chunk, total time, chunks) of one streamed chat completion."""
    t0 = time.perf_counter()
    first = 0.0
    chunks = 0
    done = False
    with client.stream("POST", url, json=payload(i)) as r:
        if r.status_code != 200:
            raise SystemExit(f"{url} answered {r.status_code}: {r.read()[:200]!r}")
        for line in r.iter_lines():
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                if not first and '"content"' in line:
                    first = time.perf_counter() - t0
                chunks += 1
    if not done:
        raise SystemExit(f"{url}: the answer ended without [DONE]")
    return first, time.perf_counter() - t0, chunks


def ttft(client: Any, url: str, n: int) -> dict[str, float]:
    for i in range(5):  # warm-up: connections open, code paths hot
        one(client, url, i)
    times = sorted(one(client, url, i)[0] for i in range(n))
    return {"median_ms": statistics.median(times) * 1000, "p90_ms": times[int(0.9 * (len(times) - 1))] * 1000}


def rate(client: Any, url: str, n: int, concurrency: int) -> dict[str, float]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda i: one(client, url, i), range(n)))
    elapsed = time.perf_counter() - t0
    return {"requests_per_s": n / elapsed, "chunks_per_s": sum(r[2] for r in results) / elapsed}


def start_connect(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl_kaito", "connect", WORKSPACE, "--port", "0", "--timeout", "1m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("OPENAI_BASE_URL="):
        proc.kill()
        raise SystemExit(f"connect did not start: {line!r} (exit {proc.wait()})")
    return proc, line.split("=", 1)[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ttft-requests", type=int, default=100)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import httpx
    from kaito_sim import SimCluster

    with tempfile.TemporaryDirectory() as tmp:
        sim = SimCluster(ready_after=0.1).start()
        try:
            sim.openai.chunk_delay = 0.0
            kubeconfig = sim.write_kubeconfig(os.path.join(tmp, "kubeconfig"))
            sim.seed_workspace(WORKSPACE, model=MODEL, ready=True)
            cfg = sim.kubeconfig()
            ctx = ssl.create_default_context(
                cadata=base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
            )
            token = cfg["users"][0]["user"]["token"]
            proc, connect_url = start_connect(cluster_env(tmp, kubeconfig))
            limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
            targets = {
                "direct": (httpx.Client(limits=limits, timeout=60), sim.openai_url + "/v1/chat/completions"),
                "proxy": (
                    httpx.Client(limits=limits, timeout=60, verify=ctx, headers={"Authorization": f"Bearer {token}"}),
                    f"{sim.url}/api/v1/namespaces/default/services/{WORKSPACE}:http/proxy/v1/chat/completions",
                ),
                "connect": (httpx.Client(limits=limits, timeout=60), connect_url + "/chat/completions"),
            }
            rows: dict[str, dict[str, float]] = {}
            try:
                for name, (client, url) in targets.items():
                    rows[name] = {
                        **ttft(client, url, args.ttft_requests),
                        **rate(client, url, args.requests, args.concurrency),
                    }
            finally:
                for client, _ in targets.values():
                    client.close()
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=15)
        finally:
            sim.stop()

    load = os.getloadavg()
    ratios = {
        f"connect/{base}": {
            "ttft": rows["connect"]["median_ms"] / rows[base]["median_ms"],
            "ttft_added_ms": rows["connect"]["median_ms"] - rows[base]["median_ms"],
            "requests_per_s": rows["connect"]["requests_per_s"] / rows[base]["requests_per_s"],
        }
        for base in ("direct", "proxy")
    }
    report = {
        "date": datetime.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
        "ttft_requests": args.ttft_requests,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "paths": rows,
        "ratios": ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"connect overhead, {report['date']}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)"
    )
    print(
        f"TTFT: {args.ttft_requests} streamed requests one at a time; rate: {args.requests} at concurrency "
        f"{args.concurrency}"
    )
    print()
    print(f"{'PATH':<9}{'TTFT p50':>10}{'TTFT p90':>10}{'REQ/S':>9}{'CHUNKS/S':>10}")
    for name, r in rows.items():
        print(
            f"{name:<9}{r['median_ms']:>8.1f}ms{r['p90_ms']:>8.1f}ms{r['requests_per_s']:>9.1f}{r['chunks_per_s']:>10.0f}"
        )
    print()
    for name, r in ratios.items():
        print(f"{name}: TTFT x{r['ttft']:.2f} ({r['ttft_added_ms']:+.1f} ms), throughput x{r['requests_per_s']:.2f}")


if __name__ == "__main__":
    main()
