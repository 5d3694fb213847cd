"""A reader that goes away (`kubectl kaito ... | head`) ends any command quietly with exit 0.

The read end of stdout is closed before the plugin writes, so its first write meets EPIPE,
the same thing `head` does to a long listing.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.helpers import subprocess_env

pytestmark = pytest.mark.e2e


def _run_with_closed_stdout(*args: str) -> tuple[int, str]:
    proc = subprocess.Popen(
        ["kubectl", "kaito", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody will read: the plugin's first write fails with EPIPE
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err


@pytest.mark.parametrize(
    "args",
    [
        ("models", "list"),
        ("status", "-A"),
        ("status", "--workspace-name", "ws-0", "-o", "yaml"),
        ("get-endpoint", "--workspace-name", "ws-0"),
    ],
)
def test_closed_stdout_is_a_quiet_exit_0(sim: Any, args: tuple[str, ...]) -> None:
    for i in range(3):
        sim.seed_workspace(f"ws-{i}")
    code, err = _run_with_closed_stdout(*args)
    assert code == 0, err
    assert err == ""  # no traceback, no "Exception ignored", no error line
