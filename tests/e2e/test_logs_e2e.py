"""logs through the real `kubectl kaito` plugin dispatch, checked against kubectl's own `logs`."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from typing import Any

import pytest

from tests.cli.test_logs import LiveLogs, assert_clean
from tests.helpers import run_kubectl, subprocess_env

pytestmark = pytest.mark.e2e
NS = "default"


def test_logs_through_kubectl_match_kubectl_logs(sim: Any) -> None:
    sim.seed_workspace("ws", count=3, logs=False)
    for i in range(3):
        sim.append_logs(NS, f"ws-{i}", [f"pod {i} line {j}" for j in range(5)])

    ours = run_kubectl("kaito", "logs", "--workspace-name", "ws")
    assert ours.exit_code == 0, ours.stderr
    theirs = run_kubectl("logs", "-l", "kaito.sh/workspace=ws", "--prefix", "--tail=-1")
    assert theirs.exit_code == 0, theirs.stderr
    # kubectl's prefix is [pod/NAME/CONTAINER]; ours is [NAME/CONTAINER]
    assert sorted(ours.stdout.splitlines()) == sorted(ln.replace("[pod/", "[", 1) for ln in theirs.stdout.splitlines())
    assert ours.stdout.splitlines()[:2] == ["[ws-0/ws] pod 0 line 0", "[ws-0/ws] pod 0 line 1"]  # pod by pod

    one = run_kubectl("kaito", "logs", "ws", "--pod", "ws-1", "--tail", "2")
    assert one.stdout == run_kubectl("logs", "ws-1", "--tail", "2").stdout == "pod 1 line 3\npod 1 line 4\n"

    missing = run_kubectl("kaito", "logs", "--workspace-name", "nope")
    assert (missing.exit_code, missing.stdout) == (3, "")


def test_follow_piped_into_head_ends_quietly_with_exit_0(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    sim.append_logs(NS, "ws-1", ["first"])
    proc = subprocess.Popen(
        ["bash", "-c", "set -o pipefail; kubectl kaito logs --workspace-name ws -f | head -1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    stop = threading.Event()

    def keep_writing() -> None:  # the plugin only notices the closed pipe on its next write
        i = 0
        while not stop.is_set():
            sim.append_logs(NS, "ws-1", [f"more {i}"])  # after "first" in the same pod, so head sees "first"
            i += 1
            time.sleep(0.02)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        stop.set()
        writer.join(5)
        if proc.poll() is None:
            proc.kill()
    assert out == b"[ws-1/ws] first\n"
    assert proc.returncode == 0  # pipefail: this is the plugin's own exit code
    assert_clean(err.decode())


def test_ctrl_c_through_kubectl_exits_130(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    p = LiveLogs("kaito", "logs", "ws", "-f", via_kubectl=True)
    try:
        sim.append_logs(NS, "ws-0", ["hello"])
        assert p.read_lines(1) == ["[ws-0/ws] hello\n"]
        p.proc.send_signal(signal.SIGINT)  # kubectl exec()s the plugin: the signal reaches it directly
        assert p.wait() == 130
        assert_clean(p.stderr())
    finally:
        p.kill()
