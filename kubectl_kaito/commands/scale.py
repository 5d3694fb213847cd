"""`kubectl kaito scale`: set an InferenceSet's replica count through its scale subresource."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_kaito import flags
from kubectl_kaito.errors import InvalidError, NotFoundError, UsageError
from kubectl_kaito.output import Result, Text
from kubectl_kaito.settings import AppContext

DEFAULT_TIMEOUT = "30m"


def scale(
    app: AppContext,
    name: flags.NameArg = None,
    workspace_name: flags.WorkspaceNameOpt = None,
    replicas: Annotated[
        str | None,
        typer.Option(
            "--replicas",
            help="The new number of replicas (0 keeps the set but frees every GPU node).",
            metavar="N",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until exactly N replicas are ready (see --timeout).")
    ] = False,
    timeout: Annotated[
        str,
        flags.timeout_option(
            DEFAULT_TIMEOUT, "each new replica needs a GPU node and the model download (often 10 to 20 minutes)"
        ),
    ] = DEFAULT_TIMEOUT,
) -> Result:
    """Scale an InferenceSet: change how many replica Workspaces serve its model.

    Writes spec.replicas through the InferenceSet's scale subresource (what `kubectl scale` and
    autoscalers use); KAITO then creates or deletes replica Workspaces (not-ready ones first). stdout
    gets one line, `inferenceset.kaito.sh/NAME scaled` (as kubectl 1.37.1); with --wait, once the
    ready replicas equal N, while the progress shows on stderr.

    \b
    Examples:
      kubectl kaito scale phi --replicas 3
      kubectl kaito scale phi --replicas 1 --wait --timeout 10m

    \b
    Exit codes: 0 scaled (or ready); 1 NAME is a Workspace (one replica), or the server refused; 2 usage;
    3 not found; 4 --wait timed out; 5 cluster unreachable.
    """
    set_name = flags.workspace_name(name, workspace_name, required=True, example="kubectl kaito scale phi --replicas 3")
    if replicas is None:
        raise UsageError("--replicas is required", hint="e.g. kubectl kaito scale phi --replicas 3")
    count = flags.replica_count(replicas, "--replicas")
    wait_seconds = (flags.parse_timeout(timeout) or flags.NO_LIMIT) if wait else None
    cluster = app.resources()
    ns = app.namespace
    try:
        cluster.scale_inferenceset(str(set_name), count, ns)
    except NotFoundError:
        try:
            cluster.get_workspace(str(set_name), ns)
        except NotFoundError:
            pass
        else:
            raise InvalidError(
                f"workspace {ns}/{set_name} is one Workspace, not an InferenceSet: it has no replicas to scale",
                hint="deploy the model with --replicas N to get an InferenceSet you can scale",
                details={"workspace": set_name, "namespace": ns},
            ) from None
        raise
    line = f"inferenceset.kaito.sh/{set_name} scaled"
    if wait_seconds is None:
        return Text(line)
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    app.console.info(line)
    inferenceset.await_ready(app.console, cluster, str(set_name), ns, wait_seconds)
    return Text(line)
