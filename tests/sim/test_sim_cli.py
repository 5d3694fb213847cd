"""The `kubectl-kaito-sim` console script (run as `python -m kubectl_kaito.sim`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubectl_kaito.sim", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
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
    r = _cli("run", "--", sys.executable, "-c",
             "import os,sys; print(os.environ['KUBECONFIG']); sys.exit(7)", env=env)
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
        out = subprocess.run([kubectl.binary, "get", "wk", "phi-4-mini", "-o", "jsonpath={.status.state}"],
                             capture_output=True, text=True, env=dict(env, KUBECONFIG=kubeconfig), timeout=30)
        assert out.stdout == "Ready", out.stderr
    finally:
        stop = _cli("stop", env=env)
    assert stop.returncode == 0
    assert _cli("status", env=env).returncode == 3
