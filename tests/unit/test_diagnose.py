"""The diagnosis rules (kubectl_kaito/diagnose.py) on hand-built snapshots, without a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kaito import diagnose as d


def cond(ctype: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message}


def ws(
    *conds: dict[str, Any],
    model: str = "phi-4-mini-instruct",
    state: str = "Pending",
    secret: str | None = None,
    tuning: bool = False,
    **meta: Any,
) -> dict[str, Any]:
    preset: dict[str, Any] = {"name": model}
    if secret:
        preset["presetOptions"] = {"modelAccessSecret": secret}
    obj: dict[str, Any] = {
        "metadata": {"name": "w", "namespace": "default", **meta},
        "resource": {"instanceType": "Standard_NC24ads_A100_v4", "count": 1},
        "status": {"conditions": list(conds), "state": state, "targetNodeCount": 1},
    }
    if tuning:
        obj["tuning"] = {"preset": preset}
    else:
        obj["inference"] = {"preset": preset}
    return obj


NODES_OK = (
    cond("NodeClaimReady", "True", "NodeClaimsReady"),
    cond("NodesReady", "True", "NodesReady"),
    cond("ResourceReady", "True", "workspaceResourceStatusSuccess"),
)
PENDING = (
    cond("InferenceReady", "False", "WorkspaceInferenceStatusPending"),
    cond("WorkspaceSucceeded", "False", "workspacePending"),
)


def pod(
    name: str = "w-0",
    *,
    phase: str = "Running",
    ready: bool = False,
    statuses: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions
        or [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True" if ready else "False"}],
    }
    if statuses is not None:
        st["containerStatuses"] = statuses
    if init is not None:
        st["initContainerStatuses"] = init
    return {"metadata": {"name": name}, "spec": spec or {"containers": [{"name": "w", "image": "img:1"}]}, "status": st}


def first(snap: d.Snapshot) -> d.Finding:
    result = d.diagnose(snap)
    assert result.findings, result
    return result.findings[0]


def test_nodeclaim_object_message_wins_with_its_classification() -> None:
    claim = {
        "metadata": {"name": "ws5abcd", "labels": {"kaito.sh/workspace": "w"}},
        "status": {
            "conditions": [
                cond(
                    "Launched",
                    "False",
                    "LaunchFailed",
                    "SkuNotAvailable: Standard_NC24ads_A100_v4 is not available in westus",
                )
            ]
        },
    }
    snap = d.Snapshot(ws(cond("NodeClaimReady", "False", "NodeClaimNotReady"), *PENDING), nodeclaims=[claim])
    f = first(snap)
    assert (f.cause, f.severity, f.object) == ("NodeClaimFailed", "failed", "nodeclaim/ws5abcd")
    assert "GPU instance type not available: SkuNotAvailable" in f.summary
    assert "not offered in this region" in f.next_step


def test_unsupported_gpu_on_nodeclaim_ready() -> None:
    snap = d.Snapshot(
        ws(
            cond("NodeClaimReady", "False", "LaunchFailed", "instance type Standard_NC6 is not supported by KAITO"),
            *PENDING,
        )
    )
    f = first(snap)
    assert f.cause == "NodeClaimFailed" and "GPU instance type not supported" in f.summary


def test_awaiting_reconciliation_is_pending_not_failed() -> None:
    claim = {
        "metadata": {"name": "c"},
        "status": {
            "conditions": [cond("Launched", "False", "AwaitingReconciliation", "object is awaiting reconciliation")]
        },
    }
    snap = d.Snapshot(ws(cond("NodeClaimReady", "False", "AwaitingReconciliation", "x"), *PENDING), nodeclaims=[claim])
    f = first(snap)
    assert (f.cause, f.severity) == ("NodeClaimPending", "pending")
    assert "nodeclaim/c: Launched=False" in f.evidence


def test_unschedulable_taint_and_selector_next_steps() -> None:
    for msg, word in (
        ("0/3 nodes are available: 3 node(s) had untolerated taint {sku: gpu}", "taints"),
        ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector", "selector"),
    ):
        p = pod(
            phase="Pending",
            conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg}],
        )
        f = first(d.Snapshot(ws(*NODES_OK, *PENDING), pods=[p]))
        assert f.cause == "PodUnschedulable" and word in f.next_step


def test_init_container_stuck_with_its_log() -> None:
    p = pod(
        phase="Pending",
        init=[{"name": "model-fetch", "state": {"running": {}}, "restartCount": 0}],
        statuses=[{"name": "w", "state": {"waiting": {"reason": "PodInitializing"}}}],
    )
    snap = d.Snapshot(ws(*NODES_OK, *PENDING), pods=[p], logs={("w-0", "model-fetch", False): ["fetching shard 3/8"]})
    f = first(snap)
    assert (f.cause, f.severity) == ("InitContainerStuck", "pending")
    assert f.summary == "init container model-fetch of pod w-0 has not completed (running)"
    assert "log w-0/model-fetch: fetching shard 3/8" in f.evidence


def test_oom_reads_the_memory_limit_from_the_spec() -> None:
    spec = {"containers": [{"name": "w", "image": "i", "resources": {"limits": {"memory": "32Gi"}}}]}
    p = pod(
        spec=spec,
        statuses=[
            {
                "name": "w",
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
            }
        ],
    )
    f = first(d.Snapshot(ws(*NODES_OK, *PENDING), pods=[p]))
    assert f.cause == "OOMKilled" and "memory limit 32Gi" in f.summary


def test_gated_model_without_secret() -> None:
    f = first(d.Snapshot(ws(*NODES_OK, *PENDING, model="llama-3.1-8b-instruct")))
    assert (f.cause, f.severity) == ("ModelAccessSecretMissing", "failed")
    assert "--model-access-secret" in f.next_step


def test_download_from_metrics_and_from_the_log() -> None:
    running = [{"name": "w", "restartCount": 0, "state": {"running": {}}}]
    snap = d.Snapshot(
        ws(*NODES_OK, *PENDING), pods=[pod(statuses=running)], download={"w-0": {"speed": 2.5e6, "remaining": -1}}
    )
    f = first(snap)
    assert f.summary == "pod w-0 is downloading the model: 2.5 MB/s, unknown time remaining"
    snap = d.Snapshot(
        ws(*NODES_OK, *PENDING),
        pods=[pod(statuses=running)],
        logs={("w-0", "w", False): ["Fetching 4 files:  50%|█████     | 2/4 [01:10<01:10]"]},
    )
    f = first(snap)
    assert f.cause == "ModelDownloading" and "download metrics: not served" in f.evidence


def test_parse_download_metrics_ignores_comments_nan_and_others() -> None:
    text = (
        "# HELP kaito_model_download_speed_bytes_per_second x\n"
        'kaito_model_download_speed_bytes_per_second{model="m"} 1e6\n'
        "kaito_model_download_remaining_seconds NaN\nvllm:num_requests_running 3\n"
    )
    assert d.parse_download_metrics(text) == {"speed": 1e6}
    assert d.parse_download_metrics("vllm:num_requests_running 3\n") is None


def test_tuning_job_failed() -> None:
    f = first(
        d.Snapshot(
            ws(
                *NODES_OK,
                cond("JobStarted", "False", "WorkspaceTuningJobStatusFailed", "tuning job failed"),
                state="Failed",
                tuning=True,
            )
        )
    )
    assert (f.cause, f.severity) == ("TuningJobFailed", "failed")


def test_not_ready_without_a_known_cause_still_names_the_conditions() -> None:
    result = d.diagnose(d.Snapshot(ws(*NODES_OK, *PENDING)))
    assert result.result == "not-ready" and result.findings[0].cause == "WorkloadNotReady"
    assert "workload: not created yet" in result.findings[0].evidence


def test_hostile_messages_stay_on_one_line() -> None:
    snap = d.Snapshot(
        ws(cond("NodeClaimReady", "False", "LaunchFailed", "quota\nexceeded\x1b[31m" + "x" * 1000), *PENDING)
    )
    text = d.render(d.diagnose(snap))
    cause = next(ln for ln in text.splitlines() if ln.startswith("Cause:"))
    assert "\x1b" not in text and len(cause) < 400 and cause.endswith("…")


def test_nodes_not_ready_lists_each_node_and_its_gpus() -> None:
    node = {
        "metadata": {"name": "aks-gpu-1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "allocatable": {"cpu": "24"}},
    }
    snap = d.Snapshot(
        ws(
            cond("NodeClaimReady", "True", "NodeClaimsReady"),
            cond("NodesReady", "False", "NodePluginsNotReady", "waiting all node plugins to be ready"),
            cond("ResourceReady", "False", "NodePluginsNotReady"),
            *PENDING,
        ),
        nodes=[node],
    )
    f = first(snap)
    assert (f.cause, f.severity) == ("NodesNotReady", "pending")
    assert "node/aks-gpu-1: Ready, nvidia.com/gpu allocatable 0" in f.evidence


def test_evicted_pod() -> None:
    p = pod(phase="Failed")
    p["status"].update({"reason": "Evicted", "message": "The node was low on resource: ephemeral-storage."})
    f = first(d.Snapshot(ws(*NODES_OK, *PENDING), pods=[p]))
    assert (f.cause, f.severity) == ("PodEvicted", "failed") and "ephemeral-storage" in f.summary


@pytest.mark.parametrize("code", sorted(d.CAUSES))
def test_every_cause_code_is_documented(code: str) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "diagnose.md").read_text()
    assert f"`{code}`" in doc
