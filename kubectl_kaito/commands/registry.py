"""The explicit list of commands, in the order `--help` shows them, registered lazily.

Each module exposes plain functions `fn(app: AppContext, **flags)`; `wrap` adds the
global options. Command modules import only light things at module level.

Start-up: a run registers (and so imports) only the command named on its command line
(cli.py finds it); the root's `--help` lists every command from `SHORT_HELP` below
without importing any command module.

To add a command:
1. write `kubectl_kaito/commands/NAME.py` with the command function;
2. add one `_register_NAME(app, wrap)` function below and list it in `REGISTER`, in the
   place `--help` should show it;
3. add its one-line help (the first sentence of its docstring) to `SHORT_HELP`, in the order
   `--help` lists it (plain commands, then `version` and `help`, then groups such as `models`).
tests/unit/test_cli_root.py fails when a registered command is missing from SHORT_HELP or
when a line there differs from the command's docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer

from kubectl_kaito.flags import KaitoCommand

Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def _register_deploy(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import deploy  # noqa: PLC0415

    app.command("deploy", help=deploy.deploy.__doc__, cls=KaitoCommand)(wrap(deploy.deploy))


def _register_status(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import status  # noqa: PLC0415

    app.command("status", help=status.status.__doc__, cls=KaitoCommand)(wrap(status.status))


def _register_get_endpoint(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import get_endpoint  # noqa: PLC0415

    app.command("get-endpoint", help=get_endpoint.get_endpoint.__doc__, cls=KaitoCommand)(
        wrap(get_endpoint.get_endpoint)
    )


def _register_diagnose(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import diagnose  # noqa: PLC0415

    app.command("diagnose", help=diagnose.diagnose.__doc__, cls=KaitoCommand)(wrap(diagnose.diagnose))


def _register_logs(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import logs  # noqa: PLC0415

    app.command("logs", help=logs.logs.__doc__, cls=KaitoCommand)(wrap(logs.logs))


def _register_chat(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import chat  # noqa: PLC0415

    app.command("chat", help=chat.chat.__doc__, cls=KaitoCommand)(wrap(chat.chat))


def _register_bench(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import bench  # noqa: PLC0415

    app.command("bench", help=bench.bench.__doc__, cls=KaitoCommand)(wrap(bench.bench))


def _register_connect(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import connect  # noqa: PLC0415

    app.command("connect", help=connect.connect.__doc__, cls=KaitoCommand)(wrap(connect.connect))


def _register_top(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import top  # noqa: PLC0415

    app.command("top", help=top.top.__doc__, cls=KaitoCommand)(wrap(top.top))


def _register_delete(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import delete  # noqa: PLC0415

    app.command("delete", help=delete.delete.__doc__, cls=KaitoCommand)(wrap(delete.delete))


def _register_scale(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import scale  # noqa: PLC0415

    app.command("scale", help=scale.scale.__doc__, cls=KaitoCommand)(wrap(scale.scale))


def _register_models(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import models  # noqa: PLC0415

    app.add_typer(models.make_app(wrap), name="models")


def _register_install_provider(app: typer.Typer, wrap: Wrap) -> None:
    from kubectl_kaito.commands import install_provider  # noqa: PLC0415

    app.command("install-provider", help=install_provider.install_provider.__doc__, cls=KaitoCommand)(
        install_provider.command(wrap)
    )


#: Every command this module registers, in the order a user meets them (and `--help` lists them).
REGISTER: dict[str, Callable[[typer.Typer, Wrap], None]] = {
    "deploy": _register_deploy,
    "status": _register_status,
    "get-endpoint": _register_get_endpoint,
    "diagnose": _register_diagnose,
    "logs": _register_logs,
    "chat": _register_chat,
    "bench": _register_bench,
    "connect": _register_connect,
    "top": _register_top,
    "delete": _register_delete,
    "scale": _register_scale,
    "models": _register_models,
    "install-provider": _register_install_provider,
}

#: What the root's `--help` shows for each command, in its order (the commands registered here, cli.py's
#: own `version` and `help`, then groups), so listing them imports no command module. A test keeps it
#: equal to the docstrings.
SHORT_HELP: dict[str, str] = {
    "deploy": "Deploy a model: create a KAITO Workspace from flags, no YAML needed.",
    "status": "Show a workspace's state, conditions, pods, endpoint and warnings, or list the workspaces.",
    "get-endpoint": "Print the inference endpoint URL of a workspace (OpenAI-compatible API under /v1).",
    "diagnose": "Name the reason a workspace is not ready, with the evidence and the next step.",
    "logs": "Print the logs of a workspace's pods (inference and tuning pods alike).",
    "chat": "Talk to a deployed model: an interactive session, or one question from a script.",
    "bench": "Load a deployed model with streaming requests and report serving metrics.",
    "connect": "Serve an OpenAI-compatible endpoint on this machine for a deployed model.",
    "top": "Show the load on each workspace's model server: requests, KV cache, tokens/s, time to first token.",
    "delete": "Delete workspaces, and with them their pods, Service and GPU nodes.",
    "scale": "Scale an InferenceSet: change how many replica Workspaces serve its model.",
    "install-provider": "Install KAITO (the workspace operator and its CRDs) into the cluster with Helm, "
    "report on it, or remove it.",
    "version": "Print the plugin's, the cluster's and KAITO's versions.",
    "help": "Help about any command, as `kubectl help [COMMAND]`.",
    # Typer lists sub-command groups after the plain commands
    "models": "List and describe the models KAITO can deploy (bundled catalog, merged with the cluster's).",
}


def register_all(app: typer.Typer, wrap: Wrap, only: Iterable[str] | None = None) -> None:
    """Attach the commands to the root app, in the order a user meets them: all of them, or `only` these."""
    wanted = None if only is None else set(only)
    for name, register in REGISTER.items():
        if wanted is None or name in wanted:
            register(app, wrap)
