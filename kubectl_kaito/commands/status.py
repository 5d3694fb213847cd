"""`kubectl kaito status`: one workspace in detail, or the namespace's workspaces as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, output
from kubectl_kaito import status as core
from kubectl_kaito.errors import NotFoundError, UsageError
from kubectl_kaito.output import Document, Result, Table, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources

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
) -> Result | None:
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

    cluster = app.resources()
    if ws_name:
        return _show_one(app.console, cluster, ws_name, app.namespace, fmt, watch)
    return _show_list(app.console, cluster, None if all_namespaces else app.namespace, fmt, watch, output_watch_events)


# ---- one workspace ------------------------------------------------------------------------------


def _pods(cluster: Resources, name: str, namespace: str) -> list[dict[str, Any]]:
    from kubectl_kaito.kaito import LABEL_WORKSPACE

    return cluster.list_pods(namespace, label_selector=f"{LABEL_WORKSPACE}={name}")


def _warning_events(cluster: Resources, namespace: str) -> list[dict[str, Any]]:
    # One LIST of the namespace's Warning events; `core.warning_events` keeps the workspace's and its pods'.
    return cluster.list_events(namespace, field_selector="type=Warning")


def _endpoints(cluster: Resources, ws: dict[str, Any], namespace: str) -> tuple[str | None, str | None]:
    """Once the workspace serves: the in-cluster URL (what `get-endpoint` prints) and, when its
    Service is a LoadBalancer with an address, the external one. (None, None) before."""
    from kubectl_kaito import endpoints, kaito

    if kaito.is_tuning(ws) or not kaito.is_ready(ws):
        return None, None
    name = (ws.get("metadata") or {}).get("name")
    try:
        service = cluster.workspace_service(str(name), namespace)
    except NotFoundError:  # ready but the Service is gone: say nothing rather than fail the whole status
        return None, None
    lb = endpoints.load_balancer_origin(service)
    return endpoints.internal_origin(service, namespace).url(), lb.url() if lb else None


def collect(cluster: Resources, ws: dict[str, Any], namespace: str) -> dict[str, Any]:
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


def _show_one(
    console: Console, cluster: Resources, name: str, namespace: str, fmt: str | None, watch: bool
) -> Result | None:
    """The workspace's details; with --watch they are printed first, then a line per change."""
    ws = cluster.get_workspace(name, namespace)
    d = collect(cluster, ws, namespace)
    first: Result = Document(d) if fmt in ("json", "yaml") else Text(core.render_details(d))
    if not watch:
        return first
    if fmt in ("json", "yaml"):
        _emit_stream(console, d, fmt)
    else:
        output.render(console, first)

    rv = (ws.get("metadata") or {}).get("resourceVersion")
    if fmt not in ("json", "yaml"):
        console.result("")
    last = None  # the previous line's content: changes the table does not show are not repeated
    for event in cluster.watch_workspaces(namespace, name=name, resource_version=rv):
        etype, obj = event.get("type"), event.get("object") or {}
        if etype not in WATCHED or (obj.get("metadata") or {}).get("name") != name:
            continue
        if fmt in ("json", "yaml"):
            d = core.details(obj) if etype == "DELETED" else collect(cluster, obj, namespace)
            _emit_stream(console, {"event": etype, **d}, fmt)
            continue
        seen = (etype == "DELETED", core.watch_line(str(etype), obj).split("  ", 1)[1])
        if seen != last:
            console.result(core.watch_line(str(etype), obj))
        last = seen
    return None


# ---- the list --------------------------------------------------------------------------------------


def _show_list(
    console: Console, cluster: Resources, namespace: str | None, fmt: str | None, watch: bool, events: bool
) -> Result | None:
    """The workspaces as a table (or a List); with --watch it is printed first, then a row per change."""
    all_ns = namespace is None
    wide = fmt == "wide"
    # follows limit/continue: one paginated LIST, no GET per workspace
    listing = cluster.workspace_listing(namespace, all_namespaces=namespace is None)
    items = list(listing.get("items") or [])
    rv = (listing.get("metadata") or {}).get("resourceVersion")

    headers = core.list_headers(all_namespaces=all_ns, wide=wide)
    if events:
        headers = ["EVENT", *headers]
    widths: list[int] | None = None
    if not items:
        console.info("No workspaces found." if all_ns else f"No workspaces found in {namespace} namespace.")
    if fmt in ("json", "yaml") and not watch:
        return Document(core.as_list(items, f"kaito.sh/{cluster.workspace_version()}"))
    if fmt in ("json", "yaml"):
        for w in core.sort_workspaces(items):
            _emit_stream(console, _with_kind(w, cluster), fmt)
    elif items:
        rows = core.list_rows(items, all_namespaces=all_ns, wide=wide)
        if events:
            rows = [["ADDED", *r] for r in rows]
        if not watch:
            return Table(headers, rows)
        widths = core.watch_widths(headers, rows)
        console.result(output.table(headers, rows, widths=widths))
    if not watch:
        return None

    # A row per visible change, kubectl get -w style; a MODIFIED that changes nothing shown is skipped.
    age_col = headers.index("AGE")
    last: dict[tuple[str, str], list[str]] = {}
    for event in cluster.watch_workspaces(namespace, resource_version=rv):
        etype, obj = event.get("type"), event.get("object") or {}
        if etype not in WATCHED:
            continue
        if fmt in ("json", "yaml"):
            _emit_stream(console, _with_kind(obj, cluster), fmt)
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
            console.result(output.table_row(headers, widths))
        console.result(output.table_row(row, widths))
    return None


def _with_kind(ws: dict[str, Any], cluster: Resources) -> dict[str, Any]:
    if "kind" in ws and "apiVersion" in ws:
        return ws
    return {"apiVersion": f"kaito.sh/{cluster.workspace_version()}", "kind": "Workspace", **ws}


def _emit_stream(console: Console, obj: dict[str, Any], fmt: str) -> None:
    """Watch output in json/yaml: one compact JSON object per line (JSON Lines), or YAML documents."""
    if fmt == "json":
        import json

        console.result(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    else:
        console.result("---\n" + output.to_yaml(obj).rstrip("\n"))
