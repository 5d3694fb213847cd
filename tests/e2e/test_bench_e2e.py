"""bench through the real `kubectl kaito` dispatch: Ctrl-C prints what was measured so far, exit 130."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import pytest

from tests.helpers import subprocess_env

pytestmark = pytest.mark.e2e


def test_ctrl_c_prints_the_report_so_far_and_exits_130(sim_factory: Any) -> None:
    sim = sim_factory(ttft=0.1, tokens_per_second=100)
    proc = subprocess.Popen(
        [
            "kubectl",
            "kaito",
            "bench",
            "--endpoint",
            sim.openai_url,
            "--requests",
            "1000",
            "--concurrency",
            "2",
            "--max-tokens",
            "5",
            "-o",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(),
    )
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline and sum(1 for q in sim.openai.requests if q["path"] == "/v1/chat/completions") < 6
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    report = json.loads(out)
    assert report["interrupted"] is True
    [run] = report["runs"]
    assert 2 <= run["completed"] < 1000 and run["failed"] == 0  # requests cut short are not counted as failures
    assert run["sent"] >= run["completed"]
    assert "interrupted: the report counts the requests that finished before Ctrl-C" in err
    assert "Traceback" not in err
    time.sleep(0.3)
    assert sim.openai.in_flight == 0  # the connections in flight were closed
