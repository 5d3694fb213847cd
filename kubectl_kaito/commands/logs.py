"""`kubectl kaito logs`: the logs of a workspace's pods, several pods streamed concurrently."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, kaito
from kubectl_kaito import logs as core
from kubectl_kaito.errors import ClusterUnavailableError, KaitoError, NotReadyError, StreamCutError
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources


def logs(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming new lines until every pod's log ends.")
    ] = False,
    tail: Annotated[
        int, typer.Option("--tail", help="Lines of recent log to show per pod; -1 shows all.", metavar="N")
    ] = -1,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only lines newer than this, e.g. 10s, 5m, 1h.", metavar="DURATION", show_default=False
        ),
    ] = None,
    since_time: Annotated[
        str | None,
        typer.Option(
            "--since-time",
            help="Only lines after this RFC 3339 time, e.g. 2025-01-31T14:00:00Z.",
            metavar="TIME",
            show_default=False,
        ),
    ] = None,
    timestamps: Annotated[bool, typer.Option("--timestamps", help="Put the server's timestamp on every line.")] = False,
    container: Annotated[
        str | None,
        typer.Option(
            "--container",
            "-c",
            help="Container to show (default: the main one, named after the workspace).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    previous: Annotated[
        bool, typer.Option("--previous", "-p", help="Show the log of the previous (crashed) container instance.")
    ] = False,
    pod: Annotated[
        str | None,
        typer.Option("--pod", help="Show only this one of the workspace's pods.", metavar="POD", show_default=False),
    ] = None,
    selector: flags.SelectorOpt = None,
    prefix: Annotated[
        bool | None,
        typer.Option(
            "--prefix/--no-prefix",
            help="Start each line with [pod/container]. Default: on when several pods are shown.",
            show_default=False,
        ),
    ] = None,
    pod_running_timeout: flags.PodRunningTimeoutOpt = flags.POD_RUNNING_TIMEOUT,
) -> None:
    """Print the logs of a workspace's pods (inference and tuning pods alike).

    The pods are those labelled kaito.sh/workspace=NAME. A multi-node workspace has several:
    with -f they are streamed at the same time and whole lines are interleaved as they arrive;
    without -f the output goes pod by pod. A pod whose stream ends or fails is reported on
    stderr while the others go on.

    Examples:

    \b
      # every pod of my-llm
      kubectl kaito logs --workspace-name my-llm

    \b
      # follow them, starting from the last 20 lines of each pod
      kubectl kaito logs my-llm -f --tail 20

    \b
      # the last hour of the leader pod, with timestamps
      kubectl kaito logs my-llm --pod my-llm-0 --since 1h --timestamps

    \b
      # why did it crash? the log of the previous container
      kubectl kaito logs my-llm --previous

    Exit codes: 0 ok (also when the output pipe closes, e.g. | head); 1 no pod's log could be
    read, or a log stream broke off (unexpected EOF); 2 bad flags; 3 workspace, pod or container
    not found; 4 no pods yet, or the container has not started; 5 cannot reach the cluster; 130 interrupted (Ctrl-C).
    """
    ws_name = flags.workspace_name(name, workspace_name, required=True, example="kubectl kaito logs my-llm")
    label_selector = flags.label_selector(selector)
    # Flags first: a bad value is a usage error before any request.
    tail_lines = core.tail_lines(tail)
    core.check_since(since, since_time)
    since_seconds = core.since_seconds(since)
    since_time_value = core.since_time(since_time)
    running_timeout = flags.parse_pod_running_timeout(pod_running_timeout)

    cluster = app.resources()
    namespace = app.namespace
    ws, pod_selector, ws_name = _workspace_or_set(cluster, ws_name, namespace)  # missing: exit 3
    if label_selector:  # -l narrows the workspace's pods (the server ANDs the requirements)
        pod_selector += f",{label_selector}"
    pods = cluster.list_pods(namespace, label_selector=pod_selector)
    if follow:  # as kubectl logs -f: wait for a pod to run (then the model download is shown as it happens)
        ws, pods = _await_running(
            app.console, cluster, ws, pods, ws_name, namespace, pod, container, running_timeout, pod_selector
        )
    if not pods:
        raise core.no_pods_error(ws, ws_name, namespace)
    targets = core.select_targets(pods, ws_name, pod=pod, container=container)
    if not targets:  # pods without any container spec: nothing the API could stream
        raise NotReadyError(f'the pods of workspace "{ws_name}" have no containers yet')
    if container is not None and pod is None:
        for skipped in core.skipped_for_container(pods, targets):
            app.console.warn(f'pod/{skipped} has no container "{container}"; skipped')
    if not previous:
        for t in targets:
            if t.crash_looping:
                app.console.info(
                    f"hint: {t.label} is in CrashLoopBackOff; this is its current container's log, "
                    f"add --previous for the one that crashed"
                )

    use_prefix = core.prefix_wanted(prefix, targets)
    sources = [
        core.Source(
            name=t.label,
            prefix=t.prefix() if use_prefix else b"",
            open=partial(
                cluster.stream_logs,
                namespace,
                t.pod,
                container=t.container,
                follow=follow,
                tail_lines=tail_lines,
                since_seconds=since_seconds,
                since_time=since_time_value,
                timestamps=timestamps,
                previous=previous,
            ),
        )
        for t in targets
    ]
    several = len(sources) > 1

    def on_fail(name: str, err: BaseException) -> None:
        if several and isinstance(err, StreamCutError):  # never a normal end: say which pod's broke, at once
            app.console.info(f"error: {name}: {_message(err)}")
        elif several:  # a single stream's failure is the command's error, printed once below
            app.console.warn(f"{name}: {_message(err)}")

    def on_end(name: str) -> None:
        app.console.info(f"{name} ended")

    mux = core.Multiplexer(sources, ordered=not follow)
    # A closed pipe (`| head`) raises BrokenPipeError, which the command wrapper ends quietly (exit 0).
    result = mux.run(app.console.bytes_writer(), on_end=on_end if follow else None, on_fail=on_fail)
    if len(result.failed) == len(sources):
        raise _all_failed([_named(n, e) for n, e in result.failed.items()], ws_name)
    _raise_cut(result.failed)


def _message(err: BaseException) -> str:
    return err.message if isinstance(err, KaitoError) else (str(err) or type(err).__name__)


def _all_failed(errors: list[BaseException], workspace: str) -> KaitoError:
    """No stream could be read. One stream: its own error. Several: one summary error, keeping the
    exit code when they all failed the same way (e.g. 4 when every container is still starting)."""
    first = errors[0]
    if len(errors) == 1:
        if isinstance(first, KaitoError):
            return first
        return ClusterUnavailableError(f"reading the log failed: {_message(first)}")
    kinds = {type(e) for e in errors}
    cls = type(first) if len(kinds) == 1 and isinstance(first, KaitoError) else KaitoError
    hint = first.hint if isinstance(first, KaitoError) and first.hint else None
    return cls(
        f'could not read the log of any of the {len(errors)} pods of workspace "{workspace}"',
        hint=hint,
        details={"errors": [_message(e) for e in errors]},
    )


def _named(name: str, err: BaseException) -> BaseException:
    """A cut stream's error names its pod (the client only knows the URL)."""
    if isinstance(err, StreamCutError) and not err.message.startswith(name):
        return StreamCutError(f"{name}: {err.message}", hint=err.hint, details={"pod": name.removeprefix("pod/")})
    return err


def _raise_cut(failed: dict[str, BaseException]) -> None:
    """A stream that broke off is not a normal end: after the other pods' lines, exit 1 (kubectl 1.37.1 exits 1
    on `unexpected EOF`), naming the pods whose log was cut."""
    cut = [name for name, err in failed.items() if isinstance(err, StreamCutError)]
    if cut:
        raise StreamCutError(
            f"the log stream of {', '.join(cut)} broke off (unexpected EOF); the other pods' lines were shown",
            hint="the connection to the API server (or the node's kubelet) dropped; run the command again",
            details={"pods": [n.removeprefix("pod/") for n in cut]},
        )


def _await_running(
    console: Console,
    cluster: Resources,
    ws: dict[str, Any],
    pods: list[dict[str, Any]],
    name: str,
    namespace: str,
    pod: str | None,
    container: str | None,
    timeout: float,
    selector: str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """logs -f: until one chosen pod's container runs (--pod-running-timeout, counted once the workspace's
    nodes are provisioned), on the one wait display; a workspace that fails meanwhile is exit 1."""
    from kubectl_kaito import waiting  # noqa: PLC0415

    latest: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []  # what the last attempt saw

    def attempt() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if latest:  # the first attempt uses what the command already read
            current = cluster.get_workspace(name, namespace)
            current_pods = cluster.list_pods(namespace, label_selector=selector)
        else:
            current, current_pods = ws, pods
        latest[:] = [(current, current_pods)]
        why = core.not_running(current, current_pods, name, pod=pod, container=container)
        if why is None:
            return current, current_pods
        failed = waiting.failure_error(current)
        if failed is not None:
            raise failed
        raise NotReadyError(
            why,
            hint="raise --pod-running-timeout to wait longer; see `kubectl kaito status "
            f"--workspace-name {name} -n {namespace}`",
        )

    return waiting.await_value(
        console,
        f"the pods of workspace {namespace}/{name}",
        attempt,
        timeout=timeout,
        extend_while=lambda: core.provisioning(latest[0][0]),
    )


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _workspace_or_set(cluster: Resources, name: str, namespace: str) -> tuple[dict[str, Any], str, str]:
    """(workspace, pod selector, name to wait on): the Workspace NAME and its pods; else the InferenceSet NAME
    and the pods of every replica (each line then prefixed by its pod), waiting on its oldest replica."""
    ws, is_set = cluster.workspace_or_set(name, namespace)
    if is_set:
        replicas = sorted(
            cluster.inferenceset_replicas(name, namespace),
            key=lambda w: (
                str((w.get("metadata") or {}).get("creationTimestamp") or ""),
                str((w.get("metadata") or {}).get("name")),
            ),
        )
        if not replicas:
            raise NotReadyError(
                f'inferenceset "{name}" has no replica workspaces yet',
                hint=f"see it with: kubectl kaito status {name} -n {namespace}",
                details={"inferenceset": name, "namespace": namespace},
            )
        names = ",".join(str(w["metadata"]["name"]) for w in replicas)
        return replicas[0], f"{kaito.LABEL_WORKSPACE} in ({names})", str(replicas[0]["metadata"]["name"])
    return ws, f"{kaito.LABEL_WORKSPACE}={name}", name
