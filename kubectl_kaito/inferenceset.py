"""KAITO InferenceSets (kaito.sh/v1beta1 since v0.11): one model on several replica Workspaces.

Pure helpers: the InferenceSet deploy builds from its flags (the Workspace fields come from
`workspace.build_workspace`), what status and get-endpoint read from a set, its replicas and the
Gateway API objects that route to it. Cluster access stays in `resources.py`.

KAITO facts (v0.12.0): `api/v1beta1/inferenceset_types.go` (spec.template{metadata, resource{instanceType,
partition}, inference}, replicas, labelSelector, nodeCountLimit, updateStrategy; scale subresource);
replica Workspaces are named `<set>-` + 5 random characters and labelled
`inferenceset.kaito.sh/created-by=<set>` (pkg/utils/inferenceset/inferenceset.go:128-175); the served model
name of every replica is the set's name; the Gateway API Inference Extension gives the set the InferencePool
`<set>-inferencepool` (pkg/utils/common.go:243-245), which the user's HTTPRoute routes to from a Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_kaito import kaito
from kubectl_kaito import workspace as wsp
from kubectl_kaito.errors import UsageError

if TYPE_CHECKING:
    from kubectl_kaito.resources import Resources

UPDATE_STRATEGIES = ("RollingUpdate", "OnDelete")
# annotations KAITO reads on the InferenceSet itself (api/v1beta1/labels.go:262-294, v0.12.0), besides
# the replicas reading their own copy from the template
SET_ANNOTATIONS = (kaito.ANNOTATION_RUNTIME, "kaito.sh/disable-benchmark")


@dataclass
class SetOptions:
    """The InferenceSet-only deploy flags."""

    replicas: int
    node_count_limit: int | None = None
    update_strategy: str | None = None
    max_unavailable: int | str | None = None
    flags_given: list[str] = field(default_factory=list)


def parse_max_unavailable(value: str) -> int | str:
    """`--max-unavailable`: a whole number >= 1 or a percentage (StatefulSet rollingUpdate.maxUnavailable)."""
    from kubectl_kaito import flags  # noqa: PLC0415

    text = flags.check_text(value, "--max-unavailable value").strip()
    if text.endswith("%"):
        digits = text[:-1]
        if digits.isascii() and digits.isdigit() and len(digits) <= 3 and 1 <= int(digits) <= 100:
            return f"{int(digits)}%"
        raise UsageError(f"invalid --max-unavailable value {value!r}: a percentage must be from 1% to 100%")
    return flags.positive_int(text, "--max-unavailable", 1000)


def parse_update_strategy(value: str) -> str:
    """`--update-strategy`: RollingUpdate or OnDelete (appsv1.StatefulSetUpdateStrategy.type), any case."""
    from kubectl_kaito import flags  # noqa: PLC0415

    text = flags.check_text(value, "--update-strategy value").strip().lower()
    for s in UPDATE_STRATEGIES:
        if s.lower() == text:
            return s
    raise UsageError(f"invalid --update-strategy {value!r}", hint=f"use one of: {', '.join(UPDATE_STRATEGIES)}")


def check_options(opts: wsp.DeployOptions, set_opts: SetOptions) -> None:
    """Refuse the deploy flags an InferenceSet has no field for (exit 2, nothing sent)."""
    refused = []
    if opts.tuning:
        refused.append("--tuning")
    if opts.count is not None:
        refused.append("--count")
    if opts.preferred_nodes:
        refused.append("--preferred-nodes")
    if refused:
        raise UsageError(
            f"{', '.join(refused)} cannot be used with --replicas: an InferenceSet's template has no such field",
            hint="drop it, or deploy one Workspace without --replicas",
        )
    if set_opts.max_unavailable is not None and set_opts.update_strategy == "OnDelete":
        raise UsageError("--max-unavailable applies to --update-strategy RollingUpdate, not OnDelete")


def build_inferenceset(opts: wsp.DeployOptions, set_opts: SetOptions,
                       api_version: str = f"{kaito.GROUP}/v1beta1") -> dict[str, Any]:
    """The InferenceSet: its template is the Workspace deploy would build (labels, annotations, resource
    instanceType/partition, inference), its labelSelector that Workspace's; only fields the user set."""
    ws = wsp.build_workspace(opts, api_version)
    wmeta = ws["metadata"]
    metadata: dict[str, Any] = {"name": wmeta["name"], "namespace": wmeta["namespace"]}
    if wmeta.get("labels"):
        metadata["labels"] = dict(wmeta["labels"])
    set_annotations = {k: v for k, v in (wmeta.get("annotations") or {}).items() if k in SET_ANNOTATIONS}
    if set_annotations:
        metadata["annotations"] = set_annotations
    template_meta: dict[str, Any] = {}
    if wmeta.get("labels"):
        template_meta["labels"] = dict(wmeta["labels"])
    if wmeta.get("annotations"):
        template_meta["annotations"] = dict(wmeta["annotations"])
    resource = ws.get("resource") or {}
    template_resource: dict[str, Any] = {}
    if resource.get("instanceType"):
        template_resource["instanceType"] = resource["instanceType"]
    if resource.get("partition"):
        template_resource["partition"] = resource["partition"]
    template: dict[str, Any] = {}
    if template_meta:
        template["metadata"] = template_meta
    if template_resource:
        template["resource"] = template_resource
    template["inference"] = ws["inference"]
    spec: dict[str, Any] = {"replicas": set_opts.replicas, "labelSelector": resource["labelSelector"],
                            "template": template}
    if set_opts.node_count_limit is not None:
        spec["nodeCountLimit"] = set_opts.node_count_limit
    if set_opts.update_strategy is not None or set_opts.max_unavailable is not None:
        strategy: dict[str, Any] = {"type": set_opts.update_strategy or "RollingUpdate"}
        if set_opts.max_unavailable is not None:
            strategy["rollingUpdate"] = {"maxUnavailable": set_opts.max_unavailable}
        spec["updateStrategy"] = strategy
    return {"apiVersion": api_version, "kind": kaito.IS_KIND, "metadata": metadata, "spec": spec}


# ---- reading a set ---------------------------------------------------------------------------------


def conditions(iset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The set's conditions keyed by type."""
    return {str(c.get("type", "")): c for c in (iset.get("status") or {}).get("conditions") or []
            if isinstance(c, dict)}


def is_ready(iset: dict[str, Any]) -> bool:
    """Every desired replica ready (status.readyReplicas >= spec.replicas), and status written for this spec."""
    ready, desired = kaito.inferenceset_counts(iset)
    status = iset.get("status") or {}
    return ready >= desired and status.get("replicas", desired) == desired and not (
        iset.get("metadata") or {}).get("deletionTimestamp")


def phase(iset: dict[str, Any]) -> str:
    """Ready, Scaling (ready < desired), Deleting."""
    if (iset.get("metadata") or {}).get("deletionTimestamp"):
        return "Deleting"
    return "Ready" if is_ready(iset) else "Scaling" if (iset.get("status") or {}) else "Pending"


def progress_line(iset: dict[str, Any]) -> str:
    """One line for a wait: `2/3 replicas ready (inferenceset is not ready, 2/3 replicas are ready)`."""
    ready, desired = kaito.inferenceset_counts(iset)
    cond = conditions(iset).get("InferenceSetReady") or {}
    msg = str(cond.get("message") or "")
    return f"{ready}/{desired} replicas ready" + (f" ({msg})" if msg and cond.get("status") != "True" else "")


@dataclass
class GatewayRoute:
    """The gateway in front of a set: its URL origin and the model name it routes on."""

    url: str
    model: str
    gateway: str
    route: str
    pool: str


def gateway_route(name: str, pools: list[dict[str, Any]], routes: list[dict[str, Any]],
                  gateways: dict[str, dict[str, Any] | None]) -> GatewayRoute | None:
    """The URL of the set `name` through the Gateway API: its InferencePool `<name>-inferencepool` (or one
    selecting its replicas) as the backend of an HTTPRoute whose parent Gateway has an address. `gateways`
    maps a Gateway name to the object (None when absent)."""
    pool_names = {kaito.inference_pool_name(name)}
    for p in pools:
        sel = ((p.get("spec") or {}).get("selector") or {})
        match = sel.get("matchLabels", sel) if isinstance(sel, dict) else {}
        if isinstance(match, dict) and match.get(kaito.LABEL_CREATED_BY_IS) == name:
            pool_names.add(str((p.get("metadata") or {}).get("name")))
    present = {str((p.get("metadata") or {}).get("name")) for p in pools}
    pool_names &= present
    if not pool_names:
        return None
    for r in routes:
        spec = r.get("spec") or {}
        backends = [b for rule in spec.get("rules") or [] for b in (rule.get("backendRefs") or [])]
        pool = next((str(b.get("name")) for b in backends if b.get("kind") == "InferencePool"
                     and b.get("name") in pool_names), None)
        if pool is None:
            continue
        for parent in spec.get("parentRefs") or []:
            if parent.get("kind", "Gateway") != "Gateway":
                continue
            gw = gateways.get(str(parent.get("name")))
            url = gateway_origin(gw, parent.get("port") if isinstance(parent.get("port"), int) else None)
            if url:
                return GatewayRoute(url=url, model=name, gateway=str(parent.get("name")),
                                    route=str((r.get("metadata") or {}).get("name")), pool=pool)
    return None


def gateway_parent_names(routes: list[dict[str, Any]]) -> set[str]:
    """The Gateways the HTTPRoutes name as parents."""
    return {str(p.get("name")) for r in routes for p in ((r.get("spec") or {}).get("parentRefs") or [])
            if p.get("kind", "Gateway") == "Gateway" and p.get("name")}


def gateway_origin(gw: dict[str, Any] | None, port: int | None = None) -> str | None:
    """`http://ADDRESS[:PORT]` of a Gateway: its first status address and its (first HTTP) listener's port."""
    if not gw:
        return None
    addresses = (gw.get("status") or {}).get("addresses") or []
    address = next((str(a.get("value")) for a in addresses if isinstance(a, dict) and a.get("value")), None)
    if not address:
        return None
    listeners = (gw.get("spec") or {}).get("listeners") or []
    listener = next((li for li in listeners if li.get("port") == port), None) if port else None
    listener = listener or next((li for li in listeners if str(li.get("protocol", "HTTP")).upper() in
                                 ("HTTP", "HTTPS")), None)
    scheme = "https" if listener and str(listener.get("protocol")).upper() == "HTTPS" else "http"
    lport = (listener or {}).get("port")
    host = f"[{address}]" if ":" in address else address
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{lport}" if isinstance(lport, int) and lport != default else "")


# ---- reading a set from the cluster ----------------------------------------------------------------


@dataclass
class SetEndpoints:
    """A set, its replicas (name, state, nodes, url or None) and its gateway route (None without one)."""

    iset: dict[str, Any]
    replicas: list[dict[str, Any]]
    gateway: GatewayRoute | None


def replica_rows(cluster: Resources, name: str, namespace: str) -> list[dict[str, Any]]:
    """The set's replica Workspaces, oldest first, each with its state, nodes and in-cluster URL."""
    from kubectl_kaito import endpoints  # noqa: PLC0415
    from kubectl_kaito.errors import KaitoError  # noqa: PLC0415

    rows = []
    items = sorted(cluster.inferenceset_replicas(name, namespace),
                   key=lambda w: (str((w.get("metadata") or {}).get("creationTimestamp") or ""),
                                  str((w.get("metadata") or {}).get("name"))))
    for ws in items:
        wname = str(ws["metadata"]["name"])
        url: str | None = None
        try:
            service = cluster.get_service(wname, namespace)
            url = endpoints.internal_origin(service, namespace).url(endpoints.DEFAULT_PATH)
        except KaitoError:
            url = None  # no Service yet: KAITO creates it once the nodes are ready
        state = "Deleting" if ws["metadata"].get("deletionTimestamp") else kaito.state(ws)
        rows.append({"name": wname, "state": state, "ready": kaito.is_ready(ws) and state != "Deleting",
                     "nodes": list((ws.get("status") or {}).get("workerNodes") or []), "url": url})
    return rows


def find_gateway(cluster: Resources, name: str, namespace: str) -> GatewayRoute | None:
    """The gateway route to the set, read from InferencePools, HTTPRoutes and their Gateways."""
    pools = cluster.list_inferencepools(namespace)
    if not pools:
        return None
    routes = cluster.list_httproutes(namespace)
    gateways = {g: cluster.get_gateway(g, namespace) for g in sorted(gateway_parent_names(routes))}
    return gateway_route(name, pools, routes, gateways)


def set_endpoints(cluster: Resources, name: str, namespace: str) -> SetEndpoints:
    """The set (NotFoundError when missing), its replicas and gateway."""
    iset = cluster.get_inferenceset(name, namespace)
    return SetEndpoints(iset=iset, replicas=replica_rows(cluster, name, namespace),
                        gateway=find_gateway(cluster, name, namespace))
