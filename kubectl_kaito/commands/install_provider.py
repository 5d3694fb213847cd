"""`kubectl kaito install-provider`: install KAITO with Helm, report on it, or uninstall it."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kaito import flags, helm, output
from kubectl_kaito.errors import ForbiddenError, UsageError
from kubectl_kaito.output import Document, Result, Text
from kubectl_kaito.settings import AppContext

if TYPE_CHECKING:
    from kubectl_kaito.console import Console

ACTIONS = ("install", "status", "uninstall")
FORMATS = ("text", "json", "yaml")
# The one confirmation that cannot be undone: say what it costs (kaito-facts §5, CRDs in templates/).
CRD_WARNING = (
    "uninstalling KAITO deletes its CRDs (workspaces.kaito.sh, inferencesets.kaito.sh, ...) "
    "and with them every Workspace in the cluster"
)
NAMESPACE_HELP = "Namespace of the KAITO release (default: kaito-workspace; the context's namespace is not used)."


def install_provider(
    app: AppContext,
    action: Annotated[
        str | None,
        typer.Argument(
            help="install (default), status (same as --status) or uninstall (same as --uninstall).",
            metavar="[install|status|uninstall]",
            show_default=False,
        ),
    ] = None,
    chart_version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Chart version to install (default: the latest).", metavar="VERSION", show_default=False
        ),
    ] = None,
    cluster_name: Annotated[
        str | None,
        typer.Option(
            "--cluster-name",
            help="The cluster's name, for node provisioning (sets clusterName).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    byo_nodes: Annotated[
        bool,
        typer.Option(
            "--byo-nodes",
            help="Bring your own GPU nodes: sets featureGates.disableNodeAutoProvisioning=true and "
            "nodeProvisioner=byo (KAITO then provisions no nodes).",
        ),
    ] = False,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A chart value KEY=VALUE (repeatable), passed to helm as --set.",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    values_files: Annotated[
        list[str] | None,
        typer.Option(
            "--values",
            "-f",
            help="A values YAML file (repeatable), passed to helm as --values.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the helm commands, one per line, ready to paste; run nothing."),
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Report whether KAITO is installed and ready (exit 0, 3 or 4).")
    ] = False,
    uninstall: Annotated[
        bool,
        typer.Option("--uninstall", help="Uninstall KAITO (deletes its CRDs and every Workspace; asks first)."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Uninstall without asking for confirmation.")] = False,
    fmt: Annotated[
        str | None,
        flags.output_option(
            *FORMATS,
            help="Output format: text (default), json or yaml.",
            decls=("--output", "-o", "--format"),
            metavar="FMT",
        ),
    ] = None,
) -> Result | None:
    """Install KAITO (the workspace operator and its CRDs) into the cluster with Helm, report on it, or remove it.

    Installing runs these helm commands, as argument lists and never through a shell:

    \b
      helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito
      helm repo update kaito
      helm upgrade --install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace --wait

    plus --take-ownership when helm is 3.17 or newer, and your --version, --cluster-name,
    --byo-nodes, --values and --set. helm's output goes to stderr; stdout gets one result line.
    The global --kubeconfig and --context are passed on to helm (as --kubeconfig and --kube-context).

    --status (or `install-provider status`) reports helm, the workspaces.kaito.sh CRD and the
    versions it serves, the operator Deployment and the installed chart version. Exit 0 when
    installed and ready, 3 when not installed (no CRD), 4 when the operator is missing or not ready.

    --uninstall runs helm uninstall, which also deletes the CRDs and so every Workspace: it says how
    many exist and asks first (--yes skips the question; without a terminal --yes is required).

    \b
    Examples:
      # Install the latest KAITO
      kubectl kaito install-provider

    \b
      # A given chart version on AKS, naming the cluster
      kubectl kaito install-provider --version 0.12.0 --cluster-name my-aks

    \b
      # Bring-your-own GPU nodes (no node auto-provisioning)
      kubectl kaito install-provider --byo-nodes

    \b
      # Just print the helm commands
      kubectl kaito install-provider --dry-run

    \b
      # Is it installed and ready? (exit 0, 3 or 4)
      kubectl kaito install-provider status -o json

    \b
      # Remove it (and every Workspace) without a question
      kubectl kaito install-provider --uninstall --yes
    """
    # fmt: checked and lower-cased by the command wrapper (flags.Formats)
    mode = _mode(action, status, uninstall)
    install_only = {
        "--version": chart_version,
        "--cluster-name": cluster_name,
        "--byo-nodes": byo_nodes,
        "--set": set_values,
        "--values": values_files,
    }
    if mode != "install":
        given = [flag for flag, value in install_only.items() if value]
        if given:
            raise UsageError(f"{', '.join(given)} only applies when installing, not with {mode}")
    if mode != "uninstall" and yes:
        raise UsageError("--yes only applies to --uninstall")
    if mode == "status":
        if dry_run:
            raise UsageError("--dry-run applies to installing and uninstalling, not to --status")
        _status(app, fmt or "text")
        return None

    s = app.settings
    namespace = s.namespace or helm.NAMESPACE
    if mode == "uninstall":
        return _uninstall(app, namespace, dry_run=dry_run, yes=yes, fmt=fmt or "text")

    opts = helm.InstallOptions(
        chart_version=helm.validate_chart_version(chart_version) if chart_version is not None else None,
        namespace=namespace,
        cluster_name=helm.validate_cluster_name(cluster_name) if cluster_name is not None else None,
        byo_nodes=byo_nodes,
        set_values=tuple(helm.validate_set(v) for v in set_values or ()),
        values_files=tuple(_check_values_file(p) for p in values_files or ()),
        kubeconfig=s.kubeconfig,
        kube_context=s.context,
    )
    return _install(app.console, opts, dry_run=dry_run, fmt=fmt or "text")


def command(wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[..., Any]:
    """Wrap `install_provider` with the global options, `-n` meaning the release namespace.

    The global -n/--namespace otherwise says "the context's namespace", which is wrong here:
    like helm's own -n it is the release namespace, and it defaults to kaito-workspace.
    """
    fn = wrap(install_provider)
    sig = inspect.signature(fn)
    params = []
    for p in sig.parameters.values():
        if p.name == "namespace":
            opt = typer.Option(
                "--namespace", "-n", help=NAMESPACE_HELP, metavar="NAMESPACE", rich_help_panel="Global options"
            )
            p = p.replace(annotation=Annotated[str | None, opt])
        params.append(p)
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]  # typer reads it; a function type does not declare it
    fn.__annotations__ = {p.name: p.annotation for p in params}
    return fn


# ---- steps --------------------------------------------------------------------------------


def _mode(action: str | None, status: bool, uninstall: bool) -> str:
    if action is not None and action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}", hint="use one of: " + ", ".join(ACTIONS))
    wanted = {a for a, on in (("status", status), ("uninstall", uninstall)) if on}
    if action and action != "install":
        wanted.add(action)
    if len(wanted) > 1 or (action == "install" and wanted):
        raise UsageError("choose one of install, --status or --uninstall")
    return wanted.pop() if wanted else "install"


def _check_values_file(path: str) -> str:
    """A values file must exist before helm is asked (helm's error comes late and is vague)."""
    if not os.path.isfile(path):
        raise UsageError(f"values file {path!r} not found", hint="--values takes the path of a YAML file")
    return path


def _commands(commands: Sequence[Sequence[str]], fmt: str) -> Result:
    if fmt == "text":
        return Text(helm.format_commands(commands))
    return Document({"commands": [helm.format_command(c) for c in commands]})


def _install(console: Console, opts: helm.InstallOptions, *, dry_run: bool, fmt: str) -> Result:
    path = helm.find_helm()
    # --take-ownership only when the helm that will run knows it; `helm version` is local (no cluster).
    info = helm.helm_info(path) if path else helm.HelmInfo(available=False)
    opts = _with_take_ownership(opts, info)
    commands = helm.install_commands(opts)
    if dry_run:
        return _commands(commands, fmt)
    if path is None:
        raise helm.missing_helm_error(commands)
    for argv in commands:
        note = " (waits until KAITO is ready; helm's default timeout is 5m)" if "--wait" in argv else ""
        console.info(f"running: {helm.format_command(argv)}{note}")
        helm.run(path, argv, on_stdout=console.info, on_stderr=console.info)
    version, state = helm.release_status(path, opts)
    shown = version or opts.chart_version or "latest"
    line = f"{opts.release} installed (chart {helm.CHART} {shown}, namespace {opts.namespace})"
    if fmt == "text":
        return Text(line)
    return Document(
        {
            "success": True,
            "message": line,
            "release": opts.release,
            "namespace": opts.namespace,
            "chart": helm.CHART,
            "version": version or opts.chart_version,
            "status": state,
            "commands": [helm.format_command(c) for c in commands],
        },
    )


def _with_take_ownership(opts: helm.InstallOptions, info: helm.HelmInfo) -> helm.InstallOptions:
    from dataclasses import replace  # noqa: PLC0415

    return replace(opts, take_ownership=helm.supports_take_ownership(info.version))


def _status(app: AppContext, fmt: str) -> None:
    from kubectl_kaito import provider  # noqa: PLC0415  (it reads the cluster)

    info = helm.helm_info()
    namespace = app.settings.namespace or helm.NAMESPACE
    st = provider.probe(app.resources(), namespace, info)
    # printed before the verdict is raised: the report is the answer even when KAITO is not ready
    output.render(app.console, Text(provider.render_text(st)) if fmt == "text" else Document(st.to_dict()), fmt)
    for note in st.notes:
        app.console.warn(note)
    err = provider.assess(st)
    if err is not None:
        raise err  # the report is on stdout already; the error line and exit code say the verdict


def _uninstall(app: AppContext, namespace: str, *, dry_run: bool, yes: bool, fmt: str) -> Result:
    s = app.settings
    console = app.console
    argv = helm.uninstall_argv(helm.RELEASE, namespace, s.kubeconfig, s.context)
    if dry_run:
        return _commands([argv], fmt)
    path = helm.find_helm()
    if path is None:
        raise helm.missing_helm_error([argv])
    interactive = console.stdin_is_terminal
    if not (yes or interactive):
        raise UsageError(
            "refusing to uninstall KAITO without confirmation: stdin is not a terminal",
            hint=f"{CRD_WARNING}; add --yes to uninstall anyway, or --dry-run to see the command",
        )

    from kubectl_kaito import provider  # noqa: PLC0415  (it reads the cluster)

    console.warn(CRD_WARNING)
    try:
        workspaces = provider.list_workspaces(app.resources())
    except ForbiddenError:  # helm may still be allowed to uninstall; say what we could not check
        workspaces = None
        console.warn("not allowed to list Workspaces across namespaces: cannot say how many would be deleted")
    else:
        if workspaces is None:
            console.info("KAITO's Workspace API is not served; no Workspace will be lost.")
        else:
            console.info(_workspace_summary(workspaces))
    if not yes and not console.confirm(f"Uninstall release {helm.RELEASE} from namespace {namespace}?"):
        console.info("Nothing uninstalled.")
        raise typer.Exit(1)
    console.info(f"running: {helm.format_command(argv)}")
    helm.run(path, argv, on_stdout=console.info, on_stderr=console.info)
    line = f"{helm.RELEASE} uninstalled (namespace {namespace})"
    if fmt == "text":
        return Text(line)
    return Document(
        {
            "success": True,
            "message": line,
            "release": helm.RELEASE,
            "namespace": namespace,
            "workspacesDeleted": len(workspaces or []),
        }
    )


def _workspace_summary(items: list[dict[str, Any]], limit: int = 10) -> str:
    """`3 Workspaces will be deleted: default/a, prod/b, prod/c` (the first `limit` named)."""
    if not items:
        return "There are no Workspaces in the cluster."
    names = sorted(
        f"{(w.get('metadata') or {}).get('namespace')}/{(w.get('metadata') or {}).get('name')}" for w in items
    )
    shown = ", ".join(names[:limit]) + (f", and {len(names) - limit} more" if len(names) > limit else "")
    noun = "Workspace" if len(names) == 1 else "Workspaces"
    return f"{len(names)} {noun} will be deleted: {shown}"
