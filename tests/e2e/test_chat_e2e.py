"""chat through the real `kubectl kaito` plugin dispatch: piped stdin, -o json, failures' exit codes."""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from typing import Any

import pytest

from tests.helpers import run_kubectl, subprocess_env

pytestmark = pytest.mark.e2e

MODEL = "phi-4-mini-instruct"


def test_piped_question_through_kubectl(sim: Any) -> None:
    sim.seed_workspace("my-llm", model=MODEL, ready=True)

    r = run_kubectl("kaito", "chat", "--workspace-name", "my-llm", input="hi\n")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"Hello from {MODEL}. You said: hi (turn 1)\n"
    assert r.stderr == ""
    [req] = [q for q in sim.openai.requests if q["path"] == "/v1/chat/completions"]
    assert req["model"] == MODEL and req["stream"] is True

    j = run_kubectl("kaito", "chat", "my-llm", "-m", "hi", "-o", "json", "--temperature", "0.1")
    assert j.exit_code == 0, j.stderr
    assert json.loads(j.stdout)["choices"][0]["message"]["content"].startswith(f"Hello from {MODEL}.")


def test_failures_keep_their_exit_codes_through_kubectl(sim: Any) -> None:
    sim.seed_workspace("pending", ready=False)

    missing = run_kubectl("kaito", "chat", "--workspace-name", "nope", "-m", "hi")
    assert missing.exit_code == 3 and missing.stdout == ""

    not_ready = run_kubectl("kaito", "chat", "--workspace-name", "pending", input="hi\n")
    assert not_ready.exit_code == 4 and not_ready.stdout == ""
    assert "is not ready" in not_ready.stderr

    empty = run_kubectl("kaito", "chat", "--workspace-name", "pending")  # stdin is /dev/null
    assert empty.exit_code == 2 and "stdin was empty" in empty.stderr


class Terminal:
    """`kubectl ARGS` on a pseudo-terminal (so Ctrl-C is a real SIGINT from the line discipline)."""

    def __init__(self, *args: str) -> None:
        import pty  # POSIX only

        env = subprocess_env({"TERM": "dumb"})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the session leader of the pty, then kubectl
            os.execvpe("kubectl", ["kubectl", *args], env)
        self.buf = b""
        self.pos = 0
        self.exit_code: int | None = None

    def expect(self, needle: str, timeout: float = 30.0) -> str:
        """Read until `needle` appears after what was already matched (a deadline, not a sleep)."""
        want = needle.encode()
        deadline = time.monotonic() + timeout
        while want not in self.buf[self.pos :]:
            if time.monotonic() > deadline:
                shown = self.buf.decode(errors="replace")
                raise AssertionError(f"{needle!r} did not appear; the terminal shows {shown!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.buf += os.read(self.fd, 4096)
                except OSError:  # the child exited and the pty closed
                    pass
        start = self.pos
        self.pos = self.buf.index(want, self.pos) + len(want)
        return self.buf[start : self.pos].decode(errors="replace")

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                self.exit_code = os.waitstatus_to_exitcode(status)
                return self.exit_code
            self.drain()
        raise AssertionError("the session did not end")

    def kill(self) -> None:
        """End the child if a failed assertion left it running (never leave a process behind)."""
        if self.exit_code is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            self.exit_code = -9

    def drain(self) -> None:
        """Read what is there (a child blocked on a full pty buffer would never exit)."""
        ready, _, _ = select.select([self.fd], [], [], 0.05)
        if ready:
            try:
                self.buf += os.read(self.fd, 4096)
            except OSError:
                pass


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_terminal_session_ctrl_c_stops_the_answer_not_the_session(sim: Any) -> None:
    sim.seed_workspace("my-llm", model=MODEL, ready=True)
    term = Terminal("kaito", "chat", "--workspace-name", "my-llm")
    try:
        term.expect(f"Connected to workspace my-llm (model {MODEL}). Type /help for commands, /quit to exit.")
        term.expect(">>> ")
        term.send("first\n")
        term.expect(f"Hello from {MODEL}. You said: first (turn 1)")
        term.expect(">>> ")

        sim.openai.slow_delay = 2.0  # a slow model: the answer is still being written when Ctrl-C comes
        sim.openai.mode = "slow"
        term.send("tell me a long story\n")
        term.expect("Hello")
        term.send("\x03")
        term.expect("(answer stopped; it is not kept in the history)")
        term.expect(">>> ")

        sim.openai.mode = "normal"
        term.send("second\n")
        term.expect("You said: second (turn 2)")  # the stopped turn was dropped, the first one kept
        term.expect(">>> ")
        term.send("\x03")  # Ctrl-C at the prompt ends the session
        assert term.wait() == 130
    finally:
        term.kill()
