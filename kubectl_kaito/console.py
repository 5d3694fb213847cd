"""The console: the run's stdin, stdout, stderr and environment, and the decisions made from them.

Everything the plugin shows or asks goes through one `Console`, built once per run
(`Console.from_sys()` for a real run, a fake one in tests) and reached by commands as
`app.console`. It is the one place that decides whether colour and live displays
(spinners) are used, and the one confirmation prompt. stdout carries only results;
progress, warnings, errors and prompts go to stderr. rich is imported lazily, only
for live displays on a terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_kaito.errors import KaitoError

# SGR codes of the few styled words
RED_BOLD, YELLOW, CYAN = "1;31", "33", "36"


def _isatty(stream: IO[str] | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream is not a terminal
        return False


@dataclass
class Console:
    """One run's streams and environment (os.environ for a real run)."""

    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_sys(cls) -> Console:
        """The process's own streams and environment: the only place the plugin touches sys.std*."""
        return cls(stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, env=os.environ)

    # ---- what the streams are ---------------------------------------------------------------

    @property
    def stdin_is_terminal(self) -> bool:
        return _isatty(self.stdin)

    @property
    def stdout_is_terminal(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_is_terminal(self) -> bool:
        return _isatty(self.stderr)

    @property
    def color_allowed(self) -> bool:
        """NO_COLOR (no-color.org) and TERM=dumb turn colour off whatever the streams are."""
        return not self.env.get("NO_COLOR") and self.env.get("TERM") != "dumb"

    def color(self, stream: IO[str]) -> bool:
        """Colour on `stream`: only when it is a terminal and colour is allowed."""
        return self.color_allowed and _isatty(stream)

    @property
    def live(self) -> bool:
        """Live displays (spinners, a status line redrawn in place) on stderr: a terminal that takes colour."""
        return self.color(self.stderr)

    def style(self, text: str, code: str, stream: IO[str]) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color(stream) else text

    # ---- stdout: results --------------------------------------------------------------------

    def result(self, text: str) -> None:
        """Write a result to stdout, ending with exactly one newline."""
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def write(self, text: str) -> None:
        """Write text to stdout as it is (a chat answer arriving token by token)."""
        self.stdout.write(text)
        self.stdout.flush()

    def bytes_writer(self) -> Callable[[bytes], None]:
        """A `write(bytes)` for stdout: raw bytes to its binary buffer when it has one (binary-safe,
        no re-encoding), else decoded text (a test's StringIO). Flushed per call, so `| grep`
        sees lines as they come."""
        stream = self.stdout
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()  # anything already written as text goes first

            def write_bytes(data: bytes) -> None:
                buffer.write(data)
                buffer.flush()

            return write_bytes

        def write_text(data: bytes) -> None:
            stream.write(data.decode("utf-8", errors="replace"))
            stream.flush()

        return write_text

    def discard_stdout(self) -> None:
        """After a closed pipe (`... | head`): point stdout at /dev/null, so the interpreter's final
        flush of what is still buffered cannot fail again ("Exception ignored ... BrokenPipeError")."""
        try:
            fd = self.stdout.fileno()
        except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO): nothing to protect
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)

    # ---- stderr: messages -------------------------------------------------------------------

    def info(self, message: str) -> None:
        """A progress or informational line on stderr."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        """A `warning:` line on stderr."""
        self.info(self.style("warning:", YELLOW, self.stderr) + " " + message)

    def error(self, err: KaitoError, *, as_json: bool = False) -> None:
        """An error as `error: ...` (+ `hint: ...`), and as one JSON object when JSON was asked."""
        first_line = err.message.strip().splitlines()[0] if err.message.strip() else "unknown error"
        lines = [self.style("error:", RED_BOLD, self.stderr) + " " + first_line]
        if err.hint:
            lines.append(self.style("hint:", CYAN, self.stderr) + " " + err.hint)
        if as_json:
            lines.append(json.dumps(err.to_dict(), ensure_ascii=False))
        self.info("\n".join(lines))

    # ---- stdin: the one confirmation -----------------------------------------------------------

    def confirm(self, question: str) -> bool:
        """Ask `question [y/N]: ` on stderr, read one line from stdin; only y/yes is yes.

        End of input is no (and finishes the prompt line). Not typer.confirm: click echoes the
        prompt to stdout, which must stay clean. Callers first check `stdin_is_terminal` (or --yes):
        without a terminal there is nobody to ask.
        """
        self.stderr.write(f"{question} [y/N]: ")
        self.stderr.flush()
        answer = self.stdin.readline()
        if not answer.endswith("\n"):
            self.stderr.write("\n")  # end of input: finish the prompt line
            self.stderr.flush()
        return answer.strip().lower() in ("y", "yes")

    # ---- live displays ------------------------------------------------------------------------

    @contextmanager
    def progress(self, initial: str) -> Iterator[Progress]:
        """For waits: a rich spinner on a live stderr, plain lines (each change once) otherwise."""
        if self.live:
            from rich.console import Console as RichConsole  # noqa: PLC0415  (only terminals pay for rich)

            with RichConsole(file=self.stderr).status(initial) as status:
                yield Progress(self, status)
        else:
            p = Progress(self, None)
            p.update(initial)
            yield p


class Progress:
    """A one-line status on stderr: a spinner on a terminal, plain lines otherwise."""

    def __init__(self, console: Console, live: Any | None) -> None:
        self._console = console
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
            self._console.info(text)
