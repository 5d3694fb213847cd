"""Every state a real KAITO cluster shows (issue 13, item 2), against the strict simulator (KAITO v0.12):
no Service while the nodes provision, deletion, custom templates, tuning jobs, legacy conditions, and
deploy's warning about flags a cluster's KAITO predates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import poll, run_cli

WS = "my-llm"
INTERNAL = "http://my-llm.default.svc.cluster.local/v1/chat/completions"
NODECLAIM = "NodeClaimReady=False (NodeClaimNotReady: Ready NodeClaims are not enough)"


def new_workspace(sim: Any, name: str = WS, **extra: Any) -> dict[str, Any]:
    """A Workspace as deploy makes it, without status: the simulated controller runs KAITO's timeline."""
    obj = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name, "namespace": "default"},
        "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"apps": name}}},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        **extra,
    }
    sim.apply(obj)
    return poll(lambda: (sim.get("kaito.sh/v1beta1", "Workspace", name) or {}).get("status", {}).get("conditions"))


def failed(r: Any, code: int) -> str:
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr
    return r.stderr


# ---- 1. no Service yet: KAITO creates it only once the nodes are ready -----------------------------------


@pytest.fixture
def provisioning(sim_factory: Any) -> Any:
    """A new workspace whose NodeClaims are not ready (for a minute): no Service exists."""
    sim = sim_factory(ready_after=600)
    new_workspace(sim)
    assert sim.get("v1", "Service", WS, "default") is None
    return sim


def test_json_without_a_service_is_ready_false_with_the_endpoint_to_come_and_exit_0(provisioning: Any) -> None:
    r = run_cli("get-endpoint", WS, "-o", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ready"] is False and info["service_created"] is False
    assert info["endpoint"] == INTERNAL and info["port"] == 80 and info["service"] == WS
    assert info["base_url"] == "http://my-llm.default.svc.cluster.local/v1"
    assert info["deleting"] is False and info["runtime"] == "vllm"


def test_url_form_without_a_service_is_exit_4_naming_what_kaito_reported(provisioning: Any) -> None:
    err = failed(run_cli("get-endpoint", WS), 4)
    assert f"error: workspace default/{WS} is not ready: {NODECLAIM}" in err
    assert "NodesReady=False (NodeNotReady: Not enough Nodes are ready)" in err
    assert "NotReported" not in err  # every condition is there: none is made up


def test_status_says_the_service_is_not_created_yet(provisioning: Any) -> None:
    r = run_cli("status", WS)
    assert r.exit_code == 0, r.stderr
    assert "Service not created yet" in r.stdout
    assert json.loads(run_cli("status", WS, "-o", "json").stdout)["metadata"]["name"] == WS  # the object, as kubectl


@pytest.mark.parametrize("command", [["chat", "--message", "hi"], ["bench", "--requests", "1"], ["connect"]])
def test_chat_connect_and_bench_without_a_service_are_not_ready_exit_4(provisioning: Any, command: list[str]) -> None:
    err = failed(run_cli(command[0], WS, *command[1:]), 4)
    assert "is not ready" in err and NODECLAIM in err
    assert "no inference Service" not in err


def test_get_endpoint_wait_crosses_the_no_service_phase(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=1.5)
    new_workspace(sim)
    assert sim.get("v1", "Service", WS, "default") is None
    r = run_cli("get-endpoint", WS, "--wait", "--timeout", "30s", "-o", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ready"] is True and info["endpoint"] == INTERNAL and "service_created" not in info
    assert info["runtime"] == "vllm"


# ---- 2. deleting: KAITO keeps state Ready while it cleans up ------------------------------------------------


@pytest.fixture
def deleting(sim_factory: Any) -> Any:
    """A ready workspace whose deletion never ends (KAITO's cleanup keeps failing)."""
    sim = sim_factory(cleanup="failing")
    sim.seed_workspace(WS)
    sim.delete("kaito.sh/v1beta1", "Workspace", WS)
    poll(
        lambda: any(
            c.get("type") == "WorkspaceDeleting"
            for c in (sim.get("kaito.sh/v1beta1", "Workspace", WS) or {}).get("status", {}).get("conditions", [])
        )
    )
    ws = sim.get("kaito.sh/v1beta1", "Workspace", WS)
    assert ws["status"]["state"] == "Ready" and ws["metadata"]["deletionTimestamp"]  # what KAITO shows
    return sim


def test_get_endpoint_of_a_deleting_workspace_is_exit_4(deleting: Any) -> None:
    err = failed(run_cli("get-endpoint", WS), 4)
    assert f"error: workspace default/{WS} is being deleted" in err
    assert "failed to delete NodeClaims" in err  # KAITO's WorkspaceDeleting message


def test_get_endpoint_json_of_a_deleting_workspace_says_so(deleting: Any) -> None:
    r = run_cli("get-endpoint", WS, "-o", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ready"] is False and info["deleting"] is True


def test_status_shows_deleting(deleting: Any) -> None:
    detail = run_cli("status", WS)
    assert detail.exit_code == 0, detail.stderr
    assert "State:          Deleting" in detail.stdout.splitlines()
    assert "being deleted" in detail.stdout
    wide = run_cli("status", "-o", "wide")
    header, row = wide.stdout.splitlines()[:2]
    cells = dict(zip(header.split(), row.split(), strict=True))
    assert cells["STATUS"] == "Deleting" and cells["STATE"] == "Deleting"


def test_wait_on_a_deleting_workspace_ends_with_a_clear_error(deleting: Any) -> None:
    err = failed(run_cli("get-endpoint", WS, "--wait", "--timeout", "20s"), 1)
    assert f"workspace default/{WS} is being deleted: it will not become ready" in err
    assert "timed out" not in err


def test_chat_on_a_deleting_workspace_is_not_ready(deleting: Any) -> None:
    err = failed(run_cli("chat", WS, "--message", "hi"), 4)
    assert "is being deleted" in err


# ---- 3. custom templates: the user's own container, not vLLM -------------------------------------------------

TEMPLATE = {
    "spec": {
        "containers": [{"name": "server", "image": "ghcr.io/acme/llm-server:2.1", "ports": [{"containerPort": 5000}]}]
    }
}


def test_template_workspace_runtime_is_the_container_image(sim: Any) -> None:
    sim.seed_workspace(WS, template=TEMPLATE)
    detail = run_cli("status", WS)
    assert "Runtime:        ghcr.io/acme/llm-server:2.1" in detail.stdout.splitlines()
    assert "vllm" not in detail.stdout
    wide = run_cli("status", "-o", "wide")
    header, row = wide.stdout.splitlines()[:2]
    assert dict(zip(header.split(), row.split(), strict=True))["RUNTIME"] == "ghcr.io/acme/llm-server:2.1"
    info = json.loads(run_cli("get-endpoint", WS, "-o", "json").stdout)
    assert info["runtime"] == "ghcr.io/acme/llm-server:2.1" and info["model"] is None


# ---- 4. tuning jobs: running, succeeded, failed; the output image ---------------------------------------------

ADAPTER = "myregistry.azurecr.io/adapters/tune:0.0.1"


@pytest.mark.parametrize(
    ("ready", "fail", "status"),
    [(False, False, "Running"), (True, False, "Succeeded"), (False, True, "WorkspaceTuningJobStatusFailed")],
)
def test_tuning_job_states_with_the_output_image(sim: Any, ready: bool, fail: bool, status: str) -> None:
    sim.seed_workspace("tune", tuning=True, ready=ready)
    if fail:
        sim.controller.fail_workspace("tune", reason="WorkspaceTuningJobStatusFailed", message="tuning job failed")
        poll(
            lambda: (sim.get("kaito.sh/v1beta1", "Workspace", "tune") or {}).get("status", {}).get("state") == "Failed"
        )
    detail = run_cli("status", "tune")
    assert detail.exit_code == 0, detail.stderr
    assert f"Output image:   {ADAPTER}" in detail.stdout.splitlines()
    assert "Runtime:" not in detail.stdout
    header, row = run_cli("status").stdout.splitlines()[:2]
    assert dict(zip(header.split(), row.split(), strict=True))["STATUS"] == status
    err = failed(run_cli("get-endpoint", "tune"), 1)
    assert "is a tuning workspace" in err


# ---- 5. legacy conditions (KAITO v0.1-v0.3.0) --------------------------------------------------------------


def test_legacy_workspace_ready_is_read_and_no_condition_is_made_up(sim_factory: Any) -> None:
    sim = sim_factory(legacy_conditions=True, served_versions=("v1alpha1",))
    sim.seed_workspace("old", ready=False)
    ws = sim.get("kaito.sh/v1alpha1", "Workspace", "old")
    assert {c["type"] for c in ws["status"]["conditions"]} >= {"WorkspaceReady"}
    err = failed(run_cli("get-endpoint", "old"), 4)
    assert "WorkspaceReady=False" in err and "WorkspaceSucceeded" not in err and "NotReported" not in err
    sim.controller.make_ready("old")
    poll(lambda: run_cli("get-endpoint", "old").exit_code == 0)
    detail = run_cli("status", "old").stdout
    assert "State:          Ready" in detail.splitlines()
    assert "WorkspaceReady" in detail


def test_workspace_ready_alone_means_ready() -> None:
    """A v0.1-v0.3.0 object can carry WorkspaceReady True without the conditions later releases write."""
    from kubectl_kaito import kaito

    ws = {
        "metadata": {"name": "old"},
        "inference": {"preset": {"name": "falcon-7b"}},
        "status": {
            "conditions": [{"type": "ResourceReady", "status": "True"}, {"type": "WorkspaceReady", "status": "True"}]
        },
    }
    assert kaito.is_ready(ws) and kaito.state(ws) == "Ready"


# ---- 6. deploy warns about flags newer than the cluster's KAITO ---------------------------------------------


def _old_kaito(sim: Any, version: str) -> None:
    dep = sim.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace")
    dep["metadata"]["labels"]["helm.sh/chart"] = f"workspace-{version}"
    sim.apply(dep)


def test_deploy_server_dry_run_warns_about_a_flag_an_old_kaito_lacks(sim: Any) -> None:
    _old_kaito(sim, "0.8.0")
    r = run_cli(
        "deploy",
        WS,
        "--model",
        "phi-4-mini-instruct",
        "--instance-type",
        "Standard_NC24ads_A100_v4",
        "--runtime",
        "transformers",
        "--dry-run=server",
    )
    assert r.exit_code == 0, r.stderr
    assert "warning: --runtime needs OpenAI API in the transformers runtime" in r.stderr
    assert "this cluster runs KAITO 0.8.0" in r.stderr
    assert r.stdout.startswith("apiVersion: kaito.sh/v1beta1")  # the result is still printed


def test_deploy_warns_only_where_it_talks_to_the_cluster_anyway(sim: Any) -> None:
    """A plain deploy stays two requests: KAITO's version is read only by --wait and --dry-run=server."""
    _old_kaito(sim, "0.8.0")
    args = (
        "--model",
        "phi-4-mini-instruct",
        "--instance-type",
        "Standard_NC24ads_A100_v4",
        "--runtime",
        "transformers",
    )
    before = len(sim.requests)
    r = run_cli("deploy", WS, *args)
    assert r.exit_code == 0 and "warning" not in r.stderr
    assert not any("deployments" in q.path for q in sim.requests[before:])
    r = run_cli("deploy", "other", *args, "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    assert "warning: --runtime needs" in r.stderr  # --wait talks to the cluster for minutes: one GET more
    _old_kaito(sim, "0.12.0")
    r = run_cli("deploy", "third", *args, "--dry-run=server")
    assert r.exit_code == 0 and "warning" not in r.stderr
