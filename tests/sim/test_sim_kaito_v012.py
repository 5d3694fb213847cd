"""The simulator follows KAITO v0.12.0's workspace controller and webhook, rule by rule (issue 13 item 1).

Every test names the file of kaito-project/kaito at tag v0.12.0 it follows (research note:
notes/kaito-v012-rules.md; where it and the issue disagree, KAITO's source wins).
"""

from __future__ import annotations

import time

import pytest

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"
PREFIX = 'admission webhook "validation.workspace.kaito.sh" denied the request: validation failed: '
GFD = {"nvidia.com/gpu.product": "NVIDIA-A100-PCIE-80GB", "nvidia.com/gpu.count": "1", "nvidia.com/gpu.memory": "81920"}


def _conds(ws: dict) -> dict:
    return {
        c["type"]: (c["status"], c["reason"], c["message"]) for c in (ws.get("status") or {}).get("conditions") or []
    }


def _ws(sim, name, ns="default", version="v1beta1"):
    return sim.get(f"kaito.sh/{version}", "Workspace", name, ns)


def _wait_conds(sim, name, pred, timeout=4.0, version="v1beta1"):
    return sim.wait_until(lambda: (w := _ws(sim, name, version=version)) and pred(_conds(w)) and w, timeout=timeout)


def _wait_state(sim, name, state, timeout=4.0):
    return sim.wait_until(
        lambda: (w := _ws(sim, name)) and (w.get("status") or {}).get("state") == state and w, timeout=timeout
    )


def _tuning_ws(name: str, **over) -> dict:
    tuning = {
        "preset": {"name": "phi-4"},
        "method": "qlora",
        "input": {"urls": ["https://example.com/d.parquet"]},
        "output": {"image": "acr.io/adapter:1", "imagePushSecret": "push"},
    }
    tuning.update(over)
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"a": "b"}}},
        "tuning": tuning,
    }


def _patch(http, name: str, body: dict):
    return http.patch(f"{WS}/{name}", json=body, headers={"Content-Type": "application/merge-patch+json"})


def _byo_ws(name: str, preset: str | None = "phi-4-mini-instruct", **resource) -> dict:
    ws = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "resource": {"labelSelector": {"matchLabels": {"pool": "gpu"}}, **resource},
    }
    if preset:
        ws["inference"] = {"preset": {"name": preset}}
    else:
        ws["inference"] = {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    return ws


# ---------------------------------------------------------------- controller: order and conditions


def test_first_reconcile_writes_all_five_conditions_false_and_no_service_workspace_controller_go(
    sim_factory, http_for, make_ws
):
    """pkg/workspace/controllers/workspace_controller.go (v0.12.0) 705-818 and
    pkg/nodeprovision/gpu-provisioner/gpu_provisioner.go:171-266: the first reconcile reports NodesReady,
    NodeClaimReady, ResourceReady (copied from NodeClaimReady), InferenceReady, WorkspaceSucceeded, all False;
    ensureService (380) runs only after EnsureNodesReady, so there is no Service yet."""
    sim = sim_factory(ready_after=1.5)
    assert http_for(sim).post(WS, json=make_ws("ws1")).status_code == 201
    pending = _wait_conds(sim, "ws1", lambda c: "NodeClaimReady" in c, timeout=1)
    assert _conds(pending) == {
        "NodeClaimReady": ("False", "NodeClaimNotReady", "Ready NodeClaims are not enough"),
        "NodesReady": ("False", "NodeNotReady", "Not enough Nodes are ready"),
        "ResourceReady": ("False", "NodeClaimNotReady", "Ready NodeClaims are not enough"),
        "InferenceReady": ("False", "WorkspaceInferenceStatusPending", "Inference workload is not ready"),
        "WorkspaceSucceeded": ("False", "workspacePending", "workspace is waiting for inference workload readiness"),
    }
    assert pending["status"]["state"] == "Pending"
    for kind, name in (("Service", "ws1"), ("Service", "ws1-headless")):
        assert sim.get("v1", kind, name) is None
    assert sim.get("apps/v1", "StatefulSet", "ws1") is None


def test_nodeclaims_then_nodes_then_service_and_statefulset_workspace_controller_go(sim_factory, http_for, make_ws):
    """workspace_controller.go:327-389 (v0.12.0): ProvisionNodes, EnsureNodesReady, then ensureService and
    applyInference. NodeClaimReady turns True first while the nodes are not Ready; ResourceReady then copies
    NodesReady (gpu_provisioner.go:171-266)."""
    sim = sim_factory(ready_after=1.8)
    assert http_for(sim).post(WS, json=make_ws("ws1")).status_code == 201
    claims = _wait_conds(sim, "ws1", lambda c: c.get("NodeClaimReady", ("",))[0] == "True", timeout=2)
    c = _conds(claims)
    assert c["NodeClaimReady"] == ("True", "NodeClaimsReady", "Enough NodeClaims are ready")
    assert c["NodesReady"] == ("False", "NodeNotReady", "Not enough Nodes are ready")
    assert c["ResourceReady"] == ("False", "NodeNotReady", "Not enough Nodes are ready")
    nodes = [
        n for n in sim.list("v1", "Node") if (n["metadata"].get("labels") or {}).get("kaito.sh/workspace") == "ws1"
    ]
    assert nodes and all(
        next(x for x in n["status"]["conditions"] if x["type"] == "Ready")["status"] == "False" for n in nodes
    )
    assert sim.get("v1", "Service", "ws1") is None
    ready = _wait_conds(sim, "ws1", lambda c: c.get("ResourceReady", ("",))[0] == "True", timeout=2)
    c = _conds(ready)
    assert c["NodesReady"] == ("True", "NodesReady", "Enough Nodes are ready")
    assert c["ResourceReady"] == ("True", "workspaceResourceStatusSuccess", "workspace resource is ready")
    sim.wait_until(
        lambda: (
            sim.get("v1", "Service", "ws1")
            and sim.get("v1", "Service", "ws1-headless")
            and sim.get("apps/v1", "StatefulSet", "ws1")
        ),
        timeout=2,
    )


def test_karpenter_nodes_ready_message_provisioner_go(sim_factory, make_ws):
    """pkg/nodeprovision/karpenter/provisioner.go:553-645 (v0.12.0): "Enough Nodes are ready with GPU resources"."""
    sim = sim_factory(node_provisioner="karpenter")
    sim.apply(make_ws("k"))
    ws = sim.wait_workspace_ready("k", timeout=4)
    assert _conds(ws)["NodesReady"] == ("True", "NodesReady", "Enough Nodes are ready with GPU resources")


def test_ready_workspace_records_the_benchmark_benchmark_go(sim, make_ws, http):
    """pkg/workspace/controllers/benchmark.go and workspace_controller.go:1262-1336 (v0.12.0): under vLLM with a
    preset, WorkspaceSucceeded turns True with BenchmarkCompleted, and status.performance holds
    peakTokensPerMinute (api/v1beta1/workspace_types.go:240-282)."""
    sim.apply(make_ws("b"))
    ws = _wait_state(sim, "b", "Ready")
    c = _conds(ws)
    assert c["InferenceReady"] == (
        "True",
        "WorkspaceInferenceStatusSuccess",
        "Inference has been deployed successfully",
    )
    assert c["BenchmarkCompleted"] == ("True", "BenchmarkCompleted", "benchmark result has been recorded")
    assert c["WorkspaceSucceeded"] == ("True", "workspaceSucceeded", "workspace succeeds")
    metric = ws["status"]["performance"]["metrics"]["peakTokensPerMinute"]
    assert metric["description"] == "stress/high-concurrency" and metric["unit"] == "tokens/min"
    assert float(metric["value"]) > 0
    assert set(metric["config"]) == {
        "durationSec",
        "inputTokens",
        "outputTokens",
        "maxConcurrency",
        "engine",
        "engineVersion",
        "quantization",
    }
    assert metric["config"]["engine"] == "vllm" and metric["config"]["durationSec"] == "60"
    log = http.get("/api/v1/namespaces/default/pods/b-0/log").text
    assert "KAITO_BENCHMARK_RESULT " in log and '"vllm_total_tpm":' + metric["value"] in log


@pytest.mark.parametrize("how", ["disabled", "transformers", "template"])
def test_no_benchmark_without_vllm_preset_labels_go(sim, make_ws, how):
    """ShouldRunBenchmark, api/v1beta1/labels.go:152-156 (v0.12.0): not with kaito.sh/disable-benchmark "true",
    the transformers runtime, or a template."""
    ws = make_ws("nb")
    if how == "disabled":
        ws["metadata"]["annotations"] = {"kaito.sh/disable-benchmark": "true"}
    elif how == "transformers":
        ws["metadata"]["annotations"] = {"kaito.sh/runtime": "transformers"}
    else:
        ws["inference"] = {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    sim.apply(ws)
    sim.apply(make_ws("control"))  # a vLLM preset on the same cluster does get it
    ready = _wait_state(sim, "nb", "Ready")
    assert "BenchmarkCompleted" not in _conds(ready) and "performance" not in ready["status"]
    assert _conds(ready)["WorkspaceSucceeded"][0] == "True"
    control = _wait_state(sim, "control", "Ready")
    assert _conds(control)["BenchmarkCompleted"][0] == "True" and control["status"]["performance"]


def test_pod_failure_messages_workspace_controller_go(sim):
    """workspace_controller.go:897-1095 (v0.12.0): classified pod failures, `container "<c>" ...` texts;
    inference never sets workspaceFailed."""
    sim.seed_workspace("f")
    sim.controller.fail_workspace("f", reason="ImagePullError")
    c = _conds(_ws(sim, "f"))
    assert c["InferenceReady"][:2] == ("False", "ImagePullError")
    assert c["InferenceReady"][2].startswith('container "f" image pull failed (ImagePullBackOff): ')
    assert c["WorkspaceSucceeded"] == (
        "False",
        "workspacePending",
        "workspace is waiting for inference workload readiness",
    )
    assert _ws(sim, "f")["status"]["state"] == "NotReady"
    sim.controller.fail_workspace("f", reason="ContainerOOMKilled")
    assert _conds(_ws(sim, "f"))["InferenceReady"][2] == (
        'container "f" was OOMKilled (exit code 137); reduce memory usage or use a larger instance type'
    )


# ---------------------------------------------------------------- BYO nodes


def test_byo_waits_for_user_nodes_and_reports_no_nodeclaim_byo_provisioner_go(sim_factory, http_for):
    """pkg/nodeprovision/byo-provisioner/byo_provisioner.go:49-130 and pkg/nodeprovision/nodes.go:25-48 (v0.12.0):
    with nodeProvisioner=byo KAITO creates no nodes, reports only NodesReady and ResourceReady, and waits for
    enough Ready nodes matching the sanitized matchLabels."""
    sim = sim_factory(node_provisioner="byo")
    sim.add_node("gpu-a", labels={"pool": "gpu", **GFD})
    http = http_for(sim)
    ws = _byo_ws("byo", count=2)
    assert http.post(WS, json=ws).status_code == 201
    pending = _wait_conds(sim, "byo", lambda c: "NodesReady" in c, timeout=2)
    c = _conds(pending)
    assert "NodeClaimReady" not in c
    assert c["NodesReady"] == ("False", "NodeNotReady", "Not enough Nodes are ready")
    assert c["ResourceReady"] == ("False", "workspaceResourceStatusNotReady", "node status condition not ready")
    time.sleep(0.5)
    assert _conds(_ws(sim, "byo"))["NodesReady"][0] == "False" and sim.get("v1", "Service", "byo") is None
    sim.add_node("gpu-b", labels={"pool": "gpu", **GFD})
    ready = sim.wait_workspace_ready("byo", timeout=4)
    assert sorted(ready["status"]["workerNodes"]) == ["gpu-a", "gpu-b"]
    assert "NodeClaimReady" not in _conds(ready)
    assert {p["spec"]["nodeName"] for p in sim.list("v1", "Pod", "default", "kaito.sh/workspace=byo")} == {
        "gpu-a",
        "gpu-b",
    }
    http.delete(f"{WS}/byo")
    sim.wait_until(lambda: _ws(sim, "byo") is None, timeout=3)
    assert sim.get("v1", "Node", "gpu-a") is not None  # the user's nodes are never deleted (DeleteNodes no-op)


def test_byo_webhook_rules_workspace_validation_go(sim_factory, http_for):
    """api/v1beta1/workspace_validation.go:164-192 and 474-690 (v0.12.0), BYO: instanceType must be empty, the
    preset's nodes are listed by the sanitized labels and need NVIDIA GFD labels; templates skip the listing."""
    sim = sim_factory(node_provisioner="byo")
    http = http_for(sim)
    r = http.post(WS, json=_byo_ws("a"))
    assert r.json()["message"] == PREFIX + "No nodes found matching the specified label selector: "
    r = http.post(WS, json=_byo_ws("a", instanceType="Standard_NC24ads_A100_v4"))
    assert (
        "invalid value: instanceType must be empty when node auto-provisioning is disabled (BYO scenario): "
        "spec.resource.instanceType"
    ) in r.json()["message"]
    sim.add_node("plain", labels={"pool": "gpu"})
    r = http.post(WS, json=_byo_ws("a"))
    assert r.json()["message"] == PREFIX + (
        "Failed to get GPU config from nvidia labels on node plain: missing required nvidia.com labels on node plain: "
    )
    assert http.post(WS, json=_byo_ws("t", preset=None)).status_code == 201
    sim.delete("v1", "Node", "plain")
    sim.add_node("g1", labels={"pool": "gpu", **GFD})
    sim.add_node("g2", labels={"pool": "gpu", **GFD, "nvidia.com/gpu.product": "NVIDIA-H100"})
    r = http.post(WS, json=_byo_ws("a"))
    assert r.json()["message"].startswith(PREFIX + "Non-uniform GPU product: node g2 has NVIDIA-H100 GPUs")
    sim.delete("v1", "Node", "g2")
    assert http.post(WS, json=_byo_ws("a")).status_code == 201


def test_byo_instance_type_update_rules_workspace_validation_go(sim_factory, http_for):
    """api/v1beta1/workspace_validation.go:780-823 (v0.12.0): under BYO an instanceType cannot be set later, and
    once set cannot be changed (to empty is allowed)."""
    sim = sim_factory(node_provisioner="byo")
    http = http_for(sim)
    sim.apply(_byo_ws("u"))
    patch = {"Content-Type": "application/merge-patch+json"}
    r = http.patch(f"{WS}/u", json={"resource": {"instanceType": "Standard_NC24ads_A100_v4"}}, headers=patch)
    assert r.json()["message"] == PREFIX + (
        "invalid value: instanceType must be empty when node auto-provisioning "
        "is disabled (BYO scenario): resource.instanceType"
    )
    sim.apply(_byo_ws("v", instanceType="Standard_NC24ads_A100_v4"))
    r = http.patch(f"{WS}/v", json={"resource": {"instanceType": "Standard_NC48ads_A100_v4"}}, headers=patch)
    assert (
        r.json()["message"] == PREFIX + "invalid value: instanceType cannot be changed once set: resource.instanceType"
    )
    r = http.patch(f"{WS}/v", json={"resource": {"instanceType": None}}, headers=patch)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "gates, partition, message",
    [
        (
            {},
            {"mode": "mig", "profile": "1g.10gb"},
            "MIG support is not enabled, set feature gate enableMIG=true: resource.partition",
        ),
        (
            {"enableMIG": True},
            {"mode": "mig", "profile": "1g.10gb", "count": 1},
            "invalid value: count is only valid for accelerator mode: resource.partition.count",
        ),
        (
            {"enableMIG": True},
            {"mode": "mig", "profile": "9g.1gb"},
            'invalid value: unknown MIG profile "9g.1gb": must be one of [1g.10gb 1g.12gb',
        ),
        (
            {"enableMIG": True},
            {"mode": "mig", "profile": "big"},
            "invalid value: invalid MIG profile format \"big\": expected format like '1g.10gb': "
            "resource.partition.profile",
        ),
        (
            {},
            {"mode": "accelerator", "count": 1},
            "accelerator partition support is not enabled, set feature gate enableAccelerator=true: resource.partition",
        ),
        (
            {"enableAccelerator": True},
            {"mode": "accelerator", "profile": "1g.10gb"},
            "invalid value: profile is not valid for accelerator mode: resource.partition.profile\n"
            "missing field(s): resource.partition.count",
        ),
        (
            {},
            {"mode": "mps"},
            'invalid value: unsupported partition mode "mps", supported modes are "mig" and "accelerator": '
            "resource.partition.mode",
        ),
    ],
)
def test_partition_rules_byo_only_workspace_validation_go(sim_factory, http_for, gates, partition, message):
    """validatePartition, api/v1beta1/workspace_validation.go:693-740, and pkg/utils/mig/mig.go (v0.12.0)."""
    sim = sim_factory(node_provisioner="byo", feature_gates=gates)
    r = http_for(sim).post(WS, json=_byo_ws("p", partition=partition))
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(PREFIX + message)


def test_partition_accepted_with_gate_and_refused_under_nap_workspace_validation_go(sim_factory, http_for, make_ws):
    """workspace_validation.go:600-606 (v0.12.0): partitioning needs BYO nodes; with the gate a valid MIG profile
    passes (and the node listing is skipped)."""
    sim = sim_factory(node_provisioner="byo", feature_gates={"enableMIG": True})
    assert http_for(sim).post(WS, json=_byo_ws("p", partition={"mode": "mig", "profile": "1g.10gb"})).status_code == 201
    nap = sim_factory(env=False)
    ws = make_ws("p")
    ws["resource"]["partition"] = {"mode": "mig", "profile": "1g.10gb"}
    r = http_for(nap).post(WS, json=ws)
    assert r.json()["message"] == PREFIX + (
        "GPU partitioning is only supported with BYO nodes (disableNodeAutoProvisioning=true): resource.partition"
    )


# ---------------------------------------------------------------- webhook: inference rules


def test_adapter_strength_refused_under_vllm_on_create_only_interface_go(sim, http, make_ws):
    """pkg/model/interface.go:700-718 called from api/v1beta1/workspace_validation.go:857-866 (v0.12.0): only on
    CREATE and only with a preset; the transformers runtime accepts a strength."""
    ws = make_ws("s")
    ws["inference"]["adapters"] = [{"source": {"name": "a", "image": "acr.io/a:1"}, "strength": "0.5"}]
    r = http.post(WS, json=ws)
    assert r.status_code == 400
    assert r.json()["message"] == PREFIX + "Runtime validation: vLLM does not support adapter strength: "
    ws["metadata"]["annotations"] = {"kaito.sh/runtime": "transformers"}
    assert http.post(WS, json=ws).status_code == 201
    plain = make_ws("s2")
    plain["inference"]["adapters"] = [{"source": {"name": "a", "image": "acr.io/a:1"}}]
    assert http.post(WS, json=plain).status_code == 201
    adapters = [{"source": {"name": "a", "image": "acr.io/a:1"}, "strength": "0.5"}]
    assert _patch(http, "s2", {"inference": {"adapters": adapters}}).status_code == 200  # not checked on UPDATE


def test_per_adapter_checks_run_on_update_only_workspace_validation_go(sim, http, make_ws):
    """AdapterSpec.validateCreateorUpdate, api/v1beta1/workspace_validation.go:248-280, is called from
    InferenceSpec.validateUpdate (905) only (v0.12.0): a URL or sourceless adapter passes on CREATE."""
    ws = make_ws("ad")
    ws["inference"]["adapters"] = [{"source": {"name": "a", "urls": ["https://example.com/a.safetensors"]}}]
    assert http.post(WS, json=ws).status_code == 201
    r = _patch(http, "ad", {"metadata": {"labels": {"touch": "1"}}})
    assert r.status_code == 400
    assert r.json()["message"] == PREFIX + (
        "Either Image or Volume must be specified for adapter source: inference.adapters.source\n"
        "URLs are not supported as adapter source: inference.adapters.source.urls"
    )
    bad = [{"source": {"name": "Bad_Name", "image": "i"}, "strength": "2"}]
    msg = _patch(http, "ad", {"inference": {"adapters": bad}}).json()["message"]
    assert "Strength value for Adapter 'Bad_Name' must be between 0 and 1: inference.adapter" in msg
    assert "a lowercase RFC 1123 subdomain must consist of" in msg


def test_gated_legacy_preset_without_secret_is_accepted_generator_go(sim, http, make_ws):
    """presets/workspace/generator/generator.go:785-860 and api/v1beta1/workspace_validation.go:867-875
    (v0.12.0): catalog models never set DownloadAuthRequired, so the gated-model refusal is not reachable."""
    assert http.post(WS, json=make_ws("g", preset="llama-3.1-8b-instruct")).status_code == 201


def test_reserved_selector_keys_are_exact_labels_go(sim, http, make_ws):
    """api/v1beta1/labels.go:218-258 (v0.12.0): eight exact reserved keys, not the karpenter.kaito.sh/ prefix."""
    ws = make_ws("r1")
    ws["resource"]["labelSelector"] = {"matchLabels": {"karpenter.kaito.sh/workspace-name": "x"}}
    r = http.post(WS, json=ws)
    assert r.json()["message"] == PREFIX + (
        "invalid value: matchLabels must contain at least one non-reserved label: resource.labelSelector.matchLabels"
    )
    ws["resource"]["labelSelector"] = {"matchLabels": {"karpenter.kaito.sh/pool": "x"}}
    assert http.post(WS, json=ws).status_code == 201


def test_template_rules_workspace_validation_go(sim, http, make_ws):
    """api/v1beta1/workspace_validation.go:825-915 (v0.12.0): preset XOR template; on update the template may change
    but not be set or unset."""
    tmpl = {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    ws = make_ws("tp")
    ws["inference"] = {"template": tmpl}
    assert http.post(WS, json=ws).status_code == 201
    new = {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
    assert _patch(http, "tp", {"inference": {"template": new}}).status_code == 200
    msg = _patch(http, "tp", {"inference": {"template": None, "preset": {"name": "phi-4-mini-instruct"}}}).json()[
        "message"
    ]
    assert msg == PREFIX + (
        "field cannot be unset/set if it was set/unset: inference.template\nfield is immutable: inference.preset"
    )


# ---------------------------------------------------------------- deletion


def _watch_conditions(sim, name, finalizers: list | None = None):
    seen: list[dict] = []

    def listener(ev):
        if ev.key == "kaito.sh/workspaces" and ev.obj["metadata"]["name"] == name:
            seen.append(_conds(ev.obj))
            if finalizers is not None:
                finalizers.append(list(ev.obj["metadata"].get("finalizers") or []))

    sim.store.add_listener(listener)
    return seen


def test_delete_drops_the_finalizer_at_once_workspace_gc_finalizer_go(sim, http):
    """pkg/workspace/controllers/workspace_gc_finalizer.go:30-54 (v0.12.0): DeleteNodes only issues deletes and the
    finalizer goes at once, so WorkspaceDeleting is never seen."""
    sim.seed_workspace("d")
    seen = _watch_conditions(sim, "d")
    r = http.delete(f"{WS}/d")
    assert r.status_code == 200 and r.json()["metadata"]["finalizers"] == ["workspace.finalizer.kaito.sh"]
    sim.wait_until(lambda: _ws(sim, "d") is None, timeout=1)
    assert seen and not any("WorkspaceDeleting" in c for c in seen)


def test_foreground_delete_shows_workspace_deleting_workspace_controller_go(sim, http):
    """workspace_controller.go:705-743 (v0.12.0): the deferred status sync writes WorkspaceDeleting when another
    finalizer (foreground deletion) keeps the object; state and the other conditions stay."""
    sim.seed_workspace("fg")
    fins: list[list[str]] = []
    seen = _watch_conditions(sim, "fg", fins)
    http.request("DELETE", f"{WS}/fg", json={"propagationPolicy": "Foreground"})
    sim.wait_until(lambda: _ws(sim, "fg") is None, timeout=3)
    deleting = [i for i, c in enumerate(seen) if c.get("WorkspaceDeleting")]
    assert deleting and seen[deleting[0]]["WorkspaceDeleting"] == (
        "True",
        "workspaceDeleted",
        "workspace is being deleted",
    )
    # written after KAITO's own finalizer is gone (the deferred sync runs after garbageCollectWorkspace)
    assert all("workspace.finalizer.kaito.sh" not in fins[i] for i in deleting)
    assert all(c["InferenceReady"][0] == "True" for c in seen)


def test_slow_cleanup_holds_the_workspace_with_workspace_deleting(sim_factory):
    """Not v0.12's default (workspace_gc_finalizer.go:30-54 does not wait): the option that keeps the object in
    deletion so clients can see it; WorkspaceDeleting as workspace_controller.go:739-743 writes it."""
    sim = sim_factory(cleanup="slow", cleanup_delay=0.6)
    sim.seed_workspace("sl")
    sim.delete("kaito.sh/v1beta1", "Workspace", "sl")
    ws = _wait_conds(sim, "sl", lambda c: "WorkspaceDeleting" in c, timeout=1)
    assert _conds(ws)["WorkspaceDeleting"] == ("True", "workspaceDeleted", "workspace is being deleted")
    assert ws["metadata"]["deletionTimestamp"] and ws["status"]["state"] == "Ready"
    sim.wait_until(lambda: _ws(sim, "sl") is None, timeout=3)


def test_failing_cleanup_appends_the_reconcile_error_workspace_controller_go(sim_factory):
    """buildReconcileErrMessageAppender, workspace_controller.go:1198-1208 (v0.12.0): with a failing cleanup the
    object stays and the condition carries " (last reconcile error: ...)"."""
    sim = sim_factory(cleanup="failing")
    sim.seed_workspace("st")
    sim.delete("kaito.sh/v1beta1", "Workspace", "st")
    ws = _wait_conds(sim, "st", lambda c: "WorkspaceDeleting" in c, timeout=1)
    status, reason, message = _conds(ws)["WorkspaceDeleting"]
    assert (status, reason) == ("True", "workspaceDeleted")
    assert message.startswith("workspace is being deleted (last reconcile error: ")
    time.sleep(0.3)
    assert _ws(sim, "st") is not None


# ---------------------------------------------------------------- tuning


def test_tuning_conditions_and_job_workspace_controller_go(sim_factory, http_for):
    """applyTuningWorkspaceStatus, workspace_controller.go:1229-1260; the Job from
    pkg/workspace/manifests/manifests.go:202-228 and pkg/workspace/tuning/preset_tuning.go:325-430 (v0.12.0)."""
    sim = sim_factory(ready_after=1.5)
    assert http_for(sim).post(WS, json=_tuning_ws("tune")).status_code == 201
    first = _wait_conds(sim, "tune", lambda c: "JobStarted" in c, timeout=1)
    c = _conds(first)
    assert c["JobStarted"] == ("False", "WorkspaceTuningJobStatusPending", "Tuning job has not started")
    assert c["WorkspaceSucceeded"] == (
        "False",
        "workspacePending",
        "workspace is initializing, tuning job has not started",
    )
    assert first["status"]["state"] == "Pending" and "NodeClaimReady" in c
    running = _wait_state(sim, "tune", "Running")
    c = _conds(running)
    assert c["JobStarted"] == ("True", "WorkspaceTuningJobStatusStarted", "Tuning job has started")
    assert c["WorkspaceSucceeded"] == (
        "False",
        "workspacePending",
        "workspace has not completed yet, tuning job is running",
    )
    job = sim.get("batch/v1", "Job", "tune")
    spec = job["spec"]["template"]["spec"]
    assert [x["name"] for x in spec["containers"]] == ["tune", "pusher", "pause"]
    assert spec["containers"][1]["image"] == "ghcr.io/oras-project/oras:v1.2.2"
    assert spec["containers"][2]["image"] == "registry.k8s.io/pause:latest"
    assert spec["shareProcessNamespace"] is True and spec["imagePullSecrets"] == [{"name": "push"}]
    assert spec["initContainers"][0]["name"] == "data-downloader"
    assert job["metadata"]["labels"]["kaito.sh/workspace"] == "tune"
    done = _wait_state(sim, "tune", "Succeeded")
    assert _conds(done)["WorkspaceSucceeded"] == ("True", "workspaceSucceeded", "workspace succeeds")
    assert "performance" not in done["status"] and sim.get("v1", "Service", "tune") is None


def test_tuning_failure_says_tuning_job_failed_workspace_controller_go(sim_factory, http_for):
    """workspace_controller.go:1229-1240 (v0.12.0): a failed Job gives "tuning job failed" on both conditions."""
    sim = sim_factory()
    ws = _tuning_ws("tf")
    ws["metadata"]["annotations"] = {"sim.kaito.sh/fail": "ContainerCrashLoopBackOff"}
    http_for(sim).post(WS, json=ws)
    failed = _wait_state(sim, "tf", "Failed")
    c = _conds(failed)
    assert c["JobStarted"] == ("False", "WorkspaceTuningJobStatusFailed", "tuning job failed")
    assert c["WorkspaceSucceeded"] == ("False", "workspaceFailed", "tuning job failed")
    assert sim.get("batch/v1", "Job", "tf")["status"]["failed"] == 1


# ---------------------------------------------------------------- legacy releases


def test_legacy_release_writes_workspace_ready_workspace_condition_types_go(sim_factory):
    """api/v1alpha1/workspace_condition_types.go and pkg/controllers/workspace_controller.go at v0.3.0 (and v0.1.0):
    WorkspaceReady, not WorkspaceSucceeded (which arrived in v0.3.1); no state; no NodesReady (v0.8.0)."""
    sim = sim_factory(served_versions=("v1alpha1",), legacy_conditions=True)
    sim.apply(
        {
            "apiVersion": "kaito.sh/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "old"},
            "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
            "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        }
    )
    ws = _wait_conds(sim, "old", lambda c: c.get("WorkspaceReady", ("",))[0] == "True", version="v1alpha1")
    c = _conds(ws)
    assert c["WorkspaceReady"] == ("True", "workspaceReady", "workspace is ready")
    assert "WorkspaceSucceeded" not in c and "NodesReady" not in c and "BenchmarkCompleted" not in c
    assert c["NodeClaimReady"][0] == "True" and c["InferenceReady"][0] == "True"
    assert "state" not in ws["status"]


def test_seeded_workspaces_follow_the_simulated_release_workspace_controller_go(sim_factory):
    """seed_workspace writes what the simulated release would: the benchmark for a ready vLLM preset
    (workspace_controller.go:1262-1336, v0.12.0), no NodeClaimReady under BYO (byo_provisioner.go:93-130), and
    WorkspaceReady with no state for a legacy controller (api/v1alpha1/workspace_condition_types.go, v0.3.0)."""
    sim = sim_factory()
    ws = sim.seed_workspace("s")
    assert _conds(ws)["BenchmarkCompleted"][0] == "True" and ws["status"]["performance"]["metrics"]
    byo = sim_factory(env=False, node_provisioner="byo").seed_workspace("b")
    assert "NodeClaimReady" not in _conds(byo)
    old = sim_factory(env=False, served_versions=("v1alpha1",), legacy_conditions=True).seed_workspace("o")
    c = _conds(old)
    assert c["WorkspaceReady"] == ("True", "workspaceReady", "workspace is ready") and "WorkspaceSucceeded" not in c
    assert "state" not in old["status"]


def test_byo_ignores_preferred_nodes_workspace_types_go(sim_factory):
    """api/v1beta1/workspace_types.go:42-46 (v0.12.0): preferredNodes is deprecated and nothing in pkg/ reads it;
    BYO nodes are picked by the labels alone, and the reserved kaito.sh/workspace key is stripped
    (pkg/nodeprovision/nodes.go:25-48)."""
    sim = sim_factory(node_provisioner="byo")
    sim.add_node("labelled", labels={"pool": "gpu", **GFD})
    sim.add_node("preferred", labels=dict(GFD))
    ws = _byo_ws("pn")
    ws["resource"]["preferredNodes"] = ["preferred"]
    ws["resource"]["labelSelector"]["matchLabels"]["kaito.sh/workspace"] = "someone-else"
    sim.apply(ws)
    ready = sim.wait_workspace_ready("pn", timeout=4)
    assert ready["status"]["workerNodes"] == ["labelled"]
    assert sim.get("v1", "Pod", "pn-0")["spec"]["nodeName"] == "labelled"
