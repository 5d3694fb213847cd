#!/usr/bin/env python3
"""Start-up benchmark: kubectl-kaito next to plain kubectl on the same simulated cluster.

Starts a SimCluster (threads in this process), seeds one ready workspace, warms kubectl's
discovery cache, then runs each command N times (after warm-ups) and prints the median
wall time and its ratio to `kubectl get svc W -o jsonpath=...` (a one-GET kubectl command).
Figures only: nothing is asserted.

Usage:
    python bench/startup.py [--runs 15] [--warmup 2] [--workspace bench-llm] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import cluster_env, measure, timed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--workspace", default="bench-llm", help="name of the seeded workspace")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)

    from kaito_sim import SimCluster

    w = args.workspace
    with tempfile.TemporaryDirectory(prefix="kaito-bench-") as tmp, SimCluster(ready_after=0.1) as sim:
        sim.seed_workspace(w)
        kubeconfig = sim.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = cluster_env(tmp, kubeconfig)
        # warm kubectl's discovery cache (kubectl get reads it; the plugin needs no discovery)
        subprocess.run(["kubectl", "api-resources"], capture_output=True, env=env, timeout=60)

        kubectl_cmd = ["kubectl", "get", "svc", w, "-o", "jsonpath={.spec.clusterIP}"]
        get_endpoint = ["get-endpoint", "--workspace-name", w]
        cases = [
            ("kubectl get svc W -o jsonpath (baseline)", kubectl_cmd),
            ("kubectl kaito --help", ["kubectl", "kaito", "--help"]),
            ("kubectl-kaito --help (direct)", ["kubectl-kaito", "--help"]),
            ("kubectl kaito get-endpoint --workspace-name W", ["kubectl", "kaito", *get_endpoint]),
            ("kubectl-kaito get-endpoint --workspace-name W (direct)", ["kubectl-kaito", *get_endpoint]),
        ]
        results: dict[str, dict[str, float]] = {}
        for label, cmd in cases:
            results[label] = measure(cmd, env, args.runs, args.warmup)

        # requests one get-endpoint makes (from the simulator's request log)
        before = len(sim.requests)
        timed(["kubectl-kaito", "get-endpoint", "--workspace-name", w], env)
        requests = [f"{r.method} {r.path}" for r in sim.requests[before:]]

    base = results[cases[0][0]]["median"]
    width = max(len(label) for label, _ in cases)
    print(f"{'command'.ljust(width)}   median     min     max   vs kubectl")
    for label, _ in cases:
        r = results[label]
        print(
            f"{label.ljust(width)}   {r['median'] * 1000:5.0f}ms {r['min'] * 1000:5.0f}ms {r['max'] * 1000:5.0f}ms"
            f"   {r['median'] / base:5.2f}x"
        )
    print(f"\n{args.runs} runs per command after {args.warmup} warm-ups; python {sys.version.split()[0]}.")
    print(f"get-endpoint API requests ({len(requests)}): " + ", ".join(requests))
    if args.json:
        print(json.dumps({"runs": args.runs, "results": results, "get_endpoint_requests": requests}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
