"""Apply a CRD's structural openAPIV3Schema the way kube-apiserver does for custom resources:
drop nulls (unless nullable), prune unknown fields (unless x-kubernetes-preserve-unknown-fields),
apply defaults, then validate type / required / enum / bounds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .util import deepcopy


@dataclass
class Cause:
    """One field error, shaped like a metav1.StatusCause."""

    reason: str  # FieldValueRequired | FieldValueNotSupported | FieldValueInvalid | FieldValueTypeInvalid
    field: str
    message: str  # e.g. 'Required value'

    def as_dict(self) -> dict:
        return {"reason": self.reason, "message": self.message, "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array":
        return isinstance(value, list)
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if typ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    return True


def _q(value: Any) -> str:
    """Go's %q / field.Invalid value rendering (roughly)."""
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class SchemaResult:
    def __init__(self) -> None:
        self.pruned: list[str] = []
        self.causes: list[Cause] = []


def _walk(value: Any, schema: dict, path: str, res: SchemaResult) -> Any:
    if not isinstance(schema, dict):
        return value
    if value is None:
        return value
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, (int, str)) and not isinstance(value, bool)):
            res.causes.append(
                Cause(
                    "FieldValueTypeInvalid",
                    path,
                    f"Invalid value: {_q(_type_name(value))}: {path} in body must be of type integer,string: "
                    f"{_q(_type_name(value))}",
                )
            )
        return value
    typ = schema.get("type")
    if typ and not _type_ok(value, typ):
        res.causes.append(
            Cause(
                "FieldValueTypeInvalid",
                path,
                f"Invalid value: {_q(_type_name(value))}: {path} in body must be of type {typ}: "
                f"{_q(_type_name(value))}",
            )
        )
        return value
    if typ == "integer" and isinstance(value, float):
        value = int(value)

    if isinstance(value, dict) and (typ == "object" or "properties" in schema or "additionalProperties" in schema):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        out: dict = {}
        for key, item in value.items():
            sub = props.get(key)
            if sub is None and isinstance(addl, dict):
                sub = addl
            if sub is not None:
                if item is None and not sub.get("nullable", False):
                    continue  # nulls are pruned before defaulting
                out[key] = _walk(item, sub, _child(path, key), res)
            elif preserve or addl is True:
                out[key] = item
            else:
                res.pruned.append(_child(path, key))
        for key, sub in props.items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = _walk(deepcopy(sub["default"]), sub, _child(path, key), res)
        for key in schema.get("required") or []:
            if key not in out:
                res.causes.append(Cause("FieldValueRequired", _child(path, key), "Required value"))
        value = out
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        value = [_walk(item, schema["items"], f"{path}[{i}]", res) for i, item in enumerate(value)]
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            res.causes.append(
                Cause(
                    "FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items"
                )
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            res.causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items",
                )
            )

    enum = schema.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(_q(e) for e in enum)
        res.causes.append(
            Cause("FieldValueNotSupported", path, f"Unsupported value: {_q(value)}: supported values: {supported}")
        )
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            res.causes.append(
                Cause("FieldValueTooLong", path, f"Too long: may not be more than {schema['maxLength']} bytes")
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            res.causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_q(value)}: {path} in body should be at least {schema['minLength']} chars long",
                )
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            res.causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_q(value)}: {path} in body should match '{schema['pattern']}'",
                )
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            res.causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {value}: {path} in body should be greater than or equal to {schema['minimum']}",
                )
            )
        if "maximum" in schema and value > schema["maximum"]:
            res.causes.append(
                Cause(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {value}: {path} in body should be less than or equal to {schema['maximum']}",
                )
            )
    return value


_ROOT_KEEP = ("apiVersion", "kind", "metadata")


def apply_schema(obj: dict, schema: dict | None, *, include_status: bool = True) -> tuple[dict, SchemaResult]:
    """Return (pruned+defaulted object, result with pruned paths and validation causes)."""
    res = SchemaResult()
    if not schema:
        return obj, res
    props = schema.get("properties") or {}
    out: dict = {}
    for key in _ROOT_KEEP:
        if key in obj:
            out[key] = obj[key]
    rest_schema = dict(schema)
    rest_schema["properties"] = {k: v for k, v in props.items() if k not in _ROOT_KEEP}
    rest_schema.pop("required", None)
    rest = {k: v for k, v in obj.items() if k not in _ROOT_KEEP}
    if not include_status:
        rest.pop("status", None)
    walked = _walk(rest, rest_schema, "", res)
    out.update(walked)
    for key in schema.get("required") or []:
        if key not in out and key not in _ROOT_KEEP:
            res.causes.append(Cause("FieldValueRequired", key, "Required value"))
    return out, res


def defaults_only(obj: dict, schema: dict | None) -> dict:
    """Prune and default, ignoring validation errors (used by SimCluster.apply)."""
    out, _ = apply_schema(obj, schema)
    return out
