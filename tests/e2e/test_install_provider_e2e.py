"""`kubectl kaito install-provider` through the real kubectl's plugin dispatch."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import fake_helm
from tests.helpers import VENV_BIN, run_kubectl

pytestmark = pytest.mark.e2e


@pytest.fixture
def helm_env(tmp_path: Path) -> dict[str, str]:
    """PATH: the venv (kubectl, kubectl-kaito), then the recording helm, then the system."""
    path = fake_helm.install(tmp_path / "fakebin")
    return {
        "PATH": os.pathsep.join([VENV_BIN, str(path.parent), "/usr/bin", "/bin"]),
        "FAKE_HELM_LOG": str(tmp_path / "helm.log"),
    }


def test_dry_run_through_kubectl_prints_paste_ready_commands(helm_env: dict[str, str], tmp_path: Path) -> None:
    r = run_kubectl("kaito", "install-provider", "--version", "0.12.0", "--byo-nodes", "--dry-run", env=helm_env)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito",
        "helm repo update kaito",
        "helm upgrade --install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace "
        "--version 0.12.0 --set featureGates.disableNodeAutoProvisioning=true --set nodeProvisioner=byo "
        "--wait --take-ownership",
    ]
    assert r.stderr == ""
    assert fake_helm.recorded(tmp_path / "helm.log") == [["version", "--short"]]
    assert all(shlex.split(line)[0] == "helm" for line in r.stdout.splitlines())


def test_status_through_kubectl(helm_env: dict[str, str], sim: Any) -> None:
    r = run_kubectl("kaito", "install-provider", "--status", "-o", "json", env=helm_env)
    assert r.exit_code == 0, r.stderr
    st = json.loads(r.stdout)
    assert (st["installed"], st["ready"], st["crdInstalled"], st["operatorReady"]) == (True, True, True, True)
    assert st["helm"] == {"available": True, "version": "v3.17.3"}
    sim.set_kaito_installed(False)
    r = run_kubectl("kaito", "install-provider", "status", env=helm_env)
    assert r.exit_code == 3
    assert r.stdout.splitlines()[0] == "KAITO:       not installed"
    assert r.stderr.startswith("error: KAITO is not installed")
