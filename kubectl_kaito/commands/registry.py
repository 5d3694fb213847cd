"""The explicit list of commands, in the order `--help` shows them.

Each module exposes plain functions `fn(app: AppContext, **flags)`; `wrap` adds the
global options. Command modules import only light things at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from kubectl_kaito.flags import KaitoCommand


def register_all(app: typer.Typer, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Attach every command to the root app, in the order a user meets them."""
    from kubectl_kaito.commands import (  # noqa: PLC0415
        bench,
        chat,
        connect,
        delete,
        deploy,
        diagnose,
        get_endpoint,
        install_provider,
        logs,
        models,
        scale,
        status,
        top,
    )

    app.command("deploy", help=deploy.deploy.__doc__, cls=KaitoCommand)(wrap(deploy.deploy))
    app.command("status", help=status.status.__doc__, cls=KaitoCommand)(wrap(status.status))
    app.command("get-endpoint", help=get_endpoint.get_endpoint.__doc__, cls=KaitoCommand)(
        wrap(get_endpoint.get_endpoint)
    )
    app.command("diagnose", help=diagnose.diagnose.__doc__, cls=KaitoCommand)(wrap(diagnose.diagnose))
    app.command("logs", help=logs.logs.__doc__, cls=KaitoCommand)(wrap(logs.logs))
    app.command("chat", help=chat.chat.__doc__, cls=KaitoCommand)(wrap(chat.chat))
    app.command("bench", help=bench.bench.__doc__, cls=KaitoCommand)(wrap(bench.bench))
    app.command("connect", help=connect.connect.__doc__, cls=KaitoCommand)(wrap(connect.connect))
    app.command("top", help=top.top.__doc__, cls=KaitoCommand)(wrap(top.top))
    app.command("delete", help=delete.delete.__doc__, cls=KaitoCommand)(wrap(delete.delete))
    app.command("scale", help=scale.scale.__doc__, cls=KaitoCommand)(wrap(scale.scale))
    app.add_typer(models.make_app(wrap), name="models")
    app.command("install-provider", help=install_provider.install_provider.__doc__, cls=KaitoCommand)(
        install_provider.command(wrap)
    )
