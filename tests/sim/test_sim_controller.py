"""The simulated KAITO controller: timeline, created objects, failures, deletion, tuning."""

from __future__ import annotations

import time

import pytest

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"


def _conds(ws: dict) -> dict:
    return {c["type"]: (c["status"], c["reason"]) for c in (ws.get("status") or {}).get("conditions") or []}


def _ws(sim, name, ns="default"):
    return sim.get("kaito.sh/v1beta1", "Workspace", name, ns)


def test_inference_workspace_timeline(sim_factory, make_ws):
    sim = sim_factory(ready_after=0.6)
    import ssl

    import httpx

    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    with httpx.Client(base_url=sim.url, verify=ctx, headers={"Authorization": f"Bearer {sim.token}"}) as c:
        t0 = time.time()
        assert c.post(WS, json=make_ws("ws1")).status_code == 201
    pending = sim.wait_until(lambda: (w := _ws(sim, "ws1")) and w.get("status", {}).get("state") and w, timeout=2)
    # KAITO v0.12.0 copies NodeClaimReady's reason into ResourceReady (gpu_provisioner.go:171-266)
    assert _conds(pending)["ResourceReady"] == ("False", "NodeClaimNotReady")
    assert pending["metadata"]["finalizers"] == ["workspace.finalizer.kaito.sh"]
    assert pending["status"]["targetNodeCount"] == 1
    res_ready = sim.wait_until(
        lambda: (w := _ws(sim, "ws1")) and _conds(w).get("ResourceReady", ("",))[0] == "True" and w, timeout=3
    )
    t_res = time.time() - t0
    assert _conds(res_ready)["ResourceReady"] == ("True", "workspaceResourceStatusSuccess")
    assert _conds(res_ready)["InferenceReady"][0] == "False"
    ready = sim.wait_workspace_ready("ws1", timeout=3)
    t_ready = time.time() - t0
    assert t_res < t_ready and 0.4 < t_ready < 2.5
    conds = _conds(ready)
    assert conds["InferenceReady"] == ("True", "WorkspaceInferenceStatusSuccess")
    assert conds["WorkspaceSucceeded"] == ("True", "workspaceSucceeded")
    assert ready["status"]["state"] == "Ready"
    node_name = ready["status"]["workerNodes"][0]
    assert node_name.startswith("aks-ws") and node_name.endswith("-0")

    uid = ready["metadata"]["uid"]
    svc = sim.get("v1", "Service", "ws1")
    assert svc["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]][:3] == [
        ("http", 80, 5000),
        ("ray", 6379, 6379),
        ("dashboard", 8265, 8265),
    ]
    assert svc["spec"]["selector"] == {"kaito.sh/workspace": "ws1", "statefulset.kubernetes.io/pod-name": "ws1-0"}
    assert svc["metadata"]["ownerReferences"][0]["uid"] == uid
    headless = sim.get("v1", "Service", "ws1-headless")
    assert headless["spec"]["clusterIP"] == "None"
    sts = sim.get("apps/v1", "StatefulSet", "ws1")
    assert sts["metadata"]["ownerReferences"][0]["uid"] == uid and sts["status"]["readyReplicas"] == 1
    pod = sim.get("v1", "Pod", "ws1-0")
    assert pod["metadata"]["labels"]["kaito.sh/workspace"] == "ws1"
    assert pod["spec"]["containers"][0]["name"] == "ws1"
    assert pod["status"]["phase"] == "Running" and pod["status"]["containerStatuses"][0]["ready"] is True
    assert pod["spec"]["nodeName"] == node_name
    node = sim.get("v1", "Node", node_name)
    assert node["metadata"]["labels"]["apps"] == "ws1"
    assert any(a["type"] == "InternalIP" for a in node["status"]["addresses"])
    reasons = [e["reason"] for e in sim.list("v1", "Event", "default") if e["type"] == "Normal"]
    assert {"Scheduled", "Started", "InferenceReady"} <= set(reasons)
    assert sim.controller_errors == []


def test_multi_node_and_logs(sim, http, make_ws):
    ws = make_ws("big")
    ws["resource"]["count"] = 2
    assert http.post(WS, json=ws).status_code == 201
    ready = sim.wait_workspace_ready("big", timeout=3)
    assert len(ready["status"]["workerNodes"]) == 2 and ready["status"]["targetNodeCount"] == 2
    assert {p["metadata"]["name"] for p in sim.list("v1", "Pod", "default", "kaito.sh/workspace=big")} == {
        "big-0",
        "big-1",
    }
    log = http.get("/api/v1/namespaces/default/pods/big-0/log").text
    assert "vLLM API server version" in log and "Application startup complete." in log


def test_load_balancer_ip(sim, http, make_ws):
    ws = make_ws("lb")
    ws["metadata"]["annotations"] = {"kaito.sh/enablelb": "True"}
    http.post(WS, json=ws)
    svc = sim.wait_until(
        lambda: (s := sim.get("v1", "Service", "lb")) and s["status"]["loadBalancer"].get("ingress") and s, timeout=3
    )
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"].count(".") == 3
    # "true" (lowercase) does not count, like KAITO's exact comparison
    ws2 = make_ws("notlb")
    ws2["metadata"]["annotations"] = {"kaito.sh/enablelb": "true"}
    http.post(WS, json=ws2)
    assert sim.wait_until(lambda: sim.get("v1", "Service", "notlb"), timeout=3)["spec"]["type"] == "ClusterIP"


def test_load_balancer_pending(sim_factory):
    sim = sim_factory(lb_pending=True)
    sim.seed_workspace("lb", service_type="LoadBalancer")
    time.sleep(0.3)
    assert not sim.get("v1", "Service", "lb")["status"]["loadBalancer"].get("ingress")
    sim.lb_pending = False
    sim.wait_until(lambda: sim.get("v1", "Service", "lb")["status"]["loadBalancer"].get("ingress"), timeout=3)


@pytest.mark.parametrize(
    "reason, waiting", [("ImagePullError", "ImagePullBackOff"), ("ContainerCrashLoopBackOff", "CrashLoopBackOff")]
)
def test_fail_workspace_python_call(sim, reason, waiting):
    sim.seed_workspace("f")
    sim.controller.fail_workspace("f", reason=reason, message="boom")
    ws = _ws(sim, "f")
    assert _conds(ws)["InferenceReady"] == ("False", reason)
    inf = next(c for c in ws["status"]["conditions"] if c["type"] == "InferenceReady")
    assert inf["message"] == "boom"
    assert ws["status"]["state"] == "NotReady"  # it was Ready before
    pod = sim.get("v1", "Pod", "f-0")
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == waiting and cs["ready"] is False
    if waiting == "CrashLoopBackOff":
        assert cs["restartCount"] > 0 and cs["lastState"]["terminated"]["exitCode"] == 1
    warnings = [e for e in sim.list("v1", "Event", "default") if e["type"] == "Warning"]
    assert any(e["reason"] == reason and e["involvedObject"]["kind"] == "Workspace" for e in warnings)
    sim.controller.recover_workspace("f")
    sim.wait_workspace_ready("f", timeout=3)


def test_fail_by_annotation(sim, http, make_ws):
    ws = make_ws("ann")
    ws["metadata"]["annotations"] = {"sim.kaito.sh/fail": "ImagePullError"}
    http.post(WS, json=ws)
    failed = sim.wait_until(
        lambda: (w := _ws(sim, "ann")) and _conds(w).get("InferenceReady", ("", ""))[1] == "ImagePullError" and w,
        timeout=3,
    )
    assert failed["status"]["state"] == "Pending"
    time.sleep(0.4)  # it never becomes ready
    assert _conds(_ws(sim, "ann"))["WorkspaceSucceeded"][0] == "False"
    pod = sim.get("v1", "Pod", "ann-0")
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"


def test_delete_waits_for_finalizer_and_collects_garbage(sim, http):
    sim.seed_workspace("d")
    node = _ws(sim, "d")["status"]["workerNodes"][0]
    r = http.request("DELETE", f"{WS}/d", json={"propagationPolicy": "Background"})
    assert r.status_code == 200
    assert r.json()["metadata"]["deletionTimestamp"]  # still there, finalizer pending
    sim.wait_until(lambda: _ws(sim, "d") is None, timeout=3)
    sim.wait_until(
        lambda: (
            sim.get("v1", "Service", "d") is None
            and sim.get("v1", "Pod", "d-0") is None
            and sim.get("apps/v1", "StatefulSet", "d") is None
            and sim.get("v1", "Service", "d-headless") is None
        ),
        timeout=3,
    )
    assert sim.get("v1", "Node", node) is None


def test_orphan_propagation_keeps_dependents(sim, http):
    sim.seed_workspace("o")
    http.request("DELETE", f"{WS}/o", json={"propagationPolicy": "Orphan"})
    sim.wait_until(lambda: _ws(sim, "o") is None, timeout=3)
    time.sleep(0.2)
    svc = sim.get("v1", "Service", "o")
    assert svc is not None and not svc["metadata"].get("ownerReferences")


def test_tuning_workspace(sim, http):
    body = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "tune"},
        "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"a": "b"}}},
        "tuning": {
            "preset": {"name": "phi-4"},
            "method": "qlora",
            "input": {"urls": ["https://example.com/d.parquet"]},
            "output": {"image": "acr.io/a:1", "imagePushSecret": "s"},
        },
    }
    assert http.post(WS, json=body).status_code == 201
    running = sim.wait_until(
        lambda: (w := _ws(sim, "tune")) and w.get("status", {}).get("state") == "Running" and w, timeout=3
    )
    assert _conds(running)["JobStarted"] == ("True", "WorkspaceTuningJobStatusStarted")
    job = sim.get("batch/v1", "Job", "tune")
    assert job["metadata"]["ownerReferences"][0]["kind"] == "Workspace"
    done = sim.wait_until(lambda: (w := _ws(sim, "tune")) and w["status"].get("state") == "Succeeded" and w, timeout=3)
    assert _conds(done)["WorkspaceSucceeded"] == ("True", "workspaceSucceeded")
    assert sim.get("v1", "Service", "tune") is None
    pods = sim.list("v1", "Pod", "default", "kaito.sh/workspace=tune")
    assert pods and pods[0]["status"]["phase"] == "Succeeded"


def test_zero_ready_after_is_immediate(sim_factory, make_ws):
    sim = sim_factory(ready_after=0)
    sim.apply(make_ws("now"))
    sim.wait_workspace_ready("now", timeout=1)


def test_operator_off_means_no_reconcile(sim_factory, make_ws):
    sim = sim_factory(operator=False)
    sim.apply(make_ws("idle"))
    time.sleep(0.4)
    assert not (_ws(sim, "idle").get("status") or {}).get("conditions")
    sim.set_operator(True)
    sim.wait_workspace_ready("idle", timeout=3)


def test_uninstall_kaito_removes_everything(sim):
    sim.seed_workspace("u")
    sim.set_kaito_installed(False)
    assert sim.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "workspaces.kaito.sh") is None
    assert sim.get("v1", "Namespace", "kaito-workspace") is None
    assert sim.get("kaito.sh/v1beta1", "Workspace", "u") is None
    assert sim.list("kaito.sh/v1beta1", "Workspace") == []
    with pytest.raises(ValueError):
        sim.get("v1", "Widget", "typo")


def test_namespace_deletion(sim, http):
    sim.seed_workspace("n1", namespace="team")
    r = http.delete("/api/v1/namespaces/team")
    assert r.status_code == 200 and r.json()["status"]["phase"] == "Terminating"
    r = http.post("/api/v1/namespaces/team/configmaps", json={"metadata": {"name": "x"}})
    assert r.status_code == 403
    sim.wait_until(lambda: sim.get("v1", "Namespace", "team") is None, timeout=5)
    assert sim.list("v1", "Pod", "team") == []


def test_seed_workspace_not_ready_then_make_ready(sim):
    ws = sim.seed_workspace("s", ready=False)
    assert ws["status"]["state"] == "Pending"
    time.sleep(0.4)
    assert _ws(sim, "s")["status"]["state"] == "Pending"  # seeded state is left alone
    sim.controller.make_ready("s")
    sim.wait_workspace_ready("s", timeout=3)


def test_v1alpha1_only_cluster(sim_factory):
    sim = sim_factory(served_versions=("v1alpha1",))
    sim.apply(
        {
            "apiVersion": "kaito.sh/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "old"},
            "resource": {"labelSelector": {"matchLabels": {"a": "b"}}},
            "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        }
    )
    ws = sim.wait_until(
        lambda: (w := sim.get("kaito.sh/v1alpha1", "Workspace", "old")) and sim.workspace_serving(w) and w, timeout=3
    )
    assert ws["apiVersion"] == "kaito.sh/v1alpha1"
    assert ws["resource"]["instanceType"] == "Standard_NC24ads_A100_v4"  # v1alpha1 default
    assert "state" not in ws["status"] and "targetNodeCount" not in ws["status"]
