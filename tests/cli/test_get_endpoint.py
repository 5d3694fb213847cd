"""`kubectl kaito get-endpoint` in-process against the simulated cluster: what a user sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_cli

WS = "my-llm"
INTERNAL = "http://my-llm.default.svc.cluster.local/v1/chat/completions"


def get_svc(sim: Any, name: str = WS, ns: str = "default") -> dict[str, Any]:
    svc = sim.get("v1", "Service", name, ns)
    assert svc is not None
    return svc


def set_service(sim: Any, name: str = WS, ns: str = "default", **changes: Any) -> None:
    """Edit the Service KAITO created (as an admin or a cloud controller would)."""
    svc = get_svc(sim, name, ns)
    if "ports" in changes:
        svc["spec"]["ports"] = changes["ports"]
    if "type" in changes:
        svc["spec"]["type"] = changes["type"]
    if "lb" in changes:
        svc["status"] = {"loadBalancer": {"ingress": changes["lb"]}}
    sim.apply(svc)


def make_node_port(sim: Any, node_port: int = 30080) -> None:
    set_service(
        sim,
        type="NodePort",
        ports=[{"name": "http", "port": 80, "targetPort": 5000, "protocol": "TCP", "nodePort": node_port}],
    )


def add_ingress(
    sim: Any, name: str, host: str | None, *, path: str = "/", tls_hosts: list[str] | None = None, port: int = 80
) -> None:
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": WS, "port": {"number": port}}},
                }
            ]
        }
    }
    if host:
        rule["host"] = host
    spec: dict[str, Any] = {"ingressClassName": "nginx", "rules": [rule]}
    if tls_hosts:
        spec["tls"] = [{"hosts": tls_hosts, "secretName": "llm-tls"}]
    sim.apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "default"},
            "spec": spec,
        }
    )


def ge(*args: str) -> Any:
    return run_cli("get-endpoint", "--workspace-name", WS, *args)


def ok_url(r: Any) -> str:
    """A successful url-format run: exactly one line on stdout and nothing on stderr."""
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    return r.stdout.strip()


def failed(r: Any, code: int) -> str:
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    return r.stderr


def paths_since(sim: Any, n: int) -> list[str]:
    return [f"{q.method} {q.path}" for q in sim.requests[n:]]


# ---- internal (ClusterIP) ----------------------------------------------------------------


def test_clusterip_port_80_prints_one_line_without_port(sim: Any) -> None:
    sim.seed_workspace(WS)
    n = len(sim.requests)
    assert ok_url(ge()) == INTERNAL
    # flags -> GET workspace -> GET service: nothing else on the script path (no discovery round trip)
    assert paths_since(sim, n) == [
        f"GET /apis/kaito.sh/v1beta1/namespaces/default/workspaces/{WS}",
        f"GET /api/v1/namespaces/default/services/{WS}",
    ]


def test_clusterip_other_port_is_read_from_the_service(sim: Any) -> None:
    sim.seed_workspace(WS)
    set_service(sim, ports=[{"name": "ray", "port": 6379}, {"name": "http", "port": 8000, "targetPort": 5000}])
    assert ok_url(ge()) == "http://my-llm.default.svc.cluster.local:8000/v1/chat/completions"


def test_cluster_domain_and_path_flags(sim: Any) -> None:
    sim.seed_workspace(WS)
    assert ok_url(ge("--cluster-domain", "corp.local", "--path", "/v1/completions")) == (
        "http://my-llm.default.svc.corp.local/v1/completions"
    )
    assert ok_url(ge("--path", "")) == "http://my-llm.default.svc.cluster.local"


def test_json_has_the_seed_fields_plus_base_url_and_service(sim: Any) -> None:
    sim.seed_workspace(WS)
    r = ge("--format", "json")
    assert r.exit_code == 0 and r.stderr == ""
    assert json.loads(r.stdout) == {
        "workspace": WS,
        "namespace": "default",
        "endpoint": INTERNAL,
        "type": "ClusterIP",
        "port": 80,
        "ready": True,
        "model": "phi-4-mini-instruct",
        "base_url": "http://my-llm.default.svc.cluster.local/v1",
        "service": WS,
        "runtime": "vllm",
        "deleting": False,
    }


def test_yaml_output(sim: Any) -> None:
    sim.seed_workspace(WS)
    r = ge("-o", "yaml")
    assert r.exit_code == 0
    assert yaml.safe_load(r.stdout)["endpoint"] == INTERNAL


def test_unknown_format_is_a_usage_error(sim: Any) -> None:
    sim.seed_workspace(WS)
    assert "unknown output format 'xml'" in failed(ge("-o", "xml"), 2)


# ---- LoadBalancer ---------------------------------------------------------------------------


def test_load_balancer_ip(sim: Any) -> None:
    sim.seed_workspace(WS, service_type="LoadBalancer")
    set_service(sim, lb=[{"ip": "20.123.45.67"}])
    assert ok_url(ge("--external")) == "http://20.123.45.67/v1/chat/completions"
    info = json.loads(ge("-o", "json").stdout)
    # without --external the in-cluster URL stays the endpoint, the LB is listed next to it
    assert info["endpoint"] == INTERNAL and info["type"] == "ClusterIP"
    assert info["external_endpoint"] == "http://20.123.45.67/v1/chat/completions"


def test_load_balancer_hostname(sim: Any) -> None:
    sim.seed_workspace(WS, service_type="LoadBalancer")
    set_service(sim, lb=[{"hostname": "a1b2.elb.us-east-1.amazonaws.com"}])
    r = ge("--external", "-o", "json")
    info = json.loads(r.stdout)
    assert info["endpoint"] == "http://a1b2.elb.us-east-1.amazonaws.com/v1/chat/completions"
    assert (info["type"], info["port"]) == ("LoadBalancer", 80)
    assert info["base_url"] == "http://a1b2.elb.us-east-1.amazonaws.com/v1"


def test_load_balancer_pending_is_exit_4_with_hint(sim_factory: Any) -> None:
    sim = sim_factory(lb_pending=True)
    sim.seed_workspace(WS, service_type="LoadBalancer")
    err = failed(ge("--external"), 4)
    assert "has no external address yet" in err
    assert "hint:" in err


# ---- NodePort -------------------------------------------------------------------------------


def test_node_port_on_external_ip(sim: Any) -> None:
    sim.seed_workspace(WS)
    make_node_port(sim, 30080)
    sim.add_node("edge-1", internal_ip="10.0.9.9", external_ip="40.112.7.8")
    r = ge("--external", "-o", "json")
    info = json.loads(r.stdout)
    assert info["endpoint"] == "http://40.112.7.8:30080/v1/chat/completions"
    assert (info["type"], info["port"]) == ("NodePort", 30080)


def test_node_port_on_internal_ip_when_no_node_has_an_external_one(sim: Any) -> None:
    sim.seed_workspace(WS)
    make_node_port(sim, 31000)
    for node in sim.list("v1", "Node"):
        sim.delete("v1", "Node", node["metadata"]["name"], force=True)
    sim.add_node("b-node", internal_ip="10.0.0.12")
    sim.add_node("a-node", internal_ip="10.0.0.11")
    sim.add_node("down", internal_ip="10.0.0.10", external_ip="40.0.0.10", ready=False)
    r = ge("--external")
    assert (r.exit_code, r.stdout) == (0, "http://10.0.0.11:31000/v1/chat/completions\n")
    assert r.stderr.startswith("warning: 10.0.0.11 is node a-node's InternalIP, a private address")


# ---- Ingress --------------------------------------------------------------------------------


def test_ingress_without_tls(sim: Any) -> None:
    sim.seed_workspace(WS)
    add_ingress(sim, "llm", "llm.example.com")
    assert ok_url(ge("--external")) == "http://llm.example.com/v1/chat/completions"


def test_ingress_with_tls_is_https(sim: Any) -> None:
    sim.seed_workspace(WS)
    add_ingress(sim, "llm", "llm.example.com", tls_hosts=["llm.example.com"])
    info = json.loads(ge("--external", "-o", "json").stdout)
    assert info["endpoint"] == "https://llm.example.com/v1/chat/completions"
    assert (info["type"], info["port"]) == ("Ingress", 443)


def test_ingress_with_a_path_prefix(sim: Any) -> None:
    sim.seed_workspace(WS)
    add_ingress(sim, "shared", "ai.example.com", path="/phi")
    info = json.loads(ge("--external", "-o", "json").stdout)
    assert info["endpoint"] == "http://ai.example.com/phi/v1/chat/completions"
    assert info["base_url"] == "http://ai.example.com/phi/v1"


def test_ingress_to_another_port_is_not_a_route(sim: Any) -> None:
    sim.seed_workspace(WS)
    add_ingress(sim, "dashboard", "ray.example.com", port=8265)
    assert "no external endpoint" in failed(ge("--external"), 3)


def test_no_external_route_names_enable_load_balancer_and_ingress(sim: Any) -> None:
    sim.seed_workspace(WS)
    err = failed(ge("--external"), 3)
    assert "has no external endpoint" in err
    assert "--enable-load-balancer" in err and "Ingress" in err


# ---- readiness ----------------------------------------------------------------------------------


def test_not_ready_in_url_format_is_exit_4_naming_conditions(sim: Any) -> None:
    sim.seed_workspace(WS, ready=False)
    err = failed(ge(), 4)
    assert "is not ready" in err
    assert "InferenceReady=False (WorkspaceInferenceStatusPending: Inference workload is not ready)" in err
    assert f"kubectl kaito status --workspace-name {WS}" in err


def test_not_ready_in_json_format_prints_ready_false_and_exit_0(sim: Any) -> None:
    sim.seed_workspace(WS, ready=False)
    r = ge("-o", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ready"] is False and info["endpoint"] == INTERNAL


def test_wait_watches_until_ready(sim: Any) -> None:
    # a fresh Workspace: the simulator's controller provisions it and marks it ready a moment later
    sim.apply(
        {
            "apiVersion": "kaito.sh/v1beta1",
            "kind": "Workspace",
            "metadata": {"name": WS, "namespace": "default"},
            "resource": {"instanceType": "Standard_NC24ads_A100_v4", "labelSelector": {"matchLabels": {"apps": WS}}},
            "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        }
    )
    n = len(sim.requests)
    r = ge("--wait", "--timeout", "60s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == INTERNAL + "\n"
    assert "waiting for workspace default/my-llm" in r.stderr  # plain progress lines: stderr is not a terminal
    watches = [q for q in sim.requests[n:] if q.query.get("watch") == "true"]
    assert watches and watches[0].query["fieldSelector"] == f"metadata.name={WS}"


def test_wait_on_a_ready_workspace_prints_nothing_but_the_url(sim: Any) -> None:
    sim.seed_workspace(WS)
    assert ok_url(ge("--wait")) == INTERNAL


def test_wait_stops_on_a_failure_reason(sim: Any) -> None:
    sim.seed_workspace(WS, ready=False)
    sim.controller.fail_workspace(WS, reason="ImagePullError", message="pull access denied")
    err = failed(ge("--wait", "--timeout", "60s"), 1)  # WORKSPACE_FAILED, as deploy --wait
    assert "ImagePullError" in err


def test_wait_rejects_a_bad_timeout_before_contacting_the_cluster(sim: Any) -> None:
    n = len(sim.requests)
    assert "--timeout" in failed(ge("--wait", "--timeout", "soon"), 2)
    assert len(sim.requests) == n


def test_missing_workspace_is_exit_3_not_found(sim: Any) -> None:
    r = run_cli("get-endpoint", "--workspace-name", "nope", "-o", "json")
    err = failed(r, 3)
    assert 'workspace "nope" not found' in err
    assert json.loads(err.strip().splitlines()[-1])["code"] == "NOT_FOUND"


def test_tuning_workspace_is_exit_1_with_the_reason(sim: Any) -> None:
    sim.seed_workspace("tune", tuning=True)
    err = failed(run_cli("get-endpoint", "--workspace-name", "tune"), 1)
    assert "tuning workspace" in err and "serves no endpoint" in err


def test_missing_service_says_so(sim: Any) -> None:
    sim.seed_workspace(WS)
    sim.set_operator(False)  # nobody recreates it
    sim.delete("v1", "Service", WS, "default", force=True)
    err = failed(ge(), 3)
    assert f"has no inference Service {WS}" in err


def test_invalid_workspace_name_is_a_usage_error(sim: Any) -> None:
    assert "invalid workspace name" in failed(run_cli("get-endpoint", "--workspace-name", "My/LLM"), 2)


def test_workspace_name_is_required(sim: Any) -> None:
    assert "--workspace-name" in failed(run_cli("get-endpoint"), 2)


# ---- namespace resolution -------------------------------------------------------------------------


def test_namespace_from_the_kubeconfig_context(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim.seed_workspace(WS, namespace="team-a")
    monkeypatch.setenv("KUBECONFIG", str(sim.write_kubeconfig(tmp_path / "kc-team-a", namespace="team-a")))
    assert ok_url(ge()) == "http://my-llm.team-a.svc.cluster.local/v1/chat/completions"


def test_namespace_from_the_flag(sim: Any) -> None:
    sim.seed_workspace(WS, namespace="prod")
    assert ok_url(ge("-n", "prod")) == "http://my-llm.prod.svc.cluster.local/v1/chat/completions"
    assert ok_url(run_cli("--namespace", "prod", "get-endpoint", "--workspace-name", WS)).startswith(
        "http://my-llm.prod."
    )


def test_namespace_from_the_context_flag(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim.seed_workspace(WS, namespace="team-b")
    a = sim.kubeconfig(namespace="default", context="ctx-a")
    b = sim.kubeconfig(namespace="team-b", context="ctx-b")
    merged = dict(a)
    for key in ("clusters", "users", "contexts"):
        merged[key] = a[key] + b[key]
    path = tmp_path / "kc-two"
    path.write_text(yaml.safe_dump(merged))
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert "not found" in failed(ge(), 3)  # current context ctx-a -> namespace default
    assert ok_url(ge("--context", "ctx-b")) == "http://my-llm.team-b.svc.cluster.local/v1/chat/completions"


def test_unreachable_server_is_exit_5_without_traceback(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = sim.kubeconfig()
    cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens on port 1
    path = tmp_path / "kc-down"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(path))
    err = failed(ge("-o", "json"), 5)
    assert err.startswith("error: ")
    assert json.loads(err.strip().splitlines()[-1])["code"] == "CLUSTER_UNAVAILABLE"


# ---- --check ----------------------------------------------------------------------------------------


def test_check_reports_the_served_model_through_the_service_proxy(sim: Any) -> None:
    sim.seed_workspace(WS)
    n = len(sim.requests)
    r = ge("--check", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["served_model"] == "phi-4-mini-instruct"
    assert f"GET /api/v1/namespaces/default/services/{WS}:http/proxy/v1/models" in paths_since(sim, n)


def test_check_in_url_format_still_prints_one_line(sim: Any) -> None:
    sim.seed_workspace(WS)
    assert ok_url(ge("--check")) == INTERNAL


def test_check_fails_with_exit_4_when_the_server_does_not_answer(sim: Any) -> None:
    sim.seed_workspace(WS, ready=False)  # no ready pod behind the Service: the proxy answers 503
    err = failed(ge("--check", "-o", "json"), 4)
    assert "/v1/models" in err and "503" in err


def test_wait_on_a_terminal_shows_a_spinner_on_stderr_only(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    sim.seed_workspace(WS, ready=False)
    sim.controller.fail_workspace(WS, reason="ImagePullError")  # ends the wait without any timing
    r = run_cli("get-endpoint", "--workspace-name", WS, "--wait", stderr_tty=True)
    assert r.exit_code == 1 and r.stdout == ""  # WORKSPACE_FAILED, as deploy --wait
    assert "\x1b[?25l" in r.stderr  # rich's live display hides the cursor: a spinner, not plain lines
    assert "ImagePullError" in r.stderr
