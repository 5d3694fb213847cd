"""Issue 12, waits and wrong answers: cut log streams, --path encoding, one failure code for every wait,
the wait display and its heartbeat, LoadBalancer waits, logs -f waiting for pods, --check messages,
private NodePort addresses."""

from __future__ import annotations

import re
import threading
from typing import Any

from tests.helpers import Result, poll, run_cli

NS = "default"


def run_in_thread(*args: str, env: dict[str, str] | None = None) -> tuple[threading.Thread, dict[str, Result]]:
    box: dict[str, Result] = {}
    t = threading.Thread(target=lambda: box.setdefault("r", run_cli(*args, env=env)), daemon=True)
    t.start()
    return t, box


# ---- a cut log stream is not a normal end -----------------------------------------------------------


def test_a_cut_log_stream_is_exit_1_naming_the_pod_as_kubectl(sim: Any, kubectl: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    sim.append_logs(NS, "ws-0", ["one", "two"])
    sim.cut_logs(NS, "ws-0")
    # kubectl 1.37.1 on the same stream: the lines, then `error: unexpected EOF`, exit 1
    k = kubectl("logs", "ws-0")
    assert (k.returncode, k.stdout, k.stderr) == (1, "one\ntwo\n", "error: unexpected EOF\n")
    for follow in ((), ("-f",)):
        r = run_cli("logs", "ws", *follow)
        assert r.exit_code == 1, r.stderr
        assert r.stdout == "one\ntwo\n"
        assert r.stderr.startswith("error: pod/ws-0: the log stream broke off: unexpected EOF\n"), r.stderr
        assert "ended" not in r.stderr


def test_follow_a_cut_stream_keeps_the_other_pods_lines_and_exits_1(sim: Any) -> None:
    sim.seed_workspace("ws", count=2, logs=False)
    t, box = run_in_thread("logs", "ws", "-f")
    poll(lambda: len([q for q in sim.requests if q.path.endswith("/log")]) == 2)
    sim.append_logs(NS, "ws-0", ["zero"])
    sim.append_logs(NS, "ws-1", ["one"])
    sim.cut_logs(NS, "ws-0")
    sim.append_logs(NS, "ws-1", ["one after the cut"])
    sim.close_logs(NS, "ws-1")
    t.join(30)
    r = box["r"]
    assert r.exit_code == 1, r.stderr
    assert sorted(r.stdout.splitlines()) == ["[ws-0/ws] zero", "[ws-1/ws] one", "[ws-1/ws] one after the cut"]
    assert "error: pod/ws-0: the log stream broke off: unexpected EOF" in r.stderr
    assert "pod/ws-0 ended" not in r.stderr
    assert "pod/ws-1 ended" in r.stderr
    assert "error: the log stream of pod/ws-0 broke off (unexpected EOF)" in r.stderr


# ---- get-endpoint --path: one line, encoded ----------------------------------------------------------


def test_path_with_a_newline_or_control_character_is_a_usage_error(sim: Any) -> None:
    sim.seed_workspace("ws")
    for bad in ("/v1/chat\n/evil", "/v1/\tx", "/v1/\x1b[31m"):
        r = run_cli("get-endpoint", "ws", "--path", bad)
        assert r.exit_code == 2, r
        assert r.stdout == ""
        assert r.stderr.startswith("error: invalid --path value ") and "control character" in r.stderr
        assert len(r.stderr.splitlines()) == 2  # error + hint, the newline shown escaped
    assert not [q for q in sim.requests if "workspaces" in q.path]  # refused before any request


def test_path_with_a_space_is_percent_encoded_and_slashes_kept(sim: Any) -> None:
    sim.seed_workspace("ws")
    r = run_cli("get-endpoint", "ws", "--path", "v1/my model/<x>")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "http://ws.default.svc.cluster.local/v1/my%20model/%3Cx%3E\n"
    r = run_cli("get-endpoint", "ws", "--path", "/v1/a%20b", "-o", "json")
    assert '"endpoint": "http://ws.default.svc.cluster.local/v1/a%20b"' in r.stdout  # not encoded twice


# ---- every wait: one failure code, one display ------------------------------------------------------

SKU = "Standard_NC24ads_A100_v4"
FAST_BEAT = {"KUBECTL_KAITO_HEARTBEAT": "0.2"}  # the 30 s heartbeat, shortened (read once per wait)


def test_a_workspace_failing_while_waited_on_is_exit_1_workspace_failed_in_every_wait(sim: Any) -> None:
    sim.seed_workspace("ws", ready=False)
    sim.controller.fail_workspace("ws", reason="ImagePullError", message="pull access denied")
    for args in (
        ("get-endpoint", "ws", "--wait", "--timeout", "60s", "-o", "json"),
        ("get-endpoint", "ws", "--wait", "--timeout", "60s", "--check"),
    ):
        r = run_cli(*args)
        assert r.exit_code == 1, r.stderr
        assert r.stdout == ""
        assert (
            "error: workspace default/ws failed: InferenceReady is False (ImagePullError): pull access denied"
            in r.stderr
        )
    assert '"code": "WORKSPACE_FAILED"' in run_cli("get-endpoint", "ws", "--wait", "-o", "json").stderr
    # deploy --wait of a workspace that fails: the same code and message
    t, box = run_in_thread(
        "deploy",
        "--workspace-name",
        "new",
        "--model",
        "phi-4-mini-instruct",
        "--instance-type",
        SKU,
        "--wait",
        "--timeout",
        "60s",
        "-o",
        "json",
    )
    poll(lambda: sim.get("kaito.sh/v1beta1", "Workspace", "new") is not None)
    sim.controller.fail_workspace("new", reason="ImagePullError", message="pull access denied")
    t.join(60)
    r = box["r"]
    assert r.exit_code == 1 and r.stdout == ""
    assert "error: workspace default/new failed: InferenceReady is False (ImagePullError)" in r.stderr
    assert '"code": "WORKSPACE_FAILED"' in r.stderr


def test_an_unchanging_wait_off_a_terminal_repeats_its_line_with_the_elapsed_time(sim_factory: Any) -> None:
    sim_factory(ready_after=120)  # never ready during the test
    t, box = run_in_thread(
        "deploy",
        "--workspace-name",
        "slow",
        "--model",
        "phi-4-mini-instruct",
        "--instance-type",
        SKU,
        "--wait",
        "--timeout",
        "1.5s",
        env=FAST_BEAT,
    )
    t.join(30)
    r = box["r"]
    assert r.exit_code == 4, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("waiting for workspace default/slow")]
    assert len(lines) >= 4, r.stderr  # a line per change and a heartbeat every 0.2 s: never silent
    assert lines[-1].endswith("[1s]"), lines  # `<text> [<elapsed>]`
    # get-endpoint --wait looks alike
    r = run_cli("get-endpoint", "slow", "--wait", "--timeout", "1s", env=FAST_BEAT)
    assert r.exit_code == 4
    waits = [ln for ln in r.stderr.splitlines() if ln.startswith("waiting for workspace default/slow: ")]
    assert len(waits) >= 3 and waits[0].endswith("[0s]"), r.stderr
    shape = re.compile(r"waiting for workspace default/slow: \w+: ResourceReady=.* \[\d+s\]")
    assert all(shape.fullmatch(ln) for ln in lines[1:] + waits), (lines, waits)


def test_delete_wait_uses_the_same_display_and_heartbeat(sim: Any) -> None:
    sim.seed_workspace("ws")
    sim.set_operator(False)  # nobody removes KAITO's finalizer
    r = run_cli("delete", "ws", "--yes", "--wait", "--timeout", "1s", env=FAST_BEAT)
    assert r.exit_code == 4
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("waiting for workspace default/ws to be deleted [")]
    assert len(lines) >= 3, r.stderr


def test_a_wait_on_a_terminal_shows_the_elapsed_time(sim_factory: Any) -> None:
    sim_factory(ready_after=120)
    r = run_cli(
        "deploy",
        "--workspace-name",
        "slow",
        "--model",
        "phi-4-mini-instruct",
        "--instance-type",
        SKU,
        "--wait",
        "--timeout",
        "1.2s",
        stderr_tty=True,
        env={"NO_COLOR": "", "TERM": "xterm-256color"},
    )
    assert r.exit_code == 4
    assert "\x1b[?25l" in r.stderr  # the live spinner
    assert "waiting for workspace default/slow: " in r.stderr and "[1s]" in r.stderr  # redrawn with the time


# ---- a NodePort on a node's InternalIP is said to be private ----------------------------------------


def test_node_port_on_an_internal_ip_warns_on_stderr_that_it_is_private(sim: Any) -> None:
    sim.seed_workspace("ws")
    svc = sim.get("v1", "Service", "ws", NS)
    svc["spec"]["type"] = "NodePort"
    svc["spec"]["ports"] = [{"name": "http", "port": 80, "targetPort": 5000, "protocol": "TCP", "nodePort": 31000}]
    sim.apply(svc)
    for node in sim.list("v1", "Node"):
        sim.delete("v1", "Node", node["metadata"]["name"], force=True)
    sim.add_node("a-node", internal_ip="10.0.0.11")
    r = run_cli("get-endpoint", "ws", "--external")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "http://10.0.0.11:31000/v1/chat/completions\n"  # stdout unchanged
    assert r.stderr.startswith("warning: 10.0.0.11 is node a-node's InternalIP, a private address")
    assert len(r.stderr.splitlines()) == 1
    sim.add_node("b-node", internal_ip="10.0.0.12", external_ip="40.0.0.12")
    r = run_cli("get-endpoint", "ws", "--external")
    assert (r.stdout, r.stderr) == ("http://40.0.0.12:31000/v1/chat/completions\n", "")  # an ExternalIP: no warning


# ---- get-endpoint --check on a workspace that is not ready or has failed -----------------------------


def test_check_on_a_failed_workspace_gives_the_conditions_message_and_no_wait_hint(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=100)
    sim.seed_workspace("bad", ready=False)
    sim.controller.fail_workspace("bad", reason="ImagePullError", message="pull access denied for x")
    sim.seed_workspace("pend", ready=False)
    for fmt in ("url", "json"):
        r = run_cli("get-endpoint", "bad", "--check", "-o", fmt)
        assert r.exit_code == 4 and r.stdout == ""
        first, hint = r.stderr.splitlines()[:2]
        assert first.startswith(
            "error: workspace default/bad has failed: InferenceReady failed (ImagePullError: pull access denied for x)"
        ), first
        assert "wait" in hint and "--wait" not in hint and "starting" not in r.stderr  # waiting will not fix it
        assert '{"kind"' not in r.stderr and '"apiVersion"' not in r.stderr  # no raw Status object
    r = run_cli("get-endpoint", "pend", "--check", "-o", "json")
    assert r.exit_code == 4
    first = r.stderr.splitlines()[0]
    # the workspace's own state first, then the API server's Status message (not its JSON)
    assert first.startswith("error: workspace default/pend is not ready: InferenceReady=False"), first
    assert first.endswith('(503): no endpoints available for service "pend"'), first


# ---- get-endpoint --external --wait waits for the address -------------------------------------------


def test_external_wait_waits_for_the_load_balancer_address(sim_factory: Any) -> None:
    sim = sim_factory(lb_pending=True)  # the cloud has not assigned the address yet
    sim.seed_workspace("ws", service_type="LoadBalancer")
    t, box = run_in_thread("get-endpoint", "ws", "--external", "--wait", "--timeout", "30s", env=FAST_BEAT)
    poll(lambda: len([q for q in sim.requests if q.path.endswith("/services/ws")]) >= 2)  # asked again
    assert t.is_alive()
    sim.lb_pending = False  # the cloud assigns it
    t.join(30)
    r = box["r"]
    assert r.exit_code == 0, r.stderr
    lb = sim.get("v1", "Service", "ws", NS)["status"]["loadBalancer"]["ingress"][0]
    assert r.stdout == f"http://{lb.get('ip') or lb.get('hostname')}/v1/chat/completions\n"
    assert (
        "waiting for the external address of workspace default/ws: the LoadBalancer service default/ws "
        "has no external address yet [" in r.stderr
    )
    # still pending at --timeout: exit 4, TIMEOUT
    sim.seed_workspace("other", service_type="LoadBalancer")
    sim.lb_pending = True
    svc = sim.get("v1", "Service", "other", NS)
    svc["status"] = {"loadBalancer": {}}
    sim.apply(svc)
    r = run_cli("get-endpoint", "other", "--external", "--wait", "--timeout", "1s", "-o", "json")
    assert r.exit_code == 4 and r.stdout == ""
    assert "error: timed out after 1s waiting for the external address of workspace default/other" in r.stderr
    assert '"code": "TIMEOUT"' in r.stderr


def test_external_wait_waits_for_an_ingress_address(sim: Any) -> None:
    sim.seed_workspace("ws")
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "llm", "namespace": NS},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "ws", "port": {"number": 80}}},
                            }
                        ]
                    }
                }
            ],
        },
    }
    sim.apply(ingress)
    r = run_cli("get-endpoint", "ws", "--external")  # without --wait: not ready yet, exit 4 (not "no route")
    assert r.exit_code == 4 and "the Ingress default/llm routes to service ws but has no address yet" in r.stderr
    t, box = run_in_thread("get-endpoint", "ws", "--external", "--wait", "--timeout", "30s")
    poll(lambda: len([q for q in sim.requests if q.path.endswith("/ingresses")]) >= 3)
    ing = sim.get("networking.k8s.io/v1", "Ingress", "llm", NS)
    ing["status"] = {"loadBalancer": {"ingress": [{"ip": "52.1.2.3"}]}}
    sim.apply(ing)
    t.join(30)
    r = box["r"]
    assert (r.exit_code, r.stdout) == (0, "http://52.1.2.3/v1/chat/completions\n"), r.stderr


# ---- logs -f waits for the pods (kubectl's --pod-running-timeout) -------------------------------------


def test_deploy_then_logs_follow_waits_for_the_pods_and_shows_the_model_download(sim_factory: Any) -> None:
    sim = sim_factory(ready_after=3)
    r = run_cli("deploy", "--workspace-name", "new", "--model", "phi-4-mini-instruct", "--instance-type", SKU)
    assert r.exit_code == 0, r.stderr
    # no pods yet: the old logs -f failed at once with exit 4
    t, box = run_in_thread("logs", "new", "-f", env=FAST_BEAT)
    poll(lambda: kaito_ready(sim, "new"), timeout=30)
    poll(lambda: len([q for q in sim.requests if q.path.endswith("/pods/new-0/log")]) >= 1)
    sim.close_logs(NS, "new-0")
    t.join(30)
    r = box["r"]
    assert r.exit_code == 0, r.stderr
    assert "Starting to load model phi-4-mini-instruct" in r.stdout  # the model download, as it happened
    assert "Application startup complete." in r.stdout
    waits = [ln for ln in r.stderr.splitlines() if ln.startswith("waiting for the pods of workspace default/new: ")]
    assert waits and waits[0].startswith("waiting for the pods of workspace default/new: no pods yet ("), r.stderr
    assert waits[0].endswith("[0s]")


def kaito_ready(sim: Any, name: str) -> bool:
    ws = sim.get("kaito.sh/v1beta1", "Workspace", name, NS) or {}
    return any(
        c.get("type") == "InferenceReady" and c.get("status") == "True"
        for c in (ws.get("status") or {}).get("conditions") or []
    )


def test_logs_follow_gives_up_after_the_pod_running_timeout(sim: Any) -> None:
    sim.seed_workspace("ws", logs=False)
    pod = sim.get("v1", "Pod", "ws-0", NS)
    pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
    sim.apply(pod)
    r = run_cli("logs", "ws", "-f", "--pod-running-timeout=1s")
    assert r.exit_code == 4, r.stderr
    assert r.stdout == ""
    assert (
        "error: timed out after 1s waiting for the pods of workspace default/ws: pod/ws-0 ContainerCreating" in r.stderr
    )
    assert "raise --pod-running-timeout" in r.stderr
    for bad in ("0", "-1s", "soon"):
        r = run_cli("logs", "ws", "-f", "--pod-running-timeout", bad)
        assert r.exit_code == 2 and r.stderr.startswith("error: invalid --pod-running-timeout value"), r.stderr


def test_logs_follow_on_a_workspace_that_fails_while_waited_on_is_workspace_failed(sim: Any) -> None:
    sim.seed_workspace("ws", ready=False, logs=False)
    sim.controller.fail_workspace("ws", reason="ImagePullError", message="pull access denied")
    poll(lambda: "ImagePullBackOff" in str(sim.get("v1", "Pod", "ws-0", NS)["status"]))
    r = run_cli("logs", "ws", "-f")
    assert r.exit_code == 1, r.stderr
    assert (
        "error: workspace default/ws failed: InferenceReady is False (ImagePullError): pull access denied" in r.stderr
    )
