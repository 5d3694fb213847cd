"""Resource types served by the simulator and the discovery documents kubectl reads.

Built-in types are declared here; custom types come from the CustomResourceDefinition
objects in the store, so creating or deleting a CRD changes what is served.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# The simulator's own copy of KAITO's CRDs and catalogs: it runs without the kubectl-kaito package.
DATA_DIR = Path(__file__).resolve().parent / "data"

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
META_FIELDS = {"metadata.name", "metadata.namespace"}


@dataclass
class ResourceType:
    group: str
    versions: tuple[str, ...]
    storage_version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # name -> (kind, verbs)
    subresources: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    field_labels: frozenset[str] | None = frozenset(META_FIELDS)
    crd: dict | None = None

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def custom(self) -> bool:
        return self.crd is not None

    @property
    def group_resource(self) -> str:
        """`workspaces.kaito.sh` / `services` as used in Status messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`Workspace.kaito.sh` / `Service` as used in Invalid messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def api_version(self, version: str | None = None) -> str:
        v = version or self.storage_version
        return f"{self.group}/{v}" if self.group else v

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def crd_version(self, version: str) -> dict | None:
        if not self.crd:
            return None
        for v in self.crd.get("spec", {}).get("versions", []):
            if v.get("name") == version:
                return v
        return None

    def schema(self, version: str) -> dict | None:
        v = self.crd_version(version)
        if not v:
            return None
        return (v.get("schema") or {}).get("openAPIV3Schema")

    def printer_columns(self, version: str) -> list[dict] | None:
        v = self.crd_version(version)
        if v is None:
            return None
        return v.get("additionalPrinterColumns") or [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]


def _rt(group, version, plural, singular, kind, namespaced, short=(), cats=(), subs=None, fields=None, verbs=ALL_VERBS):
    return ResourceType(
        group=group,
        versions=(version,),
        storage_version=version,
        plural=plural,
        singular=singular,
        kind=kind,
        namespaced=namespaced,
        short_names=tuple(short),
        categories=tuple(cats),
        subresources=subs or {},
        verbs=verbs,
        field_labels=frozenset(META_FIELDS | set(fields or ())),
    )


_STATUS = ("get", "patch", "update")

BUILTIN_TYPES: list[ResourceType] = [
    _rt(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        False,
        ["ns"],
        subs={"status": ("Namespace", _STATUS), "finalize": ("Namespace", ("update",))},
        fields=["status.phase"],
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    _rt(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        False,
        ["no"],
        subs={
            "status": ("Node", _STATUS),
            "proxy": ("NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
        },
        fields=["spec.unschedulable"],
    ),
    _rt(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        True,
        ["po"],
        ["all"],
        subs={
            "status": ("Pod", _STATUS),
            "log": ("Pod", ("get",)),
            "proxy": ("PodProxyOptions", ("create", "delete", "get", "patch", "update")),
        },
        fields=[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
    ),
    _rt(
        "",
        "v1",
        "services",
        "service",
        "Service",
        True,
        ["svc"],
        ["all"],
        subs={
            "status": ("Service", _STATUS),
            "proxy": ("ServiceProxyOptions", ("create", "delete", "get", "patch", "update")),
        },
        fields=["spec.clusterIP", "spec.type"],
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
    ),
    _rt(
        "",
        "v1",
        "events",
        "event",
        "Event",
        True,
        ["ev"],
        fields=[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
    ),
    _rt("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"]),
    _rt("", "v1", "secrets", "secret", "Secret", True, fields=["type"]),
    _rt(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        True,
        ["deploy"],
        ["all"],
        subs={"status": ("Deployment", _STATUS), "scale": ("Scale", _STATUS)},
    ),
    _rt(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        True,
        ["sts"],
        ["all"],
        subs={"status": ("StatefulSet", _STATUS), "scale": ("Scale", _STATUS)},
    ),
    _rt(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        True,
        [],
        ["all"],
        subs={"status": ("Job", _STATUS)},
        fields=["status.successful"],
    ),
    _rt(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        True,
        ["ing"],
        subs={"status": ("Ingress", _STATUS)},
    ),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        False,
        ["crd", "crds"],
        subs={"status": ("CustomResourceDefinition", _STATUS)},
    ),
]

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"

# Preferred order of groups in /apis (kubectl resolves short names in this order).
_GROUP_ORDER = ["apps", "batch", "networking.k8s.io", "apiextensions.k8s.io"]


def type_from_crd(crd: dict) -> ResourceType | None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v["name"] for v in spec.get("versions", []) if v.get("served", True)]
    if not served or not names.get("plural") or not names.get("kind"):
        return None
    storage = next((v["name"] for v in spec.get("versions", []) if v.get("storage")), served[-1])
    subs: dict[str, tuple[str, tuple[str, ...]]] = {}
    # subresources are per version in v1 CRDs; use the union
    for v in spec.get("versions", []):
        sr = v.get("subresources") or {}
        if "status" in sr:
            subs["status"] = (names["kind"], _STATUS)
        if "scale" in sr:
            subs["scale"] = ("Scale", _STATUS)
    return ResourceType(
        group=spec.get("group", ""),
        versions=tuple(served),
        storage_version=storage,
        plural=names["plural"],
        singular=names.get("singular") or names["kind"].lower(),
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=subs,
        field_labels=frozenset(META_FIELDS),
        crd=crd,
    )


def _sort_versions(versions: list[str]) -> list[str]:
    """Kubernetes version priority: GA > beta > alpha, higher numbers first."""
    import re

    def key(v: str):
        m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
        if not m:
            return (3, 0, 0, v)
        major = int(m.group(1))
        stage = {"alpha": 2, "beta": 1, None: 0}[m.group(2)]
        minor = int(m.group(3) or 0)
        return (stage, -major, -minor, v)

    return sorted(versions, key=key)


class Registry:
    """Thread-safe view of what is served. Custom types are rebuilt from CRDs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builtin = {t.key: t for t in BUILTIN_TYPES}
        self._custom: dict[str, ResourceType] = {}

    def set_crds(self, crds: list[dict]) -> None:
        custom = {}
        for crd in crds:
            if (crd.get("metadata") or {}).get("deletionTimestamp"):
                continue
            t = type_from_crd(crd)
            if t is not None:
                custom[t.key] = t
        with self._lock:
            self._custom = custom

    def all_types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._builtin.values()) + list(self._custom.values())

    def by_key(self, key: str) -> ResourceType | None:
        with self._lock:
            return self._builtin.get(key) or self._custom.get(key)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        t = self.by_key(f"{group}/{plural}")
        if t is None or version not in t.versions:
            return None
        return t

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for t in self.all_types():
            if t.group == group and t.kind == kind and version in t.versions:
                return t
        return None

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions (preferred first), core group excluded."""
        groups: dict[str, set[str]] = {}
        for t in self.all_types():
            if t.group:
                groups.setdefault(t.group, set()).update(t.versions)
        return {g: _sort_versions(list(vs)) for g, vs in groups.items()}

    def ordered_groups(self) -> list[str]:
        gv = self.group_versions()
        known = [g for g in _GROUP_ORDER if g in gv]
        rest = sorted(g for g in gv if g not in _GROUP_ORDER)
        return known + rest

    # ----- discovery documents -----

    def api_versions(self, server_address: str) -> dict:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }

    def api_group(self, group: str) -> dict | None:
        versions = self.group_versions().get(group)
        if not versions:
            return None
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def api_group_list(self) -> dict:
        groups = [g for g in map(self.api_group, self.ordered_groups()) if g is not None]
        for g in groups:
            g.pop("kind", None)
            g.pop("apiVersion", None)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_resource_list(self, group: str, version: str) -> dict | None:
        types = [t for t in self.all_types() if t.group == group and version in t.versions]
        if not types:
            return None
        resources = []
        for t in sorted(types, key=lambda t: t.plural):
            res: dict[str, Any] = {
                "name": t.plural,
                "singularName": t.singular,
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": list(t.verbs),
            }
            if t.short_names:
                res["shortNames"] = list(t.short_names)
            if t.categories:
                res["categories"] = list(t.categories)
            res["storageVersionHash"] = hashlib.sha256(t.key.encode()).hexdigest()[:12]
            resources.append(res)
            for sub, (kind, verbs) in sorted(t.subresources.items()):
                resources.append(
                    {
                        "name": f"{t.plural}/{sub}",
                        "singularName": "",
                        "namespaced": t.namespaced,
                        "kind": kind,
                        "verbs": list(verbs),
                    }
                )
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


@cache
def _load_yaml_text(name: str) -> str:
    return (DATA_DIR / name).read_text(encoding="utf-8")


@cache
def _parsed(name: str) -> str:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return json.dumps(yaml.load(_load_yaml_text(name), Loader=loader))


def load_data_yaml(name: str) -> Any:
    """A fresh copy of a bundled YAML file (parsed once per process)."""
    return json.loads(_parsed(name))


def data_text(name: str) -> str:
    return _load_yaml_text(name)


def kaito_crds(served_versions: tuple[str, ...] = ("v1alpha1", "v1beta1")) -> list[dict]:
    """The bundled KAITO CRDs, restricted to `served_versions` (the last served one stores)."""
    out = []
    for fname in ("kaito.sh_workspaces.yaml", "kaito.sh_inferencesets.yaml"):
        crd = load_data_yaml(fname)
        versions = [v for v in crd["spec"]["versions"] if v["name"] in served_versions]
        if not versions:
            continue
        if not any(v.get("storage") for v in versions):
            versions[-1]["storage"] = True
        crd["spec"]["versions"] = versions
        crd.setdefault("metadata", {}).setdefault("labels", {}).update(
            {
                "app.kubernetes.io/managed-by": "Helm",
            }
        )
        crd["metadata"].setdefault("annotations", {}).update(
            {
                "meta.helm.sh/release-name": "kaito-workspace",
                "meta.helm.sh/release-namespace": "kaito-workspace",
            }
        )
        out.append(crd)
    return out
