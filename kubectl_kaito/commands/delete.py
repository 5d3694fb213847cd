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
    timeout: Annotated[str, flags.timeout_option(
        DEFAULT_TIMEOUT,
        "KAITO's finalizer usually ends within a minute; releasing GPU nodes can take a few",
        what="How long --wait waits in all",
    )] = DEFAULT_TIMEOUT,
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
    if all_ or label_selector:  # -l: those whose labels match (the server's LIST selects them)
        listing = cluster.workspace_listing(namespace, label_selector=label_selector)
        existing = sorted(str((w.get("metadata") or {}).get("name")) for w in listing.get("items") or [])
        if not existing:
            console.info(f"No workspaces found in {namespace} namespace.")
            return
    else:
        # One GET each, so the question lists only workspaces that exist.
        existing = [
            n for n in targets
            if _attempt(partial(cluster.get_workspace, n, namespace), n, namespace, failures, ignore_not_found)
        ]

    if existing and not dry:
        console.info(CASCADE_NOTE)
        if not yes and not console.confirm(core.confirm_prompt(existing, namespace)):
            console.info("Nothing deleted.")
            raise typer.Exit(1)

    deleted: list[str] = []
    for n in existing:
        if dry != "client" and not _attempt(  # NotFound here: gone between the check and the delete
            partial(cluster.delete_workspace, n, namespace, dry_run=dry == "server"),
            n, namespace, failures, ignore_not_found,
        ):
            continue
        deleted.append(n)
        console.result(core.deleted_line(n, dry))  # as it happens: a later failure must not hide it

    if wait and deleted and not dry:
        _wait_all(console, cluster, deleted, namespace, seconds)
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
