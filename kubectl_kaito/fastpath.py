"""Start-up fast path: the hottest well-formed command lines, answered without importing typer.

Typer stays the one definition of the command line: the option names here are plain data that
cli.py's Typer declarations read (`typer.Option(fastpath.VERSION_OPTION, ...)`), so both see the
same flag; tests/unit/test_startup.py fails when Typer's view of a flag differs from this one and
runs every line through both paths. Only exact forms are answered here; anything else (help,
completion, an unknown, malformed or extra word) returns None and goes to Typer unchanged.

Imports only the console and the package version: no typer, no command module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_kaito.console import Console

#: The root's eager version flag (cli.py declares it with this name).
VERSION_OPTION = "--version"


def version_line() -> str:
    """What `--version` prints (both paths)."""
    from kubectl_kaito import __version__  # noqa: PLC0415  (the package itself: already imported)

    return f"kubectl-kaito {__version__}"


def answer(args: Sequence[str], console: Console) -> int | None:
    """The exit code when this path answered `args`; None when the line is Typer's."""
    if list(args) == [VERSION_OPTION]:
        console.result(version_line())
        return 0
    return None
