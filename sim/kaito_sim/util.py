"""Small helpers shared by the simulator modules (stdlib only)."""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import re
import time
import uuid
from typing import Any

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def dns1123_label_errors(value: str) -> list[str]:
    """The messages of apimachinery's `validation.IsDNS1123Label`."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1123_LABEL.match(value):
        errs.append(DNS1123_LABEL_MSG)
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """The messages of apimachinery's `validation.IsDNS1123Subdomain`."""
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(DNS1123_SUBDOMAIN_MSG)
    return errs


def now() -> float:
    return time.time()


def rfc3339(ts: float | None = None) -> str:
    """Second precision, like metav1.Time."""
    if ts is None:
        ts = time.time()
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_nano(ts: float) -> str:
    """Nanosecond precision, like kubelet log timestamps."""
    whole = int(ts)
    frac = round((ts - whole) * 1e9)
    if frac >= 1_000_000_000:
        whole += 1
        frac -= 1_000_000_000
    base = _dt.datetime.fromtimestamp(whole, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def parse_rfc3339(value: str) -> float:
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    # Python < 3.11 cannot parse nanoseconds; trim the fraction to microseconds.
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", v)
    if m:
        frac = m.group(2) or ""
        if frac:  # Python 3.10 accepts exactly 3 or 6 fraction digits
            frac = "." + (frac[1:7] + "000000")[:6]
        v = m.group(1) + frac + m.group(3)
    dt = _dt.datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return dt.timestamp()


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def new_uid() -> str:
    return str(uuid.uuid4())


def short_hash(text: str, n: int = 5) -> str:
    """A stable lowercase alphanumeric hash, used for generated names."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    out = []
    for _ in range(n):
        h, r = divmod(h, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def deepcopy(obj: Any) -> Any:
    # json round trip is faster than copy.deepcopy for plain JSON data
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError):
        return copy.deepcopy(obj)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return deepcopy(patch)
    result = deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge_patch(result.get(key), value)
        else:
            result[key] = deepcopy(value)
    return result


class JSONPatchError(Exception):
    pass


def _pointer_parts(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JSONPatchError(f"invalid JSON pointer {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _resolve_parent(doc: Any, parts: list[str]) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict):
            if p not in cur:
                raise JSONPatchError(f"path element {p!r} not found")
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise JSONPatchError(f"invalid index {p!r}") from None
        else:
            raise JSONPatchError(f"cannot traverse into {p!r}")
    return cur, parts[-1]


def _get(doc: Any, pointer: str) -> Any:
    cur = doc
    for p in _pointer_parts(pointer):
        if isinstance(cur, dict):
            if p not in cur:
                raise JSONPatchError(f"path {pointer!r} not found")
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise JSONPatchError(f"path {pointer!r} not found") from None
        else:
            raise JSONPatchError(f"path {pointer!r} not found")
    return cur


def _remove(doc: Any, pointer: str) -> Any:
    parts = _pointer_parts(pointer)
    if not parts:
        raise JSONPatchError("cannot remove the root")
    parent, last = _resolve_parent(doc, parts)
    if isinstance(parent, dict):
        if last not in parent:
            raise JSONPatchError(f"unable to remove nonexistent key: {last}")
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            return parent.pop(int(last))
        except (ValueError, IndexError):
            raise JSONPatchError(f"invalid index {last!r}") from None
    raise JSONPatchError(f"cannot remove {pointer!r}")


def _add(doc: Any, pointer: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer_parts(pointer)
    if not parts:
        return value
    parent, last = _resolve_parent(doc, parts)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise JSONPatchError(f"unable to replace nonexistent key: {last}")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            if replace:
                raise JSONPatchError("cannot replace '-'")
            parent.append(value)
        else:
            try:
                idx = int(last)
            except ValueError:
                raise JSONPatchError(f"invalid index {last!r}") from None
            if replace:
                if not 0 <= idx < len(parent):
                    raise JSONPatchError(f"invalid index {idx}")
                parent[idx] = value
            else:
                if not 0 <= idx <= len(parent):
                    raise JSONPatchError(f"invalid index {idx}")
                parent.insert(idx, value)
    else:
        raise JSONPatchError(f"cannot add at {pointer!r}")
    return doc


def json_patch(doc: Any, ops: list) -> Any:
    """RFC 6902 JSON patch; returns a new document."""
    if not isinstance(ops, list):
        raise JSONPatchError("a JSON patch must be a list of operations")
    doc = deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise JSONPatchError("each operation needs 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            doc = _add(doc, path, deepcopy(op.get("value")), replace=True)
        elif kind == "move":
            value = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise JSONPatchError(f"test failed at {path!r}")
        else:
            raise JSONPatchError(f"unknown operation {kind!r}")
    return doc


class CIDict(dict):
    """A dict of HTTP headers with case-insensitive lookups."""

    def __init__(self, items=()):
        super().__init__()
        self._lower: dict[str, str] = {}
        for k, v in items.items() if isinstance(items, dict) else items:
            self[k] = v

    def __setitem__(self, key, value):
        old = self._lower.get(key.lower())
        if old is not None and old != key:
            super().__delitem__(old)
        self._lower[key.lower()] = key
        super().__setitem__(key, value)

    def __getitem__(self, key):
        return super().__getitem__(self._lower.get(key.lower(), key))

    def __contains__(self, key):
        return isinstance(key, str) and key.lower() in self._lower

    def get(self, key, default=None):
        real = self._lower.get(key.lower())
        return super().get(real, default) if real is not None else default


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
