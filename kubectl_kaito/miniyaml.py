"""A fast, stdlib-only reader for the block-style YAML subset kubeconfigs are written in (issue 17).

`import yaml` costs ~10-20 ms at every start of a command that reads the kubeconfig. This module reads
what kubectl (go-yaml), kind, minikube, az, aws, gcloud and kubectl-kaito-sim write: block mappings
and sequences (also `key:` then `- item` at the key's indent, `- - x`, `- key: v`), comments, plain
and single-quoted scalars (folded over lines too, as go-yaml and gcloud write long ones), one-line
double-quoted scalars, literal block scalars (`|`, `|-`, `|+`, `|2`: go-yaml's multi-line strings,
AKS's installHint), null, YAML 1.1 booleans, `{}` and `[]`, a BOM, CRLF line ends.

The one rule: `load(text)` returns exactly what `yaml.load(text, Loader=yaml.CSafeLoader)` returns, or
raises `Unsure` and the caller asks PyYAML (so every error message and every exotic form stays
PyYAML's). Whatever it does not fully understand is `Unsure`: anchors, aliases, tags, folded `>`
scalars, flow collections other than `{}`/`[]`, document markers, directives, tabs, complex keys,
double-quoted scalars over several lines, escapes other than the common ones, and every plain scalar
the YAML 1.1 resolver could make an int, float, timestamp, merge key or `=` (a conservative superset).
"""

from __future__ import annotations

import re


class Unsure(Exception):
    """This text is outside the subset: ask PyYAML."""


# Patterns are strings, compiled by `re` on first use (compiling them all at import costs ~1 ms).
# Tabs, control characters (a lone CR too), the YAML 1.1 line breaks \x85 \u2028 \u2029, surrogates, a BOM
# inside the text, \ufffe and \uffff: PyYAML refuses some and treats others specially; all go to PyYAML.
_OUTSIDE = r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
# Quoted scalars as "unrolled loops" (runs of plain characters between escapes: linear, and fast on a long
# base64 line). A double-quoted one matches only if all its escapes are ones _unescape decodes.
_SINGLE = r"'([^']*(?:''[^']*)*)'"
_DOUBLE = r'"([^"\\]*(?:\\(?:[0abtnvfre"\\N_LP]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})[^"\\]*)*)"'
_ESCAPE = r"\\(x..|u....|U........|.)"
_LITERAL = r"\|([1-9]?)([-+]?)|\|([-+])([1-9])"  # a literal block scalar's header: chomping, indentation
_ESCAPES = dict(zip('0abtnvfre"\\N_LP', '\0\a\b\t\n\v\f\r\x1b"\\\x85\xa0\u2028\u2029', strict=True))
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {
    word: value
    for words, value in (("yes true on", True), ("no false off", False))
    for low in words.split()
    for word in (low, low.capitalize(), low.upper())
}
# A plain scalar starting with one of these is an indicator (anchor, tag, flow, block scalar...).
_INDICATORS = frozenset("[]{},#&*!|>'\"%@`?:")
# Every character an int, float, sexagesimal or timestamp can be made of but for 0x, 0b, .inf and .nan.
_NUMBER_CHARS = frozenset("0123456789_.:+-eEtTZ ")
_MAX_DEPTH = 64
_MAX_KEY = 1000  # libyaml refuses simple keys longer than 1024 characters


def load(text: str) -> object:
    """The document `CSafeLoader` would build from `text`, or `Unsure`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if text.isascii():
        if not text.replace("\n", "").isprintable():  # the usual kubeconfig: no need to compile _OUTSIDE
            raise Unsure
    elif re.search(_OUTSIDE, text):
        raise Unsure
    raws = text.split("\n")
    lines: list[tuple[int, str, int, int]] = []
    gap = 0  # blank lines since the last line kept, or -1 after a comment line (it ends a plain scalar)
    for number, raw in enumerate(raws):
        if raw.startswith(("---", "...")):
            raise Unsure
        content = raw.strip(" ")
        if not content:
            gap += gap >= 0
        elif content[0] == "#":
            gap = -1
        else:
            lines.append((len(raw) - len(raw.lstrip(" ")), content, gap, number))
            gap = 0
    if not lines:
        return None
    reader = _Reader(lines, raws)
    value = reader.node(0, lines[0][0], lines[0][1], -1, 0)
    if reader.pos != len(lines):
        raise Unsure
    return value


def _plain(s: str) -> object:
    """A plain scalar resolved as PyYAML's YAML 1.1 resolver would; Unsure where it could be a non-string."""
    if s in _NULLS:
        return None
    if s in _BOOLS:
        return _BOOLS[s]
    first = s[0]
    if first in _INDICATORS or s in ("<<", "=") or (first == "-" and s[1:2] in ("", " ")):
        raise Unsure
    if first in "+-" and (len(s) == 1 or s[1] not in "0123456789."):
        return s  # a sign not followed by a digit or "." starts no number
    if first in "+-.0123456789":
        body = s[1:] if first in "+-" else s
        if body[:2] in ("0x", "0b") or body.lower() in (".inf", ".nan") or _NUMBER_CHARS.issuperset(s):
            raise Unsure
    return s


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 1:
        return _ESCAPES[code]
    point = int(code[1:], 16)
    if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
        raise Unsure  # libyaml refuses these escapes
    return chr(point)


def _scalar(s: str) -> tuple[object, str]:
    """The scalar at the start of a line's content and what follows it on the line."""
    if s[0] == "'":
        m = re.match(_SINGLE, s)
        if not m:
            raise Unsure
        return m.group(1).replace("''", "'"), s[m.end() :]
    if s[0] == '"':
        m = re.match(_DOUBLE, s)
        if not m:
            raise Unsure
        return re.sub(_ESCAPE, _unescape, m.group(1)), s[m.end() :]
    # A plain scalar ends at the first `: ` or ` #`, or at a `:` ending the line.
    end = len(s) - 1 if s[-1] == ":" else len(s)
    for stop in (s.find(": "), s.find(" #")):
        if 0 <= stop < end:
            end = stop
    if not end:
        raise Unsure  # `: x`, an empty key
    return _plain(s[:end].rstrip(" ")), s[end:]


def _split(content: str) -> tuple[object, str | None]:
    """(scalar, None) for a scalar line (a comment may follow), (key, value text) for a `key: value` line."""
    value, rest = _scalar(content)
    after = rest.lstrip(" ")
    if not after or (after[0] == "#" and rest[0] == " "):
        return value, None
    if after[0] == ":" and after[1:2] in ("", " ") and len(content) - len(after) <= _MAX_KEY:
        return value, after[1:].lstrip(" ")
    raise Unsure


def _closed(s: str) -> bool:
    """Whether the single-quoted scalar starting `s` ends on this line."""
    m = re.match(_SINGLE, s)
    return m is not None and s[m.end() : m.end() + 1] != "'"  # `'a''` is "a'" going on, not "a" and a stray quote


def _is_entry(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _empty_flow(content: str) -> object:
    """`{}` or `[]` (a comment may follow) as a new dict or list, else None."""
    head, tail = content[:2], content[2:]
    if head in ("{}", "[]") and (not tail or (tail[0] == " " and tail.lstrip(" ")[0] == "#")):
        return {} if head == "{}" else []
    return None


class _Reader:
    """Recursive descent over the significant lines: (indent, content without the spaces around, gap above).

    A node may start inside a line (`- key: v`, `- - x`): it is read as if its content stood alone at the
    column where it starts, which is how YAML sees it too.
    """

    def __init__(self, lines: list[tuple[int, str, int, int]], raws: list[str]) -> None:
        self.lines = lines  # (indent, content, gap, raw line number) of the lines that are not blank or comments
        self.raws = raws
        self.pos = 0  # the line after the last node read

    def indent_at(self, i: int) -> int:
        return self.lines[i][0] if i < len(self.lines) else -1

    def node(self, i: int, indent: int, content: str, parent: int, depth: int) -> object:
        """The node starting on line `i` at column `indent`, inside a block at column `parent`."""
        if depth > _MAX_DEPTH:
            raise Unsure
        if _is_entry(content):
            return self.sequence(i, indent, content, depth)
        if content[0] not in "|{[" and (content[0] != "'" or _closed(content)):
            key, value_text = _split(content)
            if value_text is not None:
                return self.mapping(i, indent, key, value_text, depth)
        return self.value(i, content, parent)

    def value(self, i: int, text: str, parent: int) -> object:
        """The scalar, `{}` or `[]` that starts with `text` on line `i`, inside a block at column `parent`."""
        if _is_entry(text):
            raise Unsure  # `key: - x`
        if text[0] == "|":
            return self.literal(i, text, parent)
        if text[0] == "'" and not _closed(text):
            return self.quoted(i, text, parent)
        value = _empty_flow(text)
        if value is None:
            value, more = _split(text)
            if more is not None:
                raise Unsure  # `a: b: c`
        return self.scalar_end(i, text, value, parent)

    def scalar_end(self, i: int, text: str, value: object, parent: int) -> object:
        """`value`, read from `text` on line `i`, or the plain scalar it begins if it goes on below."""
        self.pos = i + 1
        if self.indent_at(i + 1) <= parent:
            return value
        if text[0] in "'\"{[" or " #" in text:
            raise Unsure  # a quoted scalar going on, or a line below one that ends in a comment
        parts = [text]
        while self.indent_at(self.pos) > parent:  # PyYAML's folding: a line break is a space, n blank lines n "\n"
            _, line, gap, _ = self.lines[self.pos]
            if gap < 0 or line[0] in _INDICATORS or line[0] == "-" or ": " in line or " #" in line or line[-1] == ":":
                raise Unsure
            parts += ["\n" * gap if gap else " ", line]
            self.pos += 1
        return _plain("".join(parts))

    def quoted(self, i: int, text: str, parent: int) -> object:
        """A single-quoted scalar that goes on over the lines below (as go-yaml folds long ones)."""
        parts, gap = [text], 0
        for number in range(self.lines[i][3] + 1, len(self.raws)):
            line = self.raws[number].strip(" ")
            if not line:
                gap += 1
                continue
            if len(self.raws[number]) - len(self.raws[number].lstrip(" ")) <= parent:
                break  # quoted or not, a line this far left is not the scalar's
            parts += ["\n" * gap if gap else " ", line]  # PyYAML's folding, as for plain scalars
            gap = 0
            if _closed("'" + line):  # (the lines above end inside the quotes, and a '' pair never spans lines)
                value, rest = _split("".join(parts))
                self.pos = i + 1
                while self.pos < len(self.lines) and self.lines[self.pos][3] <= number:
                    self.pos += 1  # the scalar's lines, which may have looked like comments or keys
                if rest is not None or self.indent_at(self.pos) > parent:
                    raise Unsure  # a key over several lines, or more below
                return value
        raise Unsure

    def literal(self, i: int, header: str, parent: int) -> str:
        """A literal block scalar (`|`, `|-`, `|+`, `|2`, `|2-`...) whose header ends line `i`, as PyYAML reads it."""
        m = re.fullmatch(_LITERAL, header.split(" #", 1)[0].rstrip(" "))
        if not m:
            raise Unsure  # `>` folding, `|0`, `|#`...
        increment, chomp = int(m[1] or m[4] or 0), m[2] or m[3]
        raws, start = self.raws, self.lines[i][3] + 1
        base = max(parent + 1, 1)
        indent = base + increment - 1 if increment else 0  # 0: the first line with text sets it
        last = start - 1  # the last line with text
        end = start  # the first line after the block
        while end < len(raws):
            raw = raws[end]
            column = len(raw) - len(raw.lstrip(" "))
            if raw and column == len(raw):
                raise Unsure  # an all-space line: PyYAML's rules for them are subtle
            if raw:
                indent = indent or max(base, column)
                if column < indent:
                    break
                last = end
            end += 1
        if last < start:
            raise Unsure  # an empty block scalar
        text = "\n".join(raw[indent:] for raw in raws[start : last + 1])
        if chomp != "-" and last < len(raws) - 1:
            text += "\n"  # the last line's break
        if chomp == "+":
            text += "\n" * (min(end, len(raws) - 1) - last - 1)  # and the blank lines' breaks
        self.pos = i + 1
        while self.pos < len(self.lines) and self.lines[self.pos][3] < end:
            self.pos += 1  # the block's own lines, some of which looked like keys or comments
        return text

    def block_value(self, i: int, indent: int, depth: int, in_mapping: bool) -> object:
        """The value of a `key:` or `-` that ends line `i`: a node on the lines below, or null."""
        below = self.indent_at(i + 1)
        if below > indent:
            return self.node(i + 1, below, self.lines[i + 1][1], indent, depth + 1)
        if below == indent and in_mapping and _is_entry(self.lines[i + 1][1]):
            return self.sequence(i + 1, indent, self.lines[i + 1][1], depth + 1)  # `key:` then `- x` at its indent
        self.pos = i + 1
        return None

    def sequence(self, i: int, indent: int, content: str, depth: int) -> list[object]:
        items: list[object] = []
        while True:
            item = content[1:].lstrip(" ")
            if not item or item[0] == "#":
                items.append(self.block_value(i, indent, depth, False))
            else:
                items.append(self.node(i, indent + len(content) - len(item), item, indent, depth + 1))
            i = self.pos
            if self.indent_at(i) != indent or not _is_entry(self.lines[i][1]):
                return items  # the caller checks what follows
            content = self.lines[i][1]

    def mapping(self, i: int, indent: int, key: object, value_text: str | None, depth: int) -> dict[object, object]:
        result: dict[object, object] = {}
        while True:
            if value_text is None:
                raise Unsure  # a lone scalar among the keys
            if value_text and value_text[0] != "#":
                result[key] = self.value(i, value_text, indent)
            else:
                result[key] = self.block_value(i, indent, depth, True)
            # (a repeated key: the last value wins, at the first key's place, as in PyYAML)
            i = self.pos
            below = self.indent_at(i)
            if below < indent:
                return result
            content = self.lines[i][1]
            if below > indent or _is_entry(content):
                raise Unsure
            key, value_text = _split(content)
