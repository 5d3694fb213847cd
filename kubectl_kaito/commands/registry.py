"""The explicit list of commands, in the order `--help` shows them.

Each module exposes plain functions `fn(app: AppContext, **flags)`; `wrap` adds the
global options. Command modules import only light things at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer


def register_all(app: typer.Typer, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Attach every command to the root app."""
    # (commands register themselves below, one line each, in the order --help lists them)
    # -- registry: keep one line per command --
    from kubectl_kaito.commands import get_endpoint

    app.command("get-endpoint")(wrap(get_endpoint.get_endpoint))
    from kubectl_kaito.commands import chat

    app.command("chat", help=chat.chat.__doc__)(wrap(chat.chat))
    from kubectl_kaito.commands import status

    app.command("status", help=status.status.__doc__)(wrap(status.status))
    from kubectl_kaito.commands import delete

    app.command("delete", help=delete.delete.__doc__, cls=delete.DeleteCommand)(wrap(delete.delete))
    from kubectl_kaito.commands import logs

    app.command("logs", help=logs.logs.__doc__)(wrap(logs.logs))
    from kubectl_kaito.commands import install_provider

    app.command("install-provider", help=install_provider.install_provider.__doc__)(install_provider.command(wrap))
    from kubectl_kaito.commands import deploy, models

    app.command("deploy", help=deploy.deploy.__doc__, cls=deploy.DeployCommand)(wrap(deploy.deploy))
    app.add_typer(models.make_app(wrap), name="models")
