"""The one renderer: what a command returns, drawn on the console.

A command returns a result, and the command wrapper in cli.py hands it to `render` with the
run's output format: `Text` (a line such as a URL, or a text view), `Document` (json/yaml),
`Table` (kubectl-style columns) or `Block` (aligned `Key:  value` lines). Streaming commands
(status -w, logs, chat) write their lines through the console as they come, drawing rows with
the same `table_row`. Tables and key:value blocks are drawn here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    from kubectl_kaito.console import Console

COLUMN_GAP = "   "  # kubectl's three spaces between table columns
KEY_GAP = 2  # spaces between the longest "Key:" and the values of a key:value block


# ---- results ------------------------------------------------------------------------------


# Plain classes, not dataclasses: `import dataclasses` costs ~7 ms of every start (it imports inspect),
# and these are on the start-up path of every command (see docs/design.md, start-up).


class Text:
    """Text for stdout as it is (a URL, a `... created` line, a text view); one newline is added."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Document:
    """Data shown as JSON or YAML: in the run's -o format when it is json or yaml, else `default`."""

    __slots__ = ("data", "default")

    def __init__(self, data: Any, default: str = "json") -> None:
        self.data = data
        self.default = default


class Table:
    """A kubectl-style table (see `table`)."""

    __slots__ = ("headers", "rows")

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.headers = headers
        self.rows = rows


class Block:
    """Aligned `Key:  value` lines (see `block`)."""

    __slots__ = ("fields",)

    def __init__(self, fields: Sequence[tuple[str, Any]] = ()) -> None:
        self.fields = fields


Result = Text | Document | Table | Block


def render(console: Console, result: Result | None, fmt: str | None = None) -> None:
    """Draw a command's result on stdout; `fmt` is the run's validated -o value (or None)."""
    if result is None:
        return
    if isinstance(result, Document) and is_object_format(fmt):
        write_objects(console, result.data, str(fmt))
    elif isinstance(result, Document):
        console.result(format_document(result.data, fmt if fmt in ("json", "yaml") else result.default))
    elif isinstance(result, Table):
        console.result(table(result.headers, result.rows))
    elif isinstance(result, Block):
        console.result(block(result.fields))
    else:
        console.result(result.text)


def format_document(data: Any, fmt: str) -> str:
    """data as json or yaml (the shared `-o json|yaml` path)."""
    if fmt == "json":
        return to_json(data)
    if fmt == "yaml":
        return to_yaml(data)
    raise ValueError(f"unknown format {fmt!r}")  # pragma: no cover - formats are validated first


# ---- tables and key:value blocks --------------------------------------------------------------


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], minimum: Mapping[str, int] | None = None
) -> list[int]:
    """The width of each column over the headers and rows, and at least `minimum[header]`.

    A watched table prints rows that arrive later and cannot widen the columns already shown,
    so it asks for wider minimums."""
    widths = [len(str(h)) for h in headers]
    for r in rows:
        for i, c in enumerate(r[: len(widths)]):
            widths[i] = max(widths[i], len(_cell(c)))
    if minimum:
        widths = [max(w, minimum.get(str(h).upper(), 0)) for w, h in zip(widths, headers, strict=True)]
    return widths


def table_row(row: Sequence[Any], widths: Sequence[int]) -> str:
    """One row padded to the column widths, columns three spaces apart, no trailing spaces."""
    cells = [_cell(c) for c in row]
    return COLUMN_GAP.join(c.ljust(widths[i]) if i < len(widths) else c for i, c in enumerate(cells)).rstrip()


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[int] | None = None, indent: str = ""
) -> str:
    """A kubectl-style table: upper-case headers, then the rows, columns padded to the widest cell."""
    head = [str(h).upper() for h in headers]
    widths = list(widths) if widths is not None else column_widths(head, rows)
    return "\n".join(indent + table_row(r, widths) for r in [head, *rows])


def block(fields: Sequence[tuple[str, Any]], *, indent: str = "") -> str:
    """`Key:` then the value, every value starting KEY_GAP spaces after the longest `Key:`."""
    if not fields:
        return ""
    width = max(len(k) for k, _ in fields) + 1 + KEY_GAP
    return "\n".join(f"{indent}{(k + ':').ljust(width)}{_cell(v)}" for k, v in fields)


# ---- json and yaml ----------------------------------------------------------------------------


def to_json(data: Any) -> str:
    """Stable, indented JSON (kubectl prints 4 spaces; 2 reads better and is what the seeds show)."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def to_yaml(data: Any) -> str:
    """Clean block YAML that pipes into `kubectl apply -f -` (key order kept)."""
    import yaml  # noqa: PLC0415  (PyYAML costs ~50 ms; only YAML output needs it)

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    if isinstance(data, list) and data and all(isinstance(d, dict) and "kind" in d for d in data):
        return "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False) for d in data)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


# ---- objects as kubectl's get prints them: -o name, -o jsonpath=..., -o custom-columns=... -----


def is_object_format(fmt: str | None) -> bool:
    """-o name, jsonpath=... or custom-columns=... (checked by flags.template_format)."""
    return fmt is not None and (fmt == "name" or fmt.startswith(("jsonpath=", "custom-columns=")))


def object_name(obj: Mapping[str, Any]) -> str:
    """kubectl's `-o name`: `workspace.kaito.sh/NAME` (kind.group/name; core kinds have no group)."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj.get("kind", "")).lower()
    name = (obj.get("metadata") or {}).get("name", "")
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def format_objects(data: Any, fmt: str, *, headers: bool = True) -> str:
    """`data` (one object, a List or an array) in an object format, exactly as kubectl 1.37.1 prints it:
    names one a line; a JSONPath template's text as it is (no newline added); custom columns as a table
    with the headers as given."""
    from kubectl_kaito import jsonpath  # noqa: PLC0415

    if fmt == "name":
        return "".join(object_name(o) + "\n" for o in jsonpath.items_of(data))
    kind, _, template = fmt.partition("=")
    if kind == "jsonpath":
        return jsonpath.compile(template).render(data)
    cols = jsonpath.columns(template)
    rows = [cols.row(o) for o in jsonpath.items_of(data)]
    head = [list(cols.headers)] if headers else []
    widths = column_widths(cols.headers, rows)
    return "".join(table_row(r, widths) + "\n" for r in [*head, *rows])


def write_objects(console: Console, data: Any, fmt: str, *, headers: bool = True) -> None:
    """Write `format_objects` on stdout as it is: a JSONPath template decides its own newlines."""
    console.write(format_objects(data, fmt, headers=headers))
