"""Shared waits on a Workspace: until a predicate holds, or until it is gone.

deploy --wait, delete --wait and get-endpoint --wait use these. They watch the
Workspace (one GET, then a watch from its resourceVersion) instead of polling;
`Resources.watch_workspaces` resumes dropped streams. The resources layer (`cluster`) is passed
in, never imported here, so this module stays light.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubectl_kaito import flags, kaito
from kubectl_kaito.errors import KaitoError, NotFoundError, NotReadyError, ServerError, WaitTimeoutError

if TYPE_CHECKING:
    from kubectl_kaito.resources import Resources

NO_LIMIT = flags.NO_LIMIT


def format_seconds(seconds: float) -> str:
    """600 -> `10m`, 90 -> `1m30s`, 2.5 -> `2.5s` (for messages)."""
    if seconds < 60:
        return f"{seconds:g}s"
    m, s = divmod(int(round(seconds)), 60)
    if m >= 60:
        h, m = divmod(m, 60)
        return f"{h}h{m}m" if m else f"{h}h"
    return f"{m}m{s}s" if s else f"{m}m"


def failure_error(
    ws: dict[str, Any], error_cls: type[KaitoError] = NotReadyError, *, note: str = ""
) -> KaitoError | None:
    """A `fail_on` for waits on readiness: a condition False with a reason waiting will not fix.

    get-endpoint reports it as not ready (exit 4); deploy passes its own class (exit 1) and a note.
    """
    fail = kaito.failure(ws)
    if fail is None:
        return None
    meta = ws.get("metadata") or {}
    name, ns = meta.get("name"), meta.get("namespace")
    return error_cls(
        f"workspace {ns}/{name} failed: {fail.condition} is False ({fail.reason})"
        + (f": {fail.message}" if fail.message else ""),
        hint=f"see `kubectl kaito status --workspace-name {name} -n {ns}` and `kubectl kaito logs {name} -n {ns}`"
        + (f"; {note}" if note else ""),
        details={"workspace": name, "namespace": ns, "condition": fail.condition, "reason": fail.reason,
                 "message": fail.message},
    )


def _resource_version(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("resourceVersion")


def _check_event(event: dict[str, Any], name: str, namespace: str) -> dict[str, Any] | None:
    """The Workspace carried by a watch event; None for events to skip (bookmarks, other objects)."""
    etype = event.get("type")
    obj = event.get("object") or {}
    if etype == "BOOKMARK":
        return None
    if etype == "ERROR":  # a Status object: the watch itself failed
        raise ServerError(f"watch on workspace {namespace}/{name} failed: {obj.get('message') or obj}")
    if (obj.get("metadata") or {}).get("name") != name:
        return None
    if etype == "DELETED":
        raise NotFoundError(
            f"workspace {namespace}/{name} was deleted while waiting",
            details={"workspace": name, "namespace": namespace},
        )
    return obj


def wait_for_workspace(
    cluster: Resources,
    name: str,
    namespace: str,
    *,
    timeout: float | None,
    until: Callable[[dict[str, Any]], bool],
    on_change: Callable[[dict[str, Any]], None] | None = None,
    fail_on: Callable[[dict[str, Any]], KaitoError | None] | None = None,
) -> dict[str, Any]:
    """Block until `until(ws)` holds and return that Workspace.

    GET first (NotFoundError propagates), then watch from the GET's resourceVersion with
    `fieldSelector=metadata.name=<name>`. `on_change` sees every version (the first GET
    included); what `fail_on` returns is raised; at `timeout` seconds a WaitTimeoutError
    (exit 4) names the conditions still pending. `timeout` None: no limit.
    """
    deadline = time.monotonic() + (NO_LIMIT if timeout is None else max(timeout, 0.0))
    ws = cluster.get_workspace(name, namespace)

    def settled(current: dict[str, Any]) -> bool:
        if on_change is not None:
            on_change(current)
        if fail_on is not None:
            err = fail_on(current)
            if err is not None:
                raise err
        return until(current)

    if settled(ws):
        return ws
    rv = _resource_version(ws)
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            for event in cluster.watch_workspaces(namespace, name=name, resource_version=rv, timeout=remaining):
                obj = _check_event(event, name, namespace)
                if obj is None:
                    continue
                ws, rv = obj, _resource_version(obj) or rv
                if settled(ws):
                    return ws
                if time.monotonic() >= deadline:
                    break
        except WaitTimeoutError:
            pass  # a read timeout on the stream (e.g. --request-timeout): reopen while our deadline allows
        # a watch that ended early (the server closed it) is simply opened again
    raise WaitTimeoutError(
        f"timed out after {format_seconds(timeout or NO_LIMIT)} waiting for workspace {namespace}/{name}: "
        f"{kaito.describe_pending(ws)}",
        hint=f"see `kubectl kaito status --workspace-name {name} -n {namespace}`; raise --timeout to wait longer",
        details={
            "workspace": name,
            "namespace": namespace,
            "timeout_seconds": timeout,
            "pending": [
                {"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason")}
                for c in kaito.pending_conditions(ws)
            ],
        },
    )


def wait_for_deletion(cluster: Resources, name: str, namespace: str, *, timeout: float | None) -> None:
    """Return once the Workspace is gone: a DELETED event, or a GET answering 404.

    After each watch stream ends (or would outlast the deadline) a GET settles the
    question, so a deletion that happened while no watch was open is not missed.
    """
    deadline = time.monotonic() + (NO_LIMIT if timeout is None else max(timeout, 0.0))
    ws: dict[str, Any] = {}
    while True:
        try:
            ws = cluster.get_workspace(name, namespace)
        except NotFoundError:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            for event in cluster.watch_workspaces(
                namespace, name=name, resource_version=_resource_version(ws), timeout=remaining
            ):
                if event.get("type") == "DELETED" and (event.get("object") or {}).get("metadata", {}).get(
                    "name"
                ) == name:
                    return
                if event.get("type") == "ERROR":
                    break  # e.g. 410 Gone that the client did not absorb: GET again
                if time.monotonic() >= deadline:
                    break
        except WaitTimeoutError:
            pass
    finalizers = (ws.get("metadata") or {}).get("finalizers") or []
    raise WaitTimeoutError(
        f"timed out after {format_seconds(timeout or NO_LIMIT)} waiting for workspace {namespace}/{name} to be deleted"
        + (f" (finalizers: {', '.join(finalizers)})" if finalizers else ""),
        hint="the KAITO controller removes its finalizer once the workspace's resources are cleaned up; "
        "check that it is running (`kubectl get deploy -n kaito-workspace`)",
        details={"workspace": name, "namespace": namespace, "timeout_seconds": timeout, "finalizers": finalizers},
    )
