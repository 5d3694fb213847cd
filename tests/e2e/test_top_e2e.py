"""`kubectl kaito top` through the real kubectl: once into a pipe, a live table on a terminal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

from tests.helpers import run_kubectl, subprocess_env

MODEL = "phi-4-mini-instruct"


def test_into_a_pipe_it_prints_the_table_once(sim) -> None:
    sim.seed_workspace("my-llm", model=MODEL)
    r = run_kubectl("kaito", "top", "--interval", "300ms")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("WORKSPACE   POD") and len(lines) == 2
    assert lines[1].split()[:5] == ["my-llm", "my-llm-0", lines[1].split()[2], "1", "OK"]
    assert "\x1b" not in r.stdout and r.stderr == ""


def test_on_a_terminal_it_redraws_until_ctrl_c(sim) -> None:
    sim.seed_workspace("my-llm", model=MODEL)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        ["kubectl", "kaito", "top", "--interval", "300ms"],
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=subprocess_env({"TERM": "xterm"}),
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and seen.count(b"Every 0.3s: kubectl kaito top") < 3:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(10)
        # drain what the pty still holds
        while select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert text.count("Every 0.3s: kubectl kaito top") >= 3, text  # redrawn in place, every interval
    assert "WORKSPACE" in text and "my-llm-0" in text
    assert code == 130
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
