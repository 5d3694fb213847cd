"""`kubectl kaito delete`: delete workspaces (by name or --all), after confirmation, optionally waiting."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags
from kubectl_kaito import status as core
from kubectl_kaito.errors import KaitoError, NotFoundError, UsageError
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources

DEFAULT_TIMEOUT = "5m"
CASCADE_NOTE = (
    "Deleting a workspace also deletes its Service, StatefulSet (or tuning Job) and pods "
    "(owner references), and releases its GPU nodes."
)
_FATAL = (5,)  # exit codes where trying the next workspace is pointless (cluster unreachable, auth)


def delete(
    app: AppContext,
    names: flags.NamesArg = None,
    workspace_name: flags.WorkspaceNamesOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Delete every workspace in the namespace.")] = False,
    selector: flags.SelectorOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Treat a workspace that does not exist as deleted (exit 0).")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until each workspace is gone.")] = False,
    timeout: Annotated[
        str,
        flags.timeout_option(
            DEFAULT_TIMEOUT,
            "KAITO's finalizer usually ends within a minute; releasing GPU nodes can take a few",
            what="How long --wait waits in all",
        ),
    ] = DEFAULT_TIMEOUT,
    dry_run: Annotated[
        str | None,
        typer.Option(
            "--dry-run",
            help="Only say what would be deleted. client (a bare --dry-run): check the workspaces exist; "
            "server: also ask the API server to validate the deletion (dryRun=All). Nothing is deleted.",
            metavar="[client|server]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Delete workspaces, and with them their pods, Service and GPU nodes.

    On a terminal you are asked to confirm (default: no). Without a terminal, add --yes: a
    deleted model needs a new GPU node and a new download to come back. A workspace that does
    not exist is exit 3 unless --ignore-not-found; all the others are still deleted.

    Examples:

      kubectl kaito delete --workspace-name my-llm

      kubectl kaito delete my-llm other-llm --yes --wait

      kubectl kaito delete --all -n team-a --dry-run

      kubectl kaito delete -l team=search --yes

      kubectl kaito delete my-llm --dry-run=server

      kubectl kaito delete my-inference-set --yes
    """
    targets = flags.workspace_names(names, workspace_name)  # checked, in order, repeats dropped
    label_selector = flags.label_selector(selector)
    if all_ and targets:
        raise UsageError("give workspace names or --all, not both")
    if label_selector and targets:
        raise UsageError("give workspace names or -l/--selector, not both")
    if not all_ and not targets and not label_selector:
        raise UsageError(
            "no workspace to delete",
            hint="name one with --workspace-name NAME (or as an argument), or use --all or -l SELECTOR",
        )
    dry = flags.dry_run_mode(dry_run)
    if dry and wait:
        raise UsageError("--wait cannot be used with --dry-run", hint="a dry run deletes nothing to wait for")
    seconds = flags.parse_timeout(timeout) or flags.NO_LIMIT
    console = app.console
    interactive = console.stdin_is_terminal
    if not (dry or yes or interactive):
        raise UsageError(
            "refusing to delete without confirmation: stdin is not a terminal",
            hint="add --yes to delete without asking (a deleted model needs a new GPU node to come back), "
            "or --dry-run to see what would be deleted",
        )

    cluster = app.resources()
    namespace = app.namespace
    failures: list[KaitoError] = []
    sets: list[str] = []  # InferenceSets: deleted as sets, KAITO deletes their replica Workspaces
    if all_ or label_selector:  # -l: those whose labels match (the server's LIST selects them)
        listing = cluster.workspace_listing(namespace, label_selector=label_selector)
        existing, sets = _without_replicas(cluster, list(listing.get("items") or []), namespace, label_selector)
        if not existing and not sets:
            console.info(f"No workspaces found in {namespace} namespace.")
            return
    else:
        # One GET each, so the question lists only workspaces that exist.
        existing = []
        for n in targets:
            kind = _resolve(cluster, n, namespace, failures, ignore_not_found)
            (sets if kind == "inferenceset" else existing if kind == "workspace" else []).append(n)

    if (existing or sets) and not dry:
        console.info(CASCADE_NOTE)
        asked = [*existing, *(f"inferenceset/{n}" for n in sets)]
        if not yes and not console.confirm(core.confirm_prompt(asked, namespace)):
            console.info("Nothing deleted.")
            raise typer.Exit(1)

    deleted: list[str] = []
    for n in existing:
        if dry != "client" and not _attempt(  # NotFound here: gone between the check and the delete
            partial(cluster.delete_workspace, n, namespace, dry_run=dry == "server"),
            n,
            namespace,
            failures,
            ignore_not_found,
        ):
            continue
        deleted.append(n)
        console.result(core.deleted_line(n, dry))  # as it happens: a later failure must not hide it

    deleted_sets = _delete_sets(console, cluster, sets, namespace, dry, failures, ignore_not_found)
    if wait and deleted and not dry:
        _wait_all(console, cluster, deleted, namespace, seconds)
    if wait and deleted_sets and not dry:
        _wait_sets(console, cluster, deleted_sets, namespace, seconds)
    _finish(console, failures)


# ---- steps ------------------------------------------------------------------------------------------


def _attempt(
    call: Callable[[], Any], name: str, namespace: str, failures: list[KaitoError], ignore_not_found: bool
) -> bool:
    """Run one workspace's call; a per-workspace failure is collected (the others go on), while one
    that dooms every call (cannot reach or authenticate to the cluster) is raised at once."""
    try:
        call()
    except NotFoundError:
        if not ignore_not_found:
            failures.append(_not_found(name, namespace))
        return False
    except KaitoError as e:
        if int(e.exit_code) in _FATAL:
            raise
        failures.append(e)
        return False
    return True


def _not_found(name: str, namespace: str) -> NotFoundError:
    return NotFoundError(
        f'workspace "{name}" not found in namespace "{namespace}"',
        hint=f"list them with `kubectl kaito status -n {namespace}`; --ignore-not-found treats this as done",
        details={"workspace": name, "namespace": namespace},
    )


def _wait_all(console: Console, cluster: Resources, names: list[str], namespace: str, seconds: float) -> None:
    """Wait for each deleted workspace to disappear, within one shared deadline."""
    import time  # noqa: PLC0415

    from kubectl_kaito.waiting import await_deletion  # noqa: PLC0415

    deadline = time.monotonic() + seconds
    for n in names:
        # rounded: the timeout message quotes it ("timed out after 1s", not "after 0.999995s")
        await_deletion(console, cluster, n, namespace, timeout=round(max(0.0, deadline - time.monotonic()), 1))
        console.info(f"workspace {namespace}/{n} is gone")


def _finish(console: Console, failures: list[KaitoError]) -> None:
    """Report every failure; the worst one (highest exit code) is raised last so it decides the exit."""
    if not failures:
        return
    worst = max(failures, key=lambda e: int(e.exit_code))
    for err in failures:
        if err is not worst:
            console.error(err)
    raise worst


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _resolve(
    cluster: Resources, name: str, namespace: str, failures: list[KaitoError], ignore_not_found: bool
) -> str | None:
    """ "workspace", "inferenceset" or None (missing, or refused: a replica of a set is never deleted behind
    the set's back, KAITO would only make a new one)."""
    from kubectl_kaito import kaito  # noqa: PLC0415
    from kubectl_kaito.errors import InvalidError  # noqa: PLC0415

    found: list[dict[str, Any]] = []
    if _attempt(lambda: found.append(cluster.get_workspace(name, namespace)), name, namespace, [], True):
        owner = kaito.owning_inferenceset(found[0])
        if owner and cluster.find_inferenceset(owner, namespace) is not None:
            failures.append(
                InvalidError(
                    f"workspace {namespace}/{name} is a replica of InferenceSet {owner}: KAITO would replace it",
                    hint=f"scale the set (kubectl kaito scale {owner} --replicas N -n {namespace}) or delete the set "
                    f"(kubectl kaito delete {owner} -n {namespace})",
                    details={"workspace": name, "inferenceset": owner, "namespace": namespace},
                )
            )
            return None
        return "workspace"
    if cluster.find_inferenceset(name, namespace) is not None:
        return "inferenceset"
    if not ignore_not_found:
        failures.append(_not_found(name, namespace))
    return None


def _without_replicas(
    cluster: Resources, items: list[dict[str, Any]], namespace: str, label_selector: str | None
) -> tuple[list[str], list[str]]:
    """--all / -l: the Workspaces that are no set's replica, and the InferenceSets (sorted names)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    found_sets = cluster.list_inferencesets(namespace, label_selector=label_selector)
    kept = inferenceset.hide_replicas(items, found_sets) if found_sets else items
    return (
        sorted(str((w.get("metadata") or {}).get("name")) for w in kept),
        sorted(str((s.get("metadata") or {}).get("name")) for s in found_sets),
    )


def _delete_sets(
    console: Console,
    cluster: Resources,
    sets: list[str],
    namespace: str,
    dry: str | None,
    failures: list[KaitoError],
    ignore_not_found: bool,
) -> list[str]:
    """Delete each InferenceSet (never its replicas one by one); `inferenceset.kaito.sh "X" deleted`."""
    done = []
    for n in sets:
        if dry != "client" and not _attempt(
            partial(cluster.delete_inferenceset, n, namespace, dry_run=dry == "server"),
            n,
            namespace,
            failures,
            ignore_not_found,
        ):
            continue
        done.append(n)
        suffix = {None: "", "client": " (dry run)", "server": " (server dry run)"}[dry]
        console.result(f'inferenceset.kaito.sh "{n}" deleted{suffix}')
    return done


def _wait_sets(console: Console, cluster: Resources, names: list[str], namespace: str, seconds: float) -> None:
    """Wait until each deleted InferenceSet is gone (KAITO removes its finalizer after deleting the replicas)."""
    import time  # noqa: PLC0415

    from kubectl_kaito.errors import NotReadyError  # noqa: PLC0415
    from kubectl_kaito.waiting import await_value  # noqa: PLC0415

    deadline = time.monotonic() + seconds
    for n in names:

        def attempt(n: str = n) -> None:
            if cluster.find_inferenceset(n, namespace) is not None:
                raise NotReadyError("still there", details={"inferenceset": n, "namespace": namespace})

        await_value(
            console,
            f"inferenceset {namespace}/{n} to be deleted",
            attempt,
            timeout=round(max(0.0, deadline - time.monotonic()), 1),
            interval=0.3,
        )
        console.info(f"inferenceset {namespace}/{n} is gone")
