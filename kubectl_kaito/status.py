"""Pure helpers for `status` and `delete`: list rows, the details object, its text block, watch lines.

Nothing here talks to the cluster; the command modules fetch the objects and hand them in.
The list path is written for thousands of rows: one pass per workspace, no per-row lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from kubectl_kaito import kaito, output

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

LIST_HEADERS = (
    "NAME",
    "MODEL",
    "INSTANCE",
    "RESOURCEREADY",
    "INFERENCEREADY",
    "JOBSTARTED",
    "SUCCEEDED",
    "STATUS",
    "AGE",
)
WIDE_HEADERS = ("STATE", "NODES", "RUNTIME")
CONDITION_HEADERS = ("TYPE", "STATUS", "REASON", "MESSAGE", "AGE")
POD_HEADERS = ("NAME", "PHASE", "READY", "RESTARTS", "AGE")
EVENT_HEADERS = ("LAST SEEN", "REASON", "OBJECT", "MESSAGE")

NONE = "<none>"  # kubectl's word for an unset field
ABSENT = "-"  # a condition the controller has not reported (blank cells break `awk`)
MAX_EVENTS = 10

# The order conditions are shown in: the lifecycle order first, anything else after, by name.
_CONDITION_ORDER = (
    "NodeClaimReady",
    "NodesReady",
    kaito.RESOURCE_READY,
    kaito.INFERENCE_READY,
    kaito.JOB_STARTED,
    "BenchmarkCompleted",
    kaito.WORKSPACE_SUCCEEDED,
    "WorkspaceReady",  # KAITO v0.1-v0.3.0
    "WorkspaceDeleting",
)


# ---- small readers --------------------------------------------------------------------


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _conds(ws: dict[str, Any]) -> dict[str, str]:
    """type -> status, built once per workspace (the list path's only per-row work)."""
    items = (ws.get("status") or {}).get("conditions") or []
    return {str(c.get("type")): str(c.get("status", "Unknown")) for c in items}


def node_count(ws: dict[str, Any]) -> int:
    """The number of GPU nodes: status.targetNodeCount (v0.8+), else resource.count, else 1."""
    target = (ws.get("status") or {}).get("targetNodeCount")
    if isinstance(target, int) and target > 0:
        return target
    count = (ws.get("resource") or {}).get("count")
    return count if isinstance(count, int) and count > 0 else 1


def instance_type(ws: dict[str, Any]) -> str | None:
    """resource.instanceType, None when unset (BYO nodes)."""
    return (ws.get("resource") or {}).get("instanceType") or None


def mode(ws: dict[str, Any]) -> str:
    """ "tuning" or "inference"."""
    return "tuning" if kaito.is_tuning(ws) else "inference"


def sorted_conditions(ws: dict[str, Any]) -> list[dict[str, Any]]:
    """The Workspace's conditions in lifecycle order (ResourceReady before InferenceReady ...)."""
    rank = {t: i for i, t in enumerate(_CONDITION_ORDER)}
    items = list((ws.get("status") or {}).get("conditions") or [])
    return sorted(items, key=lambda c: (rank.get(str(c.get("type")), len(rank)), str(c.get("type"))))


# ---- the list (status without a name) -------------------------------------------------------


def list_headers(*, all_namespaces: bool = False, wide: bool = False) -> list[str]:
    """Table headers for the workspace list: NAMESPACE first with -A, STATE/NODES/RUNTIME with -o wide."""
    headers = list(LIST_HEADERS)
    if wide:
        headers += WIDE_HEADERS
    return ["NAMESPACE", *headers] if all_namespaces else headers


def list_row(
    ws: dict[str, Any], *, all_namespaces: bool = False, wide: bool = False, now: datetime | None = None
) -> list[str]:
    """One table row for a Workspace (see `list_headers`)."""
    meta = _meta(ws)
    cs = _conds(ws)
    row = [
        str(meta.get("name", "")),
        kaito.model_name(ws) or NONE,
        instance_type(ws) or NONE,
        cs.get(kaito.RESOURCE_READY, ABSENT),
        cs.get(kaito.INFERENCE_READY, ABSENT),
        cs.get(kaito.JOB_STARTED, ABSENT),
        cs.get(kaito.WORKSPACE_SUCCEEDED, ABSENT),
        status_reason(ws),
        kaito.age(meta.get("creationTimestamp"), now),
    ]
    if wide:
        row += [kaito.state(ws), str(node_count(ws)), kaito.runtime_label(ws) or ABSENT]
    if all_namespaces:
        row.insert(0, str(meta.get("namespace", "")))
    return row


def sort_workspaces(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """By namespace, then name (what the API server returns; made explicit so output is stable)."""
    return sorted(items, key=lambda w: (_meta(w).get("namespace", ""), _meta(w).get("name", "")))


def list_rows(
    items: Sequence[dict[str, Any]], *, all_namespaces: bool = False, wide: bool = False, now: datetime | None = None
) -> list[list[str]]:
    """Rows for many workspaces, sorted; `now` is read once for the whole table."""
    now = now or datetime.now(timezone.utc)
    return [list_row(w, all_namespaces=all_namespaces, wide=wide, now=now) for w in sort_workspaces(items)]


def as_list(items: Sequence[dict[str, Any]], api_version: str) -> dict[str, Any]:
    """A kubectl-style `List` (what `kubectl get workspaces -o json` prints), kind/apiVersion on each item."""
    out = []
    for w in sort_workspaces(items):
        if "kind" not in w or "apiVersion" not in w:  # list items may omit them; kubectl fills them in
            w = {"apiVersion": api_version, "kind": kaito.KIND, **w}
        out.append(w)
    return {"apiVersion": "v1", "kind": "List", "items": out, "metadata": {"resourceVersion": ""}}


# Watch rows arrive later and cannot widen the columns printed first: start them wider.
WATCH_MIN_WIDTHS = {"EVENT": 8, "NAMESPACE": 12, "NAME": 20, "MODEL": 26, "INSTANCE": 26}


def watch_widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """Column widths for a watched table: as wide as the rows, and at least WATCH_MIN_WIDTHS."""
    return output.column_widths(headers, rows, minimum=WATCH_MIN_WIDTHS)


# ---- one workspace ----------------------------------------------------------------------


def pod_summary(pod: dict[str, Any]) -> dict[str, Any]:
    """{name, phase, ready, readyContainers, restarts, node, reason, createdAt} for one pod (seed 001's shape)."""
    meta = _meta(pod)
    spec = pod.get("spec") or {}
    st = pod.get("status") or {}
    statuses = st.get("containerStatuses") or []
    total = len(spec.get("containers") or []) or len(statuses)
    ready_n = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    # A waiting container's reason (ImagePullBackOff, CrashLoopBackOff) says more than "Pending".
    waiting = [((c.get("state") or {}).get("waiting") or {}).get("reason") for c in statuses]
    reason = next((str(r) for r in waiting if r), None)
    phase = "Terminating" if meta.get("deletionTimestamp") else str(st.get("phase") or "Unknown")
    return {
        "name": str(meta.get("name", "")),
        "phase": phase,
        "ready": total > 0 and ready_n == total,
        "readyContainers": f"{ready_n}/{total}",
        "restarts": restarts,
        "node": spec.get("nodeName"),
        "reason": reason,
        "createdAt": meta.get("creationTimestamp"),
    }


def _event_time(ev: dict[str, Any]) -> str:
    return str(
        ev.get("lastTimestamp")
        or ev.get("eventTime")
        or (ev.get("series") or {}).get("lastObservedTime")
        or ev.get("firstTimestamp")
        or _meta(ev).get("creationTimestamp")
        or ""
    )


def warning_events(
    events: Iterable[dict[str, Any]], workspace: str, pods: Iterable[str], limit: int = MAX_EVENTS
) -> list[dict[str, Any]]:
    """The recent Warning events about the workspace or its pods, oldest first, at most `limit`.

    Filtered here as well as by the server's fieldSelector: one LIST of the namespace's Warning
    events costs one request, whereas a selector per pod would cost one each.
    """
    names = {("Workspace", workspace), *(("Pod", p) for p in pods)}
    picked = []
    for ev in events:
        inv = ev.get("involvedObject") or ev.get("regarding") or {}
        if ev.get("type", "Warning") != "Warning":
            continue
        if (inv.get("kind"), inv.get("name")) not in names:
            continue
        picked.append(ev)
    picked.sort(key=_event_time)
    out = []
    for ev in picked[-limit:]:
        inv = ev.get("involvedObject") or ev.get("regarding") or {}
        out.append(
            {
                "type": "Warning",
                "reason": str(ev.get("reason") or ""),
                "object": f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
                "message": str(ev.get("message") or ev.get("note") or "").strip(),
                "count": int(ev.get("count") or (ev.get("series") or {}).get("count") or 1),
                "lastTimestamp": _event_time(ev) or None,
            }
        )
    return out


def details(
    ws: dict[str, Any],
    *,
    pods: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    endpoint: str | None = None,
    external_endpoint: str | None = None,
    endpoint_note: str | None = None,
) -> dict[str, Any]:
    """The one-workspace status object (`-o json|yaml`), in the spirit of seed 001's deployment details."""
    meta = _meta(ws)
    name = str(meta.get("name", ""))
    fail = kaito.failure(ws)
    pod_list = sorted((pod_summary(p) for p in pods), key=lambda p: p["name"])
    return {
        "name": name,
        "namespace": meta.get("namespace"),
        "mode": mode(ws),
        "model": kaito.model_name(ws),
        "runtime": kaito.runtime_label(ws),  # a template's image; none for tuning (the annotation is inference's)
        "instanceType": instance_type(ws),
        "nodeCount": node_count(ws),
        "state": kaito.state(ws),
        "ready": kaito.is_done(ws),
        "failure": {"condition": fail.condition, "reason": fail.reason, "message": fail.message} if fail else None,
        "conditions": [
            {
                "type": c.get("type"),
                "status": c.get("status"),
                "reason": c.get("reason"),
                "message": c.get("message"),
                "lastTransitionTime": c.get("lastTransitionTime"),
            }
            for c in sorted_conditions(ws)
        ],
        "workerNodes": list((ws.get("status") or {}).get("workerNodes") or []),
        "pods": pod_list,
        "endpoint": endpoint,
        "externalEndpoint": external_endpoint,
        "events": warning_events(events, name, [p["name"] for p in pod_list]),
        "createdAt": meta.get("creationTimestamp"),
        **extra_details(ws, endpoint_note),
    }


def render_details(d: dict[str, Any], now: datetime | None = None, *, width: int | None = None) -> str:
    """The human-readable block `status NAME` prints on stdout.

    Messages are never cut: without `width` (stdout is not a terminal) each is whole on its row;
    with the terminal's `width` a long one is wrapped onto continuation rows of its column."""
    now = now or datetime.now(timezone.utc)
    state = d["state"]
    if d.get("failure"):
        f = d["failure"]
        state += f" ({f['condition']} failed: {f['reason']})"
    fields = [
        ("Name", d["name"]),
        ("Namespace", d["namespace"]),
        ("Mode", d["mode"]),
        ("Model", d["model"] or NONE),
        *([("Runtime", d["runtime"])] if d["runtime"] else []),  # tuning jobs have no serving runtime
        ("Instance type", d["instanceType"] or NONE),
        ("Node count", str(d["nodeCount"])),
        ("State", state),
        *([("Output image", d["outputImage"])] if d.get("outputImage") else []),  # what a tuning job pushes
        ("Age", kaito.age(d.get("createdAt"), now)),
    ]
    if d["mode"] == "inference":
        pending = d.get("endpointNote") or ("<pending>" if not d["ready"] else NONE)  # why there is none yet
        fields.append(("Endpoint", d["endpoint"] or pending))
        if d.get("externalEndpoint"):
            fields.append(("External", d["externalEndpoint"]))
    lines = [output.block(fields)]

    lines += ["", "Conditions:"]
    if d["conditions"]:
        rows = [
            [
                str(c["type"]),
                str(c["status"]),
                str(c.get("reason") or ""),
                _one_line(c.get("message") or ""),
                kaito.age(c.get("lastTransitionTime"), now),
            ]
            for c in d["conditions"]
        ]
        lines.append(output.table(CONDITION_HEADERS, wrap_column(CONDITION_HEADERS, rows, 3, width, "  "), indent="  "))
    else:
        lines.append("  <none reported yet>")

    lines += ["", "Worker nodes:"]
    lines += [f"  {n}" for n in d["workerNodes"]] or [f"  {NONE}"]

    lines += ["", "Pods:"]
    if d["pods"]:
        rows = [
            [
                p["name"],
                p["phase"] + (f" ({p['reason']})" if p.get("reason") else ""),
                p["readyContainers"],
                str(p["restarts"]),
                kaito.age(p.get("createdAt"), now),
            ]
            for p in d["pods"]
        ]
        lines.append(output.table(POD_HEADERS, rows, indent="  "))
    else:
        lines.append(f"  {NONE}")

    lines += ["", "Warning events:"]
    if d["events"]:
        rows = [
            [kaito.age(e.get("lastTimestamp"), now), e["reason"], e["object"], _one_line(e["message"])]
            for e in d["events"]
        ]
        lines.append(output.table(EVENT_HEADERS, wrap_column(EVENT_HEADERS, rows, 3, width, "  "), indent="  "))
    else:
        lines.append(f"  {NONE}")
    return "\n".join(lines)


# ---- watch ------------------------------------------------------------------------------------


def condition_summary(ws: dict[str, Any]) -> str:
    """`ResourceReady=True InferenceReady=False(WorkspaceInferenceStatusPending)`: reasons only when not True."""
    parts = []
    for c in sorted_conditions(ws):
        text = f"{c.get('type')}={c.get('status')}"
        if c.get("status") != "True" and c.get("reason"):
            text += f"({c.get('reason')})"
        parts.append(text)
    return " ".join(parts) or "no conditions reported yet"


def watch_line(event_type: str, ws: dict[str, Any], now: datetime | None = None) -> str:
    """One line per change of a single workspace: time, event, state, conditions."""
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    state = "Deleted" if event_type == "DELETED" else kaito.state(ws)
    return f"{stamp}  {event_type:<8}  {state:<8}  {condition_summary(ws)}"


# ---- delete --------------------------------------------------------------------------------


def deleted_line(name: str, dry_run: str | None = None) -> str:
    """kubectl's wording: `workspace.kaito.sh "X" deleted` (+ ` (dry run)` / ` (server dry run)`)."""
    suffix = {None: "", "client": " (dry run)", "server": " (server dry run)"}[dry_run]
    return f'{kaito.PLURAL[:-1]}.{kaito.GROUP} "{name}" deleted{suffix}'


def confirm_prompt(names: Sequence[str], namespace: str) -> str:
    """The question asked on a terminal before deleting: what goes, and what it costs to get back."""
    what = f'workspace "{names[0]}"' if len(names) == 1 else f"{len(names)} workspaces ({', '.join(names)})"
    return f'Delete {what} in namespace "{namespace}"?'


# ---- the list's STATUS, labels, sorting; wrapping long messages ------------------------------------

#: Conditions that say the GPU nodes are being made ready (KAITO's lifecycle order).
_PROVISIONING = ("NodeClaimReady", "NodesReady", kaito.RESOURCE_READY)


def status_reason(ws: dict[str, Any]) -> str:
    """The list's STATUS: what is wrong or what is happening, as `kubectl get pods` shows
    `ImagePullBackOff`: `Deleting` (deletionTimestamp set), the failure reason (`ImagePullError`,
    `ContainerCrashLoopBackOff`, ... see kaito.FAILURE_REASONS; `Failed` for a Failed state),
    `Ready` (`Succeeded` for a finished tuning job), `Running` (a tuning job started),
    `Provisioning` (nodes not ready yet), `Starting` (nodes ready, the model server not yet),
    `Pending` (nothing reported yet)."""
    if _meta(ws).get("deletionTimestamp"):
        return "Deleting"
    fail = kaito.failure(ws)
    if fail:
        return fail.reason
    if kaito.is_done(ws):
        return "Succeeded" if kaito.is_tuning(ws) else "Ready"
    cs = _conds(ws)
    if not cs:
        return "Pending"
    if kaito.is_tuning(ws) and cs.get(kaito.JOB_STARTED) == "True":
        return "Running"
    if any(cs.get(t, "True") != "True" for t in _PROVISIONING) or kaito.RESOURCE_READY not in cs:
        return "Provisioning"
    return "Starting"


def labels_cell(ws: dict[str, Any]) -> str:
    """kubectl's --show-labels cell: `k=v,k2=v2` sorted by key, `<none>` without labels."""
    labels = _meta(ws).get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or NONE


def sort_by(items: Sequence[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """kubectl's --sort-by: by the first value the JSONPath finds (`.metadata.creationTimestamp` or
    `{.metadata.name}`); numbers by value, others as text; objects without a value first (stable)."""
    from kubectl_kaito import jsonpath  # noqa: PLC0415

    tpl = path.strip()
    template = jsonpath.compile(tpl if tpl.startswith("{") else "{" + tpl + "}")

    def key(w: dict[str, Any]) -> tuple[int, float, str]:
        vals = jsonpath.values(template, w)
        if not vals:
            return (0, 0.0, "")
        v = vals[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (1, float(v), "")
        return (2, 0.0, v if isinstance(v, str) else str(v))

    return sorted(items, key=key)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def wrap_column(
    headers: Sequence[str], rows: Sequence[Sequence[str]], col: int, width: int | None, indent: str = ""
) -> list[list[str]]:
    """Rows whose column `col` is wrapped to fit `width` (the terminal), on continuation rows with the
    other cells empty; nothing is ever cut. Without `width` (not a terminal) the rows stay as they are."""
    if width is None:
        return [list(r) for r in rows]
    import textwrap  # noqa: PLC0415

    others = [w for i, w in enumerate(output.column_widths(headers, rows)) if i != col]
    room = max(20, width - len(indent) - sum(others) - len(output.COLUMN_GAP) * (len(headers) - 1))
    out: list[list[str]] = []
    for r in rows:
        parts = textwrap.wrap(r[col], room, break_long_words=True, break_on_hyphens=False) or [""]
        out.append([*r[:col], parts[0], *r[col + 1 :]])
        out += [["" if i != col else p for i in range(len(r))] for p in parts[1:]]
    return out


# ---- real-cluster states: deletion, the Service not created yet, tuning output ---------------------------


def extra_details(ws: dict[str, Any], endpoint_note: str | None = None) -> dict[str, Any]:
    """The details keys about states a real cluster shows: `deleting` (with its deletionTimestamp),
    `outputImage` (a tuning job's adapter image) and `endpointNote` (why there is no endpoint yet)."""
    return {
        "deleting": kaito.is_deleting(ws),
        "deletionTimestamp": _meta(ws).get("deletionTimestamp"),
        "outputImage": kaito.tuning_output_image(ws),
        "endpointNote": endpoint_note,
    }


#: status NAME's Endpoint while KAITO has not created the Service (it does so once the nodes are ready).
NO_SERVICE_YET = "<pending> (Service not created yet: KAITO creates it once the GPU nodes are ready)"
SERVICE_NOT_SERVING = "<pending> (the model server is not ready yet)"
BEING_DELETED = "<none> (the workspace is being deleted)"
