"""The simulated KAITO v0.12 InferenceSet controller, rule by rule (kaito-project/kaito v0.12.0)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

IS_PATH = "/apis/kaito.sh/v1beta1/namespaces/default/inferencesets"


def _iset(name: str = "phi", replicas: int = 2, **extra) -> dict:
    obj: dict[str, Any] = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "InferenceSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "labelSelector": {"matchLabels": {"apps": name}},
            "template": {
                "resource": {"instanceType": "Standard_NC24ads_A100_v4"},
                "inference": {"preset": {"name": "phi-4-mini-instruct"}},
            },
        },
    }
    obj["spec"].update(extra)
    return obj


def _replicas(sim, name: str = "phi") -> list[dict]:
    return [
        w
        for w in sim.list("kaito.sh/v1beta1", "Workspace", "default")
        if (w["metadata"].get("labels") or {}).get("inferenceset.kaito.sh/created-by") == name
        and not w["metadata"].get("deletionTimestamp")
    ]


def _ready_count(sim, name: str = "phi") -> int:
    return int(
        ((sim.get("kaito.sh/v1beta1", "InferenceSet", name, "default") or {}).get("status") or {}).get("readyReplicas")
        or 0
    )


def test_replicas_are_workspaces_named_owned_and_labelled_as_kaito_does(sim, http):
    # NewWorkspaceForInferenceSet (pkg/utils/inferenceset/inferenceset.go:128-175, v0.12.0)
    r = http.post(IS_PATH, json=_iset())
    assert r.status_code == 201, r.text
    iset = r.json()
    sim.wait_until(lambda: len(_replicas(sim)) == 2)
    for ws in _replicas(sim):
        m = ws["metadata"]
        assert re.fullmatch(r"phi-[a-z0-9]{5}", m["name"]), m["name"]
        assert m["generateName"] == "phi-"
        assert m["labels"]["inferenceset.kaito.sh/created-by"] == "phi"
        (owner,) = m["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "InferenceSet",
            "phi",
            iset["metadata"]["uid"],
            True,
        )
        assert ws["resource"]["labelSelector"] == {"matchLabels": {"apps": "phi"}}
        assert ws["resource"]["instanceType"] == "Standard_NC24ads_A100_v4"
        assert ws["inference"]["preset"]["name"] == "phi-4-mini-instruct"


def test_status_counts_ready_replicas_and_aggregates_the_benchmark(sim, http):
    # inferenceset_controller.go:428-520 (v0.12.0): replicas, readyReplicas, selector, InferenceSetReady,
    # BenchmarkCompleted "N/M replicas benchmarked", aggregatedPeakTokensPerMinute with 2 decimals
    http.post(IS_PATH, json=_iset())
    sim.wait_until(lambda: _ready_count(sim) == 2, timeout=10)
    st = http.get(f"{IS_PATH}/phi").json()["status"]
    assert st["replicas"] == 2 and st["readyReplicas"] == 2
    assert st["selector"] == "inferenceset.kaito.sh/created-by=phi"
    conds = {c["type"]: c for c in st["conditions"]}
    assert (
        conds["InferenceSetReady"]["status"],
        conds["InferenceSetReady"]["reason"],
        conds["InferenceSetReady"]["message"],
    ) == ("True", "inferencesetReady", "inferenceset is ready")
    assert conds["BenchmarkCompleted"]["message"] == "2/2 replicas benchmarked"
    total = sum(float(w["status"]["performance"]["metrics"]["peakTokensPerMinute"]["value"]) for w in _replicas(sim))
    assert st["performance"]["metrics"]["aggregatedPeakTokensPerMinute"]["value"] == f"{total:.2f}"


def test_not_ready_message_names_the_counts(sim_factory, http_for):
    cluster = sim_factory(ready_after=30)
    http = http_for(cluster)
    http.post(IS_PATH, json=_iset(replicas=3))
    cond = cluster.wait_until(
        lambda: {
            c["type"]: c
            for c in (
                (cluster.get("kaito.sh/v1beta1", "InferenceSet", "phi", "default") or {}).get("status") or {}
            ).get("conditions")
            or []
        }.get("InferenceSetReady")
    )
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "inferencesetNotReady",
        "inferenceset is not ready, 0/3 replicas are ready",
    )


def test_scale_subresource_reads_and_writes_spec_replicas(sim, http):
    # +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,
    # selectorpath=.status.selector (api/v1beta1/inferenceset_types.go:177-184, v0.12.0)
    http.post(IS_PATH, json=_iset(replicas=1))
    sim.wait_until(lambda: _ready_count(sim) == 1, timeout=10)
    scale = http.get(f"{IS_PATH}/phi/scale").json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"] == {"replicas": 1, "selector": "inferenceset.kaito.sh/created-by=phi"}
    r = http.patch(
        f"{IS_PATH}/phi/scale",
        content=json.dumps({"spec": {"replicas": 3}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["replicas"] == 3
    assert http.get(f"{IS_PATH}/phi").json()["spec"]["replicas"] == 3
    sim.wait_until(lambda: len(_replicas(sim)) == 3)
    sim.wait_until(lambda: _ready_count(sim) == 3, timeout=10)
    # scaling down deletes replicas until the count is met
    http.patch(
        f"{IS_PATH}/phi/scale",
        content=json.dumps({"spec": {"replicas": 1}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    sim.wait_until(lambda: len(_replicas(sim)) == 1)
    bad = http.patch(
        f"{IS_PATH}/phi/scale",
        content=json.dumps({"spec": {"replicas": -1}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert bad.status_code == 422 and "must be greater than or equal to 0" in bad.json()["message"]


def test_kubectl_scale_works_on_the_subresource(sim, kubectl, http):
    http.post(IS_PATH, json=_iset(replicas=1))
    out = kubectl("scale", "inferenceset/phi", "--replicas=2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "inferenceset.kaito.sh/phi scaled"
    sim.wait_until(lambda: len(_replicas(sim)) == 2)


def test_deleting_the_set_deletes_its_replicas(sim, http):
    # deleteInferenceSet / garbageCollectInferenceSet (inferenceset_controller.go:125-170, v0.12.0)
    http.post(IS_PATH, json=_iset())
    sim.wait_until(lambda: len(_replicas(sim)) == 2)
    got = http.get(f"{IS_PATH}/phi").json()
    assert "inferenceset.finalizer.kaito.sh" in got["metadata"]["finalizers"]
    assert http.delete(f"{IS_PATH}/phi").status_code == 200
    sim.wait_until(lambda: sim.get("kaito.sh/v1beta1", "InferenceSet", "phi", "default") is None)
    sim.wait_until(lambda: not sim.list("kaito.sh/v1beta1", "Workspace", "default"))


def test_gateway_creates_pool_route_and_gateway_and_routes_by_model(sim_factory, http_for):
    # utils.InferencePoolName (pkg/utils/common.go:243-245); the quickstart's HTTPRoute and Gateway
    # (website/docs/gateway-api-inference-extension.md, v0.12.0)
    cluster = sim_factory(gateway=True)
    http = http_for(cluster)
    http.post(IS_PATH, json=_iset())
    cluster.wait_until(lambda: _ready_count(cluster) == 2, timeout=10)
    pool = http.get("/apis/inference.networking.k8s.io/v1/namespaces/default/inferencepools/phi-inferencepool")
    assert pool.status_code == 200, pool.text
    assert pool.json()["spec"]["selector"]["matchLabels"]["inferenceset.kaito.sh/created-by"] == "phi"
    routes = http.get("/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes").json()["items"]
    (route,) = routes
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "phi-inferencepool"
    gw = http.get("/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways/inference-gateway").json()
    addr = gw["status"]["addresses"][0]["value"]
    port = gw["spec"]["listeners"][0]["port"]
    r = httpx.post(
        f"http://{addr}:{port}/v1/chat/completions",
        json={"model": "phi", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "phi"
    assert (
        httpx.post(f"http://{addr}:{port}/v1/chat/completions", json={"model": "other", "messages": []}).status_code
        == 503
    )


def test_inferenceset_served_only_at_v1alpha1_or_not_at_all(sim_factory, http_for):
    old = sim_factory(inferenceset_versions=("v1alpha1",))
    http = http_for(old)
    groups = http.get("/apis/kaito.sh/v1beta1").json()
    assert "inferencesets" not in [r["name"] for r in groups["resources"]]
    assert "inferencesets" in [r["name"] for r in http.get("/apis/kaito.sh/v1alpha1").json()["resources"]]
    none = sim_factory(inferenceset_versions=(), env=False)
    http2 = http_for(none)
    for v in ("v1alpha1", "v1beta1"):
        assert "inferencesets" not in [r["name"] for r in http2.get(f"/apis/kaito.sh/{v}").json()["resources"]]
    assert "workspaces" in [r["name"] for r in http2.get("/apis/kaito.sh/v1beta1").json()["resources"]]


def test_a_v1alpha1_set_owns_its_replicas_at_v1alpha1(sim_factory, http_for):
    # KAITO v0.8-v0.10: InferenceSet only at v1alpha1; metav1.NewControllerRef names the set's own version
    cluster = sim_factory(inferenceset_versions=("v1alpha1",))
    http = http_for(cluster)
    obj = dict(_iset(replicas=1), apiVersion="kaito.sh/v1alpha1")
    r = http.post("/apis/kaito.sh/v1alpha1/namespaces/default/inferencesets", json=obj)
    assert r.status_code == 201, r.text
    cluster.wait_until(lambda: len(_replicas(cluster)) == 1)
    (owner,) = _replicas(cluster)[0]["metadata"]["ownerReferences"]
    assert owner["apiVersion"] == "kaito.sh/v1alpha1"
