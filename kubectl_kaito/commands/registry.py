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
