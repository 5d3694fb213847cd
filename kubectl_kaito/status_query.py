"""`status NAME`'s reads, without typer: one Workspace's details (pods, events, endpoint), an InferenceSet's,
and a watched Workspace's lines. The Typer command (commands/status.py) and the start-up fast path
(fastpath.py) both call `show_one_or_set`."""

from __future__ import annotations

from kubectl_kaito import status as core
from kubectl_kaito.errors import NotFoundError, UsageError
from kubectl_kaito.output import Result, Text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources

WATCHED = ("ADDED", "MODIFIED", "DELETED")  # BOOKMARK/ERROR carry no workspace to show


def _pods(cluster: Resources, name: str, namespace: str) -> list[dict[str, Any]]:
    from kubectl_kaito.kaito import LABEL_WORKSPACE  # noqa: PLC0415

    return cluster.list_pods(namespace, label_selector=f"{LABEL_WORKSPACE}={name}")


def _warning_events(cluster: Resources, namespace: str) -> list[dict[str, Any]]:
    # One LIST of the namespace's Warning events; `core.warning_events` keeps the workspace's and its pods'.
    return cluster.list_events(namespace, field_selector="type=Warning")


def _endpoints(cluster: Resources, ws: dict[str, Any], namespace: str) -> tuple[str | None, str | None, str | None]:
    """Once the workspace serves: the in-cluster URL (what `get-endpoint` prints) and, when its
    Service is a LoadBalancer with an address, the external one. Before: (None, None, why): the
    workspace is being deleted, KAITO has not created the Service yet (its nodes are provisioning),
    or the model server is not ready."""
    from kubectl_kaito import endpoints, kaito  # noqa: PLC0415

    if kaito.is_tuning(ws):
        return None, None, None
    if kaito.is_deleting(ws):
        return None, None, core.BEING_DELETED
    name = (ws.get("metadata") or {}).get("name")
    ready = kaito.is_ready(ws)
    try:
        service = cluster.workspace_service(str(name), namespace)
    except NotFoundError:  # not created yet (not an error), or ready but gone: say so rather than fail
        return None, None, None if ready else core.NO_SERVICE_YET
    if not ready:
        return None, None, core.SERVICE_NOT_SERVING
    lb = endpoints.load_balancer_origin(service)
    return endpoints.internal_origin(service, namespace).url(), lb.url() if lb else None, None


def collect(cluster: Resources, ws: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The details object for a Workspace already fetched: pods, events and the endpoint (3 requests)."""
    name = str((ws.get("metadata") or {}).get("name"))
    internal, external, note = _endpoints(cluster, ws, namespace)
    return core.details(
        ws,
        pods=_pods(cluster, name, namespace),
        events=_warning_events(cluster, namespace),
        endpoint=internal,
        external_endpoint=external,
        endpoint_note=note,
    )


def show_one(
    console: Console, cluster: Resources, name: str, namespace: str, watch: bool, watch_only: bool
) -> Result | None:
    """The workspace's details (text); with --watch they are printed first, then a line per change."""
    ws = cluster.get_workspace(name, namespace)
    width = terminal_width(console)
    if not watch:
        return Text(core.render_details(collect(cluster, ws, namespace), width=width))
    if not watch_only:
        console.result(core.render_details(collect(cluster, ws, namespace), width=width))
        console.result("")

    rv = (ws.get("metadata") or {}).get("resourceVersion")
    last = None  # the previous line's content: changes the table does not show are not repeated
    for event in cluster.watch_workspaces(namespace, name=name, resource_version=rv):
        etype, obj = event.get("type"), event.get("object") or {}
        if etype not in WATCHED or (obj.get("metadata") or {}).get("name") != name:
            continue
        seen = (etype == "DELETED", core.watch_line(str(etype), obj).split("  ", 1)[1])
        if seen != last:
            console.result(core.watch_line(str(etype), obj))
        last = seen
    return None


def terminal_width(console: Console) -> int | None:
    """The terminal's width when stdout is one (long messages are wrapped to it), else None (never cut)."""
    if not console.stdout_is_terminal:
        return None
    columns = str(console.env.get("COLUMNS", ""))
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    import shutil  # noqa: PLC0415

    return shutil.get_terminal_size().columns


def show_one_or_set(
    console: Console, cluster: Resources, name: str, namespace: str, watch: bool, watch_only: bool
) -> Result | None:
    """`status NAME`: the Workspace; else the InferenceSet of that name (its replicas, their states, nodes
    and endpoints, its conditions). A replica Workspace says which set owns it."""
    from kubectl_kaito import kaito  # noqa: PLC0415

    ws, is_set = cluster.workspace_or_set(name, namespace)
    if is_set:
        from kubectl_kaito import inferenceset  # noqa: PLC0415  (a set: not on a Workspace's start-up path)

        if watch:
            raise UsageError(
                "--watch shows Workspaces; an InferenceSet is shown once",
                hint=f"watch its replicas with: kubectl kaito status -l "
                f"{kaito.LABEL_CREATED_BY_IS}={name} -n {namespace} -w",
            )
        found = inferenceset.SetEndpoints(
            iset=ws,
            replicas=inferenceset.replica_rows(cluster, name, namespace),
            gateway=inferenceset.find_gateway(cluster, name, namespace),
        )
        return Text(inferenceset.render_details(inferenceset.details(found)))
    owner = kaito.owning_inferenceset(ws)
    if owner is None or watch:
        return show_one(console, cluster, name, namespace, watch, watch_only)
    text = core.render_details(collect(cluster, ws, namespace), width=terminal_width(console))
    return Text(f"{text}\n\nReplica of: InferenceSet {owner} (kubectl kaito status {owner} -n {namespace})")
