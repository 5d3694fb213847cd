"""status and delete through the real `kubectl kaito` plugin dispatch (kubectl finds kubectl-kaito on PATH)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import run_kubectl

pytestmark = pytest.mark.e2e


def test_status_list_and_one_through_kubectl(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=True)
    sim.seed_workspace("other", namespace="team-b", ready=False)

    listing = run_kubectl("kaito", "status", "-A")
    assert listing.exit_code == 0, listing.stderr
    rows = [ln.split()[:2] for ln in listing.stdout.splitlines()]
    assert rows == [["NAMESPACE", "NAME"], ["default", "my-llm"], ["team-b", "other"]]

    one = run_kubectl("kaito", "status", "--workspace-name", "my-llm", "-o", "json")
    assert one.exit_code == 0, one.stderr
    d = json.loads(one.stdout)  # the Workspace, as kubectl get prints it
    assert d["kind"] == "Workspace" and d["metadata"]["name"] == "my-llm" and d["status"]["state"] == "Ready"
    text = run_kubectl("kaito", "status", "my-llm").stdout.splitlines()
    assert "Endpoint:       http://my-llm.default.svc.cluster.local/v1/chat/completions" in text

    missing = run_kubectl("kaito", "status", "nope")
    assert missing.exit_code == 3 and missing.stdout == ""


def test_delete_through_kubectl_then_kubectl_get_finds_nothing(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=True)

    refused = run_kubectl("kaito", "delete", "--workspace-name", "my-llm")  # stdin is not a terminal
    assert refused.exit_code == 2 and "--yes" in refused.stderr

    r = run_kubectl("kaito", "delete", "--workspace-name", "my-llm", "--yes", "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted\n'

    gone = run_kubectl("get", "workspaces.kaito.sh", "my-llm", "-o", "json")
    assert gone.exit_code != 0 and "NotFound" in gone.stderr
