"""Server-side printing: objects -> meta.k8s.io/v1 Table, as kubectl requests with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.

Custom resources use the CRD's additionalPrinterColumns (like the apiextensions
table convertor); built-in types get the columns kubectl users know.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from . import jsonpath
from .resources import ResourceType
from .util import human_duration, parse_rfc3339

_NAME_COL = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "priority": 0,
    "description": "Name must be unique within a namespace. Is required when creating resources, "
    "although some resources may allow a client to request the generation of an "
    "appropriate name automatically. Name is primarily intended for creation "
    "idempotence and configuration definition. Cannot be updated.",
}
_AGE_DESC = "CreationTimestamp is a timestamp representing the server time when this object was created."


def _col(name: str, typ: str = "string", priority: int = 0, desc: str = "", fmt: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": desc or name, "priority": priority}


def _since(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    try:
        return human_duration(time.time() - parse_rfc3339(ts))
    except ValueError:
        return "<invalid>"


def _age(obj: dict) -> str:
    return _since((obj.get("metadata") or {}).get("creationTimestamp"))


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


# ---------- built-in printers ----------


def _pod(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    cstatuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or []) or len(cstatuses)
    ready = sum(1 for c in cstatuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in cstatuses)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    last_restart = None
    for c in cstatuses:
        st = c.get("state") or {}
        if "waiting" in st and st["waiting"].get("reason"):
            reason = st["waiting"]["reason"]
        elif "terminated" in st:
            reason = st["terminated"].get("reason") or "Terminated"
        term = (c.get("lastState") or {}).get("terminated") or {}
        if term.get("finishedAt"):
            last_restart = term["finishedAt"]
    if status.get("phase") == "Pending" and reason == "Pending":
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                reason = "Pending"
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts_cell: Any = restarts
    if restarts and last_restart:
        restarts_cell = f"{restarts} ({_since(last_restart)} ago)"
    return [
        _name(obj),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        _age(obj),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


_POD_COLS = [
    _NAME_COL,
    _col("Ready"),
    _col("Status"),
    _col("Restarts", "string"),
    _col("Age"),
    _col("IP", priority=1),
    _col("Node", priority=1),
    _col("Nominated Node", priority=1),
    _col("Readiness Gates", priority=1),
]


def _ports(svc: dict) -> str:
    out = []
    for p in (svc.get("spec") or {}).get("ports") or []:
        s = str(p.get("port"))
        if p.get("nodePort") and (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    typ = spec.get("type", "ClusterIP")
    ips = list(spec.get("externalIPs") or [])
    if typ == "LoadBalancer":
        ing = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ips = [i.get("ip") or i.get("hostname") for i in ing if i.get("ip") or i.get("hostname")] + ips
        return ",".join(ips) if ips else "<pending>"
    if typ == "ExternalName":
        return spec.get("externalName", "<none>")
    return ",".join(ips) if ips else "<none>"


def _svc(obj: dict) -> list:
    spec = obj.get("spec") or {}
    sel = spec.get("selector") or {}
    sel_s = ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>"
    return [
        _name(obj),
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        _external_ip(obj),
        _ports(obj),
        _age(obj),
        sel_s,
    ]


_SVC_COLS = [
    _NAME_COL,
    _col("Type"),
    _col("Cluster-IP"),
    _col("External-IP"),
    _col("Port(s)"),
    _col("Age"),
    _col("Selector", priority=1),
]


def _node(obj: dict) -> list:
    status = obj.get("status") or {}
    ready = "Unknown"
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            ready = "Ready" if c.get("status") == "True" else "NotReady"
    if (obj.get("spec") or {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    labels = (obj.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    addrs = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    info = status.get("nodeInfo") or {}
    return [
        _name(obj),
        ready,
        ",".join(roles) or "<none>",
        _age(obj),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


_NODE_COLS = [
    _NAME_COL,
    _col("Status"),
    _col("Roles"),
    _col("Age"),
    _col("Version"),
    _col("Internal-IP", priority=1),
    _col("External-IP", priority=1),
    _col("OS-Image", priority=1),
    _col("Kernel-Version", priority=1),
    _col("Container-Runtime", priority=1),
]


def _event(obj: dict) -> list:
    inv = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or (obj.get("metadata") or {}).get("creationTimestamp")
    return [
        _since(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}",
        obj.get("message", ""),
    ]


_EVENT_COLS = [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Message")]


def _containers_images(tmpl: dict) -> tuple[str, str]:
    cs = ((tmpl.get("spec") or {}).get("containers")) or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _deploy(obj: dict) -> list:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_images(spec.get("template") or {})
    sel = ((spec.get("selector") or {}).get("matchLabels")) or {}
    return [
        _name(obj),
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(obj),
        names,
        images,
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())),
    ]


_DEPLOY_COLS = [
    _NAME_COL,
    _col("Ready"),
    _col("Up-to-date", "integer"),
    _col("Available", "integer"),
    _col("Age"),
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _sts(obj: dict) -> list:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers_images(spec.get("template") or {})
    return [_name(obj), f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", _age(obj), names, images]


_STS_COLS = [_NAME_COL, _col("Ready"), _col("Age"), _col("Containers", priority=1), _col("Images", priority=1)]


def _job(obj: dict) -> list:
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    status = "Running"
    for c in st.get("conditions") or []:
        if c.get("type") == "Complete" and c.get("status") == "True":
            status = "Complete"
        elif c.get("type") == "Failed" and c.get("status") == "True":
            status = "Failed"
    duration = ""
    if st.get("startTime"):
        end = parse_rfc3339(st["completionTime"]) if st.get("completionTime") else time.time()
        duration = human_duration(end - parse_rfc3339(st["startTime"]))
    names, images = _containers_images(spec.get("template") or {})
    return [
        _name(obj),
        status,
        f"{st.get('succeeded', 0)}/{spec.get('completions', 1)}",
        duration,
        _age(obj),
        names,
        images,
    ]


_JOB_COLS = [
    _NAME_COL,
    _col("Status"),
    _col("Completions"),
    _col("Duration"),
    _col("Age"),
    _col("Containers", priority=1),
    _col("Images", priority=1),
]


def _ns(obj: dict) -> list:
    return [_name(obj), (obj.get("status") or {}).get("phase", "Active"), _age(obj)]


def _cm(obj: dict) -> list:
    return [_name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _age(obj)]


def _secret(obj: dict) -> list:
    return [
        _name(obj),
        obj.get("type", "Opaque"),
        len(obj.get("data") or {}) + len(obj.get("stringData") or {}),
        _age(obj),
    ]


def _ing(obj: dict) -> list:
    spec = obj.get("spec") or {}
    hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
    lb = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    addr = ",".join(i.get("ip") or i.get("hostname") or "" for i in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [_name(obj), spec.get("ingressClassName") or "<none>", ",".join(hosts) or "*", addr, ports, _age(obj)]


def _crd(obj: dict) -> list:
    return [_name(obj), (obj.get("metadata") or {}).get("creationTimestamp", "")]


_BUILTIN: dict[str, tuple[list[dict], Callable[[dict], list]]] = {
    "/pods": (_POD_COLS, _pod),
    "/services": (_SVC_COLS, _svc),
    "/nodes": (_NODE_COLS, _node),
    "/events": (_EVENT_COLS, _event),
    "/namespaces": ([_NAME_COL, _col("Status"), _col("Age")], _ns),
    "/configmaps": ([_NAME_COL, _col("Data", "integer"), _col("Age")], _cm),
    "/secrets": ([_NAME_COL, _col("Type"), _col("Data", "integer"), _col("Age")], _secret),
    "apps/deployments": (_DEPLOY_COLS, _deploy),
    "apps/statefulsets": (_STS_COLS, _sts),
    "batch/jobs": (_JOB_COLS, _job),
    "networking.k8s.io/ingresses": (
        [_NAME_COL, _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"), _col("Age")],
        _ing,
    ),
    "apiextensions.k8s.io/customresourcedefinitions": ([_NAME_COL, _col("Created At", "date")], _crd),
}


# ---------- custom resources ----------


def _cell_for(col: dict, obj: dict) -> Any:
    try:
        results = jsonpath.find(obj, col.get("jsonPath", ""))
    except ValueError:
        return None
    if not results:
        return None
    value = results[0]
    typ = col.get("type", "string")
    if typ == "date":
        if isinstance(value, str):
            try:
                return human_duration(time.time() - parse_rfc3339(value))
            except ValueError:
                return "<invalid>"
        return "<invalid>"
    if typ == "string":
        if isinstance(value, str):
            return value
        return (
            json.dumps(value, separators=(",", ":"))
            if isinstance(value, (dict, list))
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    if typ == "integer":
        return value if isinstance(value, int) else None
    if typ == "number":
        return value if isinstance(value, (int, float)) else None
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    return value


def columns_and_cells(rt: ResourceType, version: str) -> tuple[list[dict], Callable[[dict], list]]:
    if rt.custom:
        cols = rt.printer_columns(version) or []
        defs = [dict(_NAME_COL)]
        for c in cols:
            defs.append(
                {
                    "name": c["name"],
                    "type": c.get("type", "string"),
                    "format": c.get("format", ""),
                    "description": c.get("description", ""),
                    "priority": c.get("priority", 0),
                }
            )

        def cells(obj: dict) -> list:
            return [_name(obj)] + [_cell_for(c, obj) for c in cols]

        return defs, cells
    builtin = _BUILTIN.get(rt.key)
    if builtin:
        return builtin
    return [_NAME_COL, _col("Age", desc=_AGE_DESC)], lambda o: [_name(o), _age(o)]


def partial_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def to_table(
    rt: ResourceType,
    version: str,
    objs: list[dict],
    *,
    include_object: str = "Metadata",
    list_meta: dict | None = None,
    no_headers: bool = False,
) -> dict:
    defs, cells = columns_and_cells(rt, version)
    rows = []
    for o in objs:
        row: dict[str, Any] = {"cells": cells(o)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = partial_metadata(o)
        rows.append(row)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": [] if no_headers else defs,
        "rows": rows,
    }
    return table


def wants_table(accept: str | None) -> bool:
    if not accept:
        return False
    first = accept.split(",")[0]
    return "as=Table" in first
