"""`kubectl kaito logs` against the simulated cluster: selection, flags, errors, follow, pipes, Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from typing import Any

import pytest

from tests.helpers import VENV_BIN, Result, poll, run_cli, subprocess_env

NS = "default"


class LiveLogs:
    """`kubectl-kaito ARGS` (or `kubectl ARGS`) as a subprocess; stdout and stderr read as they come."""

    def __init__(self, *args: str, via_kubectl: bool = False) -> None:
        argv = ["kubectl", *args] if via_kubectl else [os.path.join(VENV_BIN, "kubectl-kaito"), *args]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env()
        )
        self.out: queue.Queue[bytes] = queue.Queue()
        self.err: list[str] = []
        self._err_lock = threading.Lock()
        self._readers = [threading.Thread(target=fn, daemon=True) for fn in (self._pump_out, self._pump_err)]
        for t in self._readers:
            t.start()

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.put(line)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._err_lock:
                self.err.append(line.decode(errors="replace"))

    def stderr(self) -> str:
        with self._err_lock:
            return "".join(self.err)

    def read_lines(self, n: int, timeout: float = 20.0) -> list[str]:
        """The next n stdout lines (fails after the deadline)."""
        deadline = time.monotonic() + timeout
        got: list[str] = []
        while len(got) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(got)} of {n} lines: {got!r}; stderr: {self.stderr()!r}"
            try:
                got.append(self.out.get(timeout=left).decode())
            except queue.Empty:
                continue
        return got

    def wait(self, timeout: float = 20.0) -> int:
        """The exit code, once the process has ended and both pipes are read to the end."""
        code = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def live() -> Any:
    started: list[LiveLogs] = []

    def start(*args: str, via_kubectl: bool = False) -> LiveLogs:
        p = LiveLogs(*args, via_kubectl=via_kubectl)
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()


def run_in_thread(*args: str) -> tuple[threading.Thread, dict[str, Result]]:
    """run_cli in a thread (for --follow while the test appends lines)."""
    box: dict[str, Result] = {}
    t = threading.Thread(target=lambda: box.setdefault("r", run_cli(*args)), daemon=True)
    t.start()
    return t, box


def assert_clean(stderr: str) -> None:
    for bad in ("Traceback", "Exception ignored", "BrokenPipeError"):
        assert bad not in stderr, stderr


# ---- one pod, plain reads ------------------------------------------------------------------------


def test_one_pod_prints_its_log_without_prefix(sim: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    sim.append_logs(NS, "ws-0", ["first line", "second line"])
    r = run_cli("logs", "--workspace-name", "ws")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "first line\nsecond line\n"
    assert r.stderr == ""
    [req] = [q for q in sim.requests if q.path.endswith("/pods/ws-0/log")]
    assert req.query.get("container") == "ws"  # the main container, named after the workspace


def test_tail_since_timestamps_and_container_reach_the_api(sim: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    sim.append_logs(NS, "ws-0", [f"line {i}" for i in range(10)])
    r = run_cli("logs", "ws", "--tail", "3", "--since", "90s", "--timestamps", "-c", "ws")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["line 7", "line 8", "line 9"]
    assert all(line[:4].isdigit() and "T" in line.split(" ")[0] for line in lines)  # RFC 3339 stamps
    [req] = [q for q in sim.requests if q.path.endswith("/pods/ws-0/log")]
    assert req.query.get("tailLines") == "3"
    assert req.query.get("sinceSeconds") == "90"
    assert req.query.get("timestamps") == "true"


def test_since_time_is_passed_and_excludes_older_lines(sim: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    sim.append_logs(NS, "ws-0", ["old"])
    r = run_cli("logs", "ws", "--since-time", "2999-01-01T00:00:00Z")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    [req] = [q for q in sim.requests if q.path.endswith("/pods/ws-0/log")]
    assert req.query.get("sinceTime") == "2999-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "args",
    [
        ("--tail", "-5"),
        ("--since", "soon"),
        ("--since-time", "yesterday"),
        ("--since", "5m", "--since-time", "2025-01-01T00:00:00Z"),
    ],
)
def test_bad_flag_values_are_usage_errors_before_any_request(sim: Any, args: tuple[str, ...]) -> None:
    r = run_cli("logs", "ws", *args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("error: ")
    assert sim.requests == []


def test_missing_workspace_is_exit_3(sim: Any) -> None:
    r = run_cli("logs", "--workspace-name", "nope")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert r.stderr.startswith('error: workspace "nope" not found in namespace "default"')


def test_no_pods_yet_says_the_state_and_pending_condition_exit_4(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=600)  # the controller takes ~200 s to make pods
    sim.apply(
        {
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": {"name": "slow", "namespace": NS},
            "resource": {
                "instanceType": "Standard_NC24ads_A100_v4",
                "labelSelector": {"matchLabels": {"apps": "slow"}},
            },
            "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        }
    )
    # KAITO's first reconcile (all conditions False) is asynchronous: wait for it
    sim.wait_until(
        lambda: ((sim.get("kaito.sh/v1beta1", "Workspace", "slow", NS) or {}).get("status") or {}).get("conditions"),
        timeout=5,
    )
    r = run_cli("logs", "slow")
    assert r.exit_code == 4
    assert r.stdout == ""
    first = r.stderr.splitlines()[0]
    # the first condition KAITO v0.12 waits on for a new workspace: its NodeClaims
    assert first.startswith(
        'error: workspace "slow" has no pods yet: state Pending, waiting for NodeClaimReady=False (NodeClaimNotReady)'
    )
    assert "hint: " in r.stderr


def test_pod_flag_picks_one_and_an_unknown_pod_lists_them(sim: Any) -> None:
    sim.seed_workspace("ws", count=3, logs=False)
    for i in range(3):
        sim.append_logs(NS, f"ws-{i}", [f"from {i}"])
    r = run_cli("logs", "ws", "--pod", "ws-2")
    assert (r.exit_code, r.stdout) == (0, "from 2\n")
    r = run_cli("logs", "ws", "--pod", "ws-9")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert "hint: pods of ws: ws-0, ws-1, ws-2" in r.stderr


def test_unknown_container_is_exit_3_with_the_valid_names(sim: Any) -> None:
    sim.seed_workspace("ws")
    r = run_cli("logs", "ws", "-c", "sidecar")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert 'container "sidecar" not found' in r.stderr
    assert "hint: containers: ws" in r.stderr


def test_several_pods_without_follow_come_pod_by_pod_with_prefixes(sim: Any) -> None:
    sim.seed_workspace("ws", count=3, logs=False)
    for i in (2, 0, 1):
        sim.append_logs(NS, f"ws-{i}", [f"a{i}", f"b{i}"])
    r = run_cli("logs", "ws")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "[ws-0/ws] a0",
        "[ws-0/ws] b0",
        "[ws-1/ws] a1",
        "[ws-1/ws] b1",
        "[ws-2/ws] a2",
        "[ws-2/ws] b2",
    ]
    r = run_cli("logs", "ws", "--no-prefix")
    assert r.stdout.splitlines() == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_tuning_job_pod_is_found_by_the_workspace_label(sim: Any) -> None:
    sim.seed_workspace("tune", tuning=True)
    r = run_cli("logs", "tune")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "INFO:root:Loading base model for fine-tuning\n"


def test_crash_loop_shows_current_log_and_hints_previous(sim: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    sim.controller.fail_workspace("ws", reason="ContainerCrashLoopBackOff")
    poll(lambda: "CrashLoopBackOff" in str(sim.get("v1", "Pod", "ws-0", NS)["status"]))
    r = run_cli("logs", "ws")
    assert r.exit_code == 0, r.stderr
    assert "RuntimeError: Engine core initialization failed" in r.stdout
    assert "hint: pod/ws-0 is in CrashLoopBackOff" in r.stderr
    assert "--previous" in r.stderr
    r = run_cli("logs", "ws", "--previous")
    assert r.exit_code == 0, r.stderr
    assert "EngineCore failed to start" in r.stdout
    assert "CrashLoopBackOff" not in r.stderr  # the hint is not repeated once --previous is used
    [req] = [q for q in sim.requests if q.path.endswith("/log") and q.query.get("previous")]
    assert req.query["previous"] == "true"


def test_one_failing_pod_is_a_warning_and_the_others_still_print(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    sim.append_logs(NS, "ws-0", ["zero"])
    sim.append_logs(NS, "ws-1", ["one"])
    # a third pod of the workspace that is not scheduled yet: the API refuses its log
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "ws-2", "namespace": NS, "labels": {"kaito.sh/workspace": "ws"}},
            "spec": {"containers": [{"name": "ws", "image": "x"}]},
        }
    )
    r = run_cli("logs", "ws")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["[ws-0/ws] zero", "[ws-1/ws] one"]
    assert "warning: pod/ws-2: " in r.stderr
    assert "host assigned" in r.stderr


def test_every_stream_failing_is_an_error_with_an_exit_code(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    sim.controller.fail_workspace("ws", reason="ImagePullError")
    poll(lambda: "ImagePullBackOff" in str(sim.get("v1", "Pod", "ws-1", NS)["status"]))
    r = run_cli("logs", "ws")
    assert r.stdout == ""
    assert r.stderr.count("warning: pod/ws-") == 2
    assert 'error: could not read the log of any of the 2 pods of workspace "ws"' in r.stderr
    assert r.exit_code == 4  # every container is still waiting to start: "not ready"
    r = run_cli("logs", "ws", "--pod", "ws-0")
    assert r.exit_code == 4
    assert r.stderr.startswith('error: container "ws" in pod "ws-0" is waiting to start')


# ---- follow --------------------------------------------------------------------------------------


def test_follow_interleaves_whole_lines_from_concurrent_writers(sim: Any) -> None:
    pods, per_pod = 4, 400
    sim.seed_workspace("ws", count=pods, logs=False)
    t, box = run_in_thread("logs", "ws", "-f")
    poll(lambda: len([q for q in sim.requests if q.path.endswith("/log")]) == pods)

    def writer(i: int) -> None:
        for j in range(per_pod):
            # lines of varied length, appended one at a time so the pods' lines really interleave
            sim.append_logs(NS, f"ws-{i}", [f"pod {i} seq {j} " + "y" * (j % 37)])
        sim.close_logs(NS, f"ws-{i}")

    writers = [threading.Thread(target=writer, args=(i,)) for i in range(pods)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(30)
    t.join(30)
    r = box["r"]
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == pods * per_pod
    seqs: dict[int, list[int]] = {i: [] for i in range(pods)}
    for line in lines:
        prefix, text = line.split(" ", 1)
        i = int(prefix[len("[ws-") :].split("/")[0])
        words = text.split(" ")
        assert words[:3] == ["pod", str(i), "seq"], line  # never a line of another pod
        j = int(words[3])
        assert words[4] == "y" * (j % 37), line  # never two lines merged or one split
        seqs[i].append(j)
    assert all(seqs[i] == list(range(per_pod)) for i in range(pods))
    assert sorted(r.stderr.splitlines()) == [f"pod/ws-{i} ended" for i in range(pods)]


def test_follow_a_silent_pod_never_blocks_and_an_ended_pod_is_reported(sim: Any, live: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    p = live("logs", "ws", "-f")
    sim.append_logs(NS, "ws-1", ["one a", "one b"])  # ws-0 says nothing
    assert p.read_lines(2) == ["[ws-1/ws] one a\n", "[ws-1/ws] one b\n"]
    sim.close_logs(NS, "ws-1")
    poll(lambda: "pod/ws-1 ended" in p.stderr())
    sim.append_logs(NS, "ws-0", ["zero after"])  # the other stream still goes on
    assert p.read_lines(1) == ["[ws-0/ws] zero after\n"]
    assert p.proc.poll() is None
    sim.close_logs(NS, "ws-0")
    assert p.wait() == 0
    assert "pod/ws-0 ended" in p.stderr()
    assert_clean(p.stderr())


def test_ctrl_c_during_follow_exits_130_without_traceback(sim: Any, live: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    p = live("logs", "ws", "-f")
    sim.append_logs(NS, "ws-0", ["hello"])
    assert p.read_lines(1) == ["[ws-0/ws] hello\n"]
    p.proc.send_signal(signal.SIGINT)
    assert p.wait() == 130
    assert_clean(p.stderr())


def test_closed_pipe_ends_quietly(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    sim.append_logs(NS, "ws-0", ["first"])
    proc = subprocess.Popen(
        [os.path.join(VENV_BIN, "kubectl-kaito"), "logs", "ws", "-f"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"[ws-0/ws] first\n"  # what `| head -1` reads
        proc.stdout.close()
        i = 0
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:  # more output hits the closed pipe
            sim.append_logs(NS, f"ws-{i % 2}", [f"more {i}"])
            i += 1
            time.sleep(0.02)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        assert_clean(proc.stderr.read().decode())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
