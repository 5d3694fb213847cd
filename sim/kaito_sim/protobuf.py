"""Just enough Kubernetes protobuf decoding for `kubectl create namespace|configmap|secret`.

kubectl's typed clients send built-in objects as `application/vnd.kubernetes.protobuf`
(magic `k8s\\0` + runtime.Unknown{typeMeta, raw}) and do not fall back to JSON on 415.
Field numbers come from k8s.io/api/core/v1 and k8s.io/apimachinery meta/v1 generated.proto.
Other kinds are refused with 415.
"""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """Generic wire-format parse: [(field number, wire type, value)]; length-delimited values are bytes."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        val: int | bytes
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            val = buf[pos : pos + ln]
            if len(val) != ln:
                raise ProtobufError("truncated field")
            pos += ln
        elif wt == 1:
            val = buf[pos : pos + 8]
            pos += 8
        elif wt == 5:
            val = buf[pos : pos + 4]
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wt}")
        out.append((num, wt, val))
    return out


# schema: field number -> (json name, kind, sub-schema, repeated)
_TIME = "time"
_OWNER = {
    1: ("kind", "string", None, False),
    3: ("name", "string", None, False),
    4: ("uid", "string", None, False),
    5: ("apiVersion", "string", None, False),
    6: ("controller", "bool", None, False),
    7: ("blockOwnerDeletion", "bool", None, False),
}
_META = {
    1: ("name", "string", None, False),
    2: ("generateName", "string", None, False),
    3: ("namespace", "string", None, False),
    5: ("uid", "string", None, False),
    6: ("resourceVersion", "string", None, False),
    7: ("generation", "int", None, False),
    11: ("labels", "map_ss", None, False),
    12: ("annotations", "map_ss", None, False),
    13: ("ownerReferences", "msg", _OWNER, True),
    14: ("finalizers", "string", None, True),
}
_NS_SPEC = {1: ("finalizers", "string", None, True)}
_NS_STATUS = {1: ("phase", "string", None, False)}
SCHEMAS: dict[tuple[str, str], dict] = {
    ("v1", "Namespace"): {
        1: ("metadata", "msg", _META, False),
        2: ("spec", "msg", _NS_SPEC, False),
        3: ("status", "msg", _NS_STATUS, False),
    },
    ("v1", "ConfigMap"): {
        1: ("metadata", "msg", _META, False),
        2: ("data", "map_ss", None, False),
        3: ("binaryData", "map_sb", None, False),
        4: ("immutable", "bool", None, False),
    },
    ("v1", "Secret"): {
        1: ("metadata", "msg", _META, False),
        2: ("data", "map_sb", None, False),
        3: ("type", "string", None, False),
        4: ("stringData", "map_ss", None, False),
        5: ("immutable", "bool", None, False),
    },
}


def _decode_time(buf: bytes) -> str:
    secs = 0
    for num, _, val in fields(buf):
        if num == 1:
            secs = val
    return _dt.datetime.fromtimestamp(secs, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _map_entry(buf: bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for num, _, val in fields(buf):
        if num == 1:
            key = val.decode()
        elif num == 2:
            value = val
    return key, value


def decode_message(buf: bytes, schema: dict) -> dict:
    out: dict[str, Any] = {}
    for num, _, val in fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        name, kind, sub, repeated = spec
        if kind == "string":
            v: Any = val.decode()
        elif kind == "bytes":
            v = base64.b64encode(val).decode()
        elif kind == "int":
            v = val
        elif kind == "bool":
            v = bool(val)
        elif kind == "msg":
            v = decode_message(val, sub)
        elif kind == _TIME:
            v = _decode_time(val)
        elif kind in ("map_ss", "map_sb"):
            k, raw = _map_entry(val)
            out.setdefault(name, {})[k] = raw.decode() if kind == "map_ss" else base64.b64encode(raw).decode()
            continue
        else:
            continue
        if repeated:
            out.setdefault(name, []).append(v)
        else:
            out[name] = v
    return out


def decode_object(body: bytes) -> dict:
    """Decode a `k8s\\0`-framed object into its JSON form. Raises ProtobufError for unknown kinds."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf magic")
    api_version = kind = ""
    raw = b""
    for num, _, val in fields(body[len(MAGIC) :]):
        if num == 1:
            for n2, _, v2 in fields(val):
                if n2 == 1:
                    api_version = v2.decode()
                elif n2 == 2:
                    kind = v2.decode()
        elif num == 2:
            raw = val
    schema = SCHEMAS.get((api_version, kind))
    if schema is None:
        raise ProtobufError(f"protobuf bodies of {api_version} {kind} are not supported by the simulator")
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(raw, schema))
    return obj
