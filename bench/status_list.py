"""Benchmark: `kubectl kaito status -A` over 5,000 workspaces in the simulated cluster.

Starts a SimCluster in this process (its HTTPS server runs in threads), loads N workspaces with
status conditions straight into its store, then runs `kubectl-kaito status -A` as a subprocess
several times and prints the median wall time, the API requests each run made (counted on the
simulator) and the LIST page size. `kubectl get workspaces -A` (table and -o json) is measured the
same way for comparison. Usage:

    python bench/status_list.py [--workspaces 5000] [--namespaces 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import VENV_BIN, cluster_env

BIN = Path(VENV_BIN)
PAGE_SIZE = 500  # what Cluster.list asks for (limit=500, then continue)


def workspace(i: int, namespace: str) -> dict[str, Any]:
    """A Workspace as the KAITO controller leaves it: resource, preset, conditions, state."""
    name = f"ws-{i:05d}"
    ready = i % 7 != 0  # some still pending, so the columns differ from row to row
    t = "2025-01-01T00:00:00Z"
    conds = [
        {
            "type": "ResourceReady",
            "status": "True",
            "reason": "workspaceResourceStatusSuccess",
            "message": "workspace resource is ready",
            "lastTransitionTime": t,
        },
        {
            "type": "InferenceReady",
            "status": str(ready),
            "lastTransitionTime": t,
            "reason": "WorkspaceInferenceStatusSuccess" if ready else "WorkspaceInferenceStatusPending",
            "message": "Inference has been deployed successfully" if ready else "inference workload is not ready",
        },
        {
            "type": "WorkspaceSucceeded",
            "status": str(ready),
            "lastTransitionTime": t,
            "reason": "workspaceSucceeded" if ready else "workspacePending",
            "message": "",
        },
    ]
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name, "namespace": namespace, "finalizers": ["workspace.finalizer.kaito.sh"]},
        "resource": {
            "instanceType": "Standard_NC24ads_A100_v4",
            "count": 1,
            "labelSelector": {"matchLabels": {"apps": name}},
        },
        "inference": {"preset": {"name": "phi-4-mini-instruct" if i % 2 else "qwen2.5-coder-7b-instruct"}},
        "status": {
            "conditions": conds,
            "workerNodes": [f"aks-gpu-{i:05d}"],
            "targetNodeCount": 1,
            "state": "Ready" if ready else "Pending",
        },
    }


def measure(sim: Any, argv: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Run argv `runs` times after one warm-up; wall times, requests per run, stdout lines."""
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm-up: kubectl's discovery cache
    times, counts, kinds = [], [], Counter()
    lines = 0
    for _ in range(runs):
        before = len(sim.requests)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
        made = sim.requests[before:]
        counts.append(len(made))
        kinds.update(f"{q.method} {q.path}" + (" (page)" if q.query.get("limit") else "") for q in made)
        lines = len(proc.stdout.splitlines())
    return {
        "median": statistics.median(times),
        "min": min(times),
        "requests": statistics.median(counts),
        "kinds": {k: v // runs for k, v in kinds.items()},
        "lines": lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from kaito_sim import SimCluster

    tmp = Path(tempfile.mkdtemp(prefix="kaito-bench-"))
    # operator=False: the simulated controller leaves the loaded workspaces exactly as written
    with SimCluster(operator=False) as sim:
        t0 = time.perf_counter()
        for i in range(args.workspaces):
            sim.apply(workspace(i, f"team-{i % args.namespaces:02d}"))
        load = time.perf_counter() - t0
        kubeconfig = sim.write_kubeconfig(tmp / "kubeconfig")
        env = cluster_env(tmp, kubeconfig)
        kubectl = str(BIN / "kubectl") if (BIN / "kubectl").exists() else (shutil.which("kubectl") or "kubectl")
        cases = [
            ("kubectl-kaito --version", [str(BIN / "kubectl-kaito"), "--version"]),  # start-up alone
            ("kubectl kaito status -A", [str(BIN / "kubectl-kaito"), "status", "-A"]),
            ("kubectl kaito status -A -o json", [str(BIN / "kubectl-kaito"), "status", "-A", "-o", "json"]),
            ("kubectl get workspaces -A", [kubectl, "get", "workspaces.kaito.sh", "-A"]),
            ("kubectl get workspaces -A -o json", [kubectl, "get", "workspaces.kaito.sh", "-A", "-o", "json"]),
        ]
        print(
            f"{args.workspaces} workspaces in {args.namespaces} namespaces (loaded in {load:.1f}s); "
            f"{args.runs} runs each after one warm-up; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
        )
        print()
        print("| command | median | min | API requests per run | stdout lines |")
        print("|---|---|---|---|---|")
        results = {}
        for label, cmd in cases:
            r = measure(sim, cmd, env, args.runs)
            results[label] = r
            print(f"| `{label}` | {r['median']:.2f} s | {r['min']:.2f} s | {r['requests']:g} | {r['lines']} |")
        print()
        ours = results["kubectl kaito status -A"]["kinds"]
        pages = sum(v for k, v in ours.items() if k.endswith("(page)"))
        print(
            f"`status -A`: {pages} LIST pages of limit={PAGE_SIZE} "
            f"(ceil({args.workspaces}/{PAGE_SIZE}) = {-(-args.workspaces // PAGE_SIZE)}) (no discovery request); "
            f"GETs of single workspaces: {sum(v for k, v in ours.items() if '/workspaces/' in k)}."
        )
        for label in ("kubectl kaito status -A", "kubectl get workspaces -A"):
            print(f"\nrequests of one `{label}`:")
            for k, v in sorted(results[label]["kinds"].items()):
                print(f"  {v} x {k}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
