"""The explicit list of commands, in the order `--help` shows them.

Each module exposes plain functions `fn(app: AppContext, **flags)`; `wrap` adds the
global options. Command modules import only light things at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand


class DryRunCommand(TyperCommand):
    """kubectl's `--dry-run` takes an optional value: a bare `--dry-run` means `--dry-run=client`.

    The option itself takes a value (`--dry-run=server`); a bare `--dry-run` is rewritten before
    parsing, so `--dry-run --model x` or `--dry-run my-llm` does not swallow the next word.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        for i, a in enumerate(args):
            if a == "--":
                rewritten += args[i:]
                break
            rewritten.append("--dry-run=client" if a == "--dry-run" else a)
        return super().parse_args(ctx, rewritten)


def register_all(app: typer.Typer, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Attach every command to the root app, in the order a user meets them."""
    from kubectl_kaito.commands import (
        chat,
        delete,
        deploy,
        get_endpoint,
        install_provider,
        logs,
        models,
        status,
    )

    app.command("deploy", help=deploy.deploy.__doc__, cls=DryRunCommand)(wrap(deploy.deploy))
    app.command("status", help=status.status.__doc__)(wrap(status.status))
    app.command("get-endpoint", help=get_endpoint.get_endpoint.__doc__)(wrap(get_endpoint.get_endpoint))
    app.command("logs", help=logs.logs.__doc__)(wrap(logs.logs))
    app.command("chat", help=chat.chat.__doc__)(wrap(chat.chat))
    app.command("delete", help=delete.delete.__doc__, cls=DryRunCommand)(wrap(delete.delete))
    app.add_typer(models.make_app(wrap), name="models")
    app.command("install-provider", help=install_provider.install_provider.__doc__)(install_provider.command(wrap))
