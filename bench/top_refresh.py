"""Benchmark: `kubectl kaito top` over 50 ready workspaces refreshes within one interval.

Starts a SimCluster in this process, seeds N ready workspaces (one model-server pod each, every one
answering vLLM's /metrics through the pod proxy) and keeps a few clients chatting with some of them.
Then:
- runs `kubectl-kaito top -A --interval I` on a pseudo-terminal (the live table) for a number of
  refreshes and times the gaps between redraws: every gap must be one interval (a round that took
  longer than the interval would stretch it), and counts the requests each refresh made;
- runs `kubectl-kaito top -A -o json --interval I` (two rounds, the way a script reads it) and reports
  its wall time and how many pods answered.
Usage:

    python bench/top_refresh.py [--workspaces 50] [--interval 2] [--refreshes 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import select
import signal
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import VENV_BIN, cluster_env

HEADER = b"kubectl kaito top"


def chatter(sim: Any, names: list[str], stop: threading.Event) -> None:
    """A client sending short chats to the given workspaces in turn, until `stop`."""
    import httpx

    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    body = {"messages": [{"role": "user", "content": "hello " * 50}], "max_tokens": 16, "stream": True}
    with httpx.Client(base_url=sim.url, verify=ctx, timeout=30, headers={"Authorization": f"Bearer {sim.token}"}) as c:
        i = 0
        while not stop.is_set():
            ns, name = "default", names[i % len(names)]
            try:
                with c.stream(
                    "POST", f"/api/v1/namespaces/{ns}/services/{name}:80/proxy/v1/chat/completions", json=body
                ) as r:
                    for _ in r.iter_lines():
                        pass
            except httpx.HTTPError:
                return
            i += 1


def is_top(q: Any) -> bool:
    """A request top made (not one of the chatting clients')."""
    return not q.path.endswith("/chat/completions")


def rounds(requests: list[Any]) -> list[tuple[float, int]]:
    """(seconds, requests) of each refresh, as the simulator saw them: from the Workspace LIST that
    starts a refresh to the last /metrics request of it."""
    out: list[tuple[float, int]] = []
    start: float | None = None
    last = 0.0
    count = 0
    for q in requests:
        if not is_top(q):
            continue
        if "/workspaces" in q.path:
            if start is not None:
                out.append((last - start, count))
            start, count = q.time, 0
        count += 1
        last = q.time
    return out


def live_gaps(argv: list[str], env: dict[str, str], refreshes: int, sim: Any) -> tuple[list[float], list[int], str]:
    """Run the live table on a pty; the times between redraws, the request marks, the last frame."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        argv,
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**env, "TERM": "xterm", "COLUMNS": "200"},
        start_new_session=True,
    )
    os.close(slave)
    stamps: list[float] = []
    marks: list[int] = []
    buf = b""
    deadline = time.monotonic() + 60 + refreshes * 10
    try:
        while len(stamps) < refreshes + 1 and time.monotonic() < deadline:
            if not select.select([master], [], [], 0.2)[0]:
                continue
            chunk = os.read(master, 65536)
            now = time.monotonic()
            n = chunk.count(HEADER)
            for _ in range(n):
                stamps.append(now)
                marks.append(len(sim.requests))
            buf = (buf + chunk)[-20000:]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(10)
        os.close(master)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    last = buf.decode("utf-8", "replace").rsplit("Every", 1)[-1]
    return gaps, marks, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspaces", type=int, default=50)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--refreshes", type=int, default=10)
    ap.add_argument("--clients", type=int, default=4, help="clients chatting with the first workspaces")
    args = ap.parse_args()

    from kaito_sim import SimCluster

    tmp = tempfile.mkdtemp(prefix="bench_top-")
    sim = SimCluster(ttft=0.05, tokens_per_second=200).start()
    stop = threading.Event()
    try:
        names = [f"ws-{i:03d}" for i in range(args.workspaces)]
        for n in names:
            sim.seed_workspace(n, model="phi-4-mini-instruct", logs=False)
        kubeconfig = sim.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = cluster_env(tmp, kubeconfig)
        busy = names[: max(1, args.workspaces // 5)]
        threads = [threading.Thread(target=chatter, args=(sim, busy, stop), daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        exe = str(Path(VENV_BIN) / "kubectl-kaito")
        interval = f"{args.interval:g}s"

        mark = len(sim.requests)
        gaps, _, frame = live_gaps([exe, "top", "-A", "--interval", interval], env, args.refreshes, sim)
        took = rounds(sim.requests[mark:])[1:]  # the first round pays for the connections
        kinds: Counter[str] = Counter()
        t0 = time.perf_counter()
        before = len(sim.requests)
        proc = subprocess.run(
            [exe, "top", "-A", "-o", "json", "--interval", interval],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        once = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"top -o json failed ({proc.returncode}): {proc.stderr}")
        for q in filter(is_top, sim.requests[before:]):
            kinds[
                "pod proxy /metrics"
                if "/pods/" in q.path and q.path.endswith("/proxy/metrics")
                else f"{q.method} {q.path.split('?')[0]}"
            ] += 1
        items = json.loads(proc.stdout)["items"]
        answering = sum(i["answering"] for i in items)
        pods = sum(i["pods"] for i in items)
        busy_tps = sum(i["generationTokensPerSecond"] or 0 for i in items)
    finally:
        stop.set()
        sim.stop()

    load = os.getloadavg()
    print(
        f"top -A over {args.workspaces} ready workspaces, --interval {interval}, "
        f"{time.strftime('%Y-%m-%d')}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(
        f"  live table: {len(gaps)} redraws; gap between redraws median {statistics.median(gaps):.3f} s, "
        f"max {max(gaps):.3f} s (interval {args.interval:.3f} s); "
        f"{'every refresh within one interval' if max(gaps) < args.interval * 1.1 else 'SLOWER than the interval'}"
    )
    secs = sorted(t for t, _ in took)
    print(
        f"  one refresh (LIST workspaces .. last /metrics, as the API server saw it): "
        f"median {statistics.median(secs):.3f} s, max {secs[-1]:.3f} s over {len(secs)} refreshes; "
        f"{statistics.median(n for _, n in took):.0f} requests each"
    )
    print(
        f"  -o json (two rounds one interval apart, start-up included): {once:.2f} s wall; "
        f"{answering}/{pods} pods answered; generation {busy_tps:.0f} tokens/s in all"
    )
    print("  requests of the -o json run: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
    print("  last frame:\n    " + "\n    ".join(frame.splitlines()[:8]))


if __name__ == "__main__":
    main()
