"""Minimal OpenAPI v3 documents: enough for `kubectl apply` (with its default --validate=strict)
to see that the server supports the `fieldValidation` query parameter, and for `kubectl explain`
on custom resources. OpenAPI v2 is not served (404), as kubectl only falls back to it.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import SimCluster

_PARAMS_WRITE = [
    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
]
_PARAMS_PATCH = _PARAMS_WRITE + [{"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}}]


def _schema_name(group: str, version: str, kind: str) -> str:
    if not group:
        return f"io.k8s.api.core.{version}.{kind}"
    rev = ".".join(reversed(group.split(".")))
    return f"{rev}.{version}.{kind}"


def _gv_paths(sim: SimCluster) -> dict[str, tuple[str, str]]:
    out = {"api/v1": ("", "v1")}
    for group, versions in sim.registry.group_versions().items():
        for v in versions:
            out[f"apis/{group}/{v}"] = (group, v)
    return out


def _gv_doc(sim: SimCluster, group: str, version: str) -> dict:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    prefix = f"/apis/{group}/{version}" if group else "/api/v1"
    for rt in sim.registry.all_types():
        if rt.group != group or version not in rt.versions:
            continue
        gvk = {"group": group, "version": version, "kind": rt.kind}
        ref = {"$ref": f"#/components/schemas/{_schema_name(group, version, rt.kind)}"}
        body = {"content": {"application/json": {"schema": ref}}}
        resp = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        paths[base] = {
            "get": {"x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk, "responses": resp},
            "post": {
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": _PARAMS_WRITE,
                "requestBody": body,
                "responses": resp,
            },
        }
        paths[base + "/{name}"] = {
            "get": {"x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk, "responses": resp},
            "put": {
                "x-kubernetes-action": "put",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": _PARAMS_WRITE,
                "requestBody": body,
                "responses": resp,
            },
            "patch": {
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": _PARAMS_PATCH,
                "requestBody": {
                    "content": {
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                        "application/json-patch+json": {"schema": {"type": "object"}},
                    }
                },
                "responses": resp,
            },
            "delete": {
                "x-kubernetes-action": "delete",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK"}},
            },
        }
        if rt.custom:
            sch = dict(rt.schema(version) or {"type": "object"})
            sch["x-kubernetes-group-version-kind"] = [gvk]
            schemas[_schema_name(group, version, rt.kind)] = sch
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": sim.version_info()["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def serve(sim: SimCluster, path: str, query: dict[str, str]) -> tuple[int, Any]:
    if path == "/openapi/v3":
        out = {}
        for p, (g, v) in _gv_paths(sim).items():
            doc = _gv_doc(sim, g, v)
            h = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()
            out[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={h}"}
        return 200, {"paths": out}
    if path.startswith("/openapi/v3/"):
        key = path[len("/openapi/v3/") :]
        gv = _gv_paths(sim).get(key)
        if gv is None:
            return 404, None
        return 200, _gv_doc(sim, *gv)
    return 404, None
