"""KAITO API facts (v0.12) and pure helpers to read a Workspace.

Source: research/kaito-facts.md. The Workspace has no `.spec`: `resource`,
`inference` and `tuning` are top-level siblings of `metadata`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

# Plain classes, not dataclasses, and datetime imported where ages are computed: this module is on the
# start-up path of every cluster command (docs/design.md, start-up).

GROUP = "kaito.sh"
VERSIONS = ("v1beta1", "v1alpha1")  # preferred first
PLURAL = "workspaces"
KIND = "Workspace"

LABEL_WORKSPACE = "kaito.sh/workspace"
ANNOTATION_ENABLE_LB = "kaito.sh/enablelb"  # value must be exactly "True"
ANNOTATION_RUNTIME = "kaito.sh/runtime"
ANNOTATION_BYPASS_CHECKS = "kaito.sh/bypass-resource-checks"

# Condition types, in the order the controller usually sets them.
RESOURCE_READY = "ResourceReady"
INFERENCE_READY = "InferenceReady"
JOB_STARTED = "JobStarted"
WORKSPACE_SUCCEEDED = "WorkspaceSucceeded"

# Reasons that mean "this will not become ready by waiting" (kaito-facts §2).
FAILURE_REASONS = frozenset(
    {
        "ImagePullError",
        "ContainerCrashLoopBackOff",
        "ContainerOOMKilled",
        "ContainerStartError",
        "PodEvicted",
        "NodeDiskPressure",
        "NodeMemoryPressure",
        "Unschedulable",
        "SASTokenFetchFailed",
        "BenchmarkFailed",
        "workspaceFailed",
        "WorkspaceTuningJobStatusFailed",
    }
)

OPERATOR_NAMESPACE = "kaito-workspace"
OPERATOR_DEPLOYMENT = "kaito-workspace"
SUPPORTED_MODELS_CONFIGMAP = "kaito-supported-models"


def conditions(ws: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Workspace's conditions keyed by type."""
    return {c.get("type", ""): c for c in (ws.get("status") or {}).get("conditions") or []}


def condition_status(ws: dict[str, Any], ctype: str) -> str:
    """ "True", "False" or "Unknown" (missing) for one condition type."""
    return str(conditions(ws).get(ctype, {}).get("status", "Unknown"))


def is_tuning(ws: dict[str, Any]) -> bool:
    """A tuning workspace runs a Job and serves no endpoint."""
    return bool(ws.get("tuning"))


def is_ready(ws: dict[str, Any]) -> bool:
    """Ready to serve: InferenceReady True, or WorkspaceSucceeded True (or state Ready on v0.9+, or
    WorkspaceReady True from KAITO v0.1-v0.3.0); never while it is being deleted."""
    if is_deleting(ws):
        return False  # KAITO keeps state Ready and InferenceReady True while it deletes (workspace_controller.go)
    cs = conditions(ws)
    if cs.get(WORKSPACE_READY, {}).get("status") == "True":
        return True
    if cs.get(INFERENCE_READY, {}).get("status") == "True":
        return True
    if cs.get(WORKSPACE_SUCCEEDED, {}).get("status") == "True":
        return True
    return (ws.get("status") or {}).get("state") == "Ready"


def is_done(ws: dict[str, Any]) -> bool:
    """The wait target: InferenceReady for inference, WorkspaceSucceeded for tuning."""
    if is_tuning(ws):
        return not is_deleting(ws) and condition_status(ws, WORKSPACE_SUCCEEDED) == "True"
    return is_ready(ws)


class Failure:
    """A condition that turned False with a reason that waiting will not fix."""

    __slots__ = ("condition", "message", "reason")

    def __init__(self, condition: str, reason: str, message: str) -> None:
        self.condition = condition
        self.reason = reason
        self.message = message


def failure(ws: dict[str, Any]) -> Failure | None:
    """The first failed condition (False with a failure reason), or a Failed state."""
    for ctype, c in conditions(ws).items():
        if c.get("status") == "False" and c.get("reason") in FAILURE_REASONS:
            return Failure(ctype, str(c.get("reason")), str(c.get("message") or ""))
    if (ws.get("status") or {}).get("state") == "Failed":
        return Failure("State", "Failed", "the workspace is in state Failed")
    return None


def pending_conditions(ws: dict[str, Any]) -> list[dict[str, Any]]:
    """What the user is waiting for: every condition KAITO reported that is not True, in lifecycle order
    (NodeClaimReady, NodesReady, ResourceReady, InferenceReady/JobStarted, ..., WorkspaceSucceeded);
    when none is, the one it has not reported yet (InferenceReady, or JobStarted for tuning) as
    `Unknown (NotReported)`. Nothing at all reported yet: an empty list."""
    cs = conditions(ws)
    if not cs:
        return []
    rank = {t: i for i, t in enumerate(LIFECYCLE)}
    out = [
        c
        for t, c in sorted(cs.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
        if c.get("status") != "True" and t != WORKSPACE_DELETING
    ]
    if not out and not is_done(ws):
        for ctype in (RESOURCE_READY, JOB_STARTED if is_tuning(ws) else INFERENCE_READY):
            if ctype not in cs:
                out.append({"type": ctype, "status": "Unknown", "reason": "NotReported", "message": ""})
    return out


def describe_pending(ws: dict[str, Any]) -> str:
    """One line naming the conditions that are not True, with their reasons and messages
    (`NodeClaimReady=False (NodeClaimNotReady: Ready NodeClaims are not enough)`)."""
    parts = []
    for c in pending_conditions(ws):
        why = str(c.get("reason") or "no reason")
        message = " ".join(str(c.get("message") or "").split())
        parts.append(f"{c.get('type')}={c.get('status')} ({why}" + (f": {message})" if message else ")"))
    return ", ".join(parts) if parts else "no conditions reported yet"


def model_name(ws: dict[str, Any]) -> str | None:
    """The preset name (inference or tuning), or None for a template workspace."""
    block = ws.get("tuning") or ws.get("inference") or {}
    preset = block.get("preset") or {}
    return preset.get("name")


def runtime(ws: dict[str, Any]) -> str:
    """The runtime annotation (vllm unless set to transformers), as the controller decides."""
    value = ((ws.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_RUNTIME, "vllm")
    return "transformers" if value == "transformers" else "vllm"


def state(ws: dict[str, Any]) -> str:
    """`Deleting` while it is deleted, else status.state (v0.9+), else a state derived from the conditions."""
    if is_deleting(ws):
        return DELETING
    st = (ws.get("status") or {}).get("state")
    if st:
        return str(st)
    if failure(ws):
        return "Failed"
    return "Ready" if is_done(ws) else "Pending"


def parse_time(value: str | None) -> datetime | None:
    """Parse a Kubernetes RFC 3339 timestamp."""
    from datetime import datetime  # noqa: PLC0415  (start-up: see the imports)

    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """kubectl's short age: 45s, 12m, 5h, 3d (and `<unknown>` without a timestamp)."""
    t = parse_time(timestamp)
    if t is None:
        return "<unknown>"
    from datetime import datetime, timezone  # noqa: PLC0415  (start-up: see the imports)

    now = now or datetime.now(timezone.utc)
    secs = max(0, int((now - t).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    if secs < 48 * 3600:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


# ---- what KAITO knows: GPU SKUs, runtimes, and which version brought a feature --------------------

#: The Azure GPU SKUs KAITO v0.12's SKU table knows (pkg/sku/azure_sku_handler.go; the simulator's
#: webhook accepts the same list). Offered by `deploy --instance-type <TAB>`; any other SKU may still
#: be given (BYO nodes, other clouds).
KNOWN_INSTANCE_TYPES = (
    "Standard_NC6s_v3", "Standard_NC12s_v3", "Standard_NC24s_v3", "Standard_NC24rs_v3",
    "Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NC16as_T4_v3", "Standard_NC64as_T4_v3",
    "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4", "Standard_NC96ads_A100_v4",
    "Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4", "Standard_NC40ads_H100_v5",
    "Standard_NC80adis_H100_v5", "Standard_ND96isr_H100_v5", "Standard_NV36ads_A10_v5",
    "Standard_NV72ads_A10_v5", "Standard_NG32ads_V620_v1",
)  # fmt: skip

#: Inference runtimes (annotation kaito.sh/runtime): vllm is KAITO's default.
RUNTIMES = ("vllm", "transformers")


class Feature:
    """A KAITO feature a flag relies on, and the first KAITO release that has it (kaito-facts)."""

    __slots__ = ("flags", "name", "since")

    def __init__(self, name: str, since: str, flags: tuple[str, ...] = ()) -> None:
        self.name = name
        self.since = since  # "0.11"
        self.flags = flags


#: feature -> minimum KAITO version; `version` warns for the flags in use, other commands may ask too.
FEATURES = (
    Feature("v1beta1 Workspace", "0.5", ("--model-access-secret",)),
    Feature("status.state (Ready/Failed)", "0.9"),
    Feature("OpenAI API in the transformers runtime (/v1/chat/completions)", "0.9", ("--runtime",)),
    Feature("InferenceSet (beta, on by default)", "0.11"),
    Feature("resource.partition (MIG, accelerator)", "0.12"),
)


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """`v0.12.0`, `0.12`, `0.13.0-rc.1` -> (0, 12, 0) / (0, 12) / (0, 13, 0); None when not a version."""
    if not version:
        return None
    text = version.strip().lstrip("vV").split("-", 1)[0].split("+", 1)[0]
    parts = text.split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def features_missing(kaito_version: str | None, flags_in_use: list[str] | tuple[str, ...]) -> list[Feature]:
    """The features behind `flags_in_use` that `kaito_version` predates (none when the version is unknown)."""
    have = version_tuple(kaito_version)
    if have is None:
        return []
    out = []
    for f in FEATURES:
        need = version_tuple(f.since) or ()
        if any(flag in f.flags for flag in flags_in_use) and have < need:
            out.append(f)
    return out


# ---- states a real cluster shows: deletion, legacy conditions, custom templates, tuning output ----------

#: KAITO v0.1-v0.3.0 wrote `WorkspaceReady` (api/v1alpha1/workspace_condition_types.go at v0.3.0)
#: where later releases write `WorkspaceSucceeded`.
WORKSPACE_READY = "WorkspaceReady"
WORKSPACE_DELETING = "WorkspaceDeleting"
DELETING = "Deleting"

#: The order KAITO's controller goes through its conditions (pkg/workspace/controllers, v0.12).
LIFECYCLE = (
    "NodeClaimReady", "NodesReady", RESOURCE_READY, "ModelMirrorReady", INFERENCE_READY, JOB_STARTED,
    "BenchmarkCompleted", WORKSPACE_SUCCEEDED, WORKSPACE_READY, WORKSPACE_DELETING,
)  # fmt: skip


def is_deleting(ws: dict[str, Any]) -> bool:
    """Being deleted: metadata.deletionTimestamp set, or KAITO's `WorkspaceDeleting` True (it keeps
    `state: Ready` and the other conditions as they were while it cleans up)."""
    if (ws.get("metadata") or {}).get("deletionTimestamp"):
        return True
    return conditions(ws).get(WORKSPACE_DELETING, {}).get("status") == "True"


def template_image(ws: dict[str, Any]) -> str | None:
    """The first container's image of a custom-template workspace (`inference.template`), else None."""
    template = (ws.get("inference") or {}).get("template")
    if not isinstance(template, dict):
        return None
    containers = (template.get("spec") or {}).get("containers") or []
    first = containers[0] if containers and isinstance(containers[0], dict) else {}
    return str(first.get("image") or "") or "<custom template>"


def runtime_label(ws: dict[str, Any]) -> str | None:
    """What serves the model, as shown to users: the container's image for a custom template (KAITO
    runs the user's pod as is, no vLLM), None for tuning, else the runtime annotation (`runtime`)."""
    if is_tuning(ws):
        return None
    return template_image(ws) or runtime(ws)


def tuning_output_image(ws: dict[str, Any]) -> str | None:
    """Where a tuning job pushes the adapter it makes (tuning.output.image), None for a volume output."""
    out = (ws.get("tuning") or {}).get("output") or {}
    return str(out["image"]) if isinstance(out, dict) and out.get("image") else None


# -- InferenceSet (api/v1beta1/inferenceset_types.go, pkg/utils/consts/consts.go:205, v0.12.0) ----------
IS_PLURAL = "inferencesets"
IS_KIND = "InferenceSet"
LABEL_CREATED_BY_IS = "inferenceset.kaito.sh/created-by"
INFERENCE_POOL_GROUP = "inference.networking.k8s.io"
GATEWAY_GROUP = "gateway.networking.k8s.io"


def inference_pool_name(inferenceset: str) -> str:
    """utils.InferencePoolName (pkg/utils/common.go:243-245, v0.12.0)."""
    return f"{inferenceset}-inferencepool"


def owning_inferenceset(ws: dict[str, Any]) -> str | None:
    """The InferenceSet a Workspace is a replica of (its created-by label), or None."""
    labels = (ws.get("metadata") or {}).get("labels") or {}
    value = labels.get(LABEL_CREATED_BY_IS)
    return str(value) if value else None


def inferenceset_counts(iset: dict[str, Any]) -> tuple[int, int]:
    """(ready, desired) replicas of an InferenceSet: status.readyReplicas and spec.replicas (default 1)."""
    spec = iset.get("spec") or {}
    desired = spec.get("replicas", 1)
    ready = (iset.get("status") or {}).get("readyReplicas") or 0
    return (int(ready) if isinstance(ready, int) else 0, int(desired) if isinstance(desired, int) else 1)
