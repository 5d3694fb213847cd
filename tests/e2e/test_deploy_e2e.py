"""deploy and models through the real `kubectl kaito` plugin dispatch, as a user's shell runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import yaml

from tests.helpers import run_kubectl, subprocess_env

SKU = "Standard_NC24ads_A100_v4"


def test_endpoint_from_deploy_wait_in_a_shell_substitution(sim: Any) -> None:
    script = (
        "set -e\n"
        f"ENDPOINT=$(kubectl kaito deploy --workspace-name my-llm --model phi-4-mini-instruct --instance-type {SKU} "
        "--wait --timeout 2m)\n"
        'echo "endpoint=$ENDPOINT"\n'
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "endpoint=http://my-llm.default.svc.cluster.local/v1/chat/completions\n"
    assert "workspace.kaito.sh/my-llm created" in proc.stderr

    got = run_kubectl("get", "workspace", "my-llm", "-o", "json")
    assert got.exit_code == 0, got.stderr
    ws = json.loads(got.stdout)
    # count: 1 is the CRD's default, filled in by the server: deploy sent no count
    assert ws["resource"] == {"instanceType": SKU, "labelSelector": {"matchLabels": {"apps": "my-llm"}}, "count": 1}
    assert ws["inference"]["preset"]["name"] == "phi-4-mini-instruct"


def test_dry_run_pipes_into_kubectl_apply(sim: Any) -> None:
    dry = run_kubectl(
        "kaito",
        "deploy",
        "--workspace-name",
        "piped",
        "--model",
        "phi-4",
        "--instance-type",
        SKU,
        "--enable-load-balancer",
        "--dry-run",
    )
    assert dry.exit_code == 0, dry.stderr
    assert dry.stderr == ""
    applied = run_kubectl("apply", "-f", "-", input=dry.stdout)
    assert applied.exit_code == 0, applied.stderr
    ws = sim.get("kaito.sh/v1beta1", "Workspace", "piped")
    assert ws["metadata"]["annotations"]["kaito.sh/enablelb"] == "True"
    assert "instanceType" in ws["resource"] and "count" not in yaml.safe_load(dry.stdout)["resource"]


def test_conflict_and_validation_exit_codes(sim: Any) -> None:
    args = ["kaito", "deploy", "--workspace-name", "dup", "--model", "phi-4", "--instance-type", SKU]
    assert run_kubectl(*args).exit_code == 0
    again = run_kubectl(*args)
    assert again.exit_code == 1 and again.stdout == "" and "already exists" in again.stderr
    bad = run_kubectl("kaito", "deploy", "--workspace-name", "Bad", "--model", "phi-4")
    assert bad.exit_code == 2 and bad.stdout == ""


def test_ctrl_c_while_waiting_leaves_the_workspace(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=120)  # never ready during this test
    proc = subprocess.Popen(
        [
            "kubectl",
            "kaito",
            "deploy",
            "--workspace-name",
            "slow",
            "--model",
            "phi-4",
            "--instance-type",
            SKU,
            "--wait",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert proc.stderr is not None
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the watch is open once the first progress line is out
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("waiting for workspace default/slow:"):
                break
        assert any(ln.startswith("waiting for workspace default/slow:") for ln in seen), seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert out == ""
    assert "the workspace was left in place; watch it with: kubectl kaito status --workspace-name slow" in err
    assert sim.get("kaito.sh/v1beta1", "Workspace", "slow") is not None


def test_models_list_through_kubectl(sim: Any) -> None:
    r = run_kubectl("kaito", "models", "list", "-o", "yaml")
    assert r.exit_code == 0, r.stderr
    names = {m["name"] for m in yaml.safe_load(r.stdout)}
    assert {"phi-4-mini-instruct", "Qwen/Qwen3.5-9B"} <= names
    d = run_kubectl("kaito", "models", "describe", "nope-model")
    assert d.exit_code == 3 and "not in the catalog" in d.stderr
