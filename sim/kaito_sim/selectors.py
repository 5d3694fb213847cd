"""Label and field selectors with the syntax of apimachinery's `labels.Parse` / `fields.ParseSelector`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class SelectorError(ValueError):
    pass


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
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
                reqs.append(lambda lb, k=key, s=sv: k in lb and lb[k] in s)
            else:
                reqs.append(lambda lb, k=key, s=sv: k not in lb or lb[k] not in s)
            continue
        m = re.match(r"^([^\s!=<>]+)\s*(==|=|!=)\s*(.*)$", raw)
        if m:
            key, op, val = m.group(1), m.group(2), m.group(3).strip()
            _check_key(key, raw)
            _check_value(val, raw)
            if op in ("=", "=="):
                reqs.append(lambda lb, k=key, v=val: lb.get(k) == v)
            else:
                reqs.append(lambda lb, k=key, v=val: lb.get(k) != v)
            continue
        m = re.match(r"^([^\s!=<>]+)\s*(<|>)\s*(\d+)$", raw)
        if m:
            key, op, num = m.group(1), m.group(2), int(m.group(3))
            _check_key(key, raw)

            def _cmp(lb, k=key, o=op, n=num):
                try:
                    v = int(lb[k])
                except (KeyError, ValueError):
                    return False
                return v < n if o == "<" else v > n

            reqs.append(_cmp)
            continue
        m = re.match(r"^(!?)([^\s!=<>(),]+)$", raw)
        if m:
            key = m.group(2)
            _check_key(key, raw)
            if m.group(1):
                reqs.append(lambda lb, k=key: k not in lb)
            else:
                reqs.append(lambda lb, k=key: k in lb)
            continue
        raise SelectorError(f"unable to parse requirement: {raw!r}")
    return lambda labels: all(r(labels or {}) for r in reqs)


def label_selector_from_dict(sel: dict | None) -> Callable[[dict], bool]:
    """A metav1.LabelSelector ({matchLabels, matchExpressions}) as a predicate."""
    if not sel:
        return lambda labels: True
    reqs: list[Requirement] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append(lambda lb, k=k, v=v: lb.get(k) == v)
    for expr in sel.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), set(expr.get("values") or [])
        if op == "In":
            reqs.append(lambda lb, k=key, s=vals: lb.get(k) in s)
        elif op == "NotIn":
            reqs.append(lambda lb, k=key, s=vals: lb.get(k) not in s)
        elif op == "Exists":
            reqs.append(lambda lb, k=key: k in lb)
        elif op == "DoesNotExist":
            reqs.append(lambda lb, k=key: k not in lb)
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
            raise SelectorError(f'field label not supported: {key}')
        if op in ("=", "=="):
            reqs.append(lambda o, k=key, v=val: field_value(o, k) == v)
        else:
            reqs.append(lambda o, k=key, v=val: field_value(o, k) != v)
    return lambda obj: all(r(obj) for r in reqs)
