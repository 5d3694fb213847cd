"""`kubectl kaito status`: one workspace in detail, or the namespace's workspaces as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, output
from kubectl_kaito import status as core
from kubectl_kaito.errors import NotFoundError, UsageError
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.cluster import Cluster

FORMATS = ("json", "yaml", "wide")
WATCHED = ("ADDED", "MODIFIED", "DELETED")  # BOOKMARK/ERROR carry no workspace to show


def status(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="List the workspaces of every namespace.")
    ] = False,
    output_format: flags.output_option(*FORMATS, help="Output format: json, yaml or wide.") = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="After the first answer, print each change until Ctrl-C.")
    ] = False,
    output_watch_events: Annotated[
        bool,
        typer.Option("--output-watch-events", help="With -w on a list: an EVENT column (ADDED, MODIFIED, DELETED)."),
    ] = False,
) -> None:
    """Show a workspace's state, conditions, pods, endpoint and warnings, or list the workspaces.

    With a name: model, runtime, instance type and node count, state, the conditions table,
    worker nodes, pods, the endpoint once ready, and the recent Warning events of the workspace
    and its pods. Without a name: one row per workspace in the namespace (-A: all namespaces),
    read with one paginated LIST.

    Examples:

      kubectl kaito status --workspace-name my-llm

      kubectl kaito status my-llm -o json

      kubectl kaito status -A -o wide

      kubectl kaito status -w
    """
    fmt = output_format  # checked and lower-cased by the command wrapper (flags.Formats)
    ws_name = flags.workspace_name(name, workspace_name, required=False, example="")
    if ws_name and all_namespaces:
        raise UsageError(
            "a workspace cannot be shown by name across all namespaces",
            hint="drop -A and pick the namespace with -n",
        )
    if output_watch_events and not watch:
        raise UsageError("--output-watch-events needs --watch")

    cluster = app.cluster()
    if ws_name:
        _show_one(cluster, ws_name, app.namespace, fmt, watch)
    else:
        _show_list(cluster, None if all_namespaces else app.namespace, fmt, watch, output_watch_events)


# ---- one workspace ------------------------------------------------------------------------------


def _pods(cluster: Cluster, name: str, namespace: str) -> list[dict[str, Any]]:
    from kubectl_kaito.kaito import LABEL_WORKSPACE

    path = f"/api/v1/namespaces/{namespace}/pods"
    return list(cluster.list(path, {"labelSelector": f"{LABEL_WORKSPACE}={name}"}).get("items") or [])


def _warning_events(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    # One LIST of the namespace's Warning events; `core.warning_events` keeps the workspace's and its pods'.
    path = f"/api/v1/namespaces/{namespace}/events"
    return list(cluster.list(path, {"fieldSelector": "type=Warning"}).get("items") or [])


def _endpoints(cluster: Cluster, ws: dict[str, Any], namespace: str) -> tuple[str | None, str | None]:
    """Once the workspace serves: the in-cluster URL (what `get-endpoint` prints) and, when its
    Service is a LoadBalancer with an address, the external one. (None, None) before."""
    from kubectl_kaito import endpoints, kaito

    if kaito.is_tuning(ws) or not kaito.is_ready(ws):
        return None, None
    name = (ws.get("metadata") or {}).get("name")
    try:
        service = cluster.get_service(str(name), namespace)
    except NotFoundError:  # ready but the Service is gone: say nothing rather than fail the whole status
        return None, None
    lb = endpoints.load_balancer_origin(service)
    return endpoints.internal_origin(service, namespace).url(), lb.url() if lb else None


def collect(cluster: Cluster, ws: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The details object for a Workspace already fetched: pods, events and the endpoint (3 requests)."""
    name = str((ws.get("metadata") or {}).get("name"))
    internal, external = _endpoints(cluster, ws, namespace)
    return core.details(
        ws,
        pods=_pods(cluster, name, namespace),
        events=_warning_events(cluster, namespace),
        endpoint=internal,
        external_endpoint=external,
    )


def _show_one(cluster: Cluster, name: str, namespace: str, fmt: str | None, watch: bool) -> None:
    ws = cluster.get_workspace(name, namespace)
    d = collect(cluster, ws, namespace)
    if fmt in ("json", "yaml") and watch:
        _emit_stream(d, fmt)
    elif fmt in ("json", "yaml"):
        output.emit(d, fmt)
    else:
        output.result(core.render_details(d))
    if not watch:
        return

    path = cluster.workspace_path(namespace)
    query = {"fieldSelector": f"metadata.name={name}"}
    rv = (ws.get("metadata") or {}).get("resourceVersion")
    if fmt not in ("json", "yaml"):
        output.result("")
    last = None  # the previous line's content: changes the table does not show are not repeated
    for event in cluster.watch(path, query, resource_version=rv):
        etype, obj = event.get("type"), event.get("object") or {}
        if etype not in WATCHED or (obj.get("metadata") or {}).get("name") != name:
            continue
        if fmt in ("json", "yaml"):
            d = core.details(obj) if etype == "DELETED" else collect(cluster, obj, namespace)
            _emit_stream({"event": etype, **d}, fmt)
            continue
        seen = (etype == "DELETED", core.watch_line(str(etype), obj).split("  ", 1)[1])
        if seen != last:
            output.result(core.watch_line(str(etype), obj))
        last = seen


# ---- the list --------------------------------------------------------------------------------------


def _show_list(cluster: Cluster, namespace: str | None, fmt: str | None, watch: bool, events: bool) -> None:
    all_ns = namespace is None
    wide = fmt == "wide"
    path = cluster.workspace_path(namespace)
    listing = cluster.list(path)  # follows limit/continue: one paginated LIST, no GET per workspace
    items = list(listing.get("items") or [])
    rv = (listing.get("metadata") or {}).get("resourceVersion")

    headers = core.list_headers(all_namespaces=all_ns, wide=wide)
    if events:
        headers = ["EVENT", *headers]
    widths: list[int] | None = None
    if fmt in ("json", "yaml"):
        if watch:
            for w in core.sort_workspaces(items):
                _emit_stream(_with_kind(w, cluster), fmt)
        else:
            output.emit(core.as_list(items, f"kaito.sh/{cluster.workspace_version()}"), fmt)
    elif items:
        rows = core.list_rows(items, all_namespaces=all_ns, wide=wide)
        if events:
            rows = [["ADDED", *r] for r in rows]
        widths = core.watch_widths(headers, rows) if watch else core.column_widths(headers, rows)
        output.result("\n".join(core.format_row(r, widths) for r in [headers, *rows]))
    if not items:
        output.info("No workspaces found." if all_ns else f"No workspaces found in {namespace} namespace.")
    if not watch:
        return

    # A row per visible change, kubectl get -w style; a MODIFIED that changes nothing shown is skipped.
    age_col = headers.index("AGE")
    last: dict[tuple[str, str], list[str]] = {}
    for event in cluster.watch(path, resource_version=rv):
        etype, obj = event.get("type"), event.get("object") or {}
        if etype not in WATCHED:
            continue
        if fmt in ("json", "yaml"):
            _emit_stream(_with_kind(obj, cluster), fmt)
            continue
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        row = core.list_row(obj, all_namespaces=all_ns, wide=wide)
        if events:
            row = [str(etype), *row]
        shown = [c for i, c in enumerate(row) if i != age_col and not (events and i == 0)]
        if etype == "DELETED":
            last.pop(key, None)
        elif last.get(key) == shown:
            continue
        else:
            last[key] = shown
        if widths is None:  # the list was empty: the first change prints the headers
            widths = core.watch_widths(headers, [row])
            output.result(core.format_row(headers, widths))
        output.result(core.format_row(row, widths))


def _with_kind(ws: dict[str, Any], cluster: Cluster) -> dict[str, Any]:
    if "kind" in ws and "apiVersion" in ws:
        return ws
    return {"apiVersion": f"kaito.sh/{cluster.workspace_version()}", "kind": "Workspace", **ws}


def _emit_stream(obj: dict[str, Any], fmt: str) -> None:
    """Watch output in json/yaml: one compact JSON object per line (JSON Lines), or YAML documents."""
    if fmt == "json":
        import json

        output.result(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    else:
        output.result("---\n" + output.to_yaml(obj).rstrip("\n"))
