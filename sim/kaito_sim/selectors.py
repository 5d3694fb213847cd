"""Label and field selectors with the syntax of apimachinery's `labels.Parse` / `fields.ParseSelector`."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any


class SelectorError(ValueError):
    pass


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


Requirement = Callable[[dict], bool]


# One requirement each, bound to its key and values with functools.partial (a lambda with default
# arguments for that is a callable mypy cannot type).
def _key_in(k: str, s: set[str], lb: dict) -> bool:
    return k in lb and lb[k] in s


def _key_not_in(k: str, s: set[str], lb: dict) -> bool:
    return k not in lb or lb[k] not in s


def _label_is(k: Any, v: Any, lb: dict) -> bool:
    return lb.get(k) == v


def _label_is_not(k: Any, v: Any, lb: dict) -> bool:
    return lb.get(k) != v


def _label_in(k: Any, s: set, lb: dict) -> bool:
    return lb.get(k) in s


def _label_not_in(k: Any, s: set, lb: dict) -> bool:
    return lb.get(k) not in s


def _present(k: Any, lb: dict) -> bool:
    return k in lb


def _absent(k: Any, lb: dict) -> bool:
    return k not in lb


def _compare(k: str, op: str, n: int, lb: dict) -> bool:
    try:
        v = int(lb[k])
    except (KeyError, ValueError):
        return False
    return v < n if op == "<" else v > n


def _field_is(k: str, v: str, obj: dict) -> bool:
    return field_value(obj, k) == v


def _field_is_not(k: str, v: str, obj: dict) -> bool:
    return field_value(obj, k) != v


def _check_key(key: str, raw: str) -> None:
    if not key or not _KEY_RE.match(key):
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r} in {raw!r}")


def _check_value(value: str, raw: str) -> None:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise SelectorError(f"unable to parse requirement: invalid label value {value!r} in {raw!r}")


def parse_label_selector(text: str | None) -> Callable[[dict], bool]:
    """Return a predicate over a labels dict. Raises SelectorError."""
    if text is None or not text.strip():
        return lambda labels: True
    reqs: list[Requirement] = []
    for raw in _split_top(text):
        m = re.match(r"^(!?)\s*([^\s!=<>(),]+)\s*(notin|in)\s*\((.*)\)$", raw)
        if m and not m.group(1):
            key, op, vals = m.group(2), m.group(3), [v.strip() for v in m.group(4).split(",") if v.strip()]
            _check_key(key, raw)
            for v in vals:
                _check_value(v, raw)
            sv = set(vals)
            if op == "in":
                reqs.append(partial(_key_in, key, sv))
            else:
                reqs.append(partial(_key_not_in, key, sv))
            continue
        m = re.match(r"^([^\s!=<>]+)\s*(==|=|!=)\s*(.*)$", raw)
        if m:
            key, op, val = m.group(1), m.group(2), m.group(3).strip()
            _check_key(key, raw)
            _check_value(val, raw)
            if op in ("=", "=="):
                reqs.append(partial(_label_is, key, val))
            else:
                reqs.append(partial(_label_is_not, key, val))
            continue
        m = re.match(r"^([^\s!=<>]+)\s*(<|>)\s*(\d+)$", raw)
        if m:
            key, op, num = m.group(1), m.group(2), int(m.group(3))
            _check_key(key, raw)

            reqs.append(partial(_compare, key, op, num))
            continue
        m = re.match(r"^(!?)([^\s!=<>(),]+)$", raw)
        if m:
            key = m.group(2)
            _check_key(key, raw)
            if m.group(1):
                reqs.append(partial(_absent, key))
            else:
                reqs.append(partial(_present, key))
            continue
        raise SelectorError(f"unable to parse requirement: {raw!r}")
    return lambda labels: all(r(labels or {}) for r in reqs)


def label_selector_from_dict(sel: dict | None) -> Callable[[dict], bool]:
    """A metav1.LabelSelector ({matchLabels, matchExpressions}) as a predicate."""
    if not sel:
        return lambda labels: True
    reqs: list[Requirement] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append(partial(_label_is, k, v))
    for expr in sel.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), set(expr.get("values") or [])
        if op == "In":
            reqs.append(partial(_label_in, key, vals))
        elif op == "NotIn":
            reqs.append(partial(_label_not_in, key, vals))
        elif op == "Exists":
            reqs.append(partial(_present, key))
        elif op == "DoesNotExist":
            reqs.append(partial(_absent, key))
    return lambda labels: all(r(labels or {}) for r in reqs)


def field_value(obj: dict, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str | None, allowed: set[str] | None) -> Callable[[dict], bool]:
    """Return a predicate over an object. `allowed` limits the field labels like the real
    server does per resource (None = anything). Raises SelectorError."""
    if text is None or not text.strip():
        return lambda obj: True
    reqs = []
    for raw in _split_top(text):
        m = re.match(r"^([^!=]+?)\s*(==|=|!=)\s*(.*)$", raw)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{raw}'")
        key, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if allowed is not None and key not in allowed:
            raise SelectorError(f"field label not supported: {key}")
        if op in ("=", "=="):
            reqs.append(partial(_field_is, key, val))
        else:
            reqs.append(partial(_field_is_not, key, val))
    return lambda obj: all(r(obj) for r in reqs)
