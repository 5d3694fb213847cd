"""The console-script entry point: the fast path (fastpath.py) when it answers, else the full CLI."""

from __future__ import annotations

import gc
import sys


def run() -> None:
    """Answer the hottest well-formed lines without importing typer; hand every other to cli.run
    (which turns the garbage collector back on for long-running commands)."""
    gc.disable()  # the fast path's lines are short runs: importing allocates much, frees nothing cyclic
    from kubectl_kaito import fastpath  # noqa: PLC0415
    from kubectl_kaito.console import Console  # noqa: PLC0415

    console = Console.from_sys()
    try:
        code = fastpath.answer(sys.argv[1:], console)
    except BrokenPipeError:
        # The reader went away: exit 1 with nothing on stderr, as the Typer path answers then (click
        # turns EPIPE inside an eager callback into exit 1); tests/unit/test_startup.py compares both.
        console.discard_stdout()
        code = 1
    if code is None:
        from kubectl_kaito.cli import run as full  # noqa: PLC0415

        full()
        return
    console.exit_now(code)  # as cli.run ends a short run
