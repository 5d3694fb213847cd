"""Why a workspace is not ready: pure rules over what the cluster showed (no I/O here).

`commands/diagnose.py` reads a `Snapshot` through resources.py (Workspace, NodeClaims, nodes, the
StatefulSet or Job, pods, events, log tails, whether secrets exist, KAITO's download gauges); `diagnose`
turns it into findings, each with a stable `cause` code (docs/diagnose.md lists them), one line of
summary, the evidence and the next step. Reason texts follow KAITO v0.12 (notes: kaito-v012-rules.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kubectl_kaito import kaito

# severities: "failed" (waiting will not fix it: exit 1), "pending" (not ready yet: exit 4)
FAILED = "failed"
PENDING = "pending"

# The stable cause codes (documented in docs/diagnose.md; `-o json` carries them).
CAUSES: dict[str, str] = {
    "WorkspaceDeletionBlocked": "the workspace is being deleted and a finalizer holds it",
    "NodeClaimFailed": "a NodeClaim could not launch a GPU node (quota, SKU, unsupported GPU)",
    "NodeClaimPending": "NodeClaims are not ready yet (GPU nodes being provisioned)",
    "NoMatchingNodes": "BYO nodes: not enough ready nodes match the workspace's labelSelector",
    "NodesNotReady": "the GPU nodes exist but are not ready (or their GPU plugin is not)",
    "PodUnschedulable": "a pod cannot be scheduled (GPU capacity, taints, node selector)",
    "ImagePullFailed": "a container image cannot be pulled",
    "CrashLoopBackOff": "a container keeps crashing",
    "OOMKilled": "a container was killed for exceeding its memory limit",
    "ContainerStartFailed": "a container could not be started",
    "InitContainerStuck": "an init container has not completed",
    "PodEvicted": "a pod was evicted from its node",
    "ModelAccessSecretMissing": "a gated model has no modelAccessSecret (Hugging Face token)",
    "ModelAccessSecretNotFound": "the modelAccessSecret names a Secret that does not exist",
    "ModelDownloading": "the model is still downloading",
    "ReadinessProbeFailing": "the inference server runs but does not pass its readiness probe yet",
    "BenchmarkFailed": "KAITO's benchmark of the ready workload failed",
    "TuningJobFailed": "the tuning Job failed",
    "WorkloadNotReady": "not ready, and no more specific cause was found",
}

LOG_LINES = 10  # the last log lines quoted as evidence
NODECLAIM_CONDITIONS = ("Launched", "Registered", "Initialized")  # FirstNodeClaimProvisioningState's order
# gpu-provisioner's/karpenter's "not there yet" reasons on NodeClaimReady (not a failure)
NODECLAIM_WAITING = {"NodeClaimNotReady", "AwaitingReconciliation", "NotLaunched", "NotRegistered", "NotInitialized"}
WAITING_BAD = {
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
# a model that needs a Hugging Face token (the catalog's `downloadAuthRequired`), by name prefix
GATED_PREFIXES = ("llama-", "meta-llama/", "mistral-large", "gemma-", "google/gemma")


@dataclass
class Finding:
    """One cause: a stable code, one line, what shows it, what to do."""

    cause: str
    severity: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    next_step: str = ""
    object: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The `-o json|yaml` form (keys are part of the documented output)."""
        return {
            "cause": self.cause,
            "severity": self.severity,
            "summary": self.summary,
            "object": self.object,
            "evidence": list(self.evidence),
            "nextStep": self.next_step,
        }


@dataclass
class Snapshot:
    """Everything `diagnose` looks at, already read from the cluster."""

    workspace: dict[str, Any]
    nodeclaims: list[dict[str, Any]] | None = None  # None: the cluster does not serve NodeClaims
    nodes: list[dict[str, Any]] = field(default_factory=list)  # the nodes that matter (worker/matching)
    workload: dict[str, Any] | None = None  # the StatefulSet (inference) or Job (tuning), None: not created
    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[tuple[str, str, bool], list[str]] = field(default_factory=dict)  # (pod, container, previous)
    secrets: dict[str, bool] = field(default_factory=dict)  # name -> exists
    download: dict[str, dict[str, float]] = field(default_factory=dict)  # pod -> speed, remaining


@dataclass
class Diagnosis:
    """The verdict: healthy, or the findings (the first is the cause)."""

    name: str
    namespace: str
    state: str
    ready: bool
    findings: list[Finding]
    checked: list[str]

    @property
    def result(self) -> str:
        """healthy | not-ready | failed."""
        if any(f.severity == FAILED for f in self.findings):
            return "failed"
        if self.ready and not self.findings:
            return "healthy"
        return "not-ready"

    def to_dict(self) -> dict[str, Any]:
        """The `-o json|yaml` document."""
        return {
            "workspace": self.name,
            "namespace": self.namespace,
            "state": self.state,
            "ready": self.ready,
            "result": self.result,
            "cause": self.findings[0].cause if self.findings else None,
            "findings": [f.to_dict() for f in self.findings],
            "checked": list(self.checked),
        }


# ---- helpers ------------------------------------------------------------------------------------


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _name(obj: dict[str, Any]) -> str:
    return str(_meta(obj).get("name") or "")


def _one_line(text: Any, limit: int = 300) -> str:
    """Messages are shown on one line: newlines and control characters folded, long ones cut."""
    s = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text or "")).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _events_for(events: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    out = []
    for ev in events:
        inv = ev.get("involvedObject") or ev.get("regarding") or {}
        if inv.get("kind") == kind and inv.get("name") == name:
            out.append(ev)
    return out


def _event_line(ev: dict[str, Any]) -> str:
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    what = f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}"
    text = _one_line(ev.get("message") or ev.get("note"))
    return f"event {ev.get('type', '')} {ev.get('reason', '')} on {what}: {text}"


def _statuses(pod: dict[str, Any], init: bool) -> list[dict[str, Any]]:
    st = pod.get("status") or {}
    return list(st.get("initContainerStatuses" if init else "containerStatuses") or [])


def _spec_container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if c.get("name") == name:
            return dict(c)
    return {}


def _log_tail(snap: Snapshot, pod: str, container: str, previous: bool) -> list[str]:
    lines = snap.logs.get((pod, container, previous)) or []
    return [
        f"log{' (previous)' if previous else ''} {pod}/{container}: {_one_line(ln, 200)}" for ln in lines[-LOG_LINES:]
    ]


def _pod_condition(pod: dict[str, Any], ctype: str) -> dict[str, Any]:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return dict(c)
    return {}


def model_access_secret(ws: dict[str, Any]) -> str | None:
    """The workspace's inference.preset.presetOptions.modelAccessSecret, if any."""
    preset = (ws.get("inference") or {}).get("preset") or {}
    secret = (preset.get("presetOptions") or {}).get("modelAccessSecret")
    return str(secret) if secret else None


def is_gated(ws: dict[str, Any]) -> bool:
    """A preset whose weights need a Hugging Face token (Llama, Gemma, ...)."""
    model = str(kaito.model_name(ws) or "").lower()
    return model.startswith(GATED_PREFIXES)


def parse_download_metrics(text: str) -> dict[str, float] | None:
    """KAITO's download gauges from a /metrics body (presets/workspace/inference/vllm/inference_api.py:48-61,
    v0.11+): {"speed": B/s, "remaining": s (-1 unknown)}; None when neither is there."""
    out: dict[str, float] = {}
    names = {
        "kaito_model_download_speed_bytes_per_second": "speed",
        "kaito_model_download_remaining_seconds": "remaining",
    }
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        metric = parts[0].split("{", 1)[0]
        if metric in names and len(parts) >= 2:
            try:
                value = float(parts[1])
            except ValueError:
                continue
            if value == value and abs(value) != float("inf"):  # NaN / inf say nothing
                out[names[metric]] = value
    return out or None


_DOWNLOAD_LOG = re.compile(r"(?i)(download\w*|fetching)\b.*?(\d{1,3}(?:\.\d+)?)\s*%")


def download_from_log(lines: list[str]) -> str | None:
    """The last download progress line in a log (`Downloading ... 42%`, tqdm's `Fetching 4 files: 50%`)."""
    for ln in reversed(lines):
        if _DOWNLOAD_LOG.search(ln):
            return _one_line(ln, 200)
    return None


def _duration(seconds: float) -> str:
    s = int(max(0.0, seconds))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60}m"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"


def _rate(bps: float) -> str:
    for unit, size in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if bps >= size:
            return f"{bps / size:.1f} {unit}"
    return f"{bps:.0f} B/s"


# ---- the rules ----------------------------------------------------------------------------------


def _deletion(snap: Snapshot) -> list[Finding]:
    meta = _meta(snap.workspace)
    if not meta.get("deletionTimestamp"):
        return []
    fins = list(meta.get("finalizers") or [])
    cond = kaito.conditions(snap.workspace).get("WorkspaceDeleting") or {}
    ev = [f"metadata.deletionTimestamp: {meta.get('deletionTimestamp')}", f"finalizers: {', '.join(fins) or 'none'}"]
    if cond:
        ev.append(
            f"condition WorkspaceDeleting={cond.get('status')} ({cond.get('reason')}): {_one_line(cond.get('message'))}"
        )
    held = ", ".join(fins) or "a finalizer"
    err = re.search(r"\(last reconcile error: (.*)\)\s*$", str(cond.get("message") or ""))
    detail = f": {_one_line(err.group(1))}" if err else ""
    return [
        Finding(
            "WorkspaceDeletionBlocked",
            PENDING,
            f"the workspace is being deleted and is held by {held}{detail}",
            ev,
            "check the KAITO controller's log (kubectl logs -n kaito-workspace deploy/kaito-workspace); once the "
            "cause is fixed it removes the finalizer; removing it by hand can leave GPU nodes behind",
            f"workspace/{_name(snap.workspace)}",
        )
    ]


def _nodeclaim_failure(claim: dict[str, Any]) -> tuple[str, str, str] | None:
    for ctype in NODECLAIM_CONDITIONS:
        for c in (claim.get("status") or {}).get("conditions") or []:
            if c.get("type") == ctype and c.get("status") == "False":
                return ctype, str(c.get("reason") or ""), _one_line(c.get("message"))
    return None


def _classify_claim(message: str) -> str:
    low = message.lower()
    if "quota" in low:
        return "GPU quota exceeded"
    if any(k in low for k in ("not supported", "unsupported", "no longer supported")):
        return "GPU instance type not supported"
    if any(k in low for k in ("not available", "skunotavailable", "sku", "capacity")):
        return "GPU instance type not available"
    return "GPU node launch failed"


def _nodes(snap: Snapshot) -> list[Finding]:
    ws = snap.workspace
    cs = kaito.conditions(ws)
    name = _name(ws)
    resource = ws.get("resource") or {}
    instance = resource.get("instanceType") or "?"
    if cs.get("ResourceReady", {}).get("status") == "True" or cs.get("NodesReady", {}).get("status") == "True":
        return []
    claim_cond = cs.get("NodeClaimReady") or {}
    nodes_cond = cs.get("NodesReady") or {}
    byo = "NodeClaimReady" not in cs and bool(nodes_cond)  # byo_provisioner.go:93-130 writes no NodeClaimReady
    if byo:
        target = int((ws.get("status") or {}).get("targetNodeCount") or resource.get("count") or 1)
        labels = ((resource.get("labelSelector") or {}).get("matchLabels")) or {}
        sel = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(no labels: every node)"
        ready = [n for n in snap.nodes if _node_ready(n)]
        return [
            Finding(
                "NoMatchingNodes",
                PENDING,
                f"BYO nodes: {len(ready)} of {target} ready node(s) match the labelSelector {sel}",
                [
                    f"condition NodesReady=False ({nodes_cond.get('reason')}): {_one_line(nodes_cond.get('message'))}",
                    "matching nodes: "
                    + (", ".join(_name(n) + ("" if _node_ready(n) else " (NotReady)") for n in snap.nodes) or "none"),
                ],
                f"label {target} GPU node(s): kubectl label node NODE {sel if labels else 'KEY=VALUE'} (KAITO's "
                "node provisioner is 'byo': it creates no nodes)",
                f"workspace/{name}",
            )
        ]
    # a NodeClaim's own failure: on the NodeClaim, else copied to NodeClaimReady (nodeclaim.go:418-452)
    for claim in snap.nodeclaims or []:
        bad = _nodeclaim_failure(claim)
        if bad and bad[1] not in NODECLAIM_WAITING and bad[2]:
            ctype, reason, msg = bad
            return [
                Finding(
                    "NodeClaimFailed",
                    FAILED,
                    f"NodeClaim {_name(claim)} for {instance}: {_classify_claim(msg)}: {msg}",
                    [f"nodeclaim/{_name(claim)} {ctype}=False ({reason}): {msg}"],
                    _claim_next(msg, instance),
                    f"nodeclaim/{_name(claim)}",
                )
            ]
    if claim_cond.get("status") == "False" and claim_cond.get("reason") not in NODECLAIM_WAITING:
        msg = _one_line(claim_cond.get("message"))
        return [
            Finding(
                "NodeClaimFailed",
                FAILED,
                f"GPU nodes for {instance}: {_classify_claim(msg)}: {msg}",
                [
                    f"condition NodeClaimReady=False ({claim_cond.get('reason')}): {msg}",
                    "NodeClaims: "
                    + ("not served by this cluster" if snap.nodeclaims is None else f"{len(snap.nodeclaims)} found"),
                ],
                _claim_next(msg, instance),
                f"workspace/{name}",
            )
        ]
    if claim_cond.get("status") == "False":
        ev = [f"condition NodeClaimReady=False ({claim_cond.get('reason')}): {_one_line(claim_cond.get('message'))}"]
        if snap.nodeclaims is None:
            ev.append("NodeClaims: not served by this cluster (karpenter.sh/v1); only the workspace's condition says")
        else:
            ev += [
                f"nodeclaim/{_name(c)}: " + (", ".join(f"{t}={s}" for t, s in _claim_states(c)) or "no conditions")
                for c in snap.nodeclaims
            ]
        return [
            Finding(
                "NodeClaimPending",
                PENDING,
                f"GPU nodes ({instance}) are being provisioned",
                ev,
                "wait (provisioning a GPU node takes minutes); if it lasts, check the NodeClaims: "
                "kubectl get nodeclaims -l kaito.sh/workspace=" + name,
                f"workspace/{name}",
            )
        ]
    if nodes_cond.get("status") == "False":
        ev = [f"condition NodesReady=False ({nodes_cond.get('reason')}): {_one_line(nodes_cond.get('message'))}"]
        ev += [
            f"node/{_name(n)}: {'Ready' if _node_ready(n) else 'NotReady'}, nvidia.com/gpu allocatable "
            f"{((n.get('status') or {}).get('allocatable') or {}).get('nvidia.com/gpu', '0')}"
            for n in snap.nodes
        ]
        return [
            Finding(
                "NodesNotReady",
                PENDING,
                "the GPU nodes are not ready yet",
                ev,
                "wait; if it lasts, check the nodes and the NVIDIA device plugin (kubectl describe node)",
                f"workspace/{name}",
            )
        ]
    return []


def _claim_states(claim: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(c.get("type")), str(c.get("status"))) for c in (claim.get("status") or {}).get("conditions") or []]


def _claim_next(msg: str, instance: str) -> str:
    kind = _classify_claim(msg)
    if kind == "GPU quota exceeded":
        return f"request more GPU quota for {instance} in the region, or deploy with a smaller --instance-type"
    if kind == "GPU instance type not supported":
        return "pick an instance type KAITO supports (kubectl kaito models describe MODEL) and redeploy"
    if kind == "GPU instance type not available":
        return f"{instance} is not offered in this region or zone: pick another --instance-type or region"
    return "read the NodeClaim's events (kubectl describe nodeclaim) and the provisioner's log"


def _node_ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def _secret(snap: Snapshot) -> list[Finding]:
    ws = snap.workspace
    secret = model_access_secret(ws)
    name, ns = _name(ws), str(_meta(ws).get("namespace") or "")
    if secret and snap.secrets.get(secret) is False:
        return [
            Finding(
                "ModelAccessSecretNotFound",
                FAILED,
                f"modelAccessSecret {secret} does not exist in namespace {ns}",
                [f"spec inference.preset.presetOptions.modelAccessSecret: {secret}", f"secret/{secret}: not found"],
                f"create it: kubectl create secret generic {secret} -n {ns} --from-literal=HF_TOKEN=<token>",
                f"workspace/{name}",
            )
        ]
    refused = hub_refusals(snap)  # the model server's own 401/403 from the Hub, when its log shows one
    if not secret and (is_gated(ws) or refused) and not kaito.is_ready(ws):
        return [
            Finding(
                "ModelAccessSecretMissing",
                FAILED,
                f"model {kaito.model_name(ws)} is gated on Hugging Face and the workspace has no modelAccessSecret",
                [
                    f"model: {kaito.model_name(ws)}",
                    "inference.preset.presetOptions.modelAccessSecret: not set",
                    *refused,
                ],
                "create a Secret with HF_TOKEN and redeploy with --model-access-secret NAME",
                f"workspace/{name}",
            )
        ]
    return []


def _container_findings(snap: Snapshot, pod: dict[str, Any]) -> list[Finding]:
    pname = _name(pod)
    out: list[Finding] = []
    events = _events_for(snap.events, "Pod", pname)
    # init containers first: the main ones do not start before them
    for cs in _statuses(pod, init=True):
        state = cs.get("state") or {}
        done = (state.get("terminated") or {}).get("exitCode") == 0
        if done:
            continue
        cname = str(cs.get("name"))
        bad = _container_state(snap, pod, cs, events, init=True)
        if bad:
            return [bad]
        what = next(iter(state), "unknown")
        out.append(
            Finding(
                "InitContainerStuck",
                PENDING,
                f"init container {cname} of pod {pname} has not completed ({what})",
                [
                    f"pod/{pname} init container {cname}: {what} "
                    f"{_one_line((state.get(what) or {}).get('reason'))}".rstrip(),
                    *_log_tail(snap, pname, cname, False),
                ],
                f"read its log: kubectl logs {pname} -c {cname}",
                f"pod/{pname}",
            )
        )
        return out
    for cs in _statuses(pod, init=False):
        bad = _container_state(snap, pod, cs, events, init=False)
        if bad:
            out.append(bad)
    return out


def _container_state(
    snap: Snapshot, pod: dict[str, Any], cs: dict[str, Any], events: list[dict[str, Any]], init: bool
) -> Finding | None:
    pname, cname = _name(pod), str(cs.get("name"))
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    last = (cs.get("lastState") or {}).get("terminated") or {}
    term = state.get("terminated") or {}
    kind = "init container" if init else "container"
    spec = _spec_container(pod, cname)
    where = f"{kind} {cname} of pod {pname}"
    if last.get("reason") == "OOMKilled" or term.get("reason") == "OOMKilled":
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory") or "none set"
        return Finding(
            "OOMKilled",
            FAILED,
            f"{where} was OOMKilled (exit code {(last or term).get('exitCode', 137)}; memory limit {limit})",
            [
                f"pod/{pname} {cname}: lastState terminated OOMKilled, restarts {cs.get('restartCount', 0)}",
                f"memory limit: {limit}",
                *_log_tail(snap, pname, cname, True),
            ],
            "use a larger --instance-type (more GPU and host memory), or a smaller model or max-model-len",
            f"pod/{pname}",
        )
    if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
        image = cs.get("image") or spec.get("image") or "?"
        pulls = [
            e
            for e in events
            if e.get("reason") in ("Failed", "ErrImagePull")
            and "pull" in str(e.get("message", "")).lower()
            and "Error: " not in str(e.get("message", ""))
        ]
        registry = _one_line(pulls[-1].get("message")) if pulls else _one_line(waiting.get("message"))
        return Finding(
            "ImagePullFailed",
            FAILED,
            f"{where} cannot pull image {image} ({reason}): {registry}",
            [
                f"pod/{pname} {cname}: waiting {reason}: {_one_line(waiting.get('message'))}",
                *[_event_line(e) for e in pulls[-2:]],
            ],
            "check the image name and tag, that the registry serves it, and the pod's imagePullSecrets",
            f"pod/{pname}",
        )
    if reason == "CrashLoopBackOff":
        code = last.get("exitCode", "?")
        return Finding(
            "CrashLoopBackOff",
            FAILED,
            f"{where} is in CrashLoopBackOff (restarts {cs.get('restartCount', 0)}, last exit code {code})",
            [
                f"pod/{pname} {cname}: waiting CrashLoopBackOff; lastState terminated {last.get('reason', '?')} "
                f"exit code {code}",
                *_log_tail(snap, pname, cname, True),
            ],
            f"read the crash in the previous log: kubectl logs {pname} -c {cname} --previous",
            f"pod/{pname}",
        )
    if reason in ("CreateContainerConfigError", "CreateContainerError", "RunContainerError"):
        return Finding(
            "ContainerStartFailed",
            FAILED,
            f"{where} failed to start ({reason}): {_one_line(waiting.get('message'))}",
            [f"pod/{pname} {cname}: waiting {reason}: {_one_line(waiting.get('message'))}"],
            "check the container's configuration (env from Secrets/ConfigMaps, volumes, command)",
            f"pod/{pname}",
        )
    return None


def _pod_findings(snap: Snapshot) -> list[Finding]:
    out: list[Finding] = []
    for pod in sorted(snap.pods, key=_name):
        pname = _name(pod)
        st = pod.get("status") or {}
        if st.get("reason") == "Evicted":
            out.append(
                Finding(
                    "PodEvicted",
                    FAILED,
                    f"pod {pname} was evicted: {_one_line(st.get('message'))}",
                    [f"pod/{pname}: phase {st.get('phase')}, reason Evicted"],
                    "free the node's resources (disk, memory) or use a larger instance type",
                    f"pod/{pname}",
                )
            )
            continue
        sched = _pod_condition(pod, "PodScheduled")
        if sched.get("status") == "False" and sched.get("reason") == "Unschedulable":
            msg = _one_line(sched.get("message"))
            evs = [e for e in _events_for(snap.events, "Pod", pname) if e.get("reason") == "FailedScheduling"]
            out.append(
                Finding(
                    "PodUnschedulable",
                    FAILED,
                    f"pod {pname} cannot be scheduled: {msg}",
                    [f"pod/{pname} PodScheduled=False (Unschedulable): {msg}", *[_event_line(e) for e in evs[-1:]]],
                    _unschedulable_next(msg),
                    f"pod/{pname}",
                )
            )
            continue
        out += _container_findings(snap, pod)
    return out


def _unschedulable_next(msg: str) -> str:
    low = msg.lower()
    if "nvidia.com/gpu" in low:
        return "the nodes lack free nvidia.com/gpu: free GPUs, add GPU nodes, or lower the GPU count"
    if "taint" in low:
        return "the nodes carry taints the pod does not tolerate: remove the taint or use untainted GPU nodes"
    if "affinity" in low or "selector" in low:
        return "no node matches the pod's node selector/affinity: check the workspace's labelSelector and node labels"
    return "read the scheduler's message above (kubectl describe pod)"


def _serving(snap: Snapshot) -> list[Finding]:
    """Pods running but not ready: the model downloading, or the server failing its readiness probe."""
    out: list[Finding] = []
    for pod in sorted(snap.pods, key=_name):
        pname = _name(pod)
        st = pod.get("status") or {}
        if st.get("phase") != "Running" or _pod_condition(pod, "Ready").get("status") == "True":
            continue
        main = [cs for cs in _statuses(pod, init=False) if "running" in (cs.get("state") or {})]
        if not main:
            continue
        cname = str(main[0].get("name"))
        dl = snap.download.get(pname)
        if dl and (dl.get("speed", 0) > 0 or dl.get("remaining", 0) != 0):
            speed, remaining = dl.get("speed", 0.0), dl.get("remaining", -1.0)
            left = "unknown time" if remaining < 0 else _duration(remaining)
            out.append(
                Finding(
                    "ModelDownloading",
                    PENDING,
                    f"pod {pname} is downloading the model: {_rate(speed)}, {left} remaining",
                    [
                        f"pod/{pname} kaito_model_download_speed_bytes_per_second {speed:g}",
                        f"pod/{pname} kaito_model_download_remaining_seconds {remaining:g}",
                    ],
                    "wait; rerun `kubectl kaito diagnose` to see the progress",
                    f"pod/{pname}",
                )
            )
            continue
        logs = snap.logs.get((pname, cname, False)) or []
        line = download_from_log(logs)
        if line and not any("Uvicorn running" in ln or "Starting vLLM API server" in ln for ln in logs):
            out.append(
                Finding(
                    "ModelDownloading",
                    PENDING,
                    f"pod {pname} is downloading the model (from its log)",
                    [f"log {pname}/{cname}: {line}", "download metrics: not served"],
                    "wait; rerun `kubectl kaito diagnose` to see the progress",
                    f"pod/{pname}",
                )
            )
            continue
        probe = [e for e in _events_for(snap.events, "Pod", pname) if e.get("reason") == "Unhealthy"]
        spec = _spec_container(pod, cname)
        rp = (spec.get("readinessProbe") or {}).get("httpGet") or {}
        where = f"{rp.get('path', '?')} on port {rp.get('port', '?')}" if rp else "its readiness probe"
        out.append(
            Finding(
                "ReadinessProbeFailing",
                PENDING,
                f"container {cname} of pod {pname} runs but is not ready: {where} does not answer yet",
                [
                    f"pod/{pname} {cname}: running, ready=false, restarts {main[0].get('restartCount', 0)}",
                    *[_event_line(e) for e in probe[-2:]],
                    *_log_tail(snap, pname, cname, False),
                ],
                "the server is usually still loading the model: wait; if the log shows an error, fix it and redeploy",
                f"pod/{pname}",
            )
        )
    return out


def _conditions(snap: Snapshot) -> list[Finding]:
    ws, name = snap.workspace, _name(snap.workspace)
    cs = kaito.conditions(ws)
    bench = cs.get("BenchmarkCompleted") or {}
    if bench.get("status") == "False" and bench.get("reason") == "BenchmarkFailed":
        return [
            Finding(
                "BenchmarkFailed",
                FAILED,
                f"KAITO's benchmark failed: {_one_line(bench.get('message'))}",
                [f"condition BenchmarkCompleted=False (BenchmarkFailed): {_one_line(bench.get('message'))}"],
                "read the KAITO_BENCHMARK lines of the log (kubectl kaito logs NAME); to skip the benchmark, "
                "annotate the workspace kaito.sh/disable-benchmark=true",
                f"workspace/{name}",
            )
        ]
    job = cs.get("JobStarted") or {}
    if kaito.is_tuning(ws) and (
        job.get("reason") == "WorkspaceTuningJobStatusFailed" or (ws.get("status") or {}).get("state") == "Failed"
    ):
        return [
            Finding(
                "TuningJobFailed",
                FAILED,
                f"the tuning Job {name} failed: {_one_line(job.get('message'))}",
                [f"condition JobStarted={job.get('status')} ({job.get('reason')}): {_one_line(job.get('message'))}"],
                f"read the Job's pod logs: kubectl kaito logs {name}",
                f"job/{name}",
            )
        ]
    return []


def diagnose(snap: Snapshot) -> Diagnosis:
    """The findings, most telling first: deletion, nodes, the model secret, pods, serving, conditions."""
    ws = snap.workspace
    meta = _meta(ws)
    name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    ready = kaito.is_done(ws)
    findings = _deletion(snap)
    findings += _nodes(snap)
    findings += _secret(snap)
    findings += _pod_findings(snap)
    if not any(f.severity == FAILED for f in findings):
        findings += _serving(snap)
    findings += _conditions(snap)
    if not ready and not findings:
        findings.append(_fallback(snap))
    return Diagnosis(name, ns, kaito.state(ws), ready, findings, _checked(snap))


def _fallback(snap: Snapshot) -> Finding:
    ws, name = snap.workspace, _name(snap.workspace)
    fail = kaito.failure(ws)
    sev = FAILED if fail else PENDING
    ev = [
        f"condition {c.get('type')}={c.get('status')} ({c.get('reason')}): {_one_line(c.get('message'))}"
        for c in kaito.pending_conditions(ws)
    ]
    if snap.workload is None:
        ev.append("workload: not created yet")
    summary = (
        f"{fail.condition} {fail.reason}: {_one_line(fail.message)}"
        if fail
        else f"not ready: {kaito.describe_pending(ws)}"
    )
    return Finding(
        "WorkloadNotReady",
        sev,
        summary,
        ev,
        f"watch it: kubectl kaito status {name} -w; read the logs: kubectl kaito logs {name}",
        f"workspace/{name}",
    )


def _checked(snap: Snapshot) -> list[str]:
    ws = snap.workspace
    out = [f"workspace/{_name(ws)}"]
    if snap.nodeclaims is None:
        out.append("nodeclaims: not served by this cluster")
    else:
        out.append(f"nodeclaims: {len(snap.nodeclaims)}")
    out.append(f"nodes: {len(snap.nodes)}")
    if snap.workload is None:
        out.append("workload: none yet")
    else:
        out.append(f"{str(snap.workload.get('kind') or 'workload').lower()}/{_name(snap.workload)}")
    out.append(f"pods: {len(snap.pods)}")
    out.append(f"events: {len(snap.events)}")
    out.append(f"logs: {len(snap.logs)}")
    return out


def render(d: Diagnosis) -> str:
    """The short text report."""
    head = {"healthy": "healthy", "not-ready": "not ready", "failed": "failed"}[d.result]
    lines = [f"Workspace {d.namespace}/{d.name}: {head} (state {d.state})"]
    if not d.findings:
        lines.append("No problem found.")
    for i, f in enumerate(d.findings):
        lines.append("")
        lines.append(f"{'Cause' if i == 0 else 'Also'}: {f.cause}: {f.summary}")
        if f.evidence:
            lines.append("Evidence:")
            lines += [f"  {e}" for e in f.evidence]
        if f.next_step:
            lines.append(f"Next step: {f.next_step}")
    lines.append("")
    lines.append("Checked: " + ", ".join(d.checked))
    return "\n".join(lines)


# ---- the Hub's refusal in the model server's log (issue 16) -------------------------------------------

HUB_REFUSAL_MARKS = ("Cannot access gated repo", "GatedRepoError", "401 Client Error", "403 Client Error")


def hub_refusals(snap: Snapshot) -> list[str]:
    """Evidence lines: the log lines (current or previous container) where Hugging Face refused the download
    (huggingface_hub's GatedRepoError: 401 without a token, 403 without access to the repo), at most 3."""
    out: list[str] = []
    for (pod, container, previous), lines in sorted(snap.logs.items()):
        for ln in lines:
            if any(m in ln for m in HUB_REFUSAL_MARKS):
                out.append(f"log{' (previous)' if previous else ''} {pod}/{container}: {_one_line(ln, 200)}")
    return out[:3]
