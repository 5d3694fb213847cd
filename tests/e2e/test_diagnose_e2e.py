"""`kubectl kaito diagnose` through the real kubectl plugin dispatch: exit codes and the report on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_kubectl

pytestmark = pytest.mark.e2e


def test_diagnose_through_kubectl(sim: Any, tmp_path: Path) -> None:
    sim.seed_workspace("my-llm", ready=True)
    healthy = run_kubectl("kaito", "diagnose", "my-llm")
    assert healthy.exit_code == 0, healthy.stderr
    assert healthy.stdout.startswith("Workspace default/my-llm: healthy")

    sim.controller.fail_workspace("my-llm", reason="ImagePullError")
    failed = run_kubectl("kaito", "status", "my-llm", "--diagnose", "-o", "json", "--bundle", str(tmp_path / "b"))
    assert failed.exit_code == 1, failed.stderr
    assert json.loads(failed.stdout)["cause"] == "ImagePullFailed"
    assert (tmp_path / "b" / "workspace.yaml").is_file() and "bundle: " in failed.stderr
