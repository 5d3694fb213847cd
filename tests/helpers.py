"""Ways to run the plugin in tests: in-process (`run_cli`) and through the real kubectl (`run_kubectl`)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VENV_BIN = str(Path(sys.executable).parent)  # where pip put kubectl-kaito and kubectl


@dataclass
class Result:
    """What a user sees: the exit code and the two streams, kept apart."""

    exit_code: int
    stdout: str
    stderr: str


class _Stream(io.StringIO):
    """A captured stream that says whether it is a terminal (default: no, as in a pipe)."""

    def __init__(self, initial: str = "", tty: bool = False) -> None:
        super().__init__(initial)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:  # some code asks; a StringIO has none
        raise io.UnsupportedOperation("fileno")


def fake_console(
    input: str | None = None,
    *,
    stdin_tty: bool = False,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    env: dict[str, str] | None = None,
) -> Any:
    """A Console on captured streams that are terminals or not as asked; env is os.environ
    (the sim fixture's kubeconfig, NO_COLOR=1 from conftest) with `env` laid over it."""
    from kubectl_kaito.console import Console

    return Console(
        stdin=_Stream(input or "", tty=stdin_tty),
        stdout=_Stream(tty=stdout_tty),
        stderr=_Stream(tty=stderr_tty),
        env={**os.environ, **(env or {})},
    )


def run_cli(
    *args: str,
    input: str | None = None,
    stdin_tty: bool = False,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    env: dict[str, str] | None = None,
) -> Result:
    """Run `kubectl kaito ARGS` in this process with a fake console (see `fake_console`)."""
    from kubectl_kaito import cli

    console = fake_console(input, stdin_tty=stdin_tty, stdout_tty=stdout_tty, stderr_tty=stderr_tty, env=env)
    code = cli.main(list(args), console=console)
    return Result(code, console.stdout.getvalue(), console.stderr.getvalue())


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ with the venv's bin first on PATH, so `kubectl` finds our `kubectl-kaito`."""
    env = dict(os.environ)
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update(extra or {})
    return env


def run_kubectl(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    """Run the real `kubectl ARGS` (e.g. `kaito get-endpoint ...`) as a subprocess."""
    proc = subprocess.run(
        ["kubectl", *args],
        input=input,
        capture_output=True,
        text=True,
        env=subprocess_env(env),
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def poll(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Wait until predicate() is truthy and return its value (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def assert_usage_error_sends_nothing(sim: Any, args: Sequence[str], needle: str) -> Result:
    """A bad flag or value: exit 2, one `error:` line naming it, empty stdout, and not one request."""
    before = len(sim.requests)
    r = run_cli(*args)
    assert r.exit_code == 2, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("error: ")
    assert needle in r.stderr
    assert len(sim.requests) == before  # not even a GET
    return r
