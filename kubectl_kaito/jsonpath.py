"""kubectl's JSONPath templates and custom columns, for every command that prints objects (pure).

The syntax is client-go's (k8s.io/client-go/util/jsonpath, as kubectl 1.37.1 uses it for
`-o jsonpath=...` and `-o custom-columns=...`):

- text outside `{}` is printed as it is; `{"\\n"}`, `{"\\t"}` are string literals with escapes;
- `{.a.b}`, `{$.a}`, `{['key.with.dots']}`, `{.a[0]}`, `{.a[-1]}`, `{.a[1:3]}`, `{.a[*].b}`,
  `{..name}` (recursive), `{.a[?(@.type=="Ready")].status}` (==, !=, <, <=, >, >=, or `[?(@.x)]`),
  unions `{.a,.b}`;
- `{range .items[*]}...{end}` repeats its body for each value, paths inside it start at that value.

As kubectl's `get`, a missing key prints nothing (no error); several values of one action are
separated by a space; strings print raw and everything else as compact JSON.
Nothing here knows about the cluster: `compile` checks a template once (a bad one raises
`JsonPathError` with kubectl's wording), `Template.render(obj)` applies it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_MISSING = object()


class JsonPathError(ValueError):
    """A template that does not parse (the message is kubectl's `error parsing jsonpath ...`)."""


# ---- paths -------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_\-/$]+")  # kubectl also takes '/' and '$' inside a field name
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_OPS = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class _Step:
    kind: str  # field | recurse | index | slice | all | filter
    arg: Any = None


@dataclass(frozen=True)
class _Filter:
    left: tuple[_Step, ...]
    op: str | None  # None: existence test
    right: Any  # a literal, or a tuple of steps (another @ path)
    right_is_path: bool = False


def _parse_literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return text == "true"
    raise JsonPathError(f"unrecognized filter value {text!r}")


def _parse_filter(body: str) -> _Filter:
    """`@.a.b == "x"` or `@.a` (the text inside `[?( )]`)."""
    depth, quote = 0, ""
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in "=!<>":
            op = body[i : i + 2] if body[i : i + 2] in _OPS else ch
            if op not in _OPS:
                raise JsonPathError(f"unrecognized filter operator in {body!r}")
            left, right = body[:i].strip(), body[i + len(op) :].strip()
            lsteps = _parse_path(left, relative_only=True)
            if right.startswith("@"):
                return _Filter(lsteps, op, _parse_path(right, relative_only=True), True)
            return _Filter(lsteps, op, _parse_literal(right))
    return _Filter(_parse_path(body.strip(), relative_only=True), None, None)


def _parse_path(text: str, *, relative_only: bool = False) -> tuple[_Step, ...]:
    """`.a[0].b`, `$.a`, `@.a`, `..a`, `[*]` -> steps. The leading `$`/`@` only anchors."""
    s = text.strip()
    if relative_only and not s.startswith("@"):
        raise JsonPathError(f"a filter compares @ paths, not {text!r}")
    if s[:1] in ("$", "@"):
        s = s[1:]
    steps: list[_Step] = []
    i = 0
    while i < len(s):
        if s.startswith("..", i):
            m = _NAME.match(s, i + 2)
            if not m:
                raise JsonPathError(f"invalid recursive descent at {s[i:]!r}")
            steps.append(_Step("recurse", m.group()))
            i = m.end()
        elif s[i] == ".":
            if s.startswith(".*", i):
                steps.append(_Step("all"))
                i += 2
                continue
            m = _NAME.match(s, i + 1)
            if not m:
                if i + 1 == len(s):  # `{.}`: the value itself
                    i += 1
                    continue
                raise JsonPathError(f"invalid field name at {s[i:]!r}")
            steps.append(_Step("field", m.group()))
            i = m.end()
        elif s[i] == "[":
            end = _closing(s, i)
            inner = s[i + 1 : end].strip()
            i = end + 1
            if inner == "*":
                steps.append(_Step("all"))
            elif inner.startswith("?(") and inner.endswith(")"):
                steps.append(_Step("filter", _parse_filter(inner[2:-1])))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
                steps.append(_Step("field", inner[1:-1]))
            elif re.fullmatch(r"-?\d+", inner):
                steps.append(_Step("index", int(inner)))
            elif re.fullmatch(r"(-?\d+)?:(-?\d+)?(:(-?\d+)?)?", inner):
                parts = [int(p) if p else None for p in inner.split(":")]
                steps.append(_Step("slice", tuple(parts + [None] * (3 - len(parts)))))
            else:
                raise JsonPathError(f"invalid array index {inner!r}")
        elif s[i].isspace():
            i += 1
        else:
            m = _NAME.match(s, i)
            if not m or steps:
                raise JsonPathError(f"unrecognized character in action: {s[i]!r}")
            steps.append(_Step("field", m.group()))  # `{metadata.name}` without the leading dot
            i = m.end()
    return tuple(steps)


def _closing(s: str, start: int) -> int:
    """The index of the `]` that closes the `[` at `start` (quotes and nested brackets skipped)."""
    depth, quote = 0, ""
    for i in range(start, len(s)):
        ch = s[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
    raise JsonPathError("unterminated array")


def _walk_all(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _recurse(value: Any, name: str) -> list[Any]:
    out: list[Any] = []
    if isinstance(value, dict):
        if name in value:
            out.append(value[name])
        for v in value.values():
            out += _recurse(v, name)
    elif isinstance(value, list):
        for v in value:
            out += _recurse(v, name)
    return out


def _compare(a: Any, op: str, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    try:
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        return False


def _matches(item: Any, f: _Filter) -> bool:
    left = _eval(f.left, item)
    if f.op is None:
        return bool(left)
    rights = _eval(f.right, item) if f.right_is_path else [f.right]
    return any(_compare(a, f.op, b) for a in left for b in rights)


def _eval(steps: Sequence[_Step], root: Any) -> list[Any]:
    values = [root]
    for step in steps:
        nxt: list[Any] = []
        for v in values:
            if step.kind == "field":
                if isinstance(v, dict) and step.arg in v:
                    nxt.append(v[step.arg])
            elif step.kind == "recurse":
                nxt += _recurse(v, step.arg)
            elif step.kind == "all":
                nxt += _walk_all(v)
            elif step.kind == "index":
                if isinstance(v, list) and -len(v) <= step.arg < len(v):
                    nxt.append(v[step.arg])
            elif step.kind == "slice":
                if isinstance(v, list):
                    nxt += v[slice(*step.arg)]
            elif step.kind == "filter":
                nxt += [x for x in _walk_all(v) if _matches(x, step.arg)]
        values = nxt
    return values


# ---- templates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    kind: str  # text | paths | range
    text: str = ""
    paths: tuple[tuple[_Step, ...], ...] = ()
    body: tuple[_Node, ...] = ()


def _split_union(expr: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    for ch in expr:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    return [*parts, cur]


def _string_literal(text: str) -> str:
    try:
        value = json.loads(text) if text.startswith('"') else json.loads('"' + text[1:-1].replace('"', '\\"') + '"')
    except json.JSONDecodeError as e:
        raise JsonPathError(f"invalid string literal {text}") from e
    return str(value)


def _actions(template: str) -> list[tuple[str, str]]:
    """The template as ("text", ...) and ("action", ...) pieces."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            out.append(("text", template[i:]))
            break
        if start > i:
            out.append(("text", template[i:start]))
        j, quote = start + 1, ""
        while j < len(template):
            ch = template[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "}":
                break
            j += 1
        if j >= len(template):
            raise JsonPathError("unclosed action")
        out.append(("action", template[start + 1 : j].strip()))
        i = j + 1
    return out


def _build(pieces: list[tuple[str, str]], pos: int, in_range: bool) -> tuple[list[_Node], int]:
    nodes: list[_Node] = []
    while pos < len(pieces):
        kind, text = pieces[pos]
        pos += 1
        if kind == "text":
            nodes.append(_Node("text", text=text))
        elif text == "end":
            if not in_range:
                raise JsonPathError("not in range, nothing to end")
            return nodes, pos
        elif text.startswith("range ") or text == "range":
            expr = text[len("range") :].strip()
            if not expr:
                raise JsonPathError("range needs an expression")
            body, pos = _build(pieces, pos, True)
            nodes.append(_Node("range", paths=(_parse_path(expr),), body=tuple(body)))
        elif text[:1] in "\"'" and len(text) >= 2 and text[-1] == text[0]:
            nodes.append(_Node("text", text=_string_literal(text)))
        elif not text:
            raise JsonPathError("empty action")
        else:
            nodes.append(_Node("paths", paths=tuple(_parse_path(p) for p in _split_union(text))))
    if in_range:
        raise JsonPathError("range without {end}")
    return nodes, pos


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _run(nodes: Sequence[_Node], root: Any, cur: Any, out: list[str]) -> None:
    for n in nodes:
        if n.kind == "text":
            out.append(n.text)
        elif n.kind == "paths":
            vals: list[Any] = []
            for p in n.paths:
                vals += _eval(p, cur)
            out.append(" ".join(_fmt(v) for v in vals))
        else:
            for item in _eval(n.paths[0], cur):
                _run(n.body, root, item, out)


@dataclass(frozen=True)
class Template:
    """A parsed JSONPath template (see the module doc)."""

    source: str
    nodes: tuple[_Node, ...]

    def render(self, obj: Any) -> str:
        """The template applied to `obj`, exactly the text kubectl prints (no newline added)."""
        out: list[str] = []
        _run(self.nodes, obj, obj, out)
        return "".join(out)


def values(template: Template, obj: Any) -> list[Any]:
    """The values the template's first path finds in `obj` (for --sort-by); [] when it has no path."""
    node = next((n for n in template.nodes if n.kind == "paths"), None)
    return _eval(node.paths[0], obj) if node is not None else []


def compile(template: str) -> Template:
    """Parse `template`; JsonPathError (kubectl's wording) when it does not parse."""
    try:
        nodes, _ = _build(_actions(template), 0, False)
    except JsonPathError as e:
        raise JsonPathError(f"error parsing jsonpath {template}, {e}") from None
    return Template(template, tuple(nodes))


# ---- custom columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """`-o custom-columns=HEADER:PATH,...`: headers as given, one row per object."""

    headers: tuple[str, ...]
    paths: tuple[tuple[_Step, ...], ...]

    def row(self, obj: Any) -> list[str]:
        """One row: a path's values joined by ',', `<none>` when it finds nothing (as kubectl)."""
        cells = []
        for p in self.paths:
            vals = _eval(p, obj)
            cells.append(",".join(_fmt(v) for v in vals) if vals else "<none>")
        return cells


def columns(spec: str) -> Columns:
    """Parse `NAME:.metadata.name,MODEL:.inference.preset.name` (a path may be wrapped in {})."""
    if not spec.strip():
        raise JsonPathError("custom-columns format specified but no custom columns given")
    headers, paths = [], []
    for part in _split_union(spec):
        header, sep, path = part.partition(":")
        if not sep or not header:
            raise JsonPathError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        path = path.strip()
        if path.startswith("{") and path.endswith("}"):
            path = path[1:-1]
        try:
            paths.append(_parse_path(path))
        except JsonPathError as e:
            raise JsonPathError(f"error parsing jsonpath {path}, {e}") from None
        headers.append(header)
    return Columns(tuple(headers), tuple(paths))


def items_of(data: Any) -> list[Any]:
    """What custom columns print rows for: a List's items, an array's elements, else the one object."""
    if isinstance(data, dict) and isinstance(data.get("items"), list) and str(data.get("kind", "")).endswith("List"):
        return list(data["items"])
    if isinstance(data, list):
        return list(data)
    return [data]
