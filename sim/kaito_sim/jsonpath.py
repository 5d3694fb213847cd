"""The small JSONPath subset that CRD additionalPrinterColumns use.

Supported: `.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.type=="X")].status`, `['key.with.dots']`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_\-]+)"""
    r"""|\[(?P<index>-?\d+|\*)\]"""
    r"""|\[\?\(@\.(?P<fkey>[A-Za-z0-9_.\-]+)\s*(?P<fop>==|!=)\s*(?P<fval>"[^"]*"|'[^']*'|[^)\s]+)\)\]"""
    r"""|\[['"](?P<qname>[^'"]+)['"]\]"""
)


@lru_cache(maxsize=1024)
def _tokens(path: str) -> tuple[tuple[str, Any], ...]:
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    out, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise ValueError(f"unsupported JSONPath {path!r} at {pos}")
        if m.group("name") is not None:
            out.append(("name", m.group("name")))
        elif m.group("qname") is not None:
            out.append(("name", m.group("qname")))
        elif m.group("index") is not None:
            idx = m.group("index")
            out.append(("all", None) if idx == "*" else ("index", int(idx)))
        else:
            val = m.group("fval")
            if val[:1] in "\"'":
                val = val[1:-1]
            out.append(("filter", (m.group("fkey"), m.group("fop"), val)))
        pos = m.end()
    return tuple(out)


def _lookup(obj: Any, dotted: str) -> Any:
    cur = obj
    for p in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def find(obj: Any, path: str) -> list[Any]:
    """All values the path selects (empty list when nothing matches)."""
    current = [obj]
    for kind, arg in _tokens(path):
        nxt = []
        for value in current:
            if kind == "name":
                if isinstance(value, dict) and arg in value:
                    nxt.append(value[arg])
            elif kind == "index":
                if isinstance(value, list) and -len(value) <= arg < len(value):
                    nxt.append(value[arg])
            elif kind == "all":
                if isinstance(value, list):
                    nxt.extend(value)
                elif isinstance(value, dict):
                    nxt.extend(value.values())
            elif kind == "filter":
                key, op, want = arg
                items = value if isinstance(value, list) else []
                for item in items:
                    got = _lookup(item, key)
                    got_s = (
                        ("true" if got else "false") if isinstance(got, bool) else (None if got is None else str(got))
                    )
                    if (op == "==" and got_s == want) or (op == "!=" and got_s != want):
                        nxt.append(item)
        current = nxt
    return current
