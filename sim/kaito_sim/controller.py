"""Background controllers: a small scheduler thread running

* the "kube" controllers that any cluster has: garbage collection by ownerReferences,
  namespace termination, LoadBalancer IP assignment;
* the KAITO workspace controller simulation (kaito-project/kaito v0.12.0,
  pkg/workspace/controllers; see docs/simulator.md), only while the operator is "installed".
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from . import objects as O
from .store import Event
from .util import rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import SimCluster

WS_KEY = "kaito.sh/workspaces"

# KAITO's pod-failure messages (pkg/workspace/controllers/workspace_controller.go:934-1095, v0.12.0)
FAIL_DEFAULTS = {
    "ImagePullError": 'container "{c}" image pull failed (ImagePullBackOff): Back-off pulling image "{image}"',
    "ContainerCrashLoopBackOff": 'container "{c}" is in CrashLoopBackOff; last termination: exit code 1',
    "ContainerOOMKilled": 'container "{c}" was OOMKilled (exit code 137); reduce memory usage or use a larger '
    "instance type",
    "ContainerStartError": 'container "{c}" failed to start (CreateContainerError): failed to create containerd task',
    "Unschedulable": 'pod "{pod}" is unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    "PodEvicted": 'pod "{pod}" was evicted: The node was low on resource: ephemeral-storage.',
}

# Condition texts (v0.12.0): gpu-provisioner (pkg/nodeprovision/gpu-provisioner/gpu_provisioner.go:171-266),
# karpenter (pkg/nodeprovision/karpenter/provisioner.go:553-645), BYO (byo-provisioner/byo_provisioner.go:93-130),
# workloads (pkg/workspace/controllers/workspace_controller.go:1229-1305).
NODECLAIM_NOT_READY = ("NodeClaimNotReady", "Ready NodeClaims are not enough")
NODECLAIM_READY = ("NodeClaimsReady", "Enough NodeClaims are ready")
NODES_NOT_READY = ("NodeNotReady", "Not enough Nodes are ready")
RESOURCE_READY = ("workspaceResourceStatusSuccess", "workspace resource is ready")
BYO_RESOURCE_NOT_READY = ("workspaceResourceStatusNotReady", "node status condition not ready")
INFERENCE_PENDING = ("WorkspaceInferenceStatusPending", "Inference workload is not ready")
INFERENCE_READY = ("WorkspaceInferenceStatusSuccess", "Inference has been deployed successfully")
WS_WAITING = ("workspacePending", "workspace is waiting for inference workload readiness")
WS_SUCCEEDED = ("workspaceSucceeded", "workspace succeeds")
JOB_PENDING = ("WorkspaceTuningJobStatusPending", "Tuning job has not started")
JOB_STARTED = ("WorkspaceTuningJobStatusStarted", "Tuning job has started")
JOB_FAILED = ("WorkspaceTuningJobStatusFailed", "tuning job failed")
WS_TUNING_INIT = ("workspacePending", "workspace is initializing, tuning job has not started")
WS_TUNING_RUNNING = ("workspacePending", "workspace has not completed yet, tuning job is running")
WS_TUNING_FAILED = ("workspaceFailed", "tuning job failed")
WS_DELETING = ("workspaceDeleted", "workspace is being deleted")
BENCHMARK_DONE = ("BenchmarkCompleted", "benchmark result has been recorded")
# metadata of the `base` preset (presets/workspace/models/supported_models.yaml, v0.12.0), engineVersion
BASE_VLLM_VERSION = "0.25.1"
# KAITO v0.1-v0.3.0 (api/v1alpha1/workspace_condition_types.go, pkg/controllers/workspace_controller.go at v0.1.0)
LEGACY_READY = ("workspaceReady", "workspace is ready")
# what the simulated slow/failing cleanup reports (cleanup="failing")
CLEANUP_ERROR = "failed to delete NodeClaims: context deadline exceeded"


def _c(ctype: str, status: bool, rm: tuple[str, str], gen: int = 1) -> dict:
    return O.condition(ctype, status, rm[0], rm[1], gen)


class Scheduler:
    """One daemon thread executing callbacks at given times, plus an event inbox."""

    def __init__(self, name: str = "kaito-sim-controller") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._inbox: deque[Event] = deque()
        self._handlers: list[Callable[[Event], None]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def on_event(self, fn: Callable[[Event], None]) -> None:
        self._handlers.append(fn)

    def push(self, ev: Event) -> None:  # called under the store lock: cheap
        with self._cond:
            self._inbox.append(ev)
            self._cond.notify()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.time() + max(0.0, delay), next(self._seq), fn))
            self._cond.notify()

    def _safe(self, fn: Callable, *args) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - never kill the controller thread
            self.errors.append(traceback.format_exc())

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not self._inbox and not (self._heap and self._heap[0][0] <= time.time()):
                    timeout = (self._heap[0][0] - time.time()) if self._heap else None
                    self._cond.wait(timeout if timeout is None else max(timeout, 0.0))
                if self._stop:
                    return
                events = list(self._inbox)
                self._inbox.clear()
                due = []
                now = time.time()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
            for ev in events:
                for h in self._handlers:
                    self._safe(h, ev)
            for fn in due:
                self._safe(fn)

    def idle(self) -> bool:
        with self._cond:
            return not self._inbox


@dataclass
class WsState:
    uid: str
    ns: str
    name: str
    tuning: bool
    phase: str = "new"  # new -> provisioning -> starting -> ready | succeeded ; failed
    fail: tuple[str, str] | None = None
    was_ready: bool = False
    nodes: list[str] = field(default_factory=list)
    deleting: bool = False
    generation: int = 0  # bumps cancel stale timers
    # diagnose hooks (see KaitoController.fail_nodeclaims / hold_unready / start_download)
    claim_fail: tuple[str, str] | None = None
    hold: str | None = None  # "unready" | "download" | "gated" | "nodes" ...: the workspace never turns ready
    download: tuple[float, float] | None = None  # KAITO's download gauges: bytes/s, seconds left


class SystemControllers:
    """GC, namespace termination and the LoadBalancer 'cloud provider'."""

    def __init__(self, sim: SimCluster, sched: Scheduler) -> None:
        self.sim = sim
        self.sched = sched
        sched.on_event(self.handle)

    def handle(self, ev: Event) -> None:
        sim = self.sim
        if ev.type == "DELETED":
            uid = (ev.obj.get("metadata") or {}).get("uid")
            if uid and sim.store.dependents(uid):
                self.sched.call_later(sim.gc_delay, partial(self.collect, uid))
            if ev.key == "/pods":
                m = ev.obj["metadata"]
                sim.logs.drop_pod(m.get("namespace", ""), m["name"])
            if ev.key == "apiextensions.k8s.io/customresourcedefinitions":
                self._drop_custom_objects(ev.obj)
        elif ev.key == "/namespaces" and (ev.obj.get("metadata") or {}).get("deletionTimestamp"):
            self.sched.call_later(sim.gc_delay, partial(self.terminate_namespace, ev.obj["metadata"]["name"]))
        elif (ev.obj.get("metadata") or {}).get("deletionTimestamp"):
            fins = ev.obj["metadata"].get("finalizers") or []
            m = ev.obj["metadata"]
            ref = (ev.key, m.get("namespace", "") or "", m["name"])
            if "orphan" in fins:
                self.sched.call_later(sim.gc_delay, lambda: self._finish_orphan(ref))
            elif "foregroundDeletion" in fins:
                self.sched.call_later(sim.gc_delay, lambda: self._finish_foreground(ref))
        if ev.key == "/services" and ev.type != "DELETED":
            self.maybe_assign_lb(ev.obj)

    def collect(self, owner_uid: str) -> None:
        for key, ns, name in self.sim.store.dependents(owner_uid):
            self.sim.internal_delete(key, ns, name)

    def orphan(self, owner_uid: str) -> None:
        for key, ns, name in self.sim.store.dependents(owner_uid):
            obj = self.sim.store.get(key, ns, name)
            if obj is None:
                continue
            meta = dict(obj["metadata"])
            meta["ownerReferences"] = [o for o in meta.get("ownerReferences") or [] if o.get("uid") != owner_uid]
            if not meta["ownerReferences"]:
                meta.pop("ownerReferences")
            self.sim.store.put(key, dict(obj, metadata=meta))

    def _finish_orphan(self, ref: tuple[str, str, str]) -> None:
        obj = self.sim.store.get(*ref)
        if obj is None or "orphan" not in (obj["metadata"].get("finalizers") or []):
            return
        self.orphan(obj["metadata"]["uid"])
        self.sim.remove_finalizer(ref[0], ref[1], ref[2], "orphan")

    def _finish_foreground(self, ref: tuple[str, str, str], attempt: int = 0) -> None:
        obj = self.sim.store.get(*ref)
        if obj is None or "foregroundDeletion" not in (obj["metadata"].get("finalizers") or []):
            return
        uid = obj["metadata"]["uid"]
        if self.sim.store.dependents(uid) and attempt < 100:
            self.collect(uid)
            self.sched.call_later(0.05, lambda: self._finish_foreground(ref, attempt + 1))
            return
        self.sim.remove_finalizer(ref[0], ref[1], ref[2], "foregroundDeletion")

    def _drop_custom_objects(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        key = f"{spec.get('group', '')}/{(spec.get('names') or {}).get('plural', '')}"
        for obj in self.sim.store.list(key):
            m = obj["metadata"]
            self.sim.store.remove(key, m.get("namespace", ""), m["name"])

    def terminate_namespace(self, name: str, attempt: int = 0) -> None:
        sim = self.sim
        nsobj = sim.store.get("/namespaces", "", name)
        if nsobj is None or not nsobj["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for rt in sim.registry.all_types():
            if not rt.namespaced:
                continue
            for obj in sim.store.list(rt.key, name):
                remaining += 1
                sim.internal_delete(rt.key, name, obj["metadata"]["name"], force=attempt > 50)
        if remaining and attempt <= 60:
            self.sched.call_later(0.1, lambda: self.terminate_namespace(name, attempt + 1))
            return
        sim.store.remove("/namespaces", "", name)

    def maybe_assign_lb(self, svc: dict) -> None:
        sim = self.sim
        spec = svc.get("spec") or {}
        if spec.get("type") != "LoadBalancer" or sim.lb_pending:
            return
        if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            return
        m = svc["metadata"]
        self.sched.call_later(sim.lb_delay, lambda: self._assign_lb(m.get("namespace", ""), m["name"]))

    def _assign_lb(self, ns: str, name: str) -> None:
        sim = self.sim
        if sim.lb_pending:
            return
        with sim.store.lock:
            svc = sim.store.get("/services", ns, name)
            if svc is None or (svc.get("spec") or {}).get("type") != "LoadBalancer":
                return
            if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                return
            ip = O.ip_for(f"lb/{ns}/{name}", "20.120")
            status = dict(svc.get("status") or {})
            status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
            sim.store.put("/services", dict(svc, status=status))
        sim.record_event(svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer", "service-controller")

    def assign_pending_lbs(self) -> None:
        for svc in self.sim.store.list("/services"):
            self.maybe_assign_lb(svc)


class KaitoController:
    """Simulates the KAITO v0.12 workspace controller. Timeline per inference workspace:
    t=0 five conditions False, no Service; t=ready_after/6 NodeClaims ready, nodes NotReady;
    t=ready_after/3 nodes Ready, then Service + headless Service, StatefulSet + pods (Pending);
    t=2/3 pods Running (loading); t=ready_after ready (+ benchmark). BYO: waits for the user's nodes."""

    def __init__(self, sim: SimCluster, sched: Scheduler) -> None:
        self.sim = sim
        self.sched = sched
        self.states: dict[str, WsState] = {}
        self._lock = threading.RLock()
        sched.on_event(self.handle)

    # ------------------------------------------------------------ events
    @property
    def enabled(self) -> bool:
        return self.sim.operator_active()

    def handle(self, ev: Event) -> None:
        if ev.key != WS_KEY:
            return
        meta = ev.obj.get("metadata") or {}
        uid = meta.get("uid")
        if ev.type == "DELETED":
            with self._lock:
                st = self.states.pop(uid, None) if uid else None
            if st:
                st.generation += 1
                self._delete_nodes(st)
            return
        if not self.enabled:
            return
        with self._lock:
            st = self._ensure_state(ev.obj)
            if st is not None:
                self._handle_change(st, meta)

    def _ensure_state(self, ws: dict) -> WsState | None:
        """The state of a workspace, adopting it (or starting its timeline) the first time."""
        with self._lock:
            st = self.states.get(ws["metadata"]["uid"])
            if st is None:
                self._adopt_or_start(ws)
                st = self.states.get(ws["metadata"]["uid"])
            return st

    def _state_of(self, name: str, namespace: str) -> WsState | None:
        """The state of the workspace a test hook (fail_*, hold_*, recover_*) acts on, adopted on first use
        (None: the controller does not reconcile it). KeyError when there is no such workspace."""
        ws = self.sim.store.get(WS_KEY, namespace, name)
        if ws is None:
            raise KeyError(f"workspace {namespace}/{name} not found")
        return self._ensure_state(ws)

    def _reconciled_state(self, name: str, namespace: str) -> WsState:
        """`_state_of` for a hook that needs one: KeyError also when the workspace is not reconciled."""
        st = self._state_of(name, namespace)
        if st is None:
            raise KeyError(f"workspace {namespace}/{name} is not reconciled")
        return st

    def _handle_change(self, st: WsState, meta: dict) -> None:
        if meta.get("deletionTimestamp") and not st.deleting:
            # pkg/workspace/controllers/workspace_gc_finalizer.go:30-54 (v0.12.0): issue the node deletes,
            # then drop the finalizer at once; the rest goes by owner references.
            st.deleting = True
            st.generation += 1
            mode = self.sim.cleanup
            if mode == "fast":
                self._finalize(st)
            elif mode == "slow":
                self._mark_deleting(st)
                self.sched.call_later(self.sim.cleanup_delay, lambda: self._finalize(st))
            else:  # "failing": the cleanup never ends; every reconcile appends its error
                self._mark_deleting(st, error=CLEANUP_ERROR)
            return
        fail = (meta.get("annotations") or {}).get(O.FAIL_ANNOTATION)
        if fail and (st.fail is None or st.fail[0] != fail) and not st.deleting:
            msg = (meta.get("annotations") or {}).get(O.FAIL_MESSAGE_ANNOTATION)
            self.fail_workspace(meta["name"], meta.get("namespace", "default"), reason=fail, message=msg)

    def resync(self) -> None:
        """Pick up workspaces that appeared while the operator was off."""
        for ws in self.sim.store.list(WS_KEY):
            self.handle(Event(0, WS_KEY, "MODIFIED", ws, None))

    def _adopt_or_start(self, ws: dict) -> None:
        meta = ws["metadata"]
        st = WsState(
            uid=meta["uid"], ns=meta.get("namespace", "default"), name=meta["name"], tuning=ws.get("tuning") is not None
        )
        conds = {c.get("type"): c for c in (ws.get("status") or {}).get("conditions") or []}
        with self._lock:
            self.states[st.uid] = st
        if conds:
            # seeded or already reconciled: adopt as is
            ok = (conds.get("WorkspaceSucceeded") or {}).get("status") == "True"
            st.phase = ("succeeded" if st.tuning else "ready") if ok else "starting"
            st.was_ready = ok
            st.nodes = list((ws.get("status") or {}).get("workerNodes") or [])
            inf = conds.get("InferenceReady") or {}
            if inf.get("status") == "False" and inf.get("reason") not in (None, "WorkspaceInferenceStatusPending"):
                st.fail = (str(inf.get("reason")), str(inf.get("message", "")))  # reason: not None here
                st.phase = "failed"
            return
        if meta.get("deletionTimestamp"):
            return
        self._step0(st)

    # ------------------------------------------------------------ helpers
    @property
    def _beta(self) -> bool:
        rt = self.sim.registry.by_key(WS_KEY)
        return rt is not None and "v1beta1" in rt.versions

    def _ws(self, st: WsState) -> dict | None:
        ws = self.sim.store.get(WS_KEY, st.ns, st.name)
        if ws is None or ws["metadata"].get("uid") != st.uid:
            return None
        return ws

    def _update_ws(self, st: WsState, fn: Callable[[dict], None]) -> dict | None:
        with self.sim.store.lock:
            ws = self._ws(st)
            if ws is None:
                return None
            new = dict(ws)
            new["metadata"] = dict(ws["metadata"])
            new["status"] = dict(ws.get("status") or {})
            fn(new)
            return self.sim.store.put(WS_KEY, new)

    def _set_conditions(self, st: WsState, *conds: dict, state: str | None = None, extra: dict | None = None) -> None:
        def fn(ws: dict) -> None:
            status = ws["status"]
            cur = list(status.get("conditions") or [])
            gen = int(ws["metadata"].get("generation") or 1)
            for c in conds:
                cur = O.set_condition(cur, dict(c, observedGeneration=gen))
            status["conditions"] = cur
            if state and self._beta:
                status["state"] = state
            if extra:
                status.update(extra)

        self._update_ws(st, fn)

    def _later(self, st: WsState, delay: float, fn: Callable[[], None]) -> None:
        gen = st.generation

        def run() -> None:
            with self._lock:
                if st.generation == gen and not st.deleting and self._ws(st) is not None:
                    fn()

        if delay <= 0:
            run()
        else:
            self.sched.call_later(delay, run)

    def _served(self, ws: dict) -> str:
        return self.sim.served_model(ws)

    # ------------------------------------------------------------ timeline
    @property
    def _byo(self) -> bool:
        return self.sim.node_provisioner == "byo"

    @property
    def _legacy(self) -> bool:
        """KAITO before v0.3.1 wrote WorkspaceReady, not WorkspaceSucceeded (api/v1alpha1, tag v0.3.0)."""
        return self.sim.legacy_conditions

    def _done_type(self) -> str:
        return "WorkspaceReady" if self._legacy else "WorkspaceSucceeded"

    def _node_conditions(self, claims: bool, nodes: bool, gen: int = 1) -> list[dict]:
        """What the node provisioner's CollectNodeStatusInfo reports (v0.12.0; see the constants above)."""
        if self._byo:
            return [
                _c("NodesReady", nodes, ("NodesReady", "Enough Nodes are ready") if nodes else NODES_NOT_READY, gen),
                _c("ResourceReady", nodes, RESOURCE_READY if nodes else BYO_RESOURCE_NOT_READY, gen),
            ]
        ready_msg = (
            "Enough Nodes are ready with GPU resources"
            if self.sim.node_provisioner == "karpenter"
            else "Enough Nodes are ready"
        )
        out = [_c("NodeClaimReady", claims, NODECLAIM_READY if claims else NODECLAIM_NOT_READY, gen)]
        if not self._legacy:  # NodesReady appeared in v0.8.0
            out.append(_c("NodesReady", nodes, ("NodesReady", ready_msg) if nodes else NODES_NOT_READY, gen))
        # ResourceReady False copies NodeClaimReady if that is not True, else NodesReady
        res = RESOURCE_READY if nodes else (NODECLAIM_NOT_READY if not claims else NODES_NOT_READY)
        out.append(_c("ResourceReady", nodes, res, gen))
        return out

    def _step0(self, st: WsState) -> None:
        """First reconcile: finalizer, annotations, every condition False (workspace_controller.go:705-818)."""
        sim = self.sim
        ra = sim.ready_after

        def fn(ws: dict) -> None:
            meta = ws["metadata"]
            fins = list(meta.get("finalizers") or [])
            if O.FINALIZER not in fins:
                fins.append(O.FINALIZER)
            meta["finalizers"] = fins
            ann = dict(meta.get("annotations") or {})
            ann.setdefault("workspace.kaito.io/hash", O.ws_hash(st.ns, st.name, 64))
            ann.setdefault("workspace.kaito.io/revision", "1")
            meta["annotations"] = ann
            count = int((ws.get("resource") or {}).get("count") or 1)
            gen = int(meta.get("generation") or 1)
            conds = self._node_conditions(False, False, gen)
            if st.tuning:
                conds.append(_c("JobStarted", False, JOB_PENDING, gen))
                conds.append(_c(self._done_type(), False, WS_TUNING_INIT, gen))
            else:
                conds.append(_c("InferenceReady", False, INFERENCE_PENDING, gen))
                conds.append(_c(self._done_type(), False, WS_WAITING, gen))
            ws["status"]["conditions"] = conds
            if self._beta and not self._legacy:  # v1alpha1-only KAITO (<= v0.4) had neither field
                ws["status"].update({"targetNodeCount": count, "state": "Pending"})

        ws = self._update_ws(st, fn)
        if ws is None:
            return
        st.phase = "provisioning"
        sim.record_event(
            ws, "Normal", "WorkspaceCreated", "Workspace created; provisioning GPU nodes", "workspace-controller"
        )
        fail = (ws["metadata"].get("annotations") or {}).get(O.FAIL_ANNOTATION)
        if fail:
            st.fail = (fail, (ws["metadata"].get("annotations") or {}).get(O.FAIL_MESSAGE_ANNOTATION) or "")
        if self._byo:
            self._later(st, ra / 3.0, lambda: self._step1(st))
        else:
            self._later(st, ra / 6.0, lambda: self._step_claims(st))

    def _step_claims(self, st: WsState) -> None:
        """NodeClaims launched: the GPU nodes exist but are not Ready yet."""
        sim = self.sim
        ws = self._ws(st)
        if ws is None or st.claim_fail:
            return
        res = ws.get("resource") or {}
        match = dict((res.get("labelSelector") or {}).get("matchLabels") or {})
        match.update({O.WS_LABEL: st.name, O.WS_NS_LABEL: st.ns})
        for n in O.node_names(ws):
            if sim.store.get("/nodes", "", n) is None:
                sim.internal_create(
                    O.node(
                        n,
                        internal_ip=O.ip_for(n, "10.224"),
                        labels=match,
                        ready=False,
                        instance_type=res.get("instanceType"),
                    )
                )
            if n not in st.nodes:
                st.nodes.append(n)
        gen = int(ws["metadata"].get("generation") or 1)
        self._set_conditions(st, *self._node_conditions(True, False, gen))
        self._later(st, sim.ready_after / 6.0, lambda: self._step1(st))

    def byo_nodes(self, ws: dict) -> list[str]:
        """Ready nodes matching the workspace's sanitized matchLabels (pkg/nodeprovision/nodes.go:25-48)."""
        from .webhook import sanitized_match_labels

        want = sanitized_match_labels(ws)
        out = []
        for node in self.sim.store.list("/nodes"):
            labels = node["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in want.items()):  # no labels: every node, as KAITO
                continue
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (node.get("status") or {}).get("conditions") or []
            ):
                out.append(node["metadata"]["name"])
        return sorted(out)

    def _step1(self, st: WsState) -> None:
        """Nodes ready (EnsureNodesReady); only now the Services and the workload (workspace_controller.go:327-389)."""
        sim = self.sim
        ws = self._ws(st)
        if ws is None or st.claim_fail or st.hold == "nodes":  # hold_nodes_unready: KAITO keeps requeueing
            return
        res = ws.get("resource") or {}
        target = int((ws.get("status") or {}).get("targetNodeCount") or res.get("count") or 1)
        if self._byo:
            names = self.byo_nodes(ws)
            if len(names) < target:
                # not enough ready user nodes yet: KAITO requeues; so do we
                self._later(st, max(sim.ready_after / 3.0, 0.05), lambda: self._step1(st))
                return
            names = names[:target]
            st.nodes = []  # BYO nodes belong to the user: never deleted
        else:
            names = O.node_names(ws)
            for n in names:
                node = sim.store.get("/nodes", "", n)
                if node is None:
                    match = dict((res.get("labelSelector") or {}).get("matchLabels") or {})
                    match.update({O.WS_LABEL: st.name, O.WS_NS_LABEL: st.ns})
                    sim.internal_create(
                        O.node(
                            n, internal_ip=O.ip_for(n, "10.224"), labels=match, instance_type=res.get("instanceType")
                        )
                    )
                else:
                    self._node_ready(node)
                if n not in st.nodes:
                    st.nodes.append(n)
        gen_conds = self._node_conditions(True, True, int(ws["metadata"].get("generation") or 1))
        extra = {"workerNodes": sorted(names)}
        if st.tuning:
            job = sim.internal_create(O.job(ws))
            p = O.pod(ws, 0, names[0], self._owner(job), job_pod=True)
            p = sim.internal_create(p)
            self._pod_running(p, names[0], ready=True)
            gen_conds += [_c("JobStarted", True, JOB_STARTED), _c(self._done_type(), False, WS_TUNING_RUNNING)]
            self._set_conditions(st, *gen_conds, state="Running", extra=extra)
            sim.append_logs(
                st.ns,
                p["metadata"]["name"],
                [
                    "INFO:root:Loading base model for fine-tuning",
                    f"INFO:root:Tuning method: {(ws.get('tuning') or {}).get('method', 'lora')}",
                    "{'loss': 1.8421, 'grad_norm': 0.73, 'learning_rate': 0.0002, 'epoch': 0.1}",
                ],
            )
            st.phase = "starting"
            if st.fail:
                self._apply_failure(st)
                return
            self._later(st, sim.ready_after * 2.0 / 3.0, lambda: self._step3(st))
            return
        self._set_conditions(st, *gen_conds, extra=extra)
        sim.record_event(
            ws, "Normal", "NodesReady", f"GPU nodes are ready: {', '.join(sorted(names))}", "workspace-controller"
        )
        # ensureService (workspace_controller.go:507-540), then applyInference (579-697)
        lb = (ws["metadata"].get("annotations") or {}).get("kaito.sh/enablelb") == "True"
        if sim.store.get("/services", st.ns, st.name) is None:
            sim.internal_create(O.service(ws, sim.api.allocate_cluster_ip(), lb))
        if sim.store.get("/services", st.ns, f"{st.name}-headless") is None:
            sim.internal_create(O.headless_service(ws))
        sts = sim.store.get("apps/statefulsets", st.ns, st.name)
        if sts is None:
            sts = sim.internal_create(O.statefulset(ws, len(names), self._served(ws)))
        for i, n in enumerate(names):
            if sim.store.get("/pods", st.ns, f"{st.name}-{i}") is None:
                p = sim.internal_create(O.pod(ws, i, n, self._owner(sts, kind="StatefulSet"), served=self._served(ws)))
                p = self._update_pod(
                    p,
                    O.pod_status(p, phase="Pending", waiting=("ContainerCreating", ""), node_ip=O.ip_for(n, "10.224")),
                )
                sim.record_event(
                    p,
                    "Normal",
                    "Scheduled",
                    f"Successfully assigned {st.ns}/{p['metadata']['name']} to {n}",
                    "default-scheduler",
                )
                sim.record_event(p, "Normal", "Pulling", f'Pulling image "{O.BASE_IMAGE}"', "kubelet")
        st.phase = "starting"
        if st.fail:
            self._apply_failure(st)
            return
        self._missing_access_secret(st, ws)
        self._gated_without_secret(st, ws)
        self._later(st, sim.ready_after / 3.0, lambda: self._step2(st))

    def _step2(self, st: WsState) -> None:
        """Pods running, model loading."""
        sim = self.sim
        ws = self._ws(st)
        if ws is None or st.fail or st.hold == "gated":  # the gated download keeps crashing: never loads
            return
        served = self._served(ws)
        loading, _ = O.vllm_startup_lines(served, O.workspace_preset(ws))
        for p in self._pods(st):
            n = p["spec"].get("nodeName")
            self._pod_running(p, n, ready=False)
            sim.record_event(p, "Normal", "Pulled", f'Successfully pulled image "{O.BASE_IMAGE}"', "kubelet")
            sim.record_event(p, "Normal", "Created", f"Created container: {st.name}", "kubelet")
            sim.record_event(p, "Normal", "Started", f"Started container {st.name}", "kubelet")
            sim.append_logs(st.ns, p["metadata"]["name"], loading)
        self._later(st, sim.ready_after / 3.0, lambda: self._step3(st))

    def _step3(self, st: WsState) -> None:
        """Ready (inference) / succeeded (tuning)."""
        sim = self.sim
        ws = self._ws(st)
        if ws is None or st.fail or st.hold:
            return
        if st.tuning:
            now = rfc3339()
            self._finish_job(
                st,
                {
                    "succeeded": 1,
                    "completionTime": now,
                    "conditions": [
                        {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
                        {"type": "Complete", "status": "True", "lastTransitionTime": now},
                    ],
                },
            )
            for p in self._pods(st):
                self._update_pod(
                    p,
                    O.pod_status(
                        p,
                        phase="Succeeded",
                        terminated={
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": rfc3339(),
                            "finishedAt": rfc3339(),
                        },
                        node_ip=O.ip_for(p["spec"].get("nodeName", ""), "10.224"),
                    ),
                )
                sim.append_logs(st.ns, p["metadata"]["name"], ["INFO:root:Fine-tuning completed; adapter saved"])
                sim.close_logs(st.ns, p["metadata"]["name"])
            self._set_conditions(
                st, _c(self._done_type(), True, LEGACY_READY if self._legacy else WS_SUCCEEDED), state="Succeeded"
            )
            st.phase = "succeeded"
            sim.record_event(ws, "Normal", "WorkspaceSucceeded", "Tuning job completed", "workspace-controller")
            return
        served = self._served(ws)
        _, serving = O.vllm_startup_lines(served, O.workspace_preset(ws))
        pods = self._pods(st)
        for p in pods:
            if (p.get("status") or {}).get("phase") != "Running":
                sim.append_logs(st.ns, p["metadata"]["name"], O.vllm_startup_lines(served, None)[0])
            self._pod_running(p, p["spec"].get("nodeName"), ready=True)
            sim.append_logs(st.ns, p["metadata"]["name"], serving)
        sts = sim.store.get("apps/statefulsets", st.ns, st.name)
        if sts is not None:
            status = dict(sts.get("status") or {})
            n = len(pods)
            status.update(
                {"readyReplicas": n, "availableReplicas": n, "currentReplicas": n, "replicas": n, "updatedReplicas": n}
            )
            sim.store.put("apps/statefulsets", dict(sts, status=status))
        conds = [_c("InferenceReady", True, INFERENCE_READY)]
        extra: dict | None = None
        if self.benchmark_applies(ws):
            # the benchmark runs as the startup probe, so its result is in the log once the pod is ready
            # (pkg/workspace/controllers/benchmark.go, presets/workspace/inference/vllm/benchmark_entrypoint.py)
            tpm = 1000 * (int(O.ws_hash(st.ns, st.name, 6), 16) % 900 + 100)  # stable per workspace
            for p in pods:
                sim.append_logs(
                    st.ns,
                    p["metadata"]["name"],
                    [
                        f'KAITO_BENCHMARK_CONFIG {rfc3339()} {{"duration_sec":60,"input_tokens":2048,'
                        f'"output_tokens":256,"max_concurrency":{len(pods) * 32}}}',
                        f'KAITO_BENCHMARK_RESULT {rfc3339()} {{"vllm_total_tpm":{tpm},"ttft_avg_ms":182.4,'
                        f'"tpot_avg_ms":21.7}}',
                    ],
                )
            extra = {
                "performance": {
                    "metrics": {
                        "peakTokensPerMinute": {
                            "description": "stress/high-concurrency",
                            "value": str(tpm),
                            "unit": "tokens/min",
                            "config": {
                                "durationSec": "60",
                                "inputTokens": "2048",
                                "outputTokens": "256",
                                "maxConcurrency": str(len(pods) * 32),
                                "engine": "vllm",
                                "engineVersion": BASE_VLLM_VERSION,
                                "quantization": "",
                            },
                        }
                    }
                }
            }
            conds.append(_c("BenchmarkCompleted", True, BENCHMARK_DONE))
        conds.append(_c(self._done_type(), True, LEGACY_READY if self._legacy else WS_SUCCEEDED))
        self._set_conditions(st, *conds, state="Ready", extra=extra)
        st.phase = "ready"
        st.was_ready = True
        sim.record_event(
            ws, "Normal", "InferenceReady", f"Inference service for {served} is ready", "workspace-controller"
        )

    # ------------------------------------------------------------ pods
    def _owner(self, obj: dict, kind: str | None = None) -> dict:
        return {
            "apiVersion": obj["apiVersion"],
            "kind": kind or obj["kind"],
            "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _pods(self, st: WsState) -> list[dict]:
        return [
            p
            for p in self.sim.store.list("/pods", st.ns)
            if ((p["metadata"].get("labels") or {}).get(O.WS_LABEL) == st.name)
        ]

    def _update_pod(self, p: dict, status: dict) -> dict:
        with self.sim.store.lock:
            cur = self.sim.store.get("/pods", p["metadata"].get("namespace", ""), p["metadata"]["name"])
            if cur is None:
                return p
            return self.sim.store.put("/pods", dict(cur, status=status))

    def _pod_running(self, p: dict, node: str | None, ready: bool) -> dict:
        return self._update_pod(
            p,
            O.pod_status(
                p,
                phase="Running",
                ready=ready,
                node_ip=O.ip_for(node or "", "10.224"),
                pod_ip=O.ip_for(p["metadata"]["name"] + p["metadata"].get("namespace", ""), "10.244"),
            ),
        )

    # ------------------------------------------------------------ failure injection
    def fail_workspace(
        self, name: str, namespace: str = "default", reason: str = "ImagePullError", message: str | None = None
    ) -> None:
        with self._lock:
            st = self._state_of(name, namespace)
            if st is None:
                return
            st.fail = (reason, message or "")
            st.generation += 1
            if st.phase in ("new", "provisioning"):
                # applied when the pods are created
                self._later(st, self.sim.ready_after / 3.0, lambda: self._step1(st))
                return
            self._apply_failure(st)

    def recover_workspace(self, name: str, namespace: str = "default") -> None:
        with self._lock:
            st = self._state_of(name, namespace)
            if st is None:
                return
            st.fail = None
            st.generation += 1
            if not self._pods(st):
                self._later(st, 0, lambda: self._step1(st))
            else:
                self._later(st, 0, lambda: self._step3(st))

    def make_ready(self, name: str, namespace: str = "default") -> None:
        """Finish a (seeded, not ready) workspace now."""
        self.recover_workspace(name, namespace)

    def _apply_failure(self, st: WsState) -> None:
        sim = self.sim
        ws = self._ws(st)
        if ws is None or st.fail is None:
            return
        reason, message = st.fail
        pods = self._pods(st)
        first = pods[0]["metadata"]["name"] if pods else f"{st.name}-0"
        if not message:
            message = FAIL_DEFAULTS.get(reason, "pod {pod} failed: {reason}").format(
                pod=first, c=st.name, image=O.BASE_IMAGE, ns=st.ns, reason=reason
            )
        served = self._served(ws)
        for p in pods:
            pname = p["metadata"]["name"]
            node = p["spec"].get("nodeName")
            nip = O.ip_for(node or "", "10.224")
            pip = O.ip_for(pname + st.ns, "10.244")
            if reason == "ImagePullError":
                self._update_pod(
                    p,
                    O.pod_status(
                        p,
                        phase="Pending",
                        waiting=("ImagePullBackOff", f'Back-off pulling image "{O.BASE_IMAGE}"'),
                        node_ip=nip,
                        pod_ip=pip,
                    ),
                )
                sim.record_event(
                    p,
                    "Warning",
                    "Failed",
                    f'Failed to pull image "{O.BASE_IMAGE}": rpc error: code = '
                    f'NotFound desc = failed to pull and unpack image "{O.BASE_IMAGE}": not found',
                    "kubelet",
                )
                sim.record_event(p, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet")
            elif reason in ("ContainerCrashLoopBackOff", "ContainerOOMKilled", "ContainerStartError"):
                oom = reason == "ContainerOOMKilled"
                term = {
                    "exitCode": 137 if oom else 1,
                    "reason": "OOMKilled" if oom else "Error",
                    "startedAt": rfc3339(time.time() - 20),
                    "finishedAt": rfc3339(time.time() - 5),
                }
                self._crash_loop(st, p, term, O.crash_lines(served, oom=oom), nip, pip)
            elif reason == "Unschedulable":
                # KAITO's message is `pod "<p>" is unschedulable: <scheduler's message>`: a given message
                # names the scheduler's (taints, node affinity) on the pod too
                sched = (
                    message.split("is unschedulable: ", 1)[1]
                    if "is unschedulable: " in message
                    else "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
                )
                self._update_pod(p, O.pod_status(p, phase="Pending", unschedulable=sched))
                sim.record_event(
                    p,
                    "Warning",
                    "FailedScheduling",
                    sched.rstrip(".") + ". preemption: 0/3 nodes are available",
                    "default-scheduler",
                )
            else:
                self._update_pod(
                    p, O.pod_status(p, phase="Running", waiting=(reason, message), node_ip=nip, pod_ip=pip)
                )
        if st.tuning:
            # applyTuningWorkspaceStatus: a failed Job gives "tuning job failed" whatever the pod said
            now = rfc3339()
            backoff = {
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": now,
            }
            self._finish_job(
                st, {"failed": 1, "conditions": [{"type": "FailureTarget", **backoff}, {"type": "Failed", **backoff}]}
            )
            self._set_conditions(
                st, _c("JobStarted", False, JOB_FAILED), _c(self._done_type(), False, WS_TUNING_FAILED), state="Failed"
            )
        else:
            self._set_conditions(
                st,
                O.condition("InferenceReady", False, reason, message),
                _c(self._done_type(), False, WS_WAITING),
                state="NotReady" if st.was_ready else "Pending",
            )
        st.phase = "failed"
        ws = self._ws(st)
        if ws is not None:
            sim.record_event(ws, "Warning", reason, message, "workspace-controller")

    # ------------------------------------------------------------ deletion
    def _mark_deleting(self, st: WsState, error: str | None = None) -> None:
        """WorkspaceDeleting, written by the deferred status sync only while the object survives
        (workspace_controller.go:705-743); other conditions and `state` stay as they were."""
        msg = WS_DELETING[1] + (f" (last reconcile error: {error})" if error else "")
        self._set_conditions(st, O.condition("WorkspaceDeleting", True, WS_DELETING[0], msg))

    def _finalize(self, st: WsState) -> None:
        with self._lock:
            self._delete_nodes(st)
            if self._ws(st) is not None:
                self.sim.remove_finalizer(WS_KEY, st.ns, st.name, O.FINALIZER)
            if self._ws(st) is not None:  # another finalizer holds it (e.g. foreground deletion)
                self._mark_deleting(st)

    def benchmark_applies(self, ws: dict) -> bool:
        """ShouldRunBenchmark (api/v1beta1/labels.go:152-156, v0.12.0): vLLM, a preset, not disabled."""
        if self._legacy or not self._beta:
            return False
        ann = ws["metadata"].get("annotations") or {}
        return (
            ann.get("kaito.sh/disable-benchmark") != "true"
            and ann.get("kaito.sh/runtime") != "transformers"
            and bool((ws.get("inference") or {}).get("preset"))
        )

    def _node_ready(self, node: dict) -> None:
        conds = []
        for c in (node.get("status") or {}).get("conditions") or []:
            if c.get("type") == "Ready":
                c = dict(
                    c,
                    status="True",
                    reason="KubeletReady",
                    message="kubelet is posting ready status",
                    lastTransitionTime=rfc3339(),
                )
            conds.append(c)
        self.sim.store.put("/nodes", dict(node, status=dict(node.get("status") or {}, conditions=conds)))

    def _delete_nodes(self, st: WsState) -> None:
        for n in list(st.nodes):
            node = self.sim.store.get("/nodes", "", n)
            labels = ((node or {}).get("metadata") or {}).get("labels") or {}
            if node is not None and labels.get(O.WS_LABEL) == st.name and labels.get(O.WS_NS_LABEL) == st.ns:
                self.sim.store.remove("/nodes", "", n)
        st.nodes = []

    # ------------------------------------------------------------ diagnose hooks
    def fail_nodeclaims(
        self, name: str, namespace: str = "default", reason: str = "LaunchFailed", message: str = ""
    ) -> None:
        """The NodeClaims cannot launch (quota, SKU not available, an unsupported GPU): KAITO copies the first
        failing NodeClaim condition (Launched, Registered, Initialized) to NodeClaimReady, and ResourceReady
        copies NodeClaimReady (pkg/utils/nodeclaim/nodeclaim.go:418-452, gpu_provisioner.go:171-266, v0.12.0).
        No nodes, no workload ever follow."""
        with self._lock:
            st = self._state_of(name, namespace)
            if st is None:
                return
            st.claim_fail = (reason, message)
            st.generation += 1  # cancels the pending provisioning steps
            self._set_conditions(
                st,
                O.condition("NodeClaimReady", False, reason, message),
                _c("NodesReady", False, NODES_NOT_READY),
                O.condition("ResourceReady", False, reason, message),
            )

    def hold_unready(self, name: str, namespace: str = "default") -> None:
        """The pods run but the server never answers its readiness probe (GET /health on 5000): the kubelet
        writes `Unhealthy` Warning events "Readiness probe failed: ..." (k8s pkg/kubelet/prober/prober.go)."""
        st = self._hold(name, namespace, "unready")
        for p in self._pods(st):
            ip = O.ip_for(p["metadata"]["name"] + st.ns, "10.244")
            self.sim.record_event(
                p,
                "Warning",
                "Unhealthy",
                f'Readiness probe failed: Get "http://{ip}:5000/health"'
                f": dial tcp {ip}:5000: connect: connection refused",
                "kubelet",
            )

    def start_download(
        self, name: str, namespace: str = "default", speed: float = 5.0e7, remaining: float = 240.0
    ) -> None:
        """The model is downloading: the pods run, not ready, and serve KAITO's download gauges
        kaito_model_download_speed_bytes_per_second / kaito_model_download_remaining_seconds on /metrics
        (presets/workspace/inference/vllm/inference_api.py:48-61, v0.11+), read through the pod proxy."""
        st = self._hold(name, namespace, "download")
        st.download = (float(speed), float(remaining))
        for p in self._pods(st):
            self.sim.append_logs(
                st.ns,
                p["metadata"]["name"],
                [
                    f"INFO:root:Downloading model {self._served(self._ws(st) or {})}: "
                    f"{speed / 1e6:.1f} MB/s, {remaining:.0f}s remaining"
                ],
            )

    def download_metrics(self, namespace: str, pod: str) -> str | None:
        """The /metrics body of a downloading pod (None: the pod serves nothing on this hook)."""
        with self._lock:
            for st in list(self.states.values()):
                if (
                    st.ns == namespace
                    and st.download is not None
                    and any(p["metadata"]["name"] == pod for p in self._pods(st))
                ):
                    speed, remaining = st.download
                    return (
                        "# HELP kaito_model_download_speed_bytes_per_second Current model download speed in "
                        "bytes per second\n# TYPE kaito_model_download_speed_bytes_per_second gauge\n"
                        f"kaito_model_download_speed_bytes_per_second {speed}\n"
                        "# HELP kaito_model_download_remaining_seconds Estimated remaining download time in "
                        "seconds; -1 when unknown\n# TYPE kaito_model_download_remaining_seconds gauge\n"
                        f"kaito_model_download_remaining_seconds {remaining}\n"
                    )
        return None

    def _hold(self, name: str, namespace: str, why: str) -> WsState:
        with self._lock:
            st = self._reconciled_state(name, namespace)
            st.hold = why
            for p in self._pods(st):
                self._pod_running(p, p["spec"].get("nodeName"), ready=False)
            return st

    def hold_init(self, name: str, namespace: str = "default") -> None:
        """The first init container never completes (e.g. the tuning Job's `data-downloader`, curlimages/curl,
        fetching the input URLs: preset_tuning.go:386-430, v0.12.0): the pod stays Pending, Initialized False,
        the main containers waiting PodInitializing (what the kubelet reports)."""
        st = self._hold(name, namespace, "init")
        now = rfc3339()
        for p in self._pods(st):
            inits = p["spec"].get("initContainers") or []
            if not inits:
                continue
            status = O.pod_status(
                p,
                phase="Pending",
                waiting=("PodInitializing", ""),
                node_ip=O.ip_for(p["spec"].get("nodeName") or "", "10.224"),
            )
            status["conditions"] = [
                dict(c, status="False") if c["type"] == "Initialized" else c for c in status["conditions"]
            ]
            status["initContainerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": i == 0,
                    "lastState": {},
                    "state": {"running": {"startedAt": now}} if i == 0 else {"waiting": {"reason": "PodInitializing"}},
                }
                for i, c in enumerate(inits)
            ]
            self._update_pod(p, status)
            self.sim.append_logs(
                st.ns,
                p["metadata"]["name"],
                [
                    "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current",
                    "  3 11.2G    3  401M    0     0  1024k      0  3:06:40  0:06:41  2:59:59  1003k",
                ],
                container=inits[0]["name"],
            )

    def fail_benchmark(
        self,
        name: str,
        namespace: str = "default",
        message: str = "failed to parse benchmark result: KAITO_BENCHMARK_RESULT not found in the last 500 log lines",
    ) -> None:
        """The benchmark of a ready workload failed: BenchmarkCompleted False BenchmarkFailed <err>,
        WorkspaceSucceeded False BenchmarkFailed, state NotReady (workspace_controller.go:1262-1336, v0.12.0)."""
        with self._lock:
            st = self._state_of(name, namespace)
            if st is None:
                return
            st.hold = "benchmark"
            self._set_conditions(
                st,
                O.condition("BenchmarkCompleted", False, "BenchmarkFailed", message),
                O.condition(self._done_type(), False, "BenchmarkFailed", message),
                state="NotReady",
            )

    def _missing_access_secret(self, st: WsState, ws: dict) -> None:
        """presetOptions.modelAccessSecret is injected as the HF_TOKEN env var from that Secret; when it does
        not exist the kubelet leaves the container waiting in CreateContainerConfigError `secret "X" not found`
        (k8s pkg/kubelet/kubelet_pods.go makeEnvironmentVariables)."""
        secret = (((ws.get("inference") or {}).get("preset") or {}).get("presetOptions") or {}).get("modelAccessSecret")
        if not secret or self.sim.store.get("/secrets", st.ns, secret) is not None:
            return
        st.hold = "secret"
        for p in self._pods(st):
            self._update_pod(
                p,
                O.pod_status(
                    p,
                    phase="Pending",
                    waiting=("CreateContainerConfigError", f'secret "{secret}" not found'),
                    node_ip=O.ip_for(p["spec"].get("nodeName") or "", "10.224"),
                ),
            )
            self.sim.record_event(p, "Warning", "Failed", f'Error: secret "{secret}" not found', "kubelet")

    def _gated_without_secret(self, st: WsState, ws: dict) -> None:
        """A preset whose weights are gated on Hugging Face (supported_models.yaml `downloadAuthRequired: true`)
        and no modelAccessSecret: KAITO v0.12's webhook accepts it (docs/simulator.md), its pod starts with no
        HF_TOKEN and vLLM's first Hub request (the model's config.json) gets 401: transformers raises
        `OSError: You are trying to access a gated repo.` around huggingface_hub's GatedRepoError
        (transformers utils/hub.py cached_file; huggingface_hub utils/_http.py hf_raise_for_status), the
        container exits 1 and the kubelet restarts it: CrashLoopBackOff with that in the previous log."""
        from .webhook import _supported_models

        preset = (ws.get("inference") or {}).get("preset") or {}
        name = str(preset.get("name") or "")
        model = _supported_models().get(name) or {}
        if not model.get("downloadAuthRequired") or (preset.get("presetOptions") or {}).get("modelAccessSecret"):
            return
        version = str(model.get("version") or "")
        repo = (
            "/".join(version.split("huggingface.co/", 1)[-1].split("/")[:2]) if "huggingface.co/" in version else name
        )
        st.hold = "gated"
        lines = gated_repo_lines(repo)
        now = time.time()
        for p in self._pods(st):
            pname = p["metadata"]["name"]
            term = {"exitCode": 1, "reason": "Error", "startedAt": rfc3339(now - 20), "finishedAt": rfc3339(now - 5)}
            nip = O.ip_for(p["spec"].get("nodeName") or "", "10.224")
            self._crash_loop(st, p, term, lines, nip, O.ip_for(pname + st.ns, "10.244"))

    def _finish_job(self, st: WsState, status: dict[str, Any]) -> None:
        """The tuning Job's final status as the Job controller writes it: nothing active any more, plus
        `status` (succeeded or failed, and its conditions), merged into what the Job had."""
        job = self.sim.store.get("batch/jobs", st.ns, st.name)
        if job is not None:
            merged = {**(job.get("status") or {}), "active": 0, "ready": 0, **status}
            self.sim.store.put("batch/jobs", dict(job, status=merged))

    def _crash_loop(
        self, st: WsState, p: dict[str, Any], term: dict[str, Any], lines: list[str], node_ip: str, pod_ip: str
    ) -> None:
        """The pod's container crashed and restarts with back-off, as the kubelet shows it: CrashLoopBackOff
        after 3 restarts, the crashed run's log as the previous container's, and a BackOff event."""
        pname = p["metadata"]["name"]
        self._update_pod(
            p,
            O.pod_status(
                p,
                phase="Running",
                waiting=(
                    "CrashLoopBackOff",
                    f"back-off 40s restarting failed container={st.name} pod={pname}_{st.ns}({p['metadata']['uid']})",
                ),
                restart_count=3,
                last_terminated=term,
                node_ip=node_ip,
                pod_ip=pod_ip,
                started=False,
            ),
        )
        buf = self.sim.logs.buffer(st.ns, pname, p["spec"]["containers"][0]["name"], previous=True)
        buf.append(lines)
        buf.close()
        self.sim.append_logs(st.ns, pname, lines)
        self.sim.record_event(
            p,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {st.name} in pod {pname}_{st.ns}({p['metadata']['uid']})",
            "kubelet",
        )

    def hold_nodes_unready(self, name: str, namespace: str = "default") -> None:
        """The NodeClaims launch but their nodes stay NotReady (e.g. the GPU driver or device plugin never comes
        up): NodeClaimReady True, NodesReady/ResourceReady False `NodeNotReady` "Not enough Nodes are ready"
        (the provisioner's CollectNodeStatusInfo, v0.12.0), no workload. Call it before the nodes turn ready
        (right after the deploy, with ready_after of a few seconds); it holds until recover_workspace."""
        with self._lock:
            st = self._reconciled_state(name, namespace)
            st.hold = "nodes"


def gated_repo_lines(repo: str) -> list[str]:
    """The end of the inference container's log when the Hub refuses a gated repo without a token: transformers'
    OSError text around huggingface_hub's GatedRepoError (401 without a token, 403 without access)."""
    url = f"https://huggingface.co/{repo}/resolve/main/config.json"
    return [
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/utils/_http.py", line 409, in '
        "hf_raise_for_status",
        "    response.raise_for_status()",
        f"requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: {url}",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "huggingface_hub.errors.GatedRepoError: 401 Client Error. "
        "(Request ID: Root=1-6750a1b2-3c4d5e6f7a8b9c0d1e2f3a4b)",
        "",
        f"Cannot access gated repo for url {url}.",
        f"Access to model {repo} is restricted. You must have access to it and be authenticated to access it. "
        "Please log in.",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "OSError: You are trying to access a gated repo.",
        f"Make sure to have access to it at https://huggingface.co/{repo}.",
        "401 Client Error. (Request ID: Root=1-6750a1b2-3c4d5e6f7a8b9c0d1e2f3a4b)",
    ]
