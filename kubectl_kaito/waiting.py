"""Shared waits on a Workspace: until a predicate holds, or until it is gone.

deploy --wait, delete --wait and get-endpoint --wait use these. They watch the
Workspace (one GET, then a watch from its resourceVersion) instead of polling;
`Resources.watch_workspaces` resumes dropped streams. The resources layer (`cluster`) is passed
in, never imported here, so this module stays light.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TypeVar

from kubectl_kaito import flags, kaito
from kubectl_kaito.errors import (
    KaitoError,
    NotFoundError,
    NotReadyError,
    ServerError,
    WaitTimeoutError,
    WorkspaceFailedError,
)

if TYPE_CHECKING:
    from kubectl_kaito.console import Console, Progress
    from kubectl_kaito.resources import Resources

NO_LIMIT = flags.NO_LIMIT
T = TypeVar("T")


def format_seconds(seconds: float) -> str:
    """600 -> `10m`, 90 -> `1m30s`, 2.5 -> `2.5s` (for messages)."""
    if seconds < 60:
        return f"{seconds:g}s"
    m, s = divmod(round(seconds), 60)
    if m >= 60:
        h, m = divmod(m, 60)
        return f"{h}h{m}m" if m else f"{h}h"
    return f"{m}m{s}s" if s else f"{m}m"


def failure_error(
    ws: dict[str, Any], error_cls: type[KaitoError] = WorkspaceFailedError, *, note: str = ""
) -> KaitoError | None:
    """THE failure of a wait on a workspace: a condition False with a reason waiting will not fix.

    Every wait (deploy --wait, get-endpoint --wait, logs' wait for pods) reports it the same way:
    exit 1, WORKSPACE_FAILED, the condition's reason and message.
    """
    meta = ws.get("metadata") or {}
    if kaito.is_deleting(ws):  # it will never become ready (KAITO keeps state Ready while it cleans up)
        return error_cls(
            f"workspace {meta.get('namespace')}/{meta.get('name')} is being deleted: it will not become ready",
            hint=f"deploy it again once `kubectl kaito status {meta.get('name')} -n {meta.get('namespace')}` "
            "says it is gone",
            details={
                "workspace": meta.get("name"),
                "namespace": meta.get("namespace"),
                "deleting": True,
                "deletionTimestamp": meta.get("deletionTimestamp"),
            },
        )
    fail = kaito.failure(ws)
    if fail is None:
        return None
    name, ns = meta.get("name"), meta.get("namespace")
    return error_cls(
        f"workspace {ns}/{name} failed: {fail.condition} is False ({fail.reason})"
        + (f": {fail.message}" if fail.message else ""),
        hint=f"see `kubectl kaito status --workspace-name {name} -n {ns}` and `kubectl kaito logs {name} -n {ns}`"
        + (f"; {note}" if note else ""),
        details={
            "workspace": name,
            "namespace": ns,
            "condition": fail.condition,
            "reason": fail.reason,
            "message": fail.message,
        },
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
                if (
                    event.get("type") == "DELETED"
                    and (event.get("object") or {}).get("metadata", {}).get("name") == name
                ):
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


# ---- the one wait with its display ---------------------------------------------------------------------


def progress_line(ws: dict[str, Any]) -> str:
    """`Pending: ResourceReady=True, InferenceReady=False (WorkspaceInferenceStatusPending)`."""
    cs = kaito.conditions(ws)
    order = [
        kaito.RESOURCE_READY,
        kaito.JOB_STARTED if kaito.is_tuning(ws) else kaito.INFERENCE_READY,
        kaito.WORKSPACE_SUCCEEDED,
    ]
    parts = []
    for ctype in order + [t for t in cs if t not in order]:
        c = cs.get(ctype)
        if c is None:
            if ctype in order:
                parts.append(f"{ctype}=Unknown")
            continue
        reason = c.get("reason")
        parts.append(f"{ctype}={c.get('status')}" + (f" ({reason})" if reason and c.get("status") != "True" else ""))
    return f"{kaito.state(ws)}: " + ", ".join(parts)


def await_workspace(
    console: Console,
    cluster: Resources,
    name: str,
    namespace: str,
    *,
    timeout: float | None,
    until: Callable[[dict[str, Any]], bool],
    note: str = "",
    always_show: bool = False,
) -> dict[str, Any]:
    """THE wait on a workspace as every command shows it: `waiting for workspace NS/NAME: <state>` on the one
    wait display (`console.progress`: elapsed time, heartbeat), shown once there is something to wait for
    (from the start with `always_show`); a failure is WorkspaceFailedError (exit 1), `note` added to its hint."""
    with ExitStack() as stack:
        shown: list[Progress] = []

        def show(text: str) -> None:
            if not shown:
                shown.append(stack.enter_context(console.progress(text)))
            else:
                shown[0].update(text)

        if always_show:
            show(f"waiting for workspace {namespace}/{name}")

        def on_change(ws: dict[str, Any]) -> None:
            if not until(ws):
                show(f"waiting for workspace {namespace}/{name}: {progress_line(ws)}")
            elif shown:  # the end of a wait that was shown: its final state
                show(f"workspace {namespace}/{name}: {progress_line(ws)}")

        return wait_for_workspace(
            cluster,
            name,
            namespace,
            timeout=timeout,
            until=until,
            on_change=on_change,
            fail_on=lambda ws: failure_error(ws, note=note),
        )


def await_deletion(console: Console, cluster: Resources, name: str, namespace: str, *, timeout: float | None) -> None:
    """wait_for_deletion on the one wait display (elapsed time, heartbeat)."""
    with console.progress(f"waiting for workspace {namespace}/{name} to be deleted"):
        wait_for_deletion(cluster, name, namespace, timeout=timeout)


def await_value(
    console: Console,
    what: str,
    attempt: Callable[[], T],
    *,
    timeout: float | None,
    interval: float = 1.0,
    extend_while: Callable[[], bool] | None = None,
) -> T:
    """Ask `attempt()` again every `interval` seconds while it raises NotReadyError (something the cluster
    is still assigning, e.g. a LoadBalancer's address), on the one wait display: `waiting for WHAT: <why>`.
    At `timeout` a WaitTimeoutError (exit 4) carries the last reason; while `extend_while()` holds the
    deadline stays `timeout` ahead (logs -f: a node still being provisioned). Any other error ends the wait
    (a WorkspaceFailedError raised by `attempt` is the wait's one failure path). Used where there is nothing
    to watch."""
    span = NO_LIMIT if timeout is None else max(timeout, 0.0)
    deadline = time.monotonic() + span
    try:
        return attempt()
    except NotReadyError as first:
        last = first
    with console.progress(f"waiting for {what}: {last.message}") as progress:
        while (remaining := deadline - time.monotonic()) > 0 or (extend_while is not None and extend_while()):
            if extend_while is not None and extend_while():
                deadline = max(deadline, time.monotonic() + span)
                remaining = deadline - time.monotonic()
            time.sleep(max(0.0, min(interval, remaining)))
            try:
                return attempt()
            except NotReadyError as err:
                last = err
                progress.update(f"waiting for {what}: {err.message}")
    raise WaitTimeoutError(
        f"timed out after {format_seconds(timeout or NO_LIMIT)} waiting for {what}: {last.message}",
        hint=last.hint,
        details={**(last.details or {}), "timeout_seconds": timeout},
    )
