"""API semantics on top of the store: admission (schema, webhook), defaults, preconditions,
status subresources, finalizers, pagination. Raises ApiError carrying a metav1.Status.
"""

from __future__ import annotations

import base64
import builtins  # builtins.list: Api.list shadows it in the class body
import json
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from . import schema as schema_mod
from .resources import CRD_KEY, ResourceType
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .store import Store
from .util import (
    JSONPatchError,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    json_patch,
    merge_patch,
    rfc3339,
    short_hash,
)
from .webhook import WorkspaceValidator, denial_message

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import SimCluster


class ApiError(Exception):
    def __init__(self, code: int, reason: str | None, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict:
        st: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            st["reason"] = self.reason
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def _details(rt: ResourceType, name: str | None, kind: str | None = None) -> dict:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if rt.group:
        d["group"] = rt.group
    d["kind"] = kind or rt.plural
    return d


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.group_resource} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists', _details(rt, name))


def conflict(
    rt: ResourceType,
    name: str,
    why: str = "the object has been modified; please apply your changes to the latest version and try again",
) -> ApiError:
    return ApiError(
        409, "Conflict", f'Operation cannot be fulfilled on {rt.group_resource} "{name}": {why}', _details(rt, name)
    )


def invalid(rt: ResourceType, name: str, causes: list[schema_mod.Cause]) -> ApiError:
    parts = [str(c) for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = _details(rt, name, kind=rt.kind)
    details["causes"] = [c.as_dict() for c in causes]
    return ApiError(422, "Invalid", f'{rt.qualified_kind} "{name}" is invalid: {joined}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def _ns_not_found(ns: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})


class Api:
    def __init__(self, sim: SimCluster) -> None:
        self.sim = sim
        self.store: Store = sim.store
        self._ip_lock = threading.Lock()
        self._used_ips: set[str] = set()
        self._used_ports: set[int] = set()
        self.validator = WorkspaceValidator(
            self._get_configmap, list_nodes=lambda: self.store.list("/nodes"), settings=lambda: sim
        )

    # ------------------------------------------------------------------ helpers
    def _get_configmap(self, ns: str, name: str) -> dict | None:
        return self.store.get("/configmaps", ns, name)

    def present(self, rt: ResourceType, version: str | None, obj: dict) -> dict:
        if rt.custom and version:
            want = rt.api_version(version)
            if obj.get("apiVersion") != want:
                obj = dict(obj)
                obj["apiVersion"] = want
        return obj

    def allocate_cluster_ip(self) -> str:
        with self._ip_lock:
            while True:
                ip = f"10.0.{random.randint(1, 254)}.{random.randint(2, 254)}"
                if ip not in self._used_ips:
                    self._used_ips.add(ip)
                    return ip

    def allocate_node_port(self) -> int:
        with self._ip_lock:
            while True:
                p = random.randint(30000, 32767)
                if p not in self._used_ports:
                    self._used_ports.add(p)
                    return p

    def _check_namespace(self, rt: ResourceType, ns: str | None, dry_run: bool = False) -> None:
        if not rt.namespaced:
            return
        nsobj = self.store.get("/namespaces", "", ns or "")
        if nsobj is None:
            raise _ns_not_found(ns or "")
        if (nsobj.get("metadata") or {}).get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f'{rt.group_resource} "{""}" is forbidden: unable to create new content in namespace '
                f"{ns} because it is being terminated",
                {"kind": rt.plural, **({"group": rt.group} if rt.group else {})},
            )

    def _validate_meta_name(self, rt: ResourceType, name: str) -> list[schema_mod.Cause]:
        if rt.key in ("/namespaces",) or rt.key == "/services":
            msgs = dns1123_label_errors(name)
        else:
            msgs = dns1123_subdomain_errors(name)
        return [
            schema_mod.Cause("FieldValueInvalid", "metadata.name", f"Invalid value: {json.dumps(name)}: {m}")
            for m in msgs
        ]

    def _admit_schema(
        self,
        rt: ResourceType,
        version: str,
        obj: dict,
        name: str,
        field_validation: str,
        warnings: list[str],
        include_status: bool,
    ) -> dict:
        schema = rt.schema(version)
        if schema is None:
            return obj
        out, res = schema_mod.apply_schema(obj, schema, include_status=include_status)
        if res.pruned:
            if field_validation == "Strict":
                raise bad_request("strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in res.pruned))
            if field_validation != "Ignore":
                warnings.extend(f'unknown field "{p}"' for p in res.pruned)
        if res.causes:
            raise invalid(rt, name, res.causes)
        return out

    def _webhook(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.key != "kaito.sh/workspaces":
            return
        if self.sim.webhook_down:
            msg = (
                'Internal error occurred: failed calling webhook "validation.workspace.kaito.sh": failed to call '
                'webhook: Post "https://kaito-workspace-svc.kaito-workspace.svc:9443/validate/workspace.kaito.sh'
                '?timeout=10s": no endpoints available for service "kaito-workspace-svc"'
            )
            raise ApiError(500, "InternalError", msg, {"causes": [{"message": msg}]})
        if not self.sim.webhook_active():
            return
        reason = self.validator.validate(obj, old)
        if reason:
            raise ApiError(400, None, denial_message(reason))

    def _builtin_defaults(self, rt: ResourceType, obj: dict, old: dict | None) -> dict:
        key = rt.key
        if key == "/services":
            spec = dict(obj.get("spec") or {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName":
                if old is not None and (old.get("spec") or {}).get("clusterIP"):
                    spec.setdefault("clusterIP", old["spec"]["clusterIP"])
                if not spec.get("clusterIP"):
                    spec["clusterIP"] = self.allocate_cluster_ip()
                if spec["clusterIP"] != "None":
                    spec.setdefault("clusterIPs", [spec["clusterIP"]])
                else:
                    spec.setdefault("clusterIPs", ["None"])
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
                spec.setdefault("internalTrafficPolicy", "Cluster")
            ports = []
            old_ports = {
                p.get("name") or str(p.get("port")): p for p in ((old or {}).get("spec") or {}).get("ports") or []
            }
            for p in spec.get("ports") or []:
                p = dict(p)
                p.setdefault("protocol", "TCP")
                p.setdefault("targetPort", p.get("port"))
                if spec["type"] in ("NodePort", "LoadBalancer") and not p.get("nodePort"):
                    prev = old_ports.get(p.get("name") or str(p.get("port")))
                    p["nodePort"] = (prev or {}).get("nodePort") or self.allocate_node_port()
                ports.append(p)
            if ports:
                spec["ports"] = ports
            if spec["type"] == "LoadBalancer":
                spec.setdefault("externalTrafficPolicy", "Cluster")
                spec.setdefault("allocateLoadBalancerNodePorts", True)
            obj = dict(obj, spec=spec)
            obj.setdefault("status", {"loadBalancer": {}})
        elif key == "/namespaces":
            meta = dict(obj["metadata"])
            meta["labels"] = dict(meta.get("labels") or {}, **{"kubernetes.io/metadata.name": meta["name"]})
            obj = dict(obj, metadata=meta)
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
        elif key == "/pods":
            obj.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})
            spec = dict(obj.get("spec") or {})
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("dnsPolicy", "ClusterFirst")
            spec.setdefault("schedulerName", "default-scheduler")
            obj = dict(obj, spec=spec)
        elif key == "/secrets":
            if not obj.get("type"):
                obj["type"] = "Opaque"
            if obj.get("stringData"):
                data = dict(obj.get("data") or {})
                for k, v in obj["stringData"].items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
                obj = {k: v for k, v in obj.items() if k != "stringData"}
                obj["data"] = data
        elif key == CRD_KEY:
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            obj.setdefault(
                "status",
                {
                    "acceptedNames": names,
                    "conditions": [
                        {
                            "type": "NamesAccepted",
                            "status": "True",
                            "reason": "NoConflicts",
                            "message": "no conflicts found",
                            "lastTransitionTime": rfc3339(),
                        },
                        {
                            "type": "Established",
                            "status": "True",
                            "reason": "InitialNamesAccepted",
                            "message": "the initial names have been accepted",
                            "lastTransitionTime": rfc3339(),
                        },
                    ],
                    "storedVersions": [v["name"] for v in spec.get("versions", []) if v.get("storage")],
                },
            )
        return obj

    @staticmethod
    def _strip_server_fields(meta: dict) -> dict:
        meta = dict(meta)
        for k in (
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ):
            meta.pop(k, None)
        return meta

    @staticmethod
    def _spec_part(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}

    # ------------------------------------------------------------------ create
    def create(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        field_validation: str = "Warn",
    ) -> tuple[dict, list[str]]:
        if not isinstance(body, dict):
            raise bad_request(
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml, application/vnd.kubernetes.protobuf"
            )
        warnings: list[str] = []
        want_av = rt.api_version(version)
        if body.get("kind") and body.get("kind") != rt.kind:
            raise bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected "
                f"API version ({want_av})"
                if body.get("apiVersion") != want_av
                else f"kind {body.get('kind')} does not match the expected kind {rt.kind}"
            )
        if body.get("apiVersion") and body.get("apiVersion") != want_av:
            raise bad_request(
                f"the API version in the data ({body['apiVersion']}) does not match the expected "
                f"API version ({want_av})"
            )
        meta = self._strip_server_fields(body.get("metadata") or {})
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and ns and body_ns != ns:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns or body_ns or "default"
        else:
            meta.pop("namespace", None)
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + short_hash(f"{time.time()}{random.random()}", 5)
            meta["name"] = name
        if not name:
            raise invalid(
                rt,
                "",
                [
                    schema_mod.Cause(
                        "FieldValueRequired", "metadata.name", "Required value: name or generateName is required"
                    )
                ],
            )
        causes = self._validate_meta_name(rt, name)
        if causes:
            raise invalid(rt, name, causes)
        self._check_namespace(rt, meta.get("namespace"))
        obj = dict(body)
        obj["apiVersion"] = rt.api_version(rt.storage_version) if rt.custom else want_av
        obj["kind"] = rt.kind
        obj["metadata"] = meta
        if rt.has_status:
            obj.pop("status", None)
        obj = self._admit_schema(rt, version, obj, name, field_validation, warnings, include_status=False)
        obj = self._builtin_defaults(rt, obj, None)
        meta = obj["metadata"] = dict(obj["metadata"])
        if rt.custom or rt.group in ("apps", "batch", "networking.k8s.io", "apiextensions.k8s.io"):
            meta["generation"] = 1
        with self.store.lock:
            if self.store.get(rt.key, meta.get("namespace", ""), name) is not None:
                raise already_exists(rt, name)
            self._webhook(rt, obj, None)
            if dry_run:
                out = dict(obj)
                out["metadata"] = dict(
                    meta, uid=meta.get("uid") or "00000000-0000-0000-0000-000000000000", creationTimestamp=rfc3339()
                )
                return self.present(rt, version, out), warnings
            stored = self.store.put(rt.key, obj)
        self.sim.after_write(rt, stored, None)
        return self.present(rt, version, stored), warnings

    # ------------------------------------------------------------------ read
    def get(self, rt: ResourceType, version: str, ns: str | None, name: str) -> dict:
        obj = self.store.get(rt.key, ns or "" if rt.namespaced else "", name)
        if obj is None:
            raise not_found(rt, name)
        return self.present(rt, version, obj)

    def list(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict:
        try:
            lsel = parse_label_selector(label_selector)
            fsel = parse_field_selector(field_selector, set(rt.field_labels) if rt.field_labels else None)
        except SelectorError as exc:
            raise bad_request(str(exc)) from None
        after = None
        list_rv = None
        if continue_token:
            try:
                tok = json.loads(base64.urlsafe_b64decode(continue_token.encode() + b"=="))
                after = (tok["start"][0], tok["start"][1])
                list_rv = int(tok["rv"])
            except (ValueError, KeyError, IndexError, TypeError):
                raise bad_request(
                    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
                ) from None
            if list_rv < self.store.oldest_rv:
                raise expired(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter, or use the continue token "
                    "in this response to retrieve the remainder of the results. Continuing with the "
                    "provided token results in an inconsistent list - objects that were created, modified, "
                    "or deleted between the time the first chunk was returned and now may show up in the "
                    "list."
                )
        ns_filter = ns if rt.namespaced else None
        objs, rv = self.store.list_after(rt.key, ns_filter, after)
        if list_rv is None:
            list_rv = rv
        filtered = (label_selector or field_selector) and True
        items: builtins.list[dict] = []
        next_token = None
        remaining = None
        for idx, o in enumerate(objs):
            if filtered:
                if not lsel((o.get("metadata") or {}).get("labels") or {}) or not fsel(o):
                    continue
            if limit and len(items) >= limit:
                last = items[-1]["metadata"]
                next_token = (
                    base64.urlsafe_b64encode(
                        json.dumps({"rv": list_rv, "start": [last.get("namespace", "") or "", last["name"]]}).encode()
                    )
                    .decode()
                    .rstrip("=")
                )
                if not filtered:
                    remaining = len(objs) - idx
                break
            items.append(self.present(rt, version, o))
        meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if next_token:
            meta["continue"] = next_token
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        return {"kind": f"{rt.kind}List", "apiVersion": rt.api_version(version), "metadata": meta, "items": items}

    # ------------------------------------------------------------------ update
    def _finish_update(
        self,
        rt: ResourceType,
        version: str,
        old: dict,
        new: dict,
        *,
        dry_run: bool,
        field_validation: str,
        subresource: str | None,
        warnings: builtins.list[str],
        check_rv: bool,
    ) -> dict:
        name = old["metadata"]["name"]
        ns = old["metadata"].get("namespace", "")
        new_meta = self._strip_server_fields(new.get("metadata") or {})
        body_rv = (new.get("metadata") or {}).get("resourceVersion")
        if check_rv and body_rv and body_rv != old["metadata"].get("resourceVersion"):
            raise conflict(rt, name)
        if new_meta.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({new_meta.get('name')}) does not match the name on the URL ({name})"
            )
        if rt.namespaced and new_meta.get("namespace", ns) != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        old_meta = old["metadata"]
        if subresource == "status":
            merged = dict(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            merged = self._admit_schema(rt, version, merged, name, field_validation, warnings, include_status=True)
        else:
            meta = dict(new_meta)
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = ns
            for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in old_meta:
                    meta[k] = old_meta[k]
            merged = dict(new)
            merged["metadata"] = meta
            merged["apiVersion"] = old.get("apiVersion")
            merged["kind"] = rt.kind
            if rt.has_status:
                if "status" in old:
                    merged["status"] = old["status"]
                else:
                    merged.pop("status", None)
            merged = self._admit_schema(rt, version, merged, name, field_validation, warnings, include_status=True)
            merged = self._builtin_defaults(rt, merged, old)
            if "generation" in old_meta and self._spec_part(merged) != self._spec_part(old):
                merged["metadata"] = dict(merged["metadata"], generation=int(old_meta.get("generation") or 1) + 1)
            if old_meta.get("deletionTimestamp"):
                added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
                if added:
                    raise ApiError(
                        422,
                        "Invalid",
                        f'{rt.qualified_kind} "{name}" is invalid: metadata.finalizers: '
                        f"Forbidden: no new finalizers can be added if the object is being deleted, "
                        f"found new finalizers {json.dumps(sorted(added))}",
                        _details(rt, name, rt.kind),
                    )
            self._webhook(rt, merged, old)
        merged["metadata"] = dict(merged["metadata"], resourceVersion=old_meta.get("resourceVersion"))
        if merged == old:  # like the real server: a no-op update writes nothing and keeps the resourceVersion
            return self.present(rt, version, old)
        if dry_run:
            return self.present(rt, version, merged)
        with self.store.lock:
            current = self.store.get(rt.key, ns, name)
            if current is None:
                raise not_found(rt, name)
            if current["metadata"].get("resourceVersion") != old_meta.get("resourceVersion"):
                raise conflict(rt, name)
            if merged["metadata"].get("deletionTimestamp") and not merged["metadata"].get("finalizers"):
                stored = self.store.put(rt.key, merged)
                final = self.store.remove(rt.key, ns, name)
                self.sim.after_delete(rt, final or stored, "Background")
                return self.present(rt, version, final or stored)
            stored = self.store.put(rt.key, merged)
        self.sim.after_write(rt, stored, old)
        return self.present(rt, version, stored)

    def replace(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_validation: str = "Warn",
    ) -> tuple[dict, builtins.list[str]]:
        if not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format")
        warnings: list[str] = []
        old = self.store.get(rt.key, ns or "" if rt.namespaced else "", name)
        if old is None:
            raise not_found(rt, name)
        body_rv = (body.get("metadata") or {}).get("resourceVersion")
        if rt.custom and not body_rv:
            raise invalid(
                rt,
                name,
                [
                    schema_mod.Cause(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update",
                    )
                ],
            )
        out = self._finish_update(
            rt,
            version,
            old,
            body,
            dry_run=dry_run,
            field_validation=field_validation,
            subresource=subresource,
            warnings=warnings,
            check_rv=True,
        )
        return out, warnings

    def patch(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        name: str,
        patch_type: str,
        body: bytes,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_validation: str = "Warn",
    ) -> tuple[dict, builtins.list[str]]:
        warnings: list[str] = []
        ns_key = ns or "" if rt.namespaced else ""
        old = self.store.get(rt.key, ns_key, name)
        ctype = (patch_type or "").split(";")[0].strip()
        if ctype == "application/apply-patch+yaml":
            import yaml

            try:
                applied = yaml.safe_load(body.decode() or "{}")
            except yaml.YAMLError as exc:
                raise bad_request(f"error decoding YAML: {exc}") from None
            if old is None:
                if not isinstance(applied, dict):
                    raise bad_request("invalid apply patch")
                applied.setdefault("metadata", {})["name"] = name
                return self.create(rt, version, ns, applied, dry_run=dry_run, field_validation=field_validation)
            new = merge_patch(old, applied)
        else:
            if old is None:
                raise not_found(rt, name)
            try:
                patch = json.loads(body or b"null")
            except ValueError as exc:
                raise bad_request(f"error decoding patch: {exc}") from None
            if ctype == "application/json-patch+json":
                try:
                    new = json_patch(old, patch)
                except JSONPatchError as exc:
                    raise ApiError(
                        422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
                    ) from None
            elif ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                if not isinstance(patch, dict):
                    raise bad_request("a merge patch must be a JSON object")
                new = merge_patch(old, patch)
            else:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json-patch+json, "
                    "application/merge-patch+json, application/apply-patch+yaml",
                    None,
                )
        out = self._finish_update(
            rt,
            version,
            old,
            new,
            dry_run=dry_run,
            field_validation=field_validation,
            subresource=subresource,
            warnings=warnings,
            check_rv=True,
        )
        return out, warnings

    # ------------------------------------------------------------------ delete
    def delete(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        name: str,
        *,
        dry_run: bool = False,
        propagation: str | None = None,
        preconditions: dict | None = None,
    ) -> dict:
        ns_key = ns or "" if rt.namespaced else ""
        with self.store.lock:
            old = self.store.get(rt.key, ns_key, name)
            if old is None:
                raise not_found(rt, name)
            meta = old["metadata"]
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise conflict(
                    rt,
                    name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
                )
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
                raise conflict(
                    rt,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: "
                    f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                    f"{meta.get('resourceVersion')}",
                )
            finalizers = list(meta.get("finalizers") or [])
            if rt.key == "/namespaces":
                finalizers = finalizers or ["kubernetes"]
            # like the real GC: these policies are carried out through finalizers
            if propagation == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            elif (
                propagation == "Foreground"
                and "foregroundDeletion" not in finalizers
                and self.store.dependents(meta.get("uid", ""))
            ):
                finalizers.append("foregroundDeletion")
            if dry_run:
                if finalizers:
                    return self.present(
                        rt,
                        version,
                        dict(
                            old,
                            metadata=dict(
                                meta,
                                deletionTimestamp=meta.get("deletionTimestamp") or rfc3339(),
                                deletionGracePeriodSeconds=0,
                            ),
                        ),
                    )
                return self._deleted_body(rt, version, old)
            if finalizers:
                if meta.get("deletionTimestamp"):
                    return self.present(rt, version, old)
                new_meta = dict(meta, deletionTimestamp=rfc3339(), deletionGracePeriodSeconds=0)
                if finalizers != list(meta.get("finalizers") or []) and rt.key != "/namespaces":
                    new_meta["finalizers"] = finalizers
                new = dict(old, metadata=new_meta)
                if rt.key == "/namespaces":
                    new["status"] = dict(new.get("status") or {}, phase="Terminating")
                stored = self.store.put(rt.key, new)
                self.sim.after_write(rt, stored, old)
                return self.present(rt, version, stored)
            final = self.store.remove(rt.key, ns_key, name)
            assert final is not None  # read above under the same lock: it is there to remove
        self.sim.after_delete(rt, final, propagation or "Background")
        return self._deleted_body(rt, version, final)

    def _deleted_body(self, rt: ResourceType, version: str, obj: dict) -> dict:
        if rt.custom or rt.key in ("/pods", "/services", "/namespaces"):
            return self.present(rt, version, obj)
        meta = obj.get("metadata") or {}
        details: dict[str, Any] = {"name": meta.get("name"), "kind": rt.plural, "uid": meta.get("uid")}
        if rt.group:
            details["group"] = rt.group
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def delete_collection(
        self,
        rt: ResourceType,
        version: str,
        ns: str | None,
        *,
        label_selector: str | None,
        field_selector: str | None,
        dry_run: bool = False,
        propagation: str | None = None,
    ) -> dict:
        lst = self.list(rt, version, ns, label_selector=label_selector, field_selector=field_selector)
        for item in lst["items"]:
            m = item["metadata"]
            try:
                self.delete(rt, version, m.get("namespace"), m["name"], dry_run=dry_run, propagation=propagation)
            except ApiError:
                pass
        return lst
