"""CRUD semantics: Status errors, resourceVersion, selectors, pagination, dryRun, patches."""

from __future__ import annotations

import json

import pytest

WS = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"


def test_custom_objects_crud_with_python_client(sim, k8s, make_ws):
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    api = client.CustomObjectsApi(k8s)
    created = api.create_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", make_ws("ws1"))
    assert created is not None  # the client maps only 201 to a body
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["resourceVersion"] and meta["generation"] == 1
    assert created["resource"]["count"] == 1  # CRD default applied
    assert created["inference"]["preset"]["accessMode"] == "public"

    got = api.get_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", "ws1")
    assert got["metadata"]["uid"] == meta["uid"]
    # the same object is served under both versions
    alpha = api.get_namespaced_custom_object("kaito.sh", "v1alpha1", "default", "workspaces", "ws1")
    assert alpha["apiVersion"] == "kaito.sh/v1alpha1" and alpha["metadata"]["uid"] == meta["uid"]

    with pytest.raises(ApiException) as exc:
        api.create_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", make_ws("ws1"))
    assert exc.value.status == 409
    body = json.loads(exc.value.body)
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'workspaces.kaito.sh "ws1" already exists'
    assert body["details"] == {"name": "ws1", "group": "kaito.sh", "kind": "workspaces"}

    with pytest.raises(ApiException) as exc:
        api.get_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", "nope")
    assert exc.value.status == 404
    assert json.loads(exc.value.body)["message"] == 'workspaces.kaito.sh "nope" not found'

    patched = api.patch_namespaced_custom_object(
        "kaito.sh", "v1beta1", "default", "workspaces", "ws1", {"metadata": {"labels": {"team": "a"}}}
    )
    assert patched["metadata"]["labels"] == {"team": "a"}
    assert int(patched["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])

    lst = api.list_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", label_selector="team=a")
    assert lst["kind"] == "WorkspaceList" and [i["metadata"]["name"] for i in lst["items"]] == ["ws1"]
    assert api.list_cluster_custom_object("kaito.sh", "v1beta1", "workspaces", label_selector="team=b")["items"] == []

    deleted = api.delete_namespaced_custom_object("kaito.sh", "v1beta1", "default", "workspaces", "ws1")
    assert deleted["metadata"]["name"] == "ws1"


def test_core_v1_typed_client(sim, k8s):
    from kubernetes import client

    core = client.CoreV1Api(k8s)
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80, target_port=8080)]),
    )
    created = core.create_namespaced_service("default", svc)
    assert created.spec.cluster_ip and created.spec.type == "ClusterIP"
    assert created.spec.ports[0].protocol == "TCP"
    got = core.read_namespaced_service("web", "default")
    assert got.metadata.uid == created.metadata.uid
    names = [s.metadata.name for s in core.list_namespaced_service("default", label_selector="app=web").items]
    assert names == ["web"]
    core.delete_namespaced_service("web", "default")
    assert sim.get("v1", "Service", "web") is None
    nodes = core.list_node().items
    assert nodes and nodes[0].status.conditions


def test_status_objects_422_and_409_conflict(sim, http, make_ws):
    ws = make_ws("ws1")
    ws["resource"].pop("labelSelector")
    ws["inference"]["preset"]["accessMode"] = "secret"
    r = http.post(WS, json=ws)
    assert r.status_code == 422
    st = r.json()
    assert st["reason"] == "Invalid" and st["code"] == 422
    assert st["details"]["kind"] == "Workspace" and st["details"]["group"] == "kaito.sh"
    fields = {c["field"]: c for c in st["details"]["causes"]}
    assert fields["resource.labelSelector"]["reason"] == "FieldValueRequired"
    assert fields["inference.preset.accessMode"]["reason"] == "FieldValueNotSupported"
    assert st["message"].startswith('Workspace.kaito.sh "ws1" is invalid: [')
    assert 'Unsupported value: "secret": supported values: "public", "private"' in st["message"]

    sim.set_operator(False)  # no controller writes in between
    created = http.post(WS, json=make_ws("ws2")).json()
    stale = dict(created)
    r = http.put(f"{WS}/ws2", json=dict(created, metadata=dict(created["metadata"], labels={"a": "1"})))
    assert r.status_code == 200
    r = http.put(f"{WS}/ws2", json=dict(stale, metadata=dict(stale["metadata"], labels={"a": "2"})))
    assert r.status_code == 409 and r.json()["reason"] == "Conflict"
    assert r.json()["message"] == (
        'Operation cannot be fulfilled on workspaces.kaito.sh "ws2": the object has '
        "been modified; please apply your changes to the latest version and try again"
    )
    # custom resources need a resourceVersion on PUT
    no_rv = dict(created, metadata={k: v for k, v in created["metadata"].items() if k != "resourceVersion"})
    r = http.put(f"{WS}/ws2", json=no_rv)
    assert r.status_code == 422 and "must be specified for an update" in r.json()["message"]


def test_type_errors_and_namespace_checks(sim, http, make_ws):
    ws = make_ws("ws1")
    ws["resource"]["count"] = "two"
    r = http.post(WS, json=ws)
    assert r.status_code == 422
    assert (
        'resource.count: Invalid value: "string": resource.count in body must be of type integer: "string"'
        in r.json()["message"]
    )
    r = http.post("/apis/kaito.sh/v1beta1/namespaces/missing/workspaces", json=make_ws("ws1"))
    assert r.status_code == 404 and r.json()["message"] == 'namespaces "missing" not found'
    ws = make_ws("ws1")
    ws["metadata"]["namespace"] = "other"
    r = http.post(WS, json=ws)
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    bad = make_ws("Bad_Name")
    r = http.post(WS, json=bad)
    assert r.status_code == 422 and r.json()["details"]["causes"][0]["field"] == "metadata.name"
    r = http.post(WS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_label_and_field_selectors(sim, http):
    sim.seed_workspace("a", labels={"team": "x", "tier": "gold"})
    sim.seed_workspace("b", labels={"team": "y"})
    sim.seed_workspace("c", namespace="other", labels={"team": "x"})

    def names(path, **params):
        r = http.get(path, params=params)
        assert r.status_code == 200, r.text
        return [i["metadata"]["name"] for i in r.json()["items"]]

    all_ws = "/apis/kaito.sh/v1beta1/workspaces"
    assert names(all_ws) == ["a", "b", "c"]
    assert names(all_ws, labelSelector="team=x") == ["a", "c"]
    assert names(all_ws, labelSelector="team in (x,y),tier") == ["a"]
    assert names(all_ws, labelSelector="team!=x") == ["b"]
    assert names(all_ws, labelSelector="!tier") == ["b", "c"]
    assert names(all_ws, labelSelector="team notin (y)") == ["a", "c"]
    assert names(all_ws, fieldSelector="metadata.namespace=other") == ["c"]
    assert names(WS, fieldSelector="metadata.name=b") == ["b"]
    assert names(WS, fieldSelector="metadata.name!=b") == ["a"]
    r = http.get(all_ws, params={"fieldSelector": "resource.instanceType=x"})
    assert r.status_code == 400 and "field label not supported" in r.json()["message"]
    r = http.get(all_ws, params={"labelSelector": "a=(b"})
    assert r.status_code == 400

    pods = "/api/v1/pods"
    assert names(pods, fieldSelector="status.phase=Running", labelSelector="kaito.sh/workspace=a") == ["a-0"]
    assert names(pods, fieldSelector="status.phase=Pending", labelSelector="kaito.sh/workspace") == []
    sim.controller.fail_workspace("b", reason="ImagePullError")
    assert names(pods, fieldSelector="status.phase=Pending") == ["b-0"]
    evs = http.get(
        "/api/v1/namespaces/default/events",
        params={"fieldSelector": "involvedObject.name=b,involvedObject.kind=Workspace,type=Warning"},
    )
    items = evs.json()["items"]
    assert items and all(e["type"] == "Warning" and e["involvedObject"]["name"] == "b" for e in items)
    assert items[0]["reason"] == "ImagePullError"


def test_pagination_limit_continue(sim, http):
    for i in range(7):
        sim.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i}", "namespace": "pg"},
                "data": {"i": str(i)},
            }
        )
    path = "/api/v1/namespaces/pg/configmaps"
    page = http.get(path, params={"limit": 3}).json()
    assert [c["metadata"]["name"] for c in page["items"]] == ["cm-0", "cm-1", "cm-2"]
    assert page["metadata"]["remainingItemCount"] == 4
    seen = [c["metadata"]["name"] for c in page["items"]]
    token = page["metadata"]["continue"]
    while token:
        page = http.get(path, params={"limit": 3, "continue": token}).json()
        seen += [c["metadata"]["name"] for c in page["items"]]
        token = page["metadata"].get("continue")
    assert seen == [f"cm-{i}" for i in range(7)]
    assert http.get(path, params={"limit": 3, "continue": "garbage"}).status_code == 400
    # selectors and pagination together
    page = http.get(path, params={"limit": 2, "fieldSelector": "metadata.name!=cm-0"}).json()
    assert [c["metadata"]["name"] for c in page["items"]] == ["cm-1", "cm-2"] and page["metadata"]["continue"]


def test_expired_continue_token(sim_factory):
    import ssl

    import httpx

    s = sim_factory(event_window=5, env=False)
    for i in range(4):
        s.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}})
    ctx = ssl.create_default_context(cadata=s.ca_pem.decode())
    with httpx.Client(base_url=s.url, verify=ctx, headers={"Authorization": f"Bearer {s.token}"}) as c:
        token = c.get("/api/v1/namespaces/default/configmaps", params={"limit": 1}).json()["metadata"]["continue"]
        for i in range(20):
            s.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"churn-{i}"}})
        r = c.get("/api/v1/namespaces/default/configmaps", params={"limit": 1, "continue": token})
        assert r.status_code == 410 and r.json()["reason"] == "Expired"


def test_dry_run_create_patch_delete(sim, http, make_ws):
    r = http.post(WS, params={"dryRun": "All"}, json=make_ws("dry"))
    assert r.status_code == 201 and r.json()["metadata"]["name"] == "dry"
    assert sim.get("kaito.sh/v1beta1", "Workspace", "dry") is None
    sim.seed_workspace("real")
    r = http.patch(
        f"{WS}/real",
        params={"dryRun": "All"},
        json={"metadata": {"labels": {"x": "y"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["metadata"]["labels"] == {"x": "y"}
    assert "x" not in (sim.get("kaito.sh/v1beta1", "Workspace", "real")["metadata"].get("labels") or {})
    r = http.request("DELETE", f"{WS}/real", params={"dryRun": "All"}, json={"propagationPolicy": "Background"})
    assert r.status_code == 200
    assert sim.get("kaito.sh/v1beta1", "Workspace", "real")["metadata"].get("deletionTimestamp") is None


def test_patch_types_and_put(sim, http):
    sim.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}})
    path = "/api/v1/namespaces/default/configmaps/p"
    r = http.patch(
        path,
        content=json.dumps({"data": {"a": None, "c": "3"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.json()["data"] == {"b": "2", "c": "3"}
    r = http.patch(
        path,
        content=json.dumps(
            [{"op": "replace", "path": "/data/b", "value": "20"}, {"op": "add", "path": "/data/d", "value": "4"}]
        ),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.json()["data"] == {"b": "20", "c": "3", "d": "4"}
    r = http.patch(
        path,
        content=json.dumps({"data": {"e": "5"}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert r.json()["data"]["e"] == "5"
    r = http.patch(
        path,
        content=json.dumps([{"op": "test", "path": "/data/b", "value": "nope"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 422
    cur = r = http.get(path).json()
    cur["data"] = {"only": "this"}
    r = http.put(path, json=cur)
    assert r.status_code == 200 and r.json()["data"] == {"only": "this"}
    r = http.patch(
        "/api/v1/namespaces/default/configmaps/none", json={}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 404


def test_status_subresource(sim, http, make_ws):
    created = http.post(WS, json=dict(make_ws("st"), status={"state": "Ready"})).json()
    assert "state" not in (created.get("status") or {}) or created["status"]["state"] != "Ready"
    sim.set_operator(False)  # keep the controller from writing status meanwhile
    cur = http.get(f"{WS}/st").json()
    r = http.patch(
        f"{WS}/st/status",
        json={"status": {"state": "Failed"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["status"]["state"] == "Failed"
    # status in a main-resource update is ignored
    cur = http.get(f"{WS}/st").json()
    cur["status"]["state"] = "Ready"
    cur["metadata"]["labels"] = {"l": "1"}
    out = http.put(f"{WS}/st", json=cur).json()
    assert out["status"]["state"] == "Failed" and out["metadata"]["labels"] == {"l": "1"}


def test_delete_collection_and_propagation(sim, http):
    sim.seed_workspace("g1", labels={"grp": "1"})
    sim.seed_workspace("g2", labels={"grp": "1"})
    r = http.request("DELETE", WS, params={"labelSelector": "grp=1"})
    assert r.status_code == 200
    sim.wait_until(lambda: sim.list("kaito.sh/v1beta1", "Workspace", "default") == [], timeout=5)


def test_everything_the_sim_makes_deserializes_with_typed_models(sim, k8s):
    """kubernetes 37's pydantic models are strict: every object must carry the required fields."""
    from kubernetes import client

    sim.seed_workspace("ok")
    sim.seed_workspace("lb", service_type="LoadBalancer")
    sim.seed_workspace("tune", tuning=True, model="phi-4")
    sim.seed_workspace("bad")
    sim.controller.fail_workspace("bad", reason="ContainerCrashLoopBackOff")
    sim.seed_workspace("unsched")
    sim.controller.fail_workspace("unsched", reason="Unschedulable")
    sim.add_node("byo-1", labels={"apps": "byo"}, external_ip="52.1.2.3")
    core, apps, batch = client.CoreV1Api(k8s), client.AppsV1Api(k8s), client.BatchV1Api(k8s)
    assert core.list_pod_for_all_namespaces().items
    assert core.list_node().items
    assert core.list_service_for_all_namespaces().items
    assert core.list_event_for_all_namespaces().items
    assert core.list_namespace().items
    assert core.list_config_map_for_all_namespaces().items
    assert apps.list_stateful_set_for_all_namespaces().items
    assert apps.list_deployment_for_all_namespaces().items
    assert batch.list_job_for_all_namespaces().items
    assert client.ApiextensionsV1Api(k8s).list_custom_resource_definition().items
    pod = core.read_namespaced_pod("bad-0", "default")
    assert pod.status.container_statuses[0].restart_count > 0
    assert pod.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"


def test_noop_update_keeps_resource_version(sim, http):
    sim.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}, "data": {"a": "1"}})
    path = "/api/v1/namespaces/default/configmaps/same"
    before = http.get(path).json()["metadata"]["resourceVersion"]
    r = http.patch(path, json={"data": {"a": "1"}}, headers={"Content-Type": "application/merge-patch+json"})
    assert r.json()["metadata"]["resourceVersion"] == before
    r = http.patch(path, json={"data": {"a": "2"}}, headers={"Content-Type": "application/merge-patch+json"})
    assert int(r.json()["metadata"]["resourceVersion"]) > int(before)
