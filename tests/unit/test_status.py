"""Pure status/delete helpers: list rows, the details object and its text, watch lines, names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kubectl_kaito import output
from kubectl_kaito import status as core

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ts(seconds_ago: int) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(ctype: str, status: str, reason: str = "", message: str = "", ago: int = 60) -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": ts(ago)}


def workspace(
    name: str = "my-llm",
    namespace: str = "default",
    *,
    conditions: list[dict[str, Any]] | None = None,
    tuning: bool = False,
    instance: str | None = "Standard_NC24ads_A100_v4",
    annotations: dict[str, str] | None = None,
    status: dict[str, Any] | None = None,
    age: int = 300,
) -> dict[str, Any]:
    ws: dict[str, Any] = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": ts(age)},
        "resource": {"labelSelector": {"matchLabels": {"kaito.sh/workspace": name}}},
    }
    if instance:
        ws["resource"]["instanceType"] = instance
    if annotations:
        ws["metadata"]["annotations"] = annotations
    block = {"preset": {"name": "phi-4-mini-instruct"}}
    if tuning:
        ws["tuning"] = {**block, "method": "qlora"}
    else:
        ws["inference"] = block
    ws["status"] = dict(status or {})
    if conditions is not None:
        ws["status"]["conditions"] = conditions
    return ws


READY = [
    cond("WorkspaceSucceeded", "True", "workspaceSucceeded"),
    cond("InferenceReady", "True", "WorkspaceInferenceStatusSuccess"),
    cond("ResourceReady", "True", "workspaceResourceStatusSuccess"),
]


# ---- list rows --------------------------------------------------------------------------------


def test_list_row_reads_conditions_instance_model_and_age() -> None:
    row = core.list_row(workspace(conditions=READY), now=NOW)
    assert row == [
        "my-llm",
        "phi-4-mini-instruct",
        "Standard_NC24ads_A100_v4",
        "True",
        "True",
        "-",
        "True",
        "Ready",
        "5m",
    ]
    assert len(row) == len(core.list_headers())


def test_list_row_missing_conditions_and_byo_instance_are_marked_not_blank() -> None:
    row = core.list_row(workspace(conditions=[], instance=None), now=NOW)
    assert row[2] == "<none>"
    assert row[3:7] == ["-", "-", "-", "-"]


def test_list_row_all_namespaces_puts_namespace_first_and_wide_adds_state_nodes_runtime() -> None:
    ws = workspace(
        namespace="team-a",
        conditions=READY,
        annotations={"kaito.sh/runtime": "transformers"},
        status={"state": "Ready", "targetNodeCount": 2},
    )
    headers = core.list_headers(all_namespaces=True, wide=True)
    row = core.list_row(ws, all_namespaces=True, wide=True, now=NOW)
    assert headers[0] == "NAMESPACE" and headers[-3:] == ["STATE", "NODES", "RUNTIME"]
    assert row[0] == "team-a" and row[-3:] == ["Ready", "2", "transformers"]
    assert len(headers) == len(row) == 13


def test_list_rows_sorted_by_namespace_then_name() -> None:
    items = [workspace("b", "ns2"), workspace("a", "ns2"), workspace("z", "ns1")]
    rows = core.list_rows(items, all_namespaces=True, now=NOW)
    assert [(r[0], r[1]) for r in rows] == [("ns1", "z"), ("ns2", "a"), ("ns2", "b")]


def test_as_list_is_a_kubectl_list_and_fills_kind_on_items() -> None:
    bare = workspace("x")
    del bare["kind"], bare["apiVersion"]
    out = core.as_list([bare], "kaito.sh/v1beta1")
    assert out["apiVersion"] == "v1" and out["kind"] == "List"
    assert out["items"][0]["kind"] == "Workspace" and out["items"][0]["apiVersion"] == "kaito.sh/v1beta1"
    assert "kind" not in bare  # the input is not modified


def test_watch_widths_leave_room_for_rows_that_arrive_later() -> None:
    headers = core.list_headers()
    widths = core.watch_widths(headers, [core.list_row(workspace("a"), now=NOW)])
    assert widths[0] == 20 and widths[1] == 26 and widths[2] == 26  # NAME, MODEL, INSTANCE
    assert widths[-1] == 3  # AGE: as wide as its header


def test_table_row_pads_to_the_given_widths() -> None:
    widths = output.column_widths(["NAME", "AGE"], [["a-long-name", "5m"]])
    assert output.table_row(["x", "1s"], widths) == "x             1s"


def test_tuning_workspace_row_shows_job_started() -> None:
    ws = workspace(tuning=True, conditions=[cond("JobStarted", "True", "WorkspaceTuningJobStatusStarted")])
    row = core.list_row(ws, wide=True, now=NOW)
    assert row[5] == "True" and row[4] == "-"
    assert row[-1] == "-"  # no serving runtime for a tuning job


# ---- pods and events ------------------------------------------------------------------------------


def pod(
    name: str, *, phase: str = "Running", ready: bool = True, restarts: int = 0, waiting: str | None = None
) -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": name, "creationTimestamp": ts(120)},
        "spec": {"containers": [{"name": "c"}], "nodeName": "gpu-node-1"},
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "c", "ready": ready, "restartCount": restarts, "state": state}],
        },
    }


def test_pod_summary_counts_ready_containers_and_restarts_and_keeps_waiting_reason() -> None:
    s = core.pod_summary(pod("my-llm-0", phase="Pending", ready=False, restarts=3, waiting="ImagePullBackOff"))
    assert s["name"] == "my-llm-0"
    assert s["phase"] == "Pending" and s["reason"] == "ImagePullBackOff"
    assert s["ready"] is False and s["readyContainers"] == "0/1" and s["restarts"] == 3
    assert core.pod_summary(pod("ok"))["ready"] is True


def event(name: str, kind: str, reason: str, ago: int, etype: str = "Warning", message: str = "boom") -> dict[str, Any]:
    return {
        "type": etype,
        "reason": reason,
        "message": message,
        "involvedObject": {"kind": kind, "name": name},
        "lastTimestamp": ts(ago),
        "count": 2,
    }


def test_warning_events_keep_only_the_workspace_and_its_pods_sorted_oldest_first() -> None:
    evs = [
        event("my-llm-0", "Pod", "BackOff", 10),
        event("other-0", "Pod", "BackOff", 5),  # another workspace's pod
        event("my-llm", "Workspace", "ReconcileError", 100),
        event("my-llm-0", "Pod", "Pulled", 1, etype="Normal"),
        event("my-llm", "Service", "Sync", 3),  # same name, other kind
    ]
    out = core.warning_events(evs, "my-llm", ["my-llm-0"])
    assert [(e["object"], e["reason"]) for e in out] == [
        ("workspace/my-llm", "ReconcileError"),
        ("pod/my-llm-0", "BackOff"),
    ]
    assert out[0]["count"] == 2


def test_warning_events_are_capped_to_the_most_recent() -> None:
    evs = [event("my-llm", "Workspace", f"R{i}", 100 - i) for i in range(15)]
    out = core.warning_events(evs, "my-llm", [], limit=10)
    assert len(out) == 10 and out[-1]["reason"] == "R14" and out[0]["reason"] == "R5"


# ---- details -----------------------------------------------------------------------------------------


def test_details_of_a_ready_workspace() -> None:
    ws = workspace(conditions=READY, status={"workerNodes": ["gpu-node-1"], "targetNodeCount": 1, "state": "Ready"})
    url = "http://my-llm.default.svc.cluster.local/v1/chat/completions"
    d = core.details(ws, pods=[pod("my-llm-0")], events=[], endpoint=url)
    assert d["name"] == "my-llm" and d["namespace"] == "default" and d["mode"] == "inference"
    assert d["model"] == "phi-4-mini-instruct" and d["runtime"] == "vllm"
    assert d["instanceType"] == "Standard_NC24ads_A100_v4" and d["nodeCount"] == 1
    assert d["state"] == "Ready" and d["ready"] is True and d["failure"] is None
    assert [c["type"] for c in d["conditions"]] == ["ResourceReady", "InferenceReady", "WorkspaceSucceeded"]
    assert d["workerNodes"] == ["gpu-node-1"]
    assert d["pods"] == [
        {
            "name": "my-llm-0",
            "phase": "Running",
            "ready": True,
            "readyContainers": "1/1",
            "restarts": 0,
            "node": "gpu-node-1",
            "reason": None,
            "createdAt": ts(120),
        }
    ]
    assert d["endpoint"].endswith("/v1/chat/completions")


def test_details_of_a_failed_workspace_names_the_failure() -> None:
    conds = [
        cond("ResourceReady", "True", "workspaceResourceStatusSuccess"),
        cond("InferenceReady", "False", "ImagePullError", "Back-off pulling image"),
    ]
    d = core.details(workspace(conditions=conds), events=[event("my-llm", "Workspace", "ImagePullError", 5)])
    assert d["state"] == "Failed" and d["ready"] is False
    assert d["failure"] == {
        "condition": "InferenceReady",
        "reason": "ImagePullError",
        "message": "Back-off pulling image",
    }
    assert d["events"][0]["reason"] == "ImagePullError"


def test_node_count_prefers_target_node_count_then_resource_count() -> None:
    ws = workspace()
    assert core.node_count(ws) == 1
    ws["resource"]["count"] = 3
    assert core.node_count(ws) == 3
    ws["status"]["targetNodeCount"] = 2
    assert core.node_count(ws) == 2


def test_render_details_has_every_section_and_a_type_column() -> None:
    conds = [
        cond("ResourceReady", "True", "workspaceResourceStatusSuccess", ago=300),
        cond("InferenceReady", "False", "WorkspaceInferenceStatusPending", "waiting\nfor   the statefulset", ago=30),
    ]
    d = core.details(
        workspace(conditions=conds, status={"workerNodes": ["gpu-node-1"]}),
        pods=[pod("my-llm-0", ready=False, restarts=1)],
        events=[event("my-llm-0", "Pod", "Unhealthy", 20, message="Readiness probe failed")],
    )
    text = core.render_details(d, now=NOW)
    lines = text.splitlines()
    assert "Name:           my-llm" in lines
    assert "Model:          phi-4-mini-instruct" in lines
    assert "Instance type:  Standard_NC24ads_A100_v4" in lines
    assert "Node count:     1" in lines
    assert "State:          Pending" in lines
    assert "Endpoint:       <pending>" in lines
    i = lines.index("Conditions:")
    assert lines[i + 1].split() == ["TYPE", "STATUS", "REASON", "MESSAGE", "AGE"]
    assert lines[i + 2].split()[:3] == ["ResourceReady", "True", "workspaceResourceStatusSuccess"]
    # the multi-line message is folded onto one line
    assert lines[i + 3].split() == [
        "InferenceReady",
        "False",
        "WorkspaceInferenceStatusPending",
        "waiting",
        "for",
        "the",
        "statefulset",
        "30s",
    ]
    assert lines[lines.index("Worker nodes:") + 1] == "  gpu-node-1"
    j = lines.index("Pods:")
    assert lines[j + 1].split() == ["NAME", "PHASE", "READY", "RESTARTS", "AGE"]
    assert lines[j + 2].split() == ["my-llm-0", "Running", "0/1", "1", "2m"]
    k = lines.index("Warning events:")
    assert lines[k + 2].split()[:3] == ["20s", "Unhealthy", "pod/my-llm-0"]


def test_render_details_of_a_new_workspace_says_none_where_nothing_exists() -> None:
    text = core.render_details(core.details(workspace(conditions=[], instance=None)), now=NOW)
    assert "Instance type:  <none>" in text
    assert "Conditions:\n  <none reported yet>" in text
    assert "Pods:\n  <none>" in text and "Warning events:\n  <none>" in text


def test_render_details_of_a_tuning_workspace_has_no_endpoint_line() -> None:
    text = core.render_details(core.details(workspace(tuning=True, conditions=[])), now=NOW)
    assert "Mode:           tuning" in text and "Endpoint:" not in text and "Runtime:" not in text


# ---- watch and delete wording --------------------------------------------------------------------------


def test_watch_line_has_time_event_state_and_reasons_of_conditions_not_true() -> None:
    conds = [cond("ResourceReady", "True", "ok"), cond("InferenceReady", "False", "WorkspaceInferenceStatusPending")]
    line = core.watch_line("MODIFIED", workspace(conditions=conds), now=NOW)
    assert line.split() == [
        "2025-06-01T12:00:00Z",
        "MODIFIED",
        "Pending",
        "ResourceReady=True",
        "InferenceReady=False(WorkspaceInferenceStatusPending)",
    ]
    assert core.watch_line("DELETED", workspace(conditions=READY), now=NOW).split()[2] == "Deleted"


@pytest.mark.parametrize(
    ("dry_run", "expected"),
    [(None, 'workspace.kaito.sh "x" deleted'), ("client", 'workspace.kaito.sh "x" deleted (dry run)')],
)
def test_deleted_line_is_kubectl_wording(dry_run: str | None, expected: str) -> None:
    assert core.deleted_line("x", dry_run) == expected


def test_confirm_prompt_names_the_workspaces_and_namespace() -> None:
    assert core.confirm_prompt(["a"], "ns") == 'Delete workspace "a" in namespace "ns"?'
    assert core.confirm_prompt(["a", "b"], "ns") == 'Delete 2 workspaces (a, b) in namespace "ns"?'


def test_list_rows_for_5000_workspaces_is_one_pass() -> None:
    # Not timed: checks the rows come out right at scale (every row computed, none shared).
    items = [workspace(f"ws-{i:05d}", conditions=READY) for i in range(5000)]
    rows = core.list_rows(items, now=NOW)
    assert len(rows) == 5000 and rows[0][0] == "ws-00000" and rows[-1][0] == "ws-04999"


# ---- the list's STATUS column and long messages ------------------------------------------------------


def test_status_reason_says_what_is_wrong_or_happening() -> None:
    deleting = workspace(conditions=READY)
    deleting["metadata"]["deletionTimestamp"] = "2025-06-01T11:59:00Z"
    assert core.status_reason(deleting) == "Deleting"
    assert core.status_reason(workspace(conditions=READY)) == "Ready"
    assert core.status_reason(workspace(conditions=[])) == "Pending"
    nodes = [cond("NodeClaimReady", "False", "NodeClaimNotReady"), cond("ResourceReady", "False", "x")]
    assert core.status_reason(workspace(conditions=nodes)) == "Provisioning"
    loading = [cond("ResourceReady", "True"), cond("InferenceReady", "False", "WorkspaceInferenceStatusPending")]
    assert core.status_reason(workspace(conditions=loading)) == "Starting"
    pulling = [cond("ResourceReady", "True"), cond("InferenceReady", "False", "ImagePullError")]
    assert core.status_reason(workspace(conditions=pulling)) == "ImagePullError"
    row = core.list_row(workspace(conditions=pulling), now=NOW)
    assert row[core.list_headers().index("STATUS")] == "ImagePullError"


def test_render_details_keeps_long_messages_whole_and_wraps_them_to_a_width() -> None:
    long = "word " * 60 + "END"
    d = core.details(workspace(conditions=[cond("InferenceReady", "False", "ImagePullError", long)]))
    piped = core.render_details(d, now=NOW)
    assert " ".join(long.split()) in piped
    wrapped = core.render_details(d, now=NOW, width=100).splitlines()
    assert all(len(ln) <= 100 for ln in wrapped)
    assert sum(ln.count("word") for ln in wrapped) == 60 and any(ln.rstrip().endswith("END") for ln in wrapped)
