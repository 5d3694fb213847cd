"""The KAITO v0.12 InferenceSet controller, simulated (kaito-project/kaito v0.12.0):

* replica Workspaces built as `NewWorkspaceForInferenceSet` builds them
  (pkg/utils/inferenceset/inferenceset.go:128-175): `generateName: <is>-`, the template's labels plus
  `inferenceset.kaito.sh/created-by=<is>`, the InferenceSet as controller owner, `resource.labelSelector`
  from `spec.labelSelector`, `instanceType` dropped under BYO, `kaito.sh/disable-benchmark` propagated;
* scaling up and down to `spec.replicas`, not-ready replicas deleted first
  (`selectWorkspacesToDelete`, pkg/inferenceset/inferenceset_controller.go:225-290);
* status `replicas`, `readyReplicas` (replicas whose WorkspaceSucceeded is True), `selector`, the
  `InferenceSetReady` / `BenchmarkCompleted` conditions and the aggregated benchmark
  (inferenceset_controller.go:428-520, `aggregateBenchmarkResults`);
* deletion: `InferenceSetDeleting`, the replicas deleted, the finalizer removed (controller.go:120-170);
* with the gateway on: the InferencePool `<is>-inferencepool` (`utils.InferencePoolName`,
  pkg/utils/common.go:243-245) and, standing for what the user applies in KAITO's quickstart
  (website/docs/gateway-api-inference-extension.md, examples/gateway-api-inference-extension/httproute.yaml),
  an HTTPRoute `<is>-route` to the Gateway `inference-gateway` whose address is the simulator's gateway port.
"""

from __future__ import annotations

import secrets
import threading
from typing import TYPE_CHECKING, Any

from . import objects as O
from .store import Event

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import SimCluster
    from .controller import Scheduler

IS_KEY = "kaito.sh/inferencesets"
WS_KEY = "kaito.sh/workspaces"
POOL_KEY = "inference.networking.k8s.io/inferencepools"
ROUTE_KEY = "gateway.networking.k8s.io/httproutes"
GATEWAY_KEY = "gateway.networking.k8s.io/gateways"
# pkg/utils/consts/consts.go:26,205 (v0.12.0)
IS_FINALIZER = "inferenceset.finalizer.kaito.sh"
CREATED_BY = "inferenceset.kaito.sh/created-by"
GATEWAY_NAME = "inference-gateway"
_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphanums
# inferenceset_controller.go:128, 490-500 (v0.12.0)
IS_DELETING = ("inferencesetDeleted", "inferenceset is being deleted")
IS_READY = ("inferencesetReady", "inferenceset is ready")


def pool_name(iset: str) -> str:
    """utils.InferencePoolName (pkg/utils/common.go:243-245, v0.12.0)."""
    return f"{iset}-inferencepool"


def gateway_crds() -> list[dict[str, Any]]:
    """Minimal CRDs for the Gateway API (gateway.networking.k8s.io/v1) and its Inference Extension
    (inference.networking.k8s.io/v1): the shapes the simulator writes, unknown fields kept."""

    def crd(group: str, plural: str, kind: str, short: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {
                    "plural": plural,
                    "singular": kind.lower(),
                    "kind": kind,
                    "listKind": f"{kind}List",
                    "shortNames": short,
                },
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    }
                ],
            },
        }

    return [
        crd("inference.networking.k8s.io", "inferencepools", "InferencePool", ["infpool"]),
        crd("gateway.networking.k8s.io", "httproutes", "HTTPRoute", []),
        crd("gateway.networking.k8s.io", "gateways", "Gateway", ["gtw"]),
    ]


def _ready(ws: dict[str, Any]) -> bool:
    """DetermineWorkspacePhase(ws) == "succeeded" (pkg/workspace/controllers/metrics.go:173-190)."""
    for c in (ws.get("status") or {}).get("conditions") or []:
        if c.get("type") == "WorkspaceSucceeded":
            return bool(c.get("status") == "True")
    return False


class InferenceSetController:
    """Reconciles every InferenceSet on any event of it or of one of its replica Workspaces."""

    def __init__(self, sim: SimCluster, sched: Scheduler) -> None:
        self.sim = sim
        self.sched = sched
        self._lock = threading.RLock()
        sched.on_event(self.handle)

    def handle(self, ev: Event) -> None:
        if not self.sim.operator_active():
            return
        if ev.key == IS_KEY:
            if ev.type != "DELETED":
                m = ev.obj["metadata"]
                self.reconcile(m.get("namespace", "default"), m["name"])
            return
        if ev.key == WS_KEY:
            m = ev.obj.get("metadata") or {}
            owner = (m.get("labels") or {}).get(CREATED_BY)
            if owner:
                self.reconcile(m.get("namespace", "default"), owner)

    def resync(self) -> None:
        for obj in self.sim.store.list(IS_KEY):
            m = obj["metadata"]
            self.reconcile(m.get("namespace", "default"), m["name"])

    # ------------------------------------------------------------ reconcile
    def _replicas(self, iset: dict[str, Any]) -> list[dict[str, Any]]:
        m = iset["metadata"]
        out = []
        for ws in self.sim.store.list(WS_KEY, m.get("namespace", "default")):
            wm = ws["metadata"]
            if (wm.get("labels") or {}).get(CREATED_BY) != m["name"]:
                continue
            if any(o.get("uid") == m.get("uid") for o in wm.get("ownerReferences") or []):
                out.append(ws)
        return sorted(out, key=lambda w: (w["metadata"].get("creationTimestamp", ""), w["metadata"]["name"]))

    def reconcile(self, ns: str, name: str) -> None:
        with self._lock:
            iset = self.sim.store.get(IS_KEY, ns, name)
            if iset is None:
                return
            meta = iset["metadata"]
            if meta.get("deletionTimestamp"):
                self._delete(iset)
                return
            if IS_FINALIZER not in (meta.get("finalizers") or []):
                iset = self._put(iset, metadata=dict(meta, finalizers=[*(meta.get("finalizers") or []), IS_FINALIZER]))
            desired = int((iset.get("spec") or {}).get("replicas", 1) or 0)
            replicas = self._replicas(iset)
            live = [w for w in replicas if not w["metadata"].get("deletionTimestamp")]
            if len(live) > desired:
                # selectWorkspacesToDelete: not-ready before ready (stable order: newest last kept)
                order = sorted(
                    live,
                    key=lambda w: (_ready(w), w["metadata"].get("creationTimestamp", "")),
                )
                for ws in order[: len(live) - desired]:
                    self.sim.internal_delete(WS_KEY, ns, ws["metadata"]["name"])
            for _ in range(desired - len(live)):
                self.sim.internal_create(self._new_workspace(iset))
            self._write_status(ns, name, desired)
            if self.sim.gateway and replicas:
                self._ensure_gateway(iset)

    def _new_workspace(self, iset: dict[str, Any]) -> dict[str, Any]:
        """NewWorkspaceForInferenceSet (pkg/utils/inferenceset/inferenceset.go:128-175, v0.12.0)."""
        m = iset["metadata"]
        spec = iset.get("spec") or {}
        tmpl = spec.get("template") or {}
        tmeta = tmpl.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels[CREATED_BY] = m["name"]
        annotations = dict(tmeta.get("annotations") or {})
        if (m.get("annotations") or {}).get("kaito.sh/disable-benchmark") == "true":
            annotations["kaito.sh/disable-benchmark"] = "true"
        resource: dict[str, Any] = {"labelSelector": spec.get("labelSelector") or {}}
        tres = tmpl.get("resource") or {}
        if tres.get("partition"):
            resource["partition"] = tres["partition"]
        if self.sim.node_provisioner != "byo" and tres.get("instanceType"):
            resource["instanceType"] = tres["instanceType"]
        wmeta: dict[str, Any] = {
            # the API server's generateName suffix: 5 random lowercase alphanumerics
            "name": m["name"] + "-" + "".join(secrets.choice(_SUFFIX) for _ in range(5)),
            "generateName": f"{m['name']}-",
            "namespace": m.get("namespace", "default"),
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": iset.get("apiVersion", "kaito.sh/v1beta1"),
                    "kind": "InferenceSet",
                    "name": m["name"],
                    "uid": m["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if annotations:
            wmeta["annotations"] = annotations
        ws_version = "v1beta1" if "v1beta1" in self._ws_versions() else "v1alpha1"
        return {
            "apiVersion": f"kaito.sh/{ws_version}",
            "kind": "Workspace",
            "metadata": wmeta,
            "resource": resource,
            "inference": dict(tmpl.get("inference") or {}),
        }

    def _ws_versions(self) -> tuple[str, ...]:
        rt = self.sim.registry.by_key(WS_KEY)
        return rt.versions if rt is not None else ()

    def _put(self, iset: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return self.sim.store.put(IS_KEY, dict(iset, **changes))

    def _write_status(self, ns: str, name: str, desired: int) -> None:
        """inferenceset_controller.go:428-520 (v0.12.0)."""
        with self.sim.store.lock:
            iset = self.sim.store.get(IS_KEY, ns, name)
            if iset is None:
                return
            replicas = [w for w in self._replicas(iset) if not w["metadata"].get("deletionTimestamp")]
            ready = [w for w in replicas if _ready(w)]
            total, benchmarked = 0.0, 0
            for w in ready:
                metric = (((w.get("status") or {}).get("performance") or {}).get("metrics") or {}).get(
                    "peakTokensPerMinute"
                ) or {}
                try:
                    v = float(metric.get("value", ""))
                except ValueError:
                    continue
                if v > 0:
                    total += v
                    benchmarked += 1
            old = iset.get("status") or {}
            status: dict[str, Any] = dict(old)
            status.update({"replicas": desired, "readyReplicas": len(ready), "selector": f"{CREATED_BY}={name}"})
            gen = int(iset["metadata"].get("generation") or 1)
            conds = list(status.get("conditions") or [])
            if len(ready) == desired:
                conds = O.set_condition(conds, O.condition("InferenceSetReady", True, *IS_READY, generation=gen))
            else:
                conds = O.set_condition(
                    conds,
                    O.condition(
                        "InferenceSetReady",
                        False,
                        "inferencesetNotReady",
                        f"inferenceset is not ready, {len(ready)}/{desired} replicas are ready",
                        generation=gen,
                    ),
                )
            benchmark_on = (iset["metadata"].get("annotations") or {}).get("kaito.sh/disable-benchmark") != "true"
            if benchmark_on:
                done = benchmarked == desired and desired > 0
                conds = O.set_condition(
                    conds,
                    O.condition(
                        "BenchmarkCompleted",
                        done,
                        "BenchmarkCompleted" if done else "BenchmarkPending",
                        f"{benchmarked}/{desired} replicas benchmarked",
                        generation=gen,
                    ),
                )
                if benchmarked:
                    status["performance"] = {
                        "metrics": {
                            "aggregatedPeakTokensPerMinute": {
                                "description": "stress/high-concurrency",
                                "value": f"{total:.2f}",
                                "unit": "tokens/min",
                                "config": {"engine": "vllm"},
                            }
                        }
                    }
                else:
                    status.pop("performance", None)
            status["conditions"] = conds
            if status != old:
                self._put(iset, status=status)

    def _delete(self, iset: dict[str, Any]) -> None:
        """deleteInferenceSet / garbageCollectInferenceSet (inferenceset_controller.go:125-170, v0.12.0)."""
        m = iset["metadata"]
        ns = m.get("namespace", "default")
        conds = O.set_condition(
            list((iset.get("status") or {}).get("conditions") or []),
            O.condition("InferenceSetDeleting", True, *IS_DELETING),
        )
        self._put(iset, status=dict(iset.get("status") or {}, conditions=conds))
        for ws in self._replicas(iset):
            if not ws["metadata"].get("deletionTimestamp"):
                self.sim.internal_delete(WS_KEY, ns, ws["metadata"]["name"])
        self.sim.remove_finalizer(IS_KEY, ns, m["name"], IS_FINALIZER)

    # ------------------------------------------------------------ gateway
    def _ensure_gateway(self, iset: dict[str, Any]) -> None:
        m = iset["metadata"]
        ns = m.get("namespace", "default")
        name = m["name"]
        owner = {
            "apiVersion": iset.get("apiVersion", "kaito.sh/v1beta1"),
            "kind": "InferenceSet",
            "name": name,
            "uid": m["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        if self.sim.store.get(POOL_KEY, ns, pool_name(name)) is None:
            # the llm-d router chart's InferencePool: pods of the set, index 0, port 5000 (manifests.go:393-500)
            self.sim.internal_create(
                {
                    "apiVersion": "inference.networking.k8s.io/v1",
                    "kind": "InferencePool",
                    "metadata": {"name": pool_name(name), "namespace": ns, "ownerReferences": [owner]},
                    "spec": {
                        "selector": {"matchLabels": {CREATED_BY: name, "apps.kubernetes.io/pod-index": "0"}},
                        "targetPorts": [{"number": 5000}],
                        "endpointPickerRef": {"name": f"{pool_name(name)}-epp", "port": {"number": 9002}},
                    },
                    "status": {
                        "parents": [
                            {
                                "parentRef": {
                                    "group": "gateway.networking.k8s.io",
                                    "kind": "Gateway",
                                    "name": GATEWAY_NAME,
                                },
                                "conditions": [
                                    O.condition(
                                        "Accepted",
                                        True,
                                        "Accepted",
                                        "Referenced by an HTTPRoute accepted by the parentRef Gateway",
                                    )
                                ],
                            }
                        ]
                    },
                }
            )
        if self.sim.store.get(GATEWAY_KEY, ns, GATEWAY_NAME) is None:
            self.sim.internal_create(
                {
                    "apiVersion": "gateway.networking.k8s.io/v1",
                    "kind": "Gateway",
                    "metadata": {"name": GATEWAY_NAME, "namespace": ns},
                    "spec": {
                        "gatewayClassName": "istio",
                        "listeners": [{"name": "http", "port": self.sim.gateway_port, "protocol": "HTTP"}],
                    },
                    "status": {
                        "addresses": [{"type": "IPAddress", "value": "127.0.0.1"}],
                        "conditions": [O.condition("Programmed", True, "Programmed", "Resource programmed")],
                    },
                }
            )
        route = f"{name}-route"
        if self.sim.store.get(ROUTE_KEY, ns, route) is None:
            self.sim.internal_create(
                {
                    "apiVersion": "gateway.networking.k8s.io/v1",
                    "kind": "HTTPRoute",
                    "metadata": {"name": route, "namespace": ns},
                    "spec": {
                        "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}],
                        "rules": [
                            {
                                "backendRefs": [
                                    {
                                        "group": "inference.networking.k8s.io",
                                        "kind": "InferencePool",
                                        "name": pool_name(name),
                                    }
                                ],
                                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            }
                        ],
                    },
                    "status": {
                        "parents": [
                            {
                                "parentRef": {
                                    "group": "gateway.networking.k8s.io",
                                    "kind": "Gateway",
                                    "name": GATEWAY_NAME,
                                },
                                "controllerName": "istio.io/gateway-controller",
                                "conditions": [O.condition("Accepted", True, "Accepted", "Route was valid")],
                            }
                        ]
                    },
                }
            )

    def route(self, model: str | None) -> dict[str, Any] | None:
        """The gateway's pick for a request body's model: a ready replica of the InferenceSet of that name
        (with BBR, the served model name is the InferenceSet's name)."""
        for iset in self.sim.store.list(IS_KEY):
            if model is not None and iset["metadata"]["name"] != model:
                continue
            for ws in self._replicas(iset):
                if self.sim.workspace_serving(ws):
                    return ws
        return None
