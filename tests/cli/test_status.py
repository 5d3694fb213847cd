"""`kubectl kaito status` against the simulated cluster: one workspace, the list, pagination, watch."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.helpers import VENV_BIN, assert_usage_error_sends_nothing, poll, run_cli, run_kubectl, subprocess_env

WS_PATH = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"


def bare_workspace(name: str, namespace: str = "default", ready: bool = True) -> dict[str, Any]:
    """A Workspace as the controller leaves it, loaded straight into the store (fast, no controller)."""
    conds = [
        {
            "type": "ResourceReady",
            "status": "True",
            "reason": "workspaceResourceStatusSuccess",
            "message": "ok",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        },
        {
            "type": "InferenceReady",
            "status": "True" if ready else "False",
            "reason": "WorkspaceInferenceStatusSuccess" if ready else "WorkspaceInferenceStatusPending",
            "message": "",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        },
    ]
    return {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": name, "namespace": namespace},
        "resource": {
            "instanceType": "Standard_NC24ads_A100_v4",
            "labelSelector": {"matchLabels": {"kaito.sh/workspace": name}},
        },
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        "status": {"conditions": conds, "state": "Ready" if ready else "Pending", "targetNodeCount": 1},
    }


class Plugin:
    """`kubectl-kaito ARGS` as a subprocess whose stdout is read line by line (for --watch)."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "kubectl-kaito"), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """The first new stdout line that satisfies predicate; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no matching line; stdout so far: {self.seen!r}")

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C: SIGINT, then the exit code and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


# ---- one workspace ------------------------------------------------------------------------------


def test_status_of_a_ready_workspace_shows_every_section_and_the_endpoint(sim: Any) -> None:
    sim.seed_workspace("my-llm", model="phi-4-mini-instruct", ready=True)
    r = run_cli("status", "--workspace-name", "my-llm")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Name:           my-llm" in lines
    assert "Model:          phi-4-mini-instruct" in lines
    assert "Runtime:        vllm" in lines
    assert "State:          Ready" in lines
    assert "Endpoint:       http://my-llm.default.svc.cluster.local/v1/chat/completions" in lines
    i = lines.index("Conditions:")
    assert lines[i + 1].split() == ["TYPE", "STATUS", "REASON", "MESSAGE", "AGE"]
    types = [ln.split()[0] for ln in lines[i + 2 : lines.index("Worker nodes:") - 1]]
    assert "ResourceReady" in types and "InferenceReady" in types
    j = lines.index("Pods:")
    assert lines[j + 1].split() == ["NAME", "PHASE", "READY", "RESTARTS", "AGE"]
    assert lines[j + 2].split()[:4] == ["my-llm-0", "Running", "1/1", "0"]
    assert r.stderr == ""


def test_status_name_json_is_the_workspace_as_kubectl_get_prints_it(sim: Any) -> None:
    """One shape for one and many: the Workspace object (kubectl 1.37.1 `get wk NAME -o json`)."""
    sim.seed_workspace("my-llm", ready=True)
    r = run_cli("status", "my-llm", "-o", "json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    theirs = run_kubectl("get", "workspaces.kaito.sh", "my-llm", "-o", "json")
    assert d == json.loads(theirs.stdout)
    assert d["kind"] == "Workspace" and d["metadata"]["name"] == "my-llm"
    # the list's items are what the single form prints
    assert json.loads(run_cli("status", "-o", "json").stdout)["items"] == [d]


def test_status_yaml_is_the_same_object(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=True)
    as_json = json.loads(run_cli("status", "my-llm", "-o", "json").stdout)
    as_yaml = yaml.safe_load(run_cli("status", "my-llm", "-o", "yaml").stdout)
    assert as_yaml == as_json


def test_status_of_a_pending_workspace_has_no_endpoint_yet(sim: Any) -> None:
    sim.seed_workspace("slow", ready=False)
    r = run_cli("status", "slow")
    assert r.exit_code == 0, r.stderr
    assert "Endpoint:       <pending> (the model server is not ready yet)" in r.stdout.splitlines()


def test_status_of_a_failed_workspace_shows_the_reason_and_its_warning_event(sim: Any) -> None:
    sim.seed_workspace("broken", ready=False)
    sim.controller.fail_workspace("broken", reason="ImagePullError", message="Back-off pulling image kaito-base")
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "broken-0.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "broken-0", "namespace": "default"},
            "type": "Warning",
            "reason": "Failed",
            "message": "Failed to pull image: not found",
            "lastTimestamp": "2025-01-01T00:00:00Z",
        }
    )
    r = run_cli("status", "broken")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    state = next(ln for ln in lines if ln.startswith("State:"))
    assert "InferenceReady failed: ImagePullError" in state
    assert any(ln.split()[:3] == ["InferenceReady", "False", "ImagePullError"] for ln in lines)
    k = lines.index("Warning events:")
    assert any("pod/broken-0" in ln and "Failed to pull image" in ln for ln in lines[k:])
    listed = run_cli("status").stdout.splitlines()
    assert listed[0].split()[-2:] == ["STATUS", "AGE"] and listed[1].split()[-2] == "ImagePullError"


def test_status_of_a_load_balanced_workspace_also_shows_the_external_endpoint(sim: Any) -> None:
    sim.seed_workspace("public", ready=True, service_type="LoadBalancer")
    text = run_cli("status", "public").stdout.splitlines()
    assert "Endpoint:       http://public.default.svc.cluster.local/v1/chat/completions" in text
    external = next(ln for ln in text if ln.startswith("External:")).split()[1]
    assert external.startswith("http://") and external.endswith("/v1/chat/completions")
    assert json.loads(run_cli("status", "-o", "json").stdout)["items"][0]["metadata"]["name"] == "public"


def test_status_without_kaito_installed_is_exit_1_provider_not_installed(sim: Any) -> None:
    sim.set_kaito_installed(False)
    r = run_cli("status", "-o", "json")
    assert r.exit_code == 1 and r.stdout == ""
    assert json.loads(r.stderr.strip().splitlines()[-1])["code"] == "PROVIDER_NOT_INSTALLED"


def test_status_of_a_missing_workspace_is_exit_3_with_empty_stdout(sim: Any) -> None:
    r = run_cli("status", "nope")
    assert r.exit_code == 3
    assert r.stdout == ""
    assert 'workspace "nope" not found in namespace "default"' in r.stderr


def test_status_not_found_in_json_mode_also_prints_a_json_error(sim: Any) -> None:
    r = run_cli("status", "nope", "-o", "json")
    assert r.exit_code == 3 and r.stdout == ""
    err = json.loads(r.stderr.strip().splitlines()[-1])
    assert err["code"] == "NOT_FOUND"


def test_status_one_workspace_costs_few_requests(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=True)
    run_cli("status", "my-llm")  # discovery is asked once per process; measure a second run too
    before = len(sim.requests)
    assert run_cli("status", "my-llm").exit_code == 0
    made = sim.requests[before:]
    # discovery, the workspace, its pods, the Warning events, the Service
    assert len(made) <= 5, [(q.method, q.path) for q in made]


# ---- the list ---------------------------------------------------------------------------------


def test_status_without_name_lists_the_namespace(sim: Any) -> None:
    sim.seed_workspace("a-llm", ready=True)
    sim.seed_workspace("b-llm", ready=False)
    sim.seed_workspace("elsewhere", namespace="team-b", ready=True)
    r = run_cli("status")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == [
        "NAME",
        "MODEL",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "JOBSTARTED",
        "SUCCEEDED",
        "STATUS",
        "AGE",
    ]
    assert [ln.split()[0] for ln in lines[1:]] == ["a-llm", "b-llm"]
    a = lines[1].split()
    assert a[1] == "phi-4-mini-instruct" and a[4] == "True"


def test_status_all_namespaces_adds_the_namespace_column(sim: Any) -> None:
    sim.seed_workspace("a-llm", ready=True)
    sim.seed_workspace("elsewhere", namespace="team-b", ready=True)
    r = run_cli("status", "-A")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [ln.split()[:2] for ln in lines[1:]] == [["default", "a-llm"], ["team-b", "elsewhere"]]


def test_status_list_wide_json_and_yaml(sim: Any) -> None:
    sim.seed_workspace("a-llm", ready=True)
    wide = run_cli("status", "-o", "wide")
    assert wide.exit_code == 0, wide.stderr
    head, row = wide.stdout.splitlines()[:2]
    assert head.split()[-3:] == ["STATE", "NODES", "RUNTIME"]
    assert row.split()[-3:] == ["Ready", "1", "vllm"]

    as_json = json.loads(run_cli("status", "-o", "json").stdout)
    assert as_json["kind"] == "List" and as_json["apiVersion"] == "v1"
    assert [w["metadata"]["name"] for w in as_json["items"]] == ["a-llm"]
    assert as_json["items"][0]["kind"] == "Workspace"
    as_yaml = yaml.safe_load(run_cli("status", "-o", "yaml").stdout)
    assert as_yaml["items"][0]["metadata"]["name"] == "a-llm"


def test_status_list_matches_kubectl_get(sim: Any) -> None:
    from tests.helpers import run_kubectl

    sim.seed_workspace("a-llm", ready=True)
    sim.seed_workspace("b-llm", ready=False)
    ours = json.loads(run_cli("status", "-o", "json").stdout)
    theirs = run_kubectl("get", "workspaces.kaito.sh", "-o", "json")
    assert theirs.exit_code == 0, theirs.stderr
    assert [w["metadata"]["name"] for w in ours["items"]] == [
        w["metadata"]["name"] for w in json.loads(theirs.stdout)["items"]
    ]


def test_status_empty_namespace_says_so_on_stderr(sim: Any) -> None:
    r = run_cli("status", "-n", "empty")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert r.stderr.strip() == "No workspaces found in empty namespace."
    j = run_cli("status", "-n", "empty", "-o", "json")
    assert json.loads(j.stdout)["items"] == []


def test_status_list_is_one_paginated_list_without_a_get_per_workspace(sim: Any) -> None:
    for i in range(1200):
        sim.apply(bare_workspace(f"ws-{i:04d}"))
    before = len(sim.requests)
    r = run_cli("status")
    assert r.exit_code == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1201
    made = sim.requests[before:]
    lists = [q for q in made if q.method == "GET" and q.path == WS_PATH]
    assert len(lists) == 3  # 500 + 500 + 200
    assert all(q.query.get("limit") == "500" for q in lists)
    assert sum(1 for q in lists if q.query.get("continue")) == 2
    assert not [q for q in made if q.path.startswith(WS_PATH + "/")], "no GET per workspace"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("status", "-o", "table"), "unknown output format"),
        (("status", "x", "-A"), "across all namespaces"),
        (("status", "a", "-l", "x=y"), "not both"),
        (("status", "a", "b", "-w"), "watch is only supported"),
        (("status", "-o", "jsonpath={.items[*"), "error parsing jsonpath"),
        (("status", "-o", "jsonpath="), "no template given"),
        (("status", "-o", "custom-columns=NAME"), "expected <header>:<json-path-expr>"),
        (("status", "--sort-by", "{.a["), "invalid --sort-by"),
        (("status", "-l", "a\nb"), "invalid label selector"),
        (("status", "Bad_Name"), "invalid workspace name"),
        (("status", "--output-watch-events"), "needs --watch"),
    ],
)
def test_status_usage_errors_are_exit_2_before_any_request(sim: Any, args: tuple[str, ...], needle: str) -> None:
    assert_usage_error_sends_nothing(sim, args, needle)


# ---- watch ---------------------------------------------------------------------------------------


def test_watch_list_prints_a_row_per_change_and_resumes_after_the_server_closes(sim_factory: Any) -> None:
    sim = sim_factory(watch_max_seconds=1)
    sim.seed_workspace("first", ready=True)
    proc = Plugin("status", "-w", "--output-watch-events")
    out = proc
    try:
        assert out.wait_for(lambda ln: ln.split()[:2] == ["EVENT", "NAME"])
        assert out.wait_for(lambda ln: ln.split()[:2] == ["ADDED", "first"])
        sim.apply(bare_workspace("second", ready=False))
        assert out.wait_for(lambda ln: ln.split()[:2] == ["ADDED", "second"])
        # the server ends each watch after 1 s: later changes arrive only if the watch was resumed
        resumed_before = sum(1 for q in sim.requests if q.query.get("watch"))
        poll(lambda: sum(1 for q in sim.requests if q.query.get("watch")) > resumed_before + 1)
        sim.apply(bare_workspace("third", ready=True))
        assert out.wait_for(lambda ln: ln.split()[:2] == ["ADDED", "third"])
        sim.delete("kaito.sh/v1beta1", "Workspace", "second", "default")
        assert out.wait_for(lambda ln: ln.split()[:2] == ["DELETED", "second"])
        watches = [q for q in sim.requests if q.query.get("watch")]
        assert all(q.query.get("resourceVersion") for q in watches), "every watch resumes from a resourceVersion"
    finally:
        code, err = proc.interrupt()
    assert code == 130
    assert "Traceback" not in err


def test_watch_one_workspace_prints_a_line_per_change(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=False)
    proc = Plugin("status", "my-llm", "-w")
    out = proc
    try:
        assert out.wait_for(lambda ln: ln.startswith("Warning events:"))
        sim.controller.fail_workspace("my-llm", reason="ImagePullError", message="no such image")
        line = out.wait_for(lambda ln: "ImagePullError" in ln)
        assert line.split()[1] == "MODIFIED"
        assert "InferenceReady=False(ImagePullError)" in line.split()
    finally:
        code, err = proc.interrupt()
    assert code == 130
    assert "Traceback" not in err


def test_watch_list_as_json_prints_each_workspace_as_kubectl_does(sim: Any) -> None:
    """kubectl 1.37.1 `get wk -w -o json`: each object in full, one after another (no event type)."""
    sim.seed_workspace("first", ready=True)
    proc = Plugin("status", "-w", "-o", "json")
    try:
        proc.wait_for(lambda ln: ln == "}")
        first = json.loads("\n".join(proc.seen))
        assert first["kind"] == "Workspace" and first["metadata"]["name"] == "first"
        sim.apply(bare_workspace("second"))
        proc.wait_for(lambda ln: '"name": "second"' in ln)
    finally:
        code, err = proc.interrupt()
    assert code == 130 and "Traceback" not in err


def test_watch_json_with_output_watch_events_tells_deleted_from_modified(sim: Any) -> None:
    """kubectl 1.37.1 `get wk -w -o json --output-watch-events`: one compact {"type", "object"} line each."""
    sim.seed_workspace("first", ready=True)
    sim.seed_workspace("second", ready=True)
    proc = Plugin("status", "-w", "-o", "json", "--output-watch-events")
    try:
        added = [json.loads(proc.wait_for(lambda ln: ln.startswith("{"))) for _ in range(2)]
        seen = [(e["type"], e["object"]["metadata"]["name"]) for e in added]
        assert seen == [("ADDED", "first"), ("ADDED", "second")]
        sim.delete("kaito.sh/v1beta1", "Workspace", "second", "default")
        events: list[dict[str, Any]] = []
        while not events or events[-1]["type"] != "DELETED":
            events.append(json.loads(proc.wait_for(lambda ln: ln.startswith("{"))))
        assert events[-1]["object"]["metadata"]["name"] == "second"
        assert set(events[-1]) == {"type", "object"}
    finally:
        code, err = proc.interrupt()
    assert code == 130 and "Traceback" not in err


def test_watch_only_skips_the_first_listing(sim: Any) -> None:
    sim.seed_workspace("first", ready=True)
    proc = Plugin("status", "--watch-only", "-o", "name")
    try:
        poll(lambda: any(q.query.get("watch") for q in sim.requests))
        sim.apply(bare_workspace("second"))
        assert proc.wait_for(lambda ln: True) == "workspace.kaito.sh/second"
    finally:
        code, err = proc.interrupt()
    assert code == 130 and "Traceback" not in err
