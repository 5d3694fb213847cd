"""Value completion for `kubectl kaito <TAB>`: model names from the bundled catalog, workspace
names from the cluster (as `kubectl get pod <TAB>` does).

A completer runs inside the shell's completion request: it must never print or raise, and must
answer fast, so the cluster is asked once with a short timeout and any failure means no candidates.
"""

from __future__ import annotations

from typing import Any

import typer

_CLUSTER_TIMEOUT = 3.0  # seconds: a completion that hangs the prompt is worse than none


def models(incomplete: str) -> list[tuple[str, str]]:
    """Model names KAITO accepts (short names and Hugging Face IDs), with their type."""
    from kubectl_kaito import catalog

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
    from kubectl_kaito.console import Console
    from kubectl_kaito.settings import AppContext, Settings

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
