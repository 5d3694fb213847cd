"""Pure endpoint resolution: Workspace + Service (+ Ingresses + Nodes) -> URLs.

KAITO names the inference Service after the Workspace (port `http` 80 -> 5000) and
its runtimes (vLLM, transformers since v0.9) serve the OpenAI API under `/v1`.
Nothing here talks to the cluster; `commands/get_endpoint.py` fetches the objects
and `inference.served_models` does the optional `/v1/models` check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from kubectl_kaito import kaito
from kubectl_kaito.errors import NotFoundError, NotReadyError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

API_PREFIX = "/v1"  # the OpenAI API root of KAITO's runtimes; what OpenAI SDKs call base_url
DEFAULT_PATH = API_PREFIX + "/chat/completions"
DEFAULT_CLUSTER_DOMAIN = "cluster.local"
DEFAULT_PORTS = {"http": 80, "https": 443}

CLUSTER_IP = "ClusterIP"
LOAD_BALANCER = "LoadBalancer"
NODE_PORT = "NodePort"
INGRESS = "Ingress"

# Characters that make an Ingress path a regular expression (nginx `use-regex`,
# ImplementationSpecific paths); the literal part before them is the usable prefix.
_REGEX_CHARS = re.compile(r"[()*$^\[\]?{}|+\\]")


class Origin:
    """Where a client reaches the model server: scheme, host, port and a path prefix (Ingress).

    A plain value class, not a dataclass: `import dataclasses` costs ~7 ms of get-endpoint's start."""

    __slots__ = ("host", "internal_node", "kind", "port", "prefix", "scheme")

    def __init__(
        self, kind: str, scheme: str, host: str, port: int, prefix: str = "", internal_node: str | None = None
    ) -> None:
        self.kind = kind  # ClusterIP | LoadBalancer | NodePort | Ingress
        self.scheme = scheme
        self.host = host
        self.port = port
        self.prefix = prefix  # "" or "/something" (never a trailing slash)
        self.internal_node = internal_node  # NodePort on this node's InternalIP: a private address

    def _key(self) -> tuple[str, str, str, int, str, str | None]:
        return (self.kind, self.scheme, self.host, self.port, self.prefix, self.internal_node)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Origin) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "Origin({!r}, {!r}, {!r}, {!r}, {!r}, {!r})".format(*self._key())

    @property
    def origin(self) -> str:
        """`scheme://host[:port]`, the port left out when it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str = DEFAULT_PATH) -> str:
        """The full URL for an API path (`""` gives the server root, without a trailing slash)."""
        return self.origin + self.prefix + normalize_path(path)

    @property
    def base_url(self) -> str:
        """Up to and including `/v1`: what OpenAI SDKs take as base_url."""
        return self.url(API_PREFIX)


# What may stay as it is in a URL path (RFC 3986: unreserved and reserved characters, and `%` so that a path
# already encoded is not encoded twice); anything else (space, `"`, `<`, `>`, `\\`, `^`, `{`, `|`, `}`, `[`, `]`,
# control characters, non-ASCII as UTF-8) is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=?#%"


def normalize_path(path: str | None) -> str:
    """`v1/models` -> `/v1/models`; `""`, `"/"` and None -> `""` (the root, no trailing slash); what a URL
    path cannot carry is percent-encoded (`/v1/my model` -> `/v1/my%20model`)."""
    p = (path or "").strip()
    if not p or p == "/":
        return ""
    p = quote(p, safe=_PATH_SAFE)
    return p if p.startswith("/") else "/" + p


# ---- the Service ----------------------------------------------------------------------


def service_type(service: dict[str, Any]) -> str:
    """spec.type, ClusterIP when absent (the API server's default)."""
    return str((service.get("spec") or {}).get("type") or CLUSTER_IP)


def http_port(service: dict[str, Any]) -> dict[str, Any]:
    """The Service port that carries the API: the one named `http`, else the first TCP port."""
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    for p in ports:
        if p.get("name") == "http":
            return p
    for p in ports:
        if (p.get("protocol") or "TCP") == "TCP":
            return p
    name = (service.get("metadata") or {}).get("name", "?")
    raise NotFoundError(
        f"service {name} has no TCP port",
        hint=f"check `kubectl get service {name} -o yaml`; KAITO's Service exposes port `http` (80)",
    )


def port_ref(port: dict[str, Any]) -> str | int:
    """How the API server's service proxy names a port: by name when it has one."""
    return str(port["name"]) if port.get("name") else int(port["port"])


def internal_origin(service: dict[str, Any], namespace: str, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> Origin:
    """`http://<svc>.<ns>.svc.<domain>[:port]`, reachable from inside the cluster."""
    name = str((service.get("metadata") or {}).get("name"))
    domain = (cluster_domain or DEFAULT_CLUSTER_DOMAIN).strip(".")
    port = int(http_port(service)["port"])
    return Origin(CLUSTER_IP, "http", f"{name}.{namespace}.svc.{domain}", port)


def load_balancer_origin(service: dict[str, Any]) -> Origin | None:
    """A LoadBalancer Service's first ingress IP or hostname, or None (not a LB, or no address yet)."""
    if service_type(service) != LOAD_BALANCER:
        return None
    for ing in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
        host = ing.get("ip") or ing.get("hostname")
        if host:
            return Origin(LOAD_BALANCER, "http", str(host), int(http_port(service)["port"]))
    return None


def load_balancer_pending(service: dict[str, Any]) -> bool:
    """A LoadBalancer Service the cloud has not given an address yet."""
    return service_type(service) == LOAD_BALANCER and load_balancer_origin(service) is None


# ---- Ingress (networking.k8s.io/v1) ------------------------------------------------------


def _backend_matches(backend: dict[str, Any] | None, service_name: str, port: dict[str, Any]) -> bool:
    svc = (backend or {}).get("service") or {}
    if svc.get("name") != service_name:
        return False
    ref = svc.get("port") or {}
    if "number" in ref:
        return int(ref["number"]) == int(port["port"])
    if "name" in ref:
        return bool(port.get("name")) and ref["name"] == port.get("name")
    return True


def _tls_covers(ingress: dict[str, Any], host: str) -> bool:
    for tls in (ingress.get("spec") or {}).get("tls") or []:
        for pattern in tls.get("hosts") or []:
            # a TLS wildcard covers exactly one DNS label: *.example.com covers a.example.com only
            if pattern == host or (pattern.startswith("*.") and host.partition(".")[2] == pattern[2:]):
                return True
    return False


def _status_address(ingress: dict[str, Any]) -> str | None:
    for ing in ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
        if ing.get("hostname") or ing.get("ip"):
            return str(ing.get("hostname") or ing.get("ip"))
    return None


def path_prefix(path: str | None) -> str:
    """An Ingress path as a URL prefix: `/` -> ``, `/llm/` -> `/llm`, `/llm(/|$)(.*)` -> `/llm`."""
    p = path or "/"
    m = _REGEX_CHARS.search(p)
    if m:
        p = p[: m.start()]
    p = p.rstrip("/")
    return p if not p or p.startswith("/") else "/" + p


def ingress_origin(ingresses: Iterable[dict[str, Any]], service: dict[str, Any]) -> Origin | None:
    """The first Ingress rule (by Ingress name) that routes to the Service's API port.

    The host is the rule's host, else the Ingress's own address (status); a wildcard
    host cannot be turned into a URL and is skipped. `https` when the Ingress's `tls`
    lists the host.
    """
    name = str((service.get("metadata") or {}).get("name"))
    port = http_port(service)
    for ing in sorted(ingresses, key=lambda i: str((i.get("metadata") or {}).get("name"))):
        spec = ing.get("spec") or {}
        candidates: list[tuple[str | None, str]] = []
        for rule in spec.get("rules") or []:
            for p in (rule.get("http") or {}).get("paths") or []:
                if _backend_matches(p.get("backend"), name, port):
                    candidates.append((rule.get("host"), path_prefix(p.get("path"))))
        if _backend_matches(spec.get("defaultBackend"), name, port):
            candidates.append((None, ""))
        for host, prefix in candidates:
            host = host or _status_address(ing)
            if not host or "*" in host:
                continue
            scheme = "https" if _tls_covers(ing, host) else "http"
            return Origin(INGRESS, scheme, host, DEFAULT_PORTS[scheme], prefix)
    return None


# ---- NodePort ----------------------------------------------------------------------------


def _node_ready(node: dict[str, Any]) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")  # c is JSON (Any): make the comparison a bool
    return False


def _node_address(node: dict[str, Any], kind: str) -> str | None:
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == kind and a.get("address"):
            return str(a["address"])
    return None


def node_port_origin(service: dict[str, Any], nodes: Iterable[dict[str, Any]]) -> Origin | None:
    """A NodePort Service's nodePort on a Ready node's ExternalIP, else its InternalIP.

    None when the Service is not of type NodePort. Nodes are taken in name order so the
    answer is stable from one run to the next.
    """
    if service_type(service) != NODE_PORT:
        return None
    port = http_port(service)
    node_port = port.get("nodePort")
    if not node_port:
        return None
    ready = sorted((n for n in nodes if _node_ready(n)), key=lambda n: str((n.get("metadata") or {}).get("name")))
    for kind in ("ExternalIP", "InternalIP"):
        for node in ready:
            addr = _node_address(node, kind)
            if addr:
                internal = str((node.get("metadata") or {}).get("name")) if kind == "InternalIP" else None
                return Origin(NODE_PORT, "http", addr, int(node_port), internal_node=internal)
    name = (service.get("metadata") or {}).get("name")
    raise NotReadyError(
        f"service {name} is a NodePort (port {node_port}) but no Ready node has an address",
        hint="check `kubectl get nodes -o wide`",
    )


# ---- external resolution ---------------------------------------------------------------------


def resolve_external(
    service: dict[str, Any],
    list_ingresses: Callable[[], list[dict[str, Any]]],
    list_nodes: Callable[[], list[dict[str, Any]]],
    *,
    workspace: str,
    namespace: str,
) -> Origin:
    """LoadBalancer address, else an Ingress route, else a NodePort; or an error with a hint.

    The lists are callables so a LoadBalancer answer costs no further request, and nodes
    are only listed for a NodePort Service.
    """
    lb = load_balancer_origin(service)
    if lb is not None:
        return lb
    ingresses = list_ingresses()
    ing = ingress_origin(ingresses, service)
    if ing is not None:
        return ing
    if service_type(service) == NODE_PORT:
        np = node_port_origin(service, list_nodes())
        if np is not None:
            return np
    name = (service.get("metadata") or {}).get("name")
    if load_balancer_pending(service):
        raise NotReadyError(
            f"the LoadBalancer service {namespace}/{name} has no external address yet",
            hint=(
                f"the cloud provider is still assigning one; retry shortly, or watch "
                f"`kubectl get service {name} -n {namespace} -w`"
            ),
            details={"workspace": workspace, "namespace": namespace, "service": name},
        )
    waiting_ingress = ingress_pending(ingresses, service)
    if waiting_ingress is not None:
        raise NotReadyError(
            f"the Ingress {namespace}/{waiting_ingress} routes to service {name} but has no address yet",
            hint=(
                f"its controller is still assigning one; retry shortly, or watch "
                f"`kubectl get ingress {waiting_ingress} -n {namespace} -w`"
            ),
            details={"workspace": workspace, "namespace": namespace, "service": name, "ingress": waiting_ingress},
        )
    raise NotFoundError(
        f"workspace {namespace}/{workspace} has no external endpoint "
        f"(service {name} is {service_type(service)}, and no Ingress routes to it)",
        hint=(
            'deploy with `kubectl kaito deploy ... --enable-load-balancer` (annotation kaito.sh/enablelb: "True"), '
            f"or create an Ingress whose rule routes to service {name} port "
            f"{http_port(service)['port']}; without --external the in-cluster URL is printed"
        ),
        details={"workspace": workspace, "namespace": namespace, "service": name},
    )


# ---- the answer ------------------------------------------------------------------------------


def not_ready_error(ws: dict[str, Any], namespace: str) -> NotReadyError:
    """The error for `--format url` on a workspace that is not ready yet."""
    name = (ws.get("metadata") or {}).get("name")
    if kaito.is_deleting(ws):
        return deleting_error(ws, namespace)
    fail = kaito.failure(ws)
    why = f"{fail.condition} failed ({fail.reason}: {fail.message})" if fail else kaito.describe_pending(ws)
    # a failure is not a start-up: never suggest waiting for it
    hint = (
        f"see `kubectl kaito status --workspace-name {name} -n {namespace}` and `kubectl kaito logs {name} -n "
        f"{namespace}`; waiting will not fix it"
        if fail
        else f"see `kubectl kaito status --workspace-name {name} -n {namespace}`, or add --wait"
    )
    return NotReadyError(
        f"workspace {namespace}/{name} " + ("has failed" if fail else "is not ready") + f": {why}",
        hint=hint,
        details={
            "workspace": name,
            "namespace": namespace,
            "conditions": [
                {"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason")}
                for c in kaito.pending_conditions(ws)
            ],
        },
    )


def endpoint_info(
    ws: dict[str, Any],
    service: dict[str, Any],
    namespace: str,
    internal: Origin,
    external: Origin | None,
    *,
    use_external: bool,
    path: str = DEFAULT_PATH,
) -> dict[str, Any]:
    """The seed's JSON object (same field names), plus `base_url` and `service`.

    `endpoint`, `type`, `port` and `base_url` describe the chosen endpoint: the external
    one with --external, else the in-cluster one.
    """
    chosen = external if (use_external and external is not None) else internal
    info: dict[str, Any] = {
        "workspace": (ws.get("metadata") or {}).get("name"),
        "namespace": namespace,
        "endpoint": chosen.url(path),
        "type": chosen.kind,
        "port": chosen.port,
        "ready": kaito.is_ready(ws),
        "model": kaito.model_name(ws),
    }
    if external is not None:
        info["external_endpoint"] = external.url(path)
    info["base_url"] = chosen.base_url
    info["service"] = (service.get("metadata") or {}).get("name")
    info.update(state_fields(ws))
    return info


def private_address_warning(origin: Origin | None) -> str | None:
    """The stderr warning for a NodePort endpoint on a node's InternalIP (no node has an ExternalIP)."""
    if origin is None or origin.internal_node is None:
        return None
    return (
        f"{origin.host} is node {origin.internal_node}'s InternalIP, a private address (no Ready node has an "
        "ExternalIP): the NodePort endpoint is reachable only from the nodes' network, not from outside it"
    )


def ingress_pending(ingresses: Iterable[dict[str, Any]], service: dict[str, Any]) -> str | None:
    """The name of an Ingress that routes to the Service without a host, whose controller has not given it an
    address yet (so `ingress_origin` has no URL from it); None when there is none."""
    name = str((service.get("metadata") or {}).get("name"))
    port = http_port(service)
    for ing in sorted(ingresses, key=lambda i: str((i.get("metadata") or {}).get("name"))):
        spec = ing.get("spec") or {}
        hostless = [
            p
            for rule in spec.get("rules") or []
            if not rule.get("host")
            for p in (rule.get("http") or {}).get("paths") or []
            if _backend_matches(p.get("backend"), name, port)
        ]
        if (hostless or _backend_matches(spec.get("defaultBackend"), name, port)) and _status_address(ing) is None:
            return str((ing.get("metadata") or {}).get("name"))
    return None


# ---- states without an endpoint yet: no Service, being deleted ----------------------------------------

#: The Service KAITO v0.12 will create (`ensureService`, pkg/workspace/controllers/workspace_controller.go:507-540,
#: pkg/workspace/manifests): named after the workspace, port `http` 80 -> 5000.
PENDING_SERVICE_PORT = {"name": "http", "port": 80, "protocol": "TCP"}


def state_fields(ws: dict[str, Any]) -> dict[str, Any]:
    """The json keys every endpoint object carries about the workspace itself: what serves the model
    (`runtime`: vllm, transformers, or a custom template's image) and whether it is being deleted."""
    return {"runtime": kaito.runtime_label(ws), "deleting": kaito.is_deleting(ws)}


def pending_service(ws: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The Service KAITO will create for a workspace whose nodes are still provisioning: KAITO creates it
    only once the nodes are ready, named after the workspace, ClusterIP (LoadBalancer with
    `kaito.sh/enablelb: "True"`), port `http` 80."""
    meta = ws.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    lb = annotations.get(kaito.ANNOTATION_ENABLE_LB) == "True"
    return {
        "metadata": {"name": meta.get("name"), "namespace": namespace},
        "spec": {"type": LOAD_BALANCER if lb else CLUSTER_IP, "ports": [dict(PENDING_SERVICE_PORT)]},
    }


def pending_info(
    ws: dict[str, Any], namespace: str, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN, path: str = DEFAULT_PATH
) -> dict[str, Any]:
    """`get-endpoint -o json` for a workspace not ready whose Service KAITO has not created yet: the
    endpoint the Service will have, `"ready": false` and `"service_created": false`."""
    service = pending_service(ws, namespace)
    internal = internal_origin(service, namespace, cluster_domain)
    info = endpoint_info(ws, service, namespace, internal, None, use_external=False, path=path)
    info["service_created"] = False
    return info


def deleting_error(ws: dict[str, Any], namespace: str) -> NotReadyError:
    """A workspace being deleted serves no endpoint any more (KAITO keeps state Ready while it cleans up)."""
    meta = ws.get("metadata") or {}
    name = meta.get("name")
    since = meta.get("deletionTimestamp")
    deleting = kaito.conditions(ws).get(kaito.WORKSPACE_DELETING) or {}
    message = " ".join(str(deleting.get("message") or "").split())
    finalizers = meta.get("finalizers") or []
    return NotReadyError(
        f"workspace {namespace}/{name} is being deleted"
        + (f" (since {since})" if since else "")
        + (f": {message}" if message else "")
        + (f"; finalizers: {', '.join(map(str, finalizers))}" if finalizers else ""),
        hint=(
            f"it will not serve again; deploy it anew once `kubectl kaito status {name} -n {namespace}` says it is "
            "gone (a deletion that never ends: check that the KAITO controller is running)"
        ),
        details={
            "workspace": name,
            "namespace": namespace,
            "deleting": True,
            "deletionTimestamp": since,
            "finalizers": list(finalizers),
        },
    )
