"""A replicated deployment end to end through the real kubectl and its plugin dispatch (issue 14), as
docs/inferenceset.md shows it: deploy with replicas, status, scale, the gateway URL, chat, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import run_kubectl

pytestmark = pytest.mark.e2e


def _deploy_set(*extra: str) -> Any:
    """`kubectl kaito deploy phi ... --replicas 2` through the real kubectl, plus `extra` flags."""
    return run_kubectl(
        "kaito", "deploy", "phi", "--model", "phi-4-mini-instruct", "--instance-type", "Standard_NC24ads_A100_v4",
        "--replicas", "2", *extra,
    )  # fmt: skip


def test_replicated_deployment_end_to_end(sim_factory: Any) -> None:
    cluster = sim_factory(gateway=True)
    r = _deploy_set("--wait", "--timeout", "60s")
    assert r.exit_code == 0, r.stderr
    url = f"http://127.0.0.1:{cluster.gateway_port}/v1/chat/completions"
    assert r.stdout == url + "\n"

    # kubectl itself sees the set and its replica Workspaces (short name `is`, printer columns)
    got = run_kubectl("get", "is", "phi", "-o", "json")
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout)["status"]["readyReplicas"] == 2

    st = run_kubectl("kaito", "status")
    assert st.exit_code == 0, st.stderr
    assert [ln.split()[0] for ln in st.stdout.splitlines()[1:]] == ["is/phi"]
    assert "2/2 ready" in st.stdout

    sc = run_kubectl("kaito", "scale", "phi", "--replicas", "3", "--wait", "--timeout", "60s")
    assert sc.exit_code == 0, sc.stderr
    assert sc.stdout == "inferenceset.kaito.sh/phi scaled\n"
    detail = run_kubectl("kaito", "status", "phi")
    assert "Replicas:           3/3 ready" in detail.stdout

    ep = run_kubectl("kaito", "get-endpoint", "phi")
    assert ep.exit_code == 0 and ep.stdout == url + "\n"

    chat = run_kubectl("kaito", "chat", "phi", "--gateway", "-m", "hello")
    assert chat.exit_code == 0, chat.stderr
    assert chat.stdout == "Hello from phi. You said: hello (turn 1)\n"

    gone = run_kubectl("kaito", "delete", "phi", "--yes", "--wait")
    assert gone.exit_code == 0, gone.stderr
    assert gone.stdout == 'inferenceset.kaito.sh "phi" deleted\n'


def test_old_kaito_without_inferencesets_is_one_line(sim_factory: Any) -> None:
    sim_factory(inferenceset_versions=())
    r = _deploy_set()
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith("error: this cluster's KAITO does not serve InferenceSets")


def test_set_in_object_formats_and_in_several_endpoints_through_kubectl(sim_factory: Any) -> None:
    """Issue 14's gaps through the real kubectl: `status SET -o name|json` is what `kubectl get is SET` prints,
    and `get-endpoint -A` gives the set one row with its gateway URL."""
    cluster = sim_factory(gateway=True)
    r = _deploy_set("--wait", "--timeout", "60s")
    assert r.exit_code == 0, r.stderr
    for fmt in ("name", "json"):
        ours, theirs = run_kubectl("kaito", "status", "phi", "-o", fmt), run_kubectl("get", "is", "phi", "-o", fmt)
        assert ours.exit_code == theirs.exit_code == 0, ours.stderr
        assert (ours.stdout if fmt == "name" else json.loads(ours.stdout)) == (
            theirs.stdout if fmt == "name" else json.loads(theirs.stdout)
        )
    ep = run_kubectl("kaito", "get-endpoint", "-A")
    assert ep.exit_code == 0, ep.stderr
    assert [ln.split() for ln in ep.stdout.splitlines()[1:]] == [
        ["default", "is/phi", f"http://127.0.0.1:{cluster.gateway_port}/v1/chat/completions", "true"]
    ]
