"""The `kubectl-kaito-sim` console script (run as `python -m kaito_sim`), from the checkout's sim/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIM_SRC = ROOT / "sim"  # the simulator's own distribution: its import package is sim/kaito_sim


def _cli(*args: str, env: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kaito_sim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(ROOT),
    )


def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SIM_SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["KAITO_SIM_HOME"] = str(tmp_path / "simhome")
    env["HOME"] = str(tmp_path / "home")
    env["KUBECACHEDIR"] = str(tmp_path / "kcache")
    env.pop("KUBECONFIG", None)
    return env


def test_run_relays_exit_code_and_kubeconfig(tmp_path, kubectl):
    env = _env(tmp_path)
    r = _cli("run", "--ready-after", "0.1", "--seed-demo", "--", kubectl.binary, "get", "wk", "-o", "name", env=env)
    assert r.returncode == 0, r.stderr
    assert "workspace.kaito.sh/phi-4-mini" in r.stdout.split()
    r = _cli("run", "--", sys.executable, "-c", "import os,sys; print(os.environ['KUBECONFIG']); sys.exit(7)", env=env)
    assert r.returncode == 7 and r.stdout.strip().endswith("kubeconfig")
    r = _cli("run", "--", "definitely-not-a-command-xyz", env=env)
    assert r.returncode == 127


def test_start_status_stop(tmp_path, kubectl):
    env = _env(tmp_path)
    r = _cli("status", env=env)
    assert r.returncode == 3
    r = _cli("start", "--ready-after", "0.1", "--seed-demo", env=env)
    try:
        assert r.returncode == 0, r.stderr
        line = r.stdout.strip()
        assert line.startswith("export KUBECONFIG=")
        kubeconfig = line.split("=", 1)[1]
        assert Path(kubeconfig).exists()
        assert _cli("status", env=env).returncode == 0
        again = _cli("start", env=env)
        assert again.returncode == 0 and again.stdout.strip() == line
        out = subprocess.run(
            [kubectl.binary, "get", "wk", "phi-4-mini", "-o", "jsonpath={.status.state}"],
            capture_output=True,
            text=True,
            env=dict(env, KUBECONFIG=kubeconfig),
            timeout=30,
        )
        assert out.stdout == "Ready", out.stderr
    finally:
        stop = _cli("stop", env=env)
    assert stop.returncode == 0
    assert _cli("status", env=env).returncode == 3


WORKSPACE = """apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata:
  name: {name}
resource:
  instanceType: Standard_NC24ads_A100_v4
  labelSelector:
    matchLabels:
      apps: {name}
inference:
  preset:
    name: {preset}
"""


def test_runs_without_the_plugin_package(tmp_path, kubectl):
    """The simulator is its own distribution: with `kubectl_kaito` unimportable it still serves KAITO's CRDs,
    and its webhook still reads KAITO's model catalog (its own copy in kaito_sim/data)."""
    env = _env(tmp_path)
    (tmp_path / "ok.yaml").write_text(WORKSPACE.format(name="ok", preset="Qwen/Qwen3-0.6B"))
    (tmp_path / "bad.yaml").write_text(WORKSPACE.format(name="bad", preset="gpt-9000"))
    script = (
        f"{kubectl.binary} apply -f ok.yaml && {kubectl.binary} get wk ok -o name"
        f" && ! {kubectl.binary} apply -f bad.yaml"
    )
    blocked = (
        "import sys; sys.modules['kubectl_kaito'] = None  # any `import kubectl_kaito...` fails\n"
        "from kaito_sim.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    r = subprocess.run(
        [sys.executable, "-c", blocked, "run", "--ready-after", "0.1", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(tmp_path),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == ["workspace.kaito.sh/ok", "created", "workspace.kaito.sh/ok"]
    assert "Unsupported inference preset name gpt-9000" in r.stderr


def test_run_with_kaito_release_options(tmp_path, kubectl):
    """--node-provisioner byo (no NodeClaimReady, byo_provisioner.go at KAITO v0.12.0) and --legacy-conditions
    (WorkspaceReady, api/v1alpha1/workspace_condition_types.go at v0.3.0) reach the cluster."""
    env = _env(tmp_path)
    r = _cli(
        "run",
        "--ready-after",
        "0.1",
        "--seed-demo",
        "--node-provisioner",
        "byo",
        "--",
        kubectl.binary,
        "get",
        "wk",
        "phi-4-mini",
        "-o",
        "jsonpath={.status.conditions[*].type}",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "NodesReady" in r.stdout.split() and "NodeClaimReady" not in r.stdout.split()
    r = _cli(
        "run",
        "--ready-after",
        "0.1",
        "--seed-demo",
        "--v1alpha1-only",
        "--legacy-conditions",
        "--",
        kubectl.binary,
        "get",
        "wk",
        "phi-4-mini",
        "-o",
        "jsonpath={.status.conditions[*].type}",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "WorkspaceReady" in r.stdout.split() and "WorkspaceSucceeded" not in r.stdout.split()


def test_start_with_gateway_and_inferenceset_options(tmp_path, kubectl):
    """`start --gateway` serves the Gateway API (inference-gateway once a set has a replica); `--inferenceset none`
    serves no InferenceSets (KAITO before v0.8) and `v1alpha1` only that version (KAITO v0.8-v0.10)."""
    env = _env(tmp_path)
    r = _cli("start", "--ready-after", "0.1", "--gateway", env=env)
    try:
        assert r.returncode == 0, r.stderr
        kenv = dict(env, KUBECONFIG=r.stdout.strip().split("=", 1)[1])
        iset = (
            "apiVersion: kaito.sh/v1beta1\nkind: InferenceSet\nmetadata:\n  name: phi\nspec:\n  replicas: 1\n"
            "  labelSelector:\n    matchLabels:\n      apps: phi\n  template:\n    resource:\n"
            "      instanceType: Standard_NC24ads_A100_v4\n    inference:\n      preset:\n"
            "        name: phi-4-mini-instruct\n"
        )
        applied = subprocess.run(
            [kubectl.binary, "apply", "-f", "-"], input=iset, capture_output=True, text=True, env=kenv, timeout=30
        )
        assert applied.returncode == 0, applied.stderr
        wait = subprocess.run(
            [kubectl.binary, "wait", "--for=jsonpath={.status.readyReplicas}=1", "is/phi", "--timeout=30s"],
            capture_output=True,
            text=True,
            env=kenv,
            timeout=40,
        )
        assert wait.returncode == 0, wait.stderr
        gw = subprocess.run(
            [kubectl.binary, "get", "gateways.gateway.networking.k8s.io", "-o", "name"],
            capture_output=True,
            text=True,
            env=kenv,
            timeout=30,
        )
        assert gw.stdout.split() == ["gateway.gateway.networking.k8s.io/inference-gateway"], gw.stderr
    finally:
        assert _cli("stop", env=env).returncode == 0
    r = _cli(
        "run",
        "--inferenceset",
        "none",
        "--",
        kubectl.binary,
        "api-resources",
        "--api-group=kaito.sh",
        "-o",
        "name",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["workspaces.kaito.sh"]
    r = _cli(
        "run", "--inferenceset", "v1alpha1", "--", kubectl.binary, "get", "--raw", "/apis/kaito.sh/v1beta1", env=env
    )
    assert r.returncode == 0 and '"inferencesets"' not in r.stdout
