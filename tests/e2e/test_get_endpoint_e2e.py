"""get-endpoint through the real `kubectl kaito` plugin dispatch, used the way scripts use it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.helpers import run_kubectl, subprocess_env

pytestmark = pytest.mark.e2e


def bash(script: str) -> subprocess.CompletedProcess[str]:
    """Run a shell snippet with the venv's kubectl (and so our plugin) first on PATH."""
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=60)


def test_endpoint_captured_by_a_script(sim: Any) -> None:
    sim.seed_workspace("my-llama")
    p = bash('ENDPOINT=$(kubectl kaito get-endpoint --workspace-name my-llama) && printf "[%s]" "$ENDPOINT"')
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[http://my-llama.default.svc.cluster.local/v1/chat/completions]"
    assert p.stderr == ""


def test_a_missing_workspace_stops_a_set_e_script(sim: Any) -> None:
    # the Go plugins exit 0 with empty stdout here, so such scripts carried on with ENDPOINT=""
    p = bash("set -e; ENDPOINT=$(kubectl kaito get-endpoint --workspace-name nope); echo reached")
    assert p.returncode == 3
    assert "reached" not in p.stdout
    assert 'error: workspace "nope" not found in namespace "default"' in p.stderr


def test_the_seeds_examples_run_as_written(sim: Any) -> None:
    sim.seed_workspace("my-workspace", service_type="LoadBalancer")
    sim.seed_workspace("my-workspace", namespace="production")
    basic = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-workspace")
    assert basic.exit_code == 0
    assert basic.stdout == "http://my-workspace.default.svc.cluster.local/v1/chat/completions\n"

    as_json = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-workspace", "--format", "json")
    info = json.loads(as_json.stdout)
    assert list(info)[:7] == ["workspace", "namespace", "endpoint", "type", "port", "ready", "model"]
    assert info["external_endpoint"].startswith("http://20.")

    external = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-workspace", "--external")
    assert external.exit_code == 0 and external.stdout == info["external_endpoint"] + "\n"

    cross = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-workspace", "--namespace", "production")
    assert cross.stdout == "http://my-workspace.production.svc.cluster.local/v1/chat/completions\n"


def test_check_through_kubectl_dispatch(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    r = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-llm", "-o", "json", "--check")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["served_model"] == "phi-4-mini-instruct"


def test_not_ready_through_dispatch_is_exit_4_with_empty_stdout(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=False)
    r = run_kubectl("kaito", "get-endpoint", "--workspace-name", "my-llm")
    assert r.exit_code == 4
    assert r.stdout == ""
    assert "kubectl kaito status --workspace-name my-llm" in r.stderr
