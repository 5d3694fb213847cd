"""`kubectl kaito diagnose NAME` (= `status NAME --diagnose`): why a workspace is not ready, and `--bundle`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, output
from kubectl_kaito.errors import ExitCode, ForbiddenError, KaitoError, NotFoundError, UsageError
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.diagnose import Diagnosis, Snapshot
    from kubectl_kaito.resources import Resources

FORMATS = ("json", "yaml")
LOG_TAIL = 50  # lines read per container for the diagnosis (the bundle reads whole logs)
METRICS_PORT = 5000  # KAITO's vLLM server port (presets/workspace/inference/vllm/inference_api.py)
NODECLAIM_LABELS = (
    ("kaito.sh/workspace", "kaito.sh/workspacenamespace"),
    ("karpenter.kaito.sh/workspace-name", "karpenter.kaito.sh/workspace-namespace"),
)

BundleOpt = Annotated[
    str | None,
    typer.Option(
        "--bundle",
        help="Also save what a bug report needs into DIR: the objects as YAML, events, and every "
        "container's log (init and previous ones too). Secrets are never written.",
        metavar="DIR",
        show_default=False,
    ),
]


def diagnose(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    output_format: Annotated[
        str | None, flags.output_option(*FORMATS, help="Output format: json or yaml (the findings).", metavar="FORMAT")
    ] = None,
    bundle: BundleOpt = None,
) -> None:
    """Name the reason a workspace is not ready, with the evidence and the next step.

    Walks from the Workspace to its NodeClaims (when the cluster serves karpenter.sh NodeClaims),
    nodes, the StatefulSet or Job, pods, containers, events and the last log lines. Each finding
    has a stable `cause` code (see docs/diagnose.md). Exit 0 when healthy, 4 when not ready with a
    diagnosed cause, 1 when it failed (waiting will not fix it). Same as `status NAME --diagnose`.

    \b
    Examples:
      kubectl kaito diagnose my-llm
      kubectl kaito diagnose my-llm -o json
      kubectl kaito diagnose my-llm --bundle ./my-llm-report
    """
    target = flags.workspace_name(name, workspace_name, required=True, example="kubectl kaito diagnose NAME")
    run(app, str(target), bundle)


def run(app: AppContext, name: str, bundle: str | None) -> None:
    """Diagnose `name`, print the report in the run's format, write the bundle, exit 0/4/1."""
    from kubectl_kaito import diagnose as rules  # noqa: PLC0415

    out_dir = _bundle_dir(bundle) if bundle is not None else None
    cluster = app.resources()
    ns = app.namespace
    snap = collect(cluster, name, ns)
    result = rules.diagnose(snap)
    if out_dir is not None:
        try:
            count = write_bundle(cluster, snap, result, out_dir)
        except OSError as e:  # a read-only or full disk: one line, nothing on stdout
            raise KaitoError(
                f"cannot write the bundle to {out_dir}: {e.strerror or e}", hint="name a directory you can write to"
            ) from None
        app.console.info(f"bundle: {count} files written to {out_dir}")
    if app.settings.output in FORMATS:
        output.render(app.console, output.Document(result.to_dict()), app.settings.output)
    else:
        output.render(app.console, output.Text(rules.render(result)), None)
    code = {"healthy": ExitCode.OK, "not-ready": ExitCode.NOT_READY, "failed": ExitCode.ERROR}[result.result]
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _bundle_dir(value: str) -> Path:
    """--bundle DIR: created if missing; an existing non-empty directory or a file is refused (nothing is
    overwritten)."""
    if not value.strip() or "\n" in value or "\x00" in value:
        raise UsageError(f"invalid --bundle directory {value!r}", hint="e.g. --bundle ./my-llm-report")
    path = Path(value)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(
            f"--bundle {value}: exists and is not an empty directory",
            hint="name a new directory; nothing is overwritten",
        )
    return path


# ---- reading the cluster --------------------------------------------------------------------------


def _quiet(call: Any, default: Any) -> Any:
    """A read whose refusal (not found, forbidden) only leaves that part out of the diagnosis."""
    try:
        return call()
    except (NotFoundError, ForbiddenError):
        return default


def _mine(obj: dict[str, Any], name: str, ns: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return any(labels.get(k) == name and labels.get(kns, ns) == ns for k, kns in NODECLAIM_LABELS)


def collect(cluster: Resources, name: str, ns: str, *, tail: int | None = LOG_TAIL) -> Snapshot:
    """Everything below the Workspace, read through resources.py (a missing part is left out)."""
    from kubectl_kaito import diagnose as rules  # noqa: PLC0415
    from kubectl_kaito import kaito  # noqa: PLC0415

    ws = cluster.get_workspace(name, ns)
    snap = rules.Snapshot(workspace=ws)
    claims = _quiet(cluster.list_nodeclaims, None)
    snap.nodeclaims = None if claims is None else [c for c in claims if _mine(c, name, ns)]
    worker = set((ws.get("status") or {}).get("workerNodes") or [])
    match = ((ws.get("resource") or {}).get("labelSelector") or {}).get("matchLabels") or {}
    byo = "NodeClaimReady" not in kaito.conditions(ws)
    nodes = _quiet(cluster.list_nodes, [])
    snap.nodes = [
        n
        for n in nodes
        if (n.get("metadata") or {}).get("name") in worker
        or _mine(n, name, ns)
        or (
            byo and match and all(((n.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in match.items())
        )
    ]
    get = cluster.get_job if kaito.is_tuning(ws) else cluster.get_statefulset
    snap.workload = _quiet(lambda: get(name, ns), None)
    if snap.workload is not None:
        snap.workload.setdefault("kind", "Job" if kaito.is_tuning(ws) else "StatefulSet")
    snap.pods = cluster.list_pods(ns, label_selector=f"{kaito.LABEL_WORKSPACE}={name}")
    pods = {(p.get("metadata") or {}).get("name") for p in snap.pods}
    owned = {("Workspace", name), ("StatefulSet", name), ("Job", name), *(("Pod", p) for p in pods)}
    snap.events = [
        e
        for e in _quiet(lambda: cluster.list_events(ns), [])
        if ((e.get("involvedObject") or {}).get("kind"), (e.get("involvedObject") or {}).get("name")) in owned
    ]
    for pod in snap.pods:
        _read_logs(cluster, snap, pod, ns, tail)
    secret = rules.model_access_secret(ws)
    if secret:
        exists = _quiet(lambda: cluster.secret_exists(secret, ns), None)
        if exists is not None:
            snap.secrets[secret] = bool(exists)
    for pod in snap.pods:
        if (pod.get("status") or {}).get("phase") == "Running" and not _ready(pod):
            metrics = _download_metrics(cluster, ns, str((pod.get("metadata") or {}).get("name")))
            if metrics:
                snap.download[str((pod.get("metadata") or {}).get("name"))] = metrics
    return snap


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _read_logs(cluster: Resources, snap: Snapshot, pod: dict[str, Any], ns: str, tail: int | None) -> None:
    """The current log of every container that ran, and the previous one of every container that restarted."""
    pname = str((pod.get("metadata") or {}).get("name"))
    st = pod.get("status") or {}
    for cs in [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]:
        cname = str(cs.get("name"))
        state = cs.get("state") or {}
        wants = []
        if "running" in state or "terminated" in state or cs.get("restartCount"):
            wants.append(False)
        if (cs.get("lastState") or {}).get("terminated") or cs.get("restartCount"):
            wants.append(True)
        for previous in wants:
            try:
                raw = list(cluster.stream_logs(ns, pname, container=cname, tail_lines=tail, previous=previous))
            except KaitoError:  # not started, or no previous instance: nothing to quote
                continue
            snap.logs[(pname, cname, previous)] = [b.decode("utf-8", "replace").rstrip("\n") for b in raw]


def _download_metrics(cluster: Resources, ns: str, pod: str) -> dict[str, float] | None:
    """KAITO's download gauges from the pod's /metrics through the API server's pod proxy (a pod that
    is not ready has no Service endpoint); None when the pod does not serve them."""
    from kubectl_kaito import diagnose as rules  # noqa: PLC0415

    try:
        http = cluster.http_client(timeout=5.0)
        try:
            resp = http.get(cluster.pod_proxy_path(ns, pod, METRICS_PORT, "/metrics"))
        finally:
            http.close()
    except Exception:  # noqa: BLE001  (a pod that does not answer only loses this evidence)
        return None
    if resp.status_code != 200:
        return None
    return rules.parse_download_metrics(resp.text)


# ---- the bundle -------------------------------------------------------------------------------------


def _safe_file(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in text)


def write_bundle(cluster: Resources, snap: Snapshot, result: Diagnosis, out: Path) -> int:
    """The objects as YAML, the events, every container's whole log (init and previous too) and the
    diagnosis. No Secret is read for it and none is written."""
    ns = str((snap.workspace.get("metadata") or {}).get("namespace") or "")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {
        "diagnosis.yaml": output.to_yaml(result.to_dict()),
        "workspace.yaml": output.to_yaml(snap.workspace),
        "events.yaml": output.to_yaml({"apiVersion": "v1", "kind": "List", "items": snap.events}),
        "nodes.yaml": output.to_yaml({"apiVersion": "v1", "kind": "List", "items": snap.nodes}),
        "pods.yaml": output.to_yaml({"apiVersion": "v1", "kind": "List", "items": snap.pods}),
    }
    if snap.nodeclaims is not None:
        files["nodeclaims.yaml"] = output.to_yaml({"apiVersion": "v1", "kind": "List", "items": snap.nodeclaims})
    if snap.workload is not None:
        files[f"{str(snap.workload.get('kind', 'workload')).lower()}.yaml"] = output.to_yaml(snap.workload)
    full = type(snap)(workspace=snap.workspace)
    for pod in snap.pods:
        _read_logs(cluster, full, pod, ns, None)
    for (pod_name, cname, previous), lines in sorted(full.logs.items()):
        fname = f"logs/{_safe_file(pod_name)}.{_safe_file(cname)}{'.previous' if previous else ''}.log"
        files[fname] = "".join(ln + "\n" for ln in lines)
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(files)
