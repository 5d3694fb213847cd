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
    from collections.abc import Callable

    from kubectl_kaito.console import Console
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


def build_inferenceset(
    opts: wsp.DeployOptions, set_opts: SetOptions, api_version: str = f"{kaito.GROUP}/v1beta1"
) -> dict[str, Any]:
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
    spec: dict[str, Any] = {
        "replicas": set_opts.replicas,
        "labelSelector": resource["labelSelector"],
        "template": template,
    }
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
    return {
        str(c.get("type", "")): c for c in (iset.get("status") or {}).get("conditions") or [] if isinstance(c, dict)
    }


def is_ready(iset: dict[str, Any]) -> bool:
    """Every desired replica ready (status.readyReplicas >= spec.replicas), and status written for this spec."""
    ready, desired = kaito.inferenceset_counts(iset)
    status = iset.get("status") or {}
    return (
        ready == desired
        and status.get("replicas", desired) == desired
        and not (iset.get("metadata") or {}).get("deletionTimestamp")
    )


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


def gateway_route(
    name: str, pools: list[dict[str, Any]], routes: list[dict[str, Any]], gateways: dict[str, dict[str, Any] | None]
) -> GatewayRoute | None:
    """The URL of the set `name` through the Gateway API: its InferencePool `<name>-inferencepool` (or one
    selecting its replicas) as the backend of an HTTPRoute whose parent Gateway has an address. `gateways`
    maps a Gateway name to the object (None when absent)."""
    pool_names = {kaito.inference_pool_name(name)}
    for p in pools:
        sel = (p.get("spec") or {}).get("selector") or {}
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
        pool = next(
            (str(b.get("name")) for b in backends if b.get("kind") == "InferencePool" and b.get("name") in pool_names),
            None,
        )
        if pool is None:
            continue
        for parent in spec.get("parentRefs") or []:
            if parent.get("kind", "Gateway") != "Gateway":
                continue
            gw = gateways.get(str(parent.get("name")))
            url = gateway_origin(gw, parent.get("port") if isinstance(parent.get("port"), int) else None)
            if url:
                return GatewayRoute(
                    url=url,
                    model=name,
                    gateway=str(parent.get("name")),
                    route=str((r.get("metadata") or {}).get("name")),
                    pool=pool,
                )
    return None


def gateway_parent_names(routes: list[dict[str, Any]]) -> set[str]:
    """The Gateways the HTTPRoutes name as parents."""
    return {
        str(p.get("name"))
        for r in routes
        for p in ((r.get("spec") or {}).get("parentRefs") or [])
        if p.get("kind", "Gateway") == "Gateway" and p.get("name")
    }


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
    listener = listener or next(
        (li for li in listeners if str(li.get("protocol", "HTTP")).upper() in ("HTTP", "HTTPS")), None
    )
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
    items = sorted(
        cluster.inferenceset_replicas(name, namespace),
        key=lambda w: (
            str((w.get("metadata") or {}).get("creationTimestamp") or ""),
            str((w.get("metadata") or {}).get("name")),
        ),
    )
    for ws in items:
        wname = str(ws["metadata"]["name"])
        url: str | None = None
        try:
            service = cluster.get_service(wname, namespace)
            url = endpoints.internal_origin(service, namespace).url(endpoints.DEFAULT_PATH)
        except KaitoError:
            url = None  # no Service yet: KAITO creates it once the nodes are ready
        state = "Deleting" if ws["metadata"].get("deletionTimestamp") else kaito.state(ws)
        rows.append(
            {
                "name": wname,
                "state": state,
                "ready": kaito.is_ready(ws) and state != "Deleting",
                "nodes": list((ws.get("status") or {}).get("workerNodes") or []),
                "url": url,
            }
        )
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
    return SetEndpoints(
        iset=iset, replicas=replica_rows(cluster, name, namespace), gateway=find_gateway(cluster, name, namespace)
    )


# ---- status: the set in the list, and in detail ----------------------------------------------------


def model_name(iset: dict[str, Any]) -> str | None:
    """The template's preset name (or its first container's image)."""
    inference = ((iset.get("spec") or {}).get("template") or {}).get("inference") or {}
    preset = (inference.get("preset") or {}).get("name")
    if preset:
        return str(preset)
    containers = ((inference.get("template") or {}).get("spec") or {}).get("containers") or []
    return str(containers[0].get("image")) if containers and containers[0].get("image") else None


def instance_type(iset: dict[str, Any]) -> str | None:
    """spec.template.resource.instanceType (None: BYO nodes)."""
    value = (((iset.get("spec") or {}).get("template") or {}).get("resource") or {}).get("instanceType")
    return str(value) if value else None


def list_cell(iset: dict[str, Any], header: str) -> str:
    """The cell of the workspace list's column `header` for a set (its NAME is `is/NAME`, STATUS the
    replica count `ready/desired ready`); a column a set has no value for is `-`."""
    meta = iset.get("metadata") or {}
    ready, desired = kaito.inferenceset_counts(iset)
    cond = conditions(iset).get("InferenceSetReady") or {}
    runtime = (meta.get("annotations") or {}).get(kaito.ANNOTATION_RUNTIME)
    cells = {
        "NAMESPACE": str(meta.get("namespace", "")),
        "NAME": f"is/{meta.get('name', '')}",
        "MODEL": model_name(iset) or "<none>",
        "INSTANCE": instance_type(iset) or "<none>",
        "SUCCEEDED": str(cond.get("status") or "-"),
        "STATUS": "Deleting" if meta.get("deletionTimestamp") else f"{ready}/{desired} ready",
        "AGE": kaito.age(meta.get("creationTimestamp")),
        "STATE": phase(iset),
        "RUNTIME": "transformers" if runtime == "transformers" else "vllm",
        "LABELS": ",".join(f"{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())) or "<none>",
    }
    return cells.get(header, "-")


def hide_replicas(workspaces: list[dict[str, Any]], sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The workspaces without the replicas of the listed sets (they are counted on the set's row)."""
    owned = {
        (str((s.get("metadata") or {}).get("namespace")), str((s.get("metadata") or {}).get("name"))) for s in sets
    }
    return [
        w
        for w in workspaces
        if (str((w.get("metadata") or {}).get("namespace")), kaito.owning_inferenceset(w) or "") not in owned
    ]


def details(found: SetEndpoints) -> dict[str, Any]:
    """The one-set status object."""
    iset = found.iset
    meta = iset.get("metadata") or {}
    ready, desired = kaito.inferenceset_counts(iset)
    perf = ((iset.get("status") or {}).get("performance") or {}).get("metrics") or {}
    tpm = perf.get("aggregatedPeakTokensPerMinute") or {}
    return {
        "kind": kaito.IS_KIND,
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "model": model_name(iset),
        "servedModelName": meta.get("name"),
        "instanceType": instance_type(iset),
        "replicas": desired,
        "readyReplicas": ready,
        "state": phase(iset),
        "nodeCountLimit": (iset.get("spec") or {}).get("nodeCountLimit"),
        "gateway": None
        if found.gateway is None
        else {
            "url": found.gateway.url,
            "model": found.gateway.model,
            "gateway": found.gateway.gateway,
            "httpRoute": found.gateway.route,
            "inferencePool": found.gateway.pool,
        },
        "aggregatedPeakTokensPerMinute": tpm.get("value"),
        "conditions": [
            {k: c.get(k) for k in ("type", "status", "reason", "message", "lastTransitionTime")}
            for c in (iset.get("status") or {}).get("conditions") or []
        ],
        "workspaces": found.replicas,
        "createdAt": meta.get("creationTimestamp"),
    }


def render_details(d: dict[str, Any]) -> str:
    """The human-readable block `status NAME` prints for a set."""
    from kubectl_kaito import output  # noqa: PLC0415

    gw = d["gateway"]
    fields: list[tuple[str, Any]] = [
        ("Name", d["name"]),
        ("Namespace", d["namespace"]),
        ("Kind", "InferenceSet"),
        ("Model", d["model"] or "<none>"),
        ("Served model name", d["servedModelName"]),
        ("Instance type", d["instanceType"] or "<none>"),
        ("Replicas", f"{d['readyReplicas']}/{d['replicas']} ready"),
        ("State", d["state"]),
        ("Age", kaito.age(d.get("createdAt"))),
        (
            "Endpoint",
            f"{gw['url']}/v1/chat/completions (gateway {gw['gateway']}, model {gw['model']})"
            if gw
            else "<no gateway>: each replica has its own (below)",
        ),
    ]
    if d.get("nodeCountLimit"):
        fields.append(("Node count limit", str(d["nodeCountLimit"])))
    if d.get("aggregatedPeakTokensPerMinute"):
        fields.append(("Benchmark", f"{d['aggregatedPeakTokensPerMinute']} tokens/min (all replicas)"))
    lines = [output.block(fields), "", "Conditions:"]
    if d["conditions"]:
        rows = [
            [
                str(c["type"]),
                str(c["status"]),
                str(c.get("reason") or ""),
                " ".join(str(c.get("message") or "").split()),
                kaito.age(c.get("lastTransitionTime")),
            ]
            for c in d["conditions"]
        ]
        lines.append(output.table(("TYPE", "STATUS", "REASON", "MESSAGE", "AGE"), rows, indent="  "))
    else:
        lines.append("  <none reported yet>")
    lines += ["", "Replicas (Workspaces):"]
    if d["workspaces"]:
        rows = [
            [r["name"], r["state"], ",".join(r["nodes"]) or "<none>", r["url"] or "<pending>"] for r in d["workspaces"]
        ]
        lines.append(output.table(("NAME", "STATE", "NODES", "ENDPOINT"), rows, indent="  "))
    else:
        lines.append("  <none>")
    return "\n".join(lines)


# ---- waiting and the endpoint ------------------------------------------------------------------------


def await_ready(
    console: Console,
    cluster: Resources,
    name: str,
    ns: str,
    seconds: float | None,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Poll the set on the one wait display until `until(set)` (default: every desired replica ready);
    Ctrl-C leaves the set in place. A timeout is WaitTimeoutError (exit 4)."""
    from kubectl_kaito.errors import NotReadyError  # noqa: PLC0415
    from kubectl_kaito.waiting import await_value  # noqa: PLC0415

    done = until or is_ready

    def attempt() -> dict[str, Any]:
        iset = cluster.get_inferenceset(name, ns)
        if not done(iset):
            raise NotReadyError(
                progress_line(iset),
                hint=f"watch it with: kubectl kaito status {name} -n {ns}",
                details={"inferenceset": name, "namespace": ns},
            )
        return iset

    try:
        return await_value(console, f"inferenceset {ns}/{name}", attempt, timeout=seconds, interval=0.5)
    except KeyboardInterrupt:
        console.info(
            f"interrupted: the inferenceset was left in place; watch it with: kubectl kaito status {name} -n {ns}"
        )
        raise


def endpoint_info(found: SetEndpoints, path: str) -> dict[str, Any]:
    """`get-endpoint SET -o json`: the gateway URL (when routed) and every replica's URL. `model` is the
    name requests must carry: the set's name (KAITO serves each replica under it)."""
    from kubectl_kaito import endpoints  # noqa: PLC0415

    iset = found.iset
    meta = iset.get("metadata") or {}
    ready, desired = kaito.inferenceset_counts(iset)
    gw = found.gateway
    replicas = []
    for r in found.replicas:
        base = r["url"][: -len(endpoints.DEFAULT_PATH)] if r["url"] else None
        replicas.append(
            {
                "workspace": r["name"],
                "state": r["state"],
                "ready": r["ready"],
                "nodes": r["nodes"],
                "endpoint": f"{base}{path}" if base else None,
                "base_url": f"{base}{endpoints.API_PREFIX}" if base else None,
            }
        )
    return {
        "inferenceset": meta.get("name"),
        "namespace": meta.get("namespace"),
        "kind": kaito.IS_KIND,
        "model": meta.get("name"),
        "ready": ready > 0 and is_ready(iset),
        "replicas": desired,
        "readyReplicas": ready,
        "endpoint": f"{gw.url}{path}" if gw else None,
        "base_url": f"{gw.url}{endpoints.API_PREFIX}" if gw else None,
        "type": "Gateway" if gw else None,
        "gateway": None
        if gw is None
        else {"name": gw.gateway, "httpRoute": gw.route, "inferencePool": gw.pool, "url": gw.url},
        "workspaces": replicas,
    }


def endpoint_url(found: SetEndpoints, path: str, replica: int | None) -> str:
    """`get-endpoint SET` in url form: the gateway URL, or with `replica` (1-based, as `status SET` lists
    them) that replica's. Without either, NotReadyError (exit 4) says why there is no one URL."""
    from kubectl_kaito import endpoints  # noqa: PLC0415
    from kubectl_kaito.errors import NotReadyError  # noqa: PLC0415

    meta = found.iset.get("metadata") or {}
    name, ns = str(meta.get("name")), str(meta.get("namespace"))
    ready, desired = kaito.inferenceset_counts(found.iset)
    if replica is not None:
        if replica > len(found.replicas):
            raise UsageError(
                f"--replica {replica}: inferenceset {ns}/{name} has {len(found.replicas)} replica workspace(s)",
                hint=f"see them with: kubectl kaito status {name} -n {ns}",
            )
        row = found.replicas[replica - 1]
        if not row["ready"] or not row["url"]:
            raise NotReadyError(
                f"replica {replica} of inferenceset {ns}/{name} ({row['name']}) is not ready: {row['state']}",
                hint=f"see it with: kubectl kaito status {name} -n {ns}",
                details={"inferenceset": name, "workspace": row["name"], "namespace": ns},
            )
        return f"{row['url'][: -len(endpoints.DEFAULT_PATH)]}{path}"
    if found.gateway is not None:
        if ready == 0:
            raise NotReadyError(
                f"inferenceset {ns}/{name} has no ready replica yet (0/{desired})",
                hint=f"wait for it: kubectl kaito get-endpoint {name} -n {ns} --wait",
                details={"inferenceset": name, "namespace": ns},
            )
        return f"{found.gateway.url}{path}"
    raise NotReadyError(
        f"inferenceset {ns}/{name} has {desired} replicas and no gateway route: no one URL serves them all",
        hint=f"pick one with --replica 1..{max(len(found.replicas), 1)}, list them all with -o json, or route the "
        f"set through a Gateway (KAITO's gatewayAPIInferenceExtension feature gate gives it the InferencePool "
        f"{kaito.inference_pool_name(name)}; add an HTTPRoute to it)",
        details={"inferenceset": name, "namespace": ns},
    )


def pick_replica(cluster: Resources, name: str, namespace: str, index: int | None = None) -> str:
    """The replica Workspace to talk to for the set `name`: replica `index` (1-based, as `status` lists them),
    else the first ready one; NotReadyError (exit 4) when none is ready, NotFoundError when no such set."""
    from kubectl_kaito.errors import NotReadyError  # noqa: PLC0415

    iset = cluster.get_inferenceset(name, namespace)
    found = SetEndpoints(iset=iset, replicas=replica_rows(cluster, name, namespace), gateway=None)
    if index is not None:
        endpoint_url(found, "", index)  # a missing or unready replica N: its own error
        return str(found.replicas[index - 1]["name"])
    row = next((r for r in found.replicas if r["ready"]), None)
    if row is None:
        ready, desired = kaito.inferenceset_counts(iset)
        raise NotReadyError(
            f"inferenceset {namespace}/{name} has no ready replica ({ready}/{desired})",
            hint=f"see it with: kubectl kaito status {name} -n {namespace}",
            details={"inferenceset": name, "namespace": namespace},
        )
    return str(row["name"])
