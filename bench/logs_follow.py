#!/usr/bin/env python3
"""Log-follow throughput: `kubectl-kaito logs -f` next to `kubectl logs -f -l ... --prefix` on an 8-pod workspace.

Starts a SimCluster (threads in this process) and, for every run, seeds a fresh 8-pod workspace.
Two modes:

  live     each tool is started first; once it has opened all 8 follow streams, the simulator
           floods every pod with LINES numbered lines (as fast as it can) and then closes the logs;
           lines/s = lines received / (last line - flood start).
  backlog  the 8 logs are filled and closed first; each tool then reads them all with -f;
           lines/s = lines received / (process end - process start), start-up included.

The same pods, line count and simulated API server serve both tools. kubectl is given
`--tail=-1` (with -l it would otherwise show only the last 10 lines per pod) and
`--max-log-requests 8`. Every received line is checked to be one whole, well-prefixed line,
and every pod's count must be complete. Figures only: nothing is asserted beyond that.

Usage:
    python bench/logs_follow.py [--lines 20000] [--pods 8] [--runs 3] [--mode live|backlog|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import VENV_BIN, cluster_env

NS = "default"


class Reader:
    """Reads a process's stdout in big chunks; records the times of the first and last byte."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.chunks: list[bytes] = []
        self.lines = 0
        self.first: float | None = None
        self.last: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 1 << 20)
            if not data:
                return
            now = time.perf_counter()
            if self.first is None:
                self.first = now
            self.last = now
            self.lines += data.count(b"\n")
            self.chunks.append(data)


def check_lines(data: bytes, pods: list[str], per_pod: int, prefix_re: re.Pattern[bytes]) -> str | None:
    """None when every line is whole and every pod's lines are all there, in order; else what is wrong."""
    counts = dict.fromkeys(pods, 0)
    for line in data.split(b"\n")[:-1]:
        m = prefix_re.match(line)
        if not m:
            return f"malformed line: {line[:120]!r}"
        pod, seq = m.group(1).decode(), int(m.group(2))
        if pod not in counts or seq != counts[pod]:
            return f"out of order or foreign line for {pod}: {line[:120]!r}"
        counts[pod] += 1
    short = {p: c for p, c in counts.items() if c != per_pod}
    return f"incomplete: {short}" if short else None


def one_run(sim: Any, env: dict[str, str], tool: str, mode: str, run: int, pods_n: int, lines: int) -> dict[str, Any]:
    """Seed a fresh workspace, run one tool against it, return its figures."""
    ws = f"bench-{tool}-{mode}-{run}"
    sim.seed_workspace(ws, count=pods_n, logs=False)
    pods = [f"{ws}-{i}" for i in range(pods_n)]
    if tool == "kaito":
        argv = [os.path.join(VENV_BIN, "kubectl-kaito"), "logs", "-f", "--workspace-name", ws]
        prefix_re = re.compile(rb"^\[([^/\]]+)/[^\]]+\] INFO flood \S+ line=(\d+) x*$")
    else:
        argv = [
            "kubectl",
            "logs",
            "-f",
            "-l",
            f"kaito.sh/workspace={ws}",
            "--prefix",
            "--max-log-requests",
            str(pods_n),
            "--tail=-1",
        ]
        prefix_re = re.compile(rb"^\[pod/([^/\]]+)/[^\]]+\] INFO flood \S+ line=(\d+) x*$")
    if mode == "backlog":
        sim.start_log_flood(NS, pods, lines, close=True).join(300)
    seen = len(sim.requests)
    t_start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    reader = Reader(proc)
    t_flood = t_start
    if mode == "live":
        deadline = time.monotonic() + 60
        while True:  # wait until all follow streams are open, so no tool gets a backlog head start
            opened = {r.path for r in sim.requests[seen:] if r.path.endswith("/log") and r.query.get("follow")}
            if len(opened) >= pods_n:
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit(f"{tool}: the follow streams did not open ({len(opened)}/{pods_n})")
            time.sleep(0.01)
        t_flood = time.perf_counter()
        sim.start_log_flood(NS, pods, lines, close=True)
    try:
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.thread.join(60)
    t_end = time.perf_counter()
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    data = b"".join(reader.chunks)
    problem = check_lines(data, pods, lines, prefix_re)
    last = reader.last or t_end
    elapsed = (last - t_flood) if mode == "live" else (t_end - t_start)
    return {
        "tool": tool,
        "mode": mode,
        "lines": reader.lines,
        "seconds": elapsed,
        "lines_per_s": reader.lines / elapsed if elapsed > 0 else 0.0,
        "exit_code": proc.returncode,
        "problem": problem,
        "stderr": "\n".join(ln for ln in err.splitlines() if " ended" not in ln)[:500],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=20_000, help="lines per pod (default 20000)")
    ap.add_argument("--pods", type=int, default=8, help="pods in the workspace (default 8)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and mode; the median is shown (default 3)")
    ap.add_argument("--mode", choices=("live", "backlog", "both"), default="both")
    ap.add_argument("--json", action="store_true", help="print every run as JSON too")
    args = ap.parse_args(argv)

    from kaito_sim import SimCluster

    modes = ("live", "backlog") if args.mode == "both" else (args.mode,)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kaito-bench-") as tmp, SimCluster(ready_after=0.1) as sim:
        kubeconfig = sim.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = cluster_env(tmp, kubeconfig)
        subprocess.run(["kubectl", "api-resources"], capture_output=True, env=env, timeout=60)  # warm discovery
        for mode in modes:
            for i in range(args.runs):
                for tool in ("kaito", "kubectl"):  # alternate, so drift hits both alike
                    r = one_run(sim, env, tool, mode, i, args.pods, args.lines)
                    runs.append(r)
                    if r["problem"] or r["exit_code"] != 0:
                        print(
                            f"warning: {tool} {mode} run {i}: exit {r['exit_code']}, {r['problem']}; "
                            f"stderr: {r['stderr']}",
                            file=sys.stderr,
                        )

    total = args.pods * args.lines
    print(
        f"{args.pods} pods x {args.lines} lines = {total} lines of ~120 bytes per run; "
        f"median of {args.runs} runs; python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(f"{'mode':8} {'tool':34} {'lines/s':>10} {'seconds':>8}  {'complete':>8}")
    summary: dict[str, dict[str, float]] = {}
    for mode in modes:
        for tool, label in (("kaito", "kubectl-kaito logs -f"), ("kubectl", "kubectl logs -f -l --prefix")):
            rs = [r for r in runs if r["mode"] == mode and r["tool"] == tool]
            rate = statistics.median(r["lines_per_s"] for r in rs)
            secs = statistics.median(r["seconds"] for r in rs)
            ok = sum(1 for r in rs if not r["problem"] and r["exit_code"] == 0)
            summary[f"{mode}/{tool}"] = {"lines_per_s": rate, "seconds": secs}
            print(f"{mode:8} {label:34} {rate:10.0f} {secs:8.2f}  {ok:>4}/{len(rs)}")
        ratio = summary[f"{mode}/kaito"]["lines_per_s"] / summary[f"{mode}/kubectl"]["lines_per_s"]
        print(f"{mode:8} {'ratio kubectl-kaito / kubectl':34} {ratio:10.2f}x")
    if args.json:
        print(json.dumps({"summary": summary, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
