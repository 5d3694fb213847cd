"""connect through the real `kubectl kaito` plugin dispatch: serve, answer, Ctrl-C, nothing left listening."""

from __future__ import annotations

import signal
import socket
import subprocess
from typing import Any

import httpx
import pytest

from tests.helpers import run_kubectl, subprocess_env

pytestmark = pytest.mark.e2e

MODEL = "phi-4-mini-instruct"


def test_connect_through_kubectl_serves_until_ctrl_c(sim: Any) -> None:
    sim.seed_workspace("my-llm", model=MODEL, ready=True)
    proc = subprocess.Popen(
        ["kubectl", "kaito", "connect", "my-llm", "--port=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("OPENAI_BASE_URL=http://127.0.0.1:"), line
        url = line.split("=", 1)[1]
        r = httpx.post(
            url + "/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer sk-anything"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == f"Hello from {MODEL}. You said: hi (turn 1)"
    finally:
        proc.send_signal(signal.SIGINT)  # kubectl execs the plugin: the signal reaches it as from a terminal
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))  # nothing left listening


def test_connect_failures_keep_their_exit_codes_through_kubectl(sim: Any) -> None:
    sim.seed_workspace("pending", ready=False)
    missing = run_kubectl("kaito", "connect", "nope", "--port", "0")
    assert missing.exit_code == 3 and missing.stdout == ""
    not_ready = run_kubectl("kaito", "connect", "pending", "--port", "0")
    assert not_ready.exit_code == 4 and not_ready.stdout == "" and "is not ready" in not_ready.stderr
    bad = run_kubectl("kaito", "connect", "pending", "--port", "-5")
    assert bad.exit_code == 2 and "invalid --port -5" in bad.stderr
