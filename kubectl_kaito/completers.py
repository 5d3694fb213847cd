"""Value completion for `kubectl kaito <TAB>`: model names from the bundled catalog, workspace
names from the cluster (as `kubectl get pod <TAB>` does).

A completer runs inside the shell's completion request: it must never print or raise, and must
answer fast, so the cluster is asked once with a short timeout and any failure means no candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

_CLUSTER_TIMEOUT = 3.0  # seconds: a completion that hangs the prompt is worse than none


def models(incomplete: str) -> list[tuple[str, str]]:
    """Model names KAITO accepts (short names and Hugging Face IDs), with their type."""
    from kubectl_kaito import catalog  # noqa: PLC0415

    cat = catalog.load_bundled()
    key = incomplete.lower()
    out = []
    for name in cat.accepted_names():
        if name.lower().startswith(key):
            model = cat.find(name)
            out.append((name, (model.type if model else "") or ""))
    return out


def _flag(ctx: typer.Context, name: str) -> Any:
    """A global flag's value as parsed so far: after the command name, else before it."""
    c: Any = ctx
    while c is not None:
        value = (c.params or {}).get(name)
        if value:
            return value
        c = c.parent
    return None


def workspaces(ctx: typer.Context, incomplete: str) -> list[str]:
    """Workspace names in the namespace the command would use (honours --kubeconfig, --context, -n)."""
    from kubectl_kaito.console import Console  # noqa: PLC0415
    from kubectl_kaito.settings import AppContext, Settings  # noqa: PLC0415

    settings = Settings(
        kubeconfig=_flag(ctx, "kubeconfig"),
        context=_flag(ctx, "context"),
        namespace=_flag(ctx, "namespace"),
        request_timeout=_CLUSTER_TIMEOUT,
    )
    try:
        inv = ctx.find_root().obj  # None when kubectl_complete-kaito drives click; nothing is written then
        app = AppContext(settings, inv.console if inv is not None else Console.from_sys())
        items = app.resources().list_workspaces(app.namespace)
    except Exception:  # noqa: BLE001 (no kubeconfig, unreachable, forbidden...: no candidates, no noise)
        return []
    names = sorted(str((w.get("metadata") or {}).get("name") or "") for w in items)
    return [n for n in names if n and n.startswith(incomplete)]


# ---- values for every command's flags (attached by completion.attach, by flag name) ---------------


def _app(ctx: typer.Context) -> Any:
    """An AppContext for the flags typed so far (--kubeconfig, --context, -n), with a short timeout."""
    from kubectl_kaito.console import Console  # noqa: PLC0415
    from kubectl_kaito.settings import AppContext, Settings  # noqa: PLC0415

    settings = Settings(
        kubeconfig=_flag(ctx, "kubeconfig"),
        context=_flag(ctx, "context"),
        namespace=_flag(ctx, "namespace"),
        request_timeout=_CLUSTER_TIMEOUT,
    )
    inv = ctx.find_root().obj
    return AppContext(settings, inv.console if inv is not None else Console.from_sys())


def namespaces(ctx: typer.Context, incomplete: str) -> list[str]:
    """Namespace names from the cluster (as `kubectl get pods -n <TAB>`)."""
    try:
        items = _app(ctx).resources().list_namespaces()
    except Exception:  # noqa: BLE001 (unreachable, forbidden: no candidates, no noise)
        return []
    names = sorted(str((n.get("metadata") or {}).get("name") or "") for n in items)
    return [n for n in names if n and n.startswith(incomplete)]


def contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Context names from the kubeconfig (--kubeconfig if typed), without contacting any cluster."""
    from kubectl_kaito import kubeconfig  # noqa: PLC0415

    try:
        names = kubeconfig.context_names(_flag(ctx, "kubeconfig"))
    except Exception:  # noqa: BLE001
        return []
    return [n for n in names if n.startswith(incomplete)]


def instance_types(incomplete: str) -> list[str]:
    """The GPU SKUs KAITO's SKU table knows (kaito.KNOWN_INSTANCE_TYPES)."""
    from kubectl_kaito import kaito  # noqa: PLC0415

    return [s for s in kaito.KNOWN_INSTANCE_TYPES if s.lower().startswith(incomplete.lower())]


def _workspace_pods(ctx: typer.Context) -> list[dict[str, Any]]:
    """The pods of the workspace named on the line (kaito.sh/workspace=NAME), else none."""
    from kubectl_kaito import kaito  # noqa: PLC0415

    # While a flag's value is being typed click has not assigned the NAME argument yet: it is
    # still the first plain word of ctx.args.
    name = (
        _flag(ctx, "name")
        or _flag(ctx, "workspace_name")
        or next((a for a in ctx.args or [] if not a.startswith("-")), None)
    )
    if not name:
        return []
    app = _app(ctx)
    pods: list[dict[str, Any]] = app.resources().list_pods(
        app.namespace, label_selector=f"{kaito.LABEL_WORKSPACE}={name}"
    )
    return pods


def pods(ctx: typer.Context, incomplete: str) -> list[str]:
    """`logs NAME --pod <TAB>`: the workspace's pods."""
    try:
        items = _workspace_pods(ctx)
    except Exception:  # noqa: BLE001
        return []
    names = sorted(str((p.get("metadata") or {}).get("name") or "") for p in items)
    return [n for n in names if n and n.startswith(incomplete)]


def containers(ctx: typer.Context, incomplete: str) -> list[str]:
    """`logs NAME -c <TAB>`: the containers of the workspace's pods (of --pod when given)."""
    try:
        items = _workspace_pods(ctx)
    except Exception:  # noqa: BLE001
        return []
    pod = _flag(ctx, "pod")
    names: set[str] = set()
    for p in items:
        if pod and (p.get("metadata") or {}).get("name") != pod:
            continue
        for c in (p.get("spec") or {}).get("containers") or []:
            if c.get("name"):
                names.add(str(c["name"]))
    return sorted(n for n in names if n.startswith(incomplete))


def choices(values: tuple[str, ...]) -> Callable[[str], list[str]]:
    """A completer offering fixed values (output formats, runtimes, actions)."""

    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete.lower())]

    return complete
