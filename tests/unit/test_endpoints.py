"""Pure endpoint resolution: Service, Ingress and Node objects in, URLs out (no cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kaito import endpoints
from kubectl_kaito.endpoints import Origin
from kubectl_kaito.errors import NotFoundError, NotReadyError


def svc(
    name: str = "my-llm",
    type_: str = "ClusterIP",
    ports: list[dict[str, Any]] | None = None,
    lb: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Service shaped like the one KAITO's controller creates."""
    if ports is None:
        ports = [
            {"name": "http", "port": 80, "targetPort": 5000, "protocol": "TCP"},
            {"name": "ray", "port": 6379, "targetPort": 6379, "protocol": "TCP"},
        ]
    s: dict[str, Any] = {"metadata": {"name": name, "namespace": "default"}, "spec": {"type": type_, "ports": ports}}
    if lb is not None:
        s["status"] = {"loadBalancer": {"ingress": lb}}
    return s


def ingress(
    name: str,
    rules: list[dict[str, Any]] | None = None,
    tls: list[dict[str, Any]] | None = None,
    address: dict[str, str] | None = None,
    default_backend: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": rules or []}
    if tls is not None:
        spec["tls"] = tls
    if default_backend is not None:
        spec["defaultBackend"] = default_backend
    obj: dict[str, Any] = {"metadata": {"name": name}, "spec": spec}
    if address:
        obj["status"] = {"loadBalancer": {"ingress": [address]}}
    return obj


def rule(host: str | None, path: str = "/", service: str = "my-llm", port: dict[str, Any] | None = None) -> dict:
    backend = {"service": {"name": service, "port": port or {"number": 80}}}
    r: dict[str, Any] = {"http": {"paths": [{"path": path, "pathType": "Prefix", "backend": backend}]}}
    if host is not None:
        r["host"] = host
    return r


def node(name: str, ready: bool = True, internal: str | None = "10.0.0.4", external: str | None = None) -> dict:
    addrs = []
    if internal:
        addrs.append({"type": "InternalIP", "address": internal})
    if external:
        addrs.append({"type": "ExternalIP", "address": external})
    addrs.append({"type": "Hostname", "address": name})
    return {
        "metadata": {"name": name},
        "status": {"addresses": addrs, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def workspace(ready: bool = True, tuning: bool = False) -> dict[str, Any]:
    ws: dict[str, Any] = {"metadata": {"name": "my-llm", "namespace": "default"}}
    if tuning:
        ws["tuning"] = {"preset": {"name": "phi-4-mini-instruct"}, "method": "qlora"}
    else:
        ws["inference"] = {"preset": {"name": "phi-4-mini-instruct"}}
    ws["status"] = {
        "conditions": [
            {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess"},
            {
                "type": "InferenceReady",
                "status": "True" if ready else "False",
                "reason": "WorkspaceInferenceStatusSuccess" if ready else "WorkspaceInferenceStatusPending",
            },
        ]
    }
    return ws


# ---- Origin / URLs ---------------------------------------------------------------------


def test_default_http_port_is_left_out_and_path_is_v1_chat() -> None:
    o = Origin("ClusterIP", "http", "my-llm.default.svc.cluster.local", 80)
    assert o.url() == "http://my-llm.default.svc.cluster.local/v1/chat/completions"
    assert o.base_url == "http://my-llm.default.svc.cluster.local/v1"


def test_other_port_is_kept() -> None:
    o = Origin("ClusterIP", "http", "x.ns.svc.cluster.local", 8080)
    assert o.url() == "http://x.ns.svc.cluster.local:8080/v1/chat/completions"


def test_https_default_port_is_left_out_but_443_on_http_is_kept() -> None:
    assert Origin("Ingress", "https", "llm.example.com", 443).origin == "https://llm.example.com"
    assert Origin("LoadBalancer", "http", "1.2.3.4", 443).origin == "http://1.2.3.4:443"


def test_ipv6_host_is_bracketed() -> None:
    assert Origin("NodePort", "http", "fd00::4", 30080).origin == "http://[fd00::4]:30080"


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("", "http://h"),
        ("/", "http://h"),
        ("v1/models", "http://h/v1/models"),
        ("/v1/completions", "http://h/v1/completions"),
    ],
)
def test_path_normalisation(path: str, url: str) -> None:
    assert Origin("ClusterIP", "http", "h", 80).url(path) == url


def test_ingress_prefix_goes_before_the_path_and_base_url() -> None:
    o = Origin("Ingress", "https", "ai.example.com", 443, "/llm")
    assert o.url() == "https://ai.example.com/llm/v1/chat/completions"
    assert o.url("") == "https://ai.example.com/llm"
    assert o.base_url == "https://ai.example.com/llm/v1"


# ---- the Service --------------------------------------------------------------------------


def test_http_port_prefers_the_port_named_http() -> None:
    ports = [{"name": "ray", "port": 6379}, {"name": "http", "port": 8000}]
    assert endpoints.http_port(svc(ports=ports))["port"] == 8000


def test_http_port_falls_back_to_first_tcp_port() -> None:
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "api", "port": 5000}]
    assert endpoints.http_port(svc(ports=ports))["port"] == 5000


def test_service_without_tcp_port_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no TCP port"):
        endpoints.http_port(svc(ports=[]))


def test_port_ref_uses_the_name_when_there_is_one() -> None:
    assert endpoints.port_ref({"name": "http", "port": 80}) == "http"
    assert endpoints.port_ref({"port": 8080}) == 8080


def test_internal_origin_with_port_80_and_custom_domain() -> None:
    o = endpoints.internal_origin(svc(), "prod", "corp.internal")
    assert o.url() == "http://my-llm.prod.svc.corp.internal/v1/chat/completions"
    assert (o.kind, o.port) == ("ClusterIP", 80)


def test_internal_origin_reads_the_real_port() -> None:
    o = endpoints.internal_origin(svc(ports=[{"name": "http", "port": 8000}]), "default")
    assert o.url() == "http://my-llm.default.svc.cluster.local:8000/v1/chat/completions"


# ---- LoadBalancer ---------------------------------------------------------------------------


def test_load_balancer_ip() -> None:
    o = endpoints.load_balancer_origin(svc(type_="LoadBalancer", lb=[{"ip": "20.123.45.67"}]))
    assert o is not None and o.url() == "http://20.123.45.67/v1/chat/completions"


def test_load_balancer_hostname() -> None:
    o = endpoints.load_balancer_origin(svc(type_="LoadBalancer", lb=[{"hostname": "a1.elb.amazonaws.com"}]))
    assert o is not None and o.url() == "http://a1.elb.amazonaws.com/v1/chat/completions"


def test_load_balancer_pending() -> None:
    s = svc(type_="LoadBalancer", lb=[])
    assert endpoints.load_balancer_origin(s) is None
    assert endpoints.load_balancer_pending(s)
    assert not endpoints.load_balancer_pending(svc())


# ---- Ingress ---------------------------------------------------------------------------------


def test_ingress_host_without_tls_is_http() -> None:
    o = endpoints.ingress_origin([ingress("a", [rule("llm.example.com")])], svc())
    assert o == Origin("Ingress", "http", "llm.example.com", 80, "")


def test_ingress_host_with_tls_is_https_443() -> None:
    ing = ingress("a", [rule("llm.example.com")], tls=[{"hosts": ["llm.example.com"], "secretName": "t"}])
    o = endpoints.ingress_origin([ing], svc())
    assert o is not None and o.url() == "https://llm.example.com/v1/chat/completions" and o.port == 443


def test_ingress_tls_wildcard_covers_one_label_only() -> None:
    tls = [{"hosts": ["*.example.com"]}]
    one = endpoints.ingress_origin([ingress("a", [rule("llm.example.com")], tls=tls)], svc())
    two = endpoints.ingress_origin([ingress("a", [rule("a.llm.example.com")], tls=tls)], svc())
    assert one is not None and one.scheme == "https"
    assert two is not None and two.scheme == "http"


def test_ingress_path_prefix() -> None:
    o = endpoints.ingress_origin([ingress("a", [rule("ai.example.com", path="/llm/")])], svc())
    assert o is not None and o.url() == "http://ai.example.com/llm/v1/chat/completions"


@pytest.mark.parametrize(
    ("path", "prefix"), [("/", ""), (None, ""), ("/llm", "/llm"), ("/llm/", "/llm"), ("/llm(/|$)(.*)", "/llm")]
)
def test_path_prefix(path: str | None, prefix: str) -> None:
    assert endpoints.path_prefix(path) == prefix


def test_ingress_to_another_service_or_port_does_not_count() -> None:
    other_svc = ingress("a", [rule("x.example.com", service="other")])
    dashboard = ingress("b", [rule("y.example.com", port={"number": 8265})])
    assert endpoints.ingress_origin([other_svc, dashboard], svc()) is None


def test_ingress_backend_by_port_name() -> None:
    o = endpoints.ingress_origin([ingress("a", [rule("x.example.com", port={"name": "http"})])], svc())
    assert o is not None and o.host == "x.example.com"


def test_ingress_without_host_uses_its_status_address() -> None:
    ing = ingress("a", [rule(None, path="/phi")], address={"ip": "52.1.2.3"})
    o = endpoints.ingress_origin([ing], svc())
    assert o is not None and o.url() == "http://52.1.2.3/phi/v1/chat/completions"


def test_ingress_without_host_or_address_and_wildcard_host_are_skipped() -> None:
    assert endpoints.ingress_origin([ingress("a", [rule(None)])], svc()) is None
    assert endpoints.ingress_origin([ingress("a", [rule("*.example.com")])], svc()) is None


def test_ingress_default_backend() -> None:
    backend = {"service": {"name": "my-llm", "port": {"number": 80}}}
    ing = ingress("a", [], address={"hostname": "lb.example.net"}, default_backend=backend)
    o = endpoints.ingress_origin([ing], svc())
    assert o is not None and o.origin == "http://lb.example.net"


def test_ingresses_are_taken_in_name_order() -> None:
    o = endpoints.ingress_origin([ingress("b", [rule("b.example.com")]), ingress("a", [rule("a.example.com")])], svc())
    assert o is not None and o.host == "a.example.com"


# ---- NodePort ---------------------------------------------------------------------------------


def np_svc() -> dict[str, Any]:
    return svc(type_="NodePort", ports=[{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"}])


def test_node_port_prefers_external_ip_of_a_ready_node() -> None:
    nodes = [node("a", internal="10.0.0.1"), node("b", external="40.1.1.1"), node("c", ready=False, external="9.9.9.9")]
    o = endpoints.node_port_origin(np_svc(), nodes)
    assert o is not None and o.url() == "http://40.1.1.1:30080/v1/chat/completions" and o.port == 30080


def test_node_port_falls_back_to_internal_ip() -> None:
    o = endpoints.node_port_origin(np_svc(), [node("b", internal="10.0.0.2"), node("a", internal="10.0.0.1")])
    assert o is not None and o.host == "10.0.0.1"


def test_node_port_without_ready_nodes_is_not_ready() -> None:
    with pytest.raises(NotReadyError, match="no Ready node"):
        endpoints.node_port_origin(np_svc(), [node("a", ready=False)])


def test_node_port_ignored_for_other_types() -> None:
    assert endpoints.node_port_origin(svc(), [node("a")]) is None


# ---- resolve_external ----------------------------------------------------------------------------


class Lister:
    """Records whether a list was asked for (resolution should ask only when needed)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items, self.calls = items, 0

    def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        return self.items


def test_load_balancer_wins_without_listing_anything() -> None:
    ings, nodes = Lister([ingress("a", [rule("x.example.com")])]), Lister([node("a")])
    s = svc(type_="LoadBalancer", lb=[{"ip": "1.2.3.4"}])
    o = endpoints.resolve_external(s, ings, nodes, workspace="my-llm", namespace="default")
    assert o.kind == "LoadBalancer" and (ings.calls, nodes.calls) == (0, 0)


def test_ingress_before_node_port() -> None:
    ings, nodes = Lister([ingress("a", [rule("x.example.com")])]), Lister([node("a")])
    o = endpoints.resolve_external(np_svc(), ings, nodes, workspace="my-llm", namespace="default")
    assert o.kind == "Ingress" and nodes.calls == 0


def test_node_port_when_no_ingress() -> None:
    o = endpoints.resolve_external(np_svc(), Lister([]), Lister([node("a")]), workspace="my-llm", namespace="d")
    assert o.kind == "NodePort" and o.host == "10.0.0.4"


def test_pending_load_balancer_is_not_ready_with_hint() -> None:
    s = svc(type_="LoadBalancer", lb=[])
    with pytest.raises(NotReadyError, match="no external address yet") as ei:
        endpoints.resolve_external(s, Lister([]), Lister([]), workspace="my-llm", namespace="default")
    assert ei.value.hint and "kubectl get service my-llm" in ei.value.hint


def test_no_external_route_names_enable_load_balancer_and_ingress() -> None:
    nodes = Lister([node("a")])
    with pytest.raises(NotFoundError, match="no external endpoint") as ei:
        endpoints.resolve_external(svc(), Lister([]), nodes, workspace="my-llm", namespace="default")
    assert "--enable-load-balancer" in (ei.value.hint or "") and "Ingress" in (ei.value.hint or "")
    assert nodes.calls == 0  # a ClusterIP Service has no nodePort: nodes are not listed


# ---- the JSON object ------------------------------------------------------------------------------


def test_endpoint_info_internal_with_external_listed() -> None:
    s = svc(type_="LoadBalancer", lb=[{"ip": "20.123.45.67"}])
    internal = endpoints.internal_origin(s, "default")
    external = endpoints.load_balancer_origin(s)
    info = endpoints.endpoint_info(workspace(), s, "default", internal, external, use_external=False)
    assert info == {
        "workspace": "my-llm",
        "namespace": "default",
        "endpoint": "http://my-llm.default.svc.cluster.local/v1/chat/completions",
        "type": "ClusterIP",
        "port": 80,
        "ready": True,
        "model": "phi-4-mini-instruct",
        "external_endpoint": "http://20.123.45.67/v1/chat/completions",
        "base_url": "http://my-llm.default.svc.cluster.local/v1",
        "service": "my-llm",
        "runtime": "vllm",
        "deleting": False,
    }


def test_endpoint_info_external_uses_the_external_port_and_base() -> None:
    s = np_svc()
    internal = endpoints.internal_origin(s, "default")
    external = endpoints.node_port_origin(s, [node("a", external="40.1.1.1")])
    info = endpoints.endpoint_info(workspace(ready=False), s, "default", internal, external, use_external=True)
    assert info["endpoint"] == "http://40.1.1.1:30080/v1/chat/completions"
    assert (info["type"], info["port"], info["ready"]) == ("NodePort", 30080, False)
    assert info["base_url"] == "http://40.1.1.1:30080/v1"


def test_endpoint_info_without_external_leaves_the_field_out_and_empty_path_is_the_root() -> None:
    internal = endpoints.internal_origin(svc(), "default")
    info = endpoints.endpoint_info(workspace(), svc(), "default", internal, None, use_external=False, path="")
    assert "external_endpoint" not in info
    assert info["endpoint"] == "http://my-llm.default.svc.cluster.local"
    assert info["base_url"] == "http://my-llm.default.svc.cluster.local/v1"


def test_not_ready_error_names_conditions_and_status_command() -> None:
    err = endpoints.not_ready_error(workspace(ready=False), "default")
    assert err.exit_code == 4
    assert "InferenceReady=False (WorkspaceInferenceStatusPending)" in err.message
    assert "kubectl kaito status --workspace-name my-llm -n default" in (err.hint or "")


def test_not_ready_error_reports_a_failure_reason() -> None:
    ws = workspace(ready=False)
    ws["status"]["conditions"][1].update(reason="ImagePullError", message="pull access denied")
    err = endpoints.not_ready_error(ws, "default")
    assert "InferenceReady failed (ImagePullError: pull access denied)" in err.message
