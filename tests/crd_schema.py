"""A small structural OpenAPI v3 validator for the tests: is a manifest what a CRD's schema allows?

It reports, with the field's path: a wrong type, a missing required field, a value outside an enum (also
inside allOf), a number under its minimum, and every field the schema does not declare (the API server would
prune it silently) unless x-kubernetes-preserve-unknown-fields or additionalProperties allows it. Written for
tests only; the product never imports it.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}

# metav1.ObjectMeta as a manifest we build may use it (the CRD only says `metadata: {type: object}`).
OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _type_ok(value: Any, typ: str) -> bool:
    if typ in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES.get(typ, (object,)))


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Every way `value` breaks `schema`, as 'path: problem' lines (empty: valid)."""
    errors: list[str] = []
    where = path or "<root>"
    typ = schema.get("type")
    if typ and not _type_ok(value, typ):
        return [f"{where}: want {typ}, got {type(value).__name__} {value!r}"]
    for sub in schema.get("allOf") or []:
        errors += validate(value, sub, path)
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        errors.append(f"{where}: {value} is less than the minimum {schema['minimum']}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(f"{path + '.' if path else ''}{key}: required, missing")
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key in props:
                errors += validate(item, props[key], child)
            elif isinstance(addl, dict):
                errors += validate(item, addl, child)
            elif not (preserve or addl is True):
                errors.append(f"{child}: unknown field (the API server prunes it)")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def validate_object(obj: dict[str, Any], crd: dict[str, Any]) -> list[str]:
    """Validate an object against the CRD version its apiVersion names (metadata as ObjectMeta)."""
    group, _, version = obj.get("apiVersion", "").partition("/")
    if group != crd["spec"]["group"] or obj.get("kind") != crd["spec"]["names"]["kind"]:
        return [f"<root>: {obj.get('apiVersion')} {obj.get('kind')} is not this CRD's kind"]
    versions = {v["name"]: v for v in crd["spec"]["versions"]}
    if version not in versions:
        return [f"apiVersion: the CRD has no version {version!r}"]
    schema = dict(versions[version]["schema"]["openAPIV3Schema"])
    schema["properties"] = {**schema.get("properties", {}), "metadata": OBJECT_META}
    return validate(obj, schema)
