"""The one place that writes to the terminal.

stdout carries only results (a URL, JSON, YAML, a table); progress, warnings and
errors go to stderr. Colour and spinners appear only on a terminal and never when
NO_COLOR is set. rich is imported lazily, only for live displays on a terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from kubectl_kaito.errors import KaitoError


def use_color(stream: IO[str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def is_interactive(stream: IO[str] | None = None) -> bool:
    """True when the stream (stderr by default) is a terminal, so live displays make sense."""
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _style(text: str, code: str, stream: IO[str]) -> str:
    return f"\033[{code}m{text}\033[0m" if use_color(stream) else text


# ---- results (stdout) -------------------------------------------------------


def result(text: str) -> None:
    """Write a result to stdout, ending with exactly one newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


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


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A kubectl-style table: upper-case headers, columns padded and separated by 3 spaces."""
    cells = [[str(h).upper() for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        padded = [c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("   ".join(padded).rstrip())
    return "\n".join(lines)


def emit(data: Any, fmt: str) -> None:
    """Write data to stdout as json or yaml (the shared `-o json|yaml` path)."""
    if fmt == "json":
        result(to_json(data))
    elif fmt == "yaml":
        result(to_yaml(data))
    else:  # pragma: no cover - commands validate their formats first
        raise ValueError(f"unknown format {fmt!r}")


# ---- messages (stderr) --------------------------------------------------------


def info(message: str) -> None:
    """A progress or informational line on stderr."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """A `warning:` line on stderr."""
    print(_style("warning:", "33", sys.stderr) + " " + message, file=sys.stderr, flush=True)


def error(err: KaitoError, *, as_json: bool = False) -> None:
    """Print an error as `error: ...` (+ `hint: ...`), and as one JSON object when JSON was asked."""
    first_line = err.message.strip().splitlines()[0] if err.message.strip() else "unknown error"
    print(_style("error:", "1;31", sys.stderr) + " " + first_line, file=sys.stderr)
    if err.hint:
        print(_style("hint:", "36", sys.stderr) + " " + err.hint, file=sys.stderr)
    if as_json:
        print(json.dumps(err.to_dict(), ensure_ascii=False), file=sys.stderr)
    sys.stderr.flush()


class Progress:
    """A one-line status on stderr: a spinner on a terminal, plain lines otherwise."""

    def __init__(self, live: Any | None) -> None:
        self._live = live
        self._last: str | None = None

    def update(self, text: str) -> None:
        """Show text; plain mode prints only when it changed (logs stay readable)."""
        if text == self._last:
            return
        self._last = text
        if self._live is not None:
            self._live.update(text)
        else:
            info(text)


@contextmanager
def progress(initial: str) -> Iterator[Progress]:
    """Context manager for waits: a rich spinner on a terminal stderr, plain lines when piped."""
    if is_interactive(sys.stderr) and not os.environ.get("NO_COLOR"):
        from rich.console import Console  # noqa: PLC0415  (only terminals pay for rich)

        console = Console(stderr=True)
        with console.status(initial) as status:
            yield Progress(status)
    else:
        p = Progress(None)
        p.update(initial)
        yield p


def stderr_console() -> Any:
    """A rich Console on stderr, colour-free when not a terminal or NO_COLOR is set."""
    from rich.console import Console  # noqa: PLC0415

    return Console(stderr=True, no_color=not use_color(sys.stderr), highlight=False)


def discard_stdout() -> None:
    """After a closed pipe (`... | head`): point stdout at /dev/null, so the interpreter's final
    flush of what is still buffered cannot fail again ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (a test's StringIO): nothing to protect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
