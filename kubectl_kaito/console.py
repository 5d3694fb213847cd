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
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import IO, Any, NoReturn

    from kubectl_kaito.errors import KaitoError

# SGR codes of the few styled words
RED_BOLD, YELLOW, CYAN = "1;31", "33", "36"


def _isatty(stream: IO[str] | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed stream is not a terminal
        return False


class Console:
    """One run's streams and environment (os.environ for a real run).

    A plain class, not a dataclass: `import dataclasses` costs ~7 ms of every start (docs/design.md)."""

    def __init__(self, stdin: IO[str], stdout: IO[str], stderr: IO[str], env: Mapping[str, str] | None = None) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env: Mapping[str, str] = {} if env is None else env

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

    def exit_now(self, code: int) -> NoReturn:
        """End a short run at once: flush stdout and stderr, then `os._exit` (interpreter teardown is about
        a fifth of a short run). Only for runs whose files are closed and whose threads are done."""
        for stream in (self.stdout, self.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: nothing more can be written anyway
                pass
        os._exit(code)

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
        """THE wait display (every wait uses it): a rich spinner with the elapsed time on a live stderr;
        otherwise plain lines, one per change and a repeat at least every heartbeat (30 s), so CI logs
        are never silent."""
        if self.live:
            from rich.console import Console as RichConsole  # noqa: PLC0415  (only terminals pay for rich)

            p = Progress(self, None)
            with RichConsole(file=self.stderr).status(_Elapsed(p)) as status:
                p._live = status
                p.update(initial)
                yield p
        else:
            p = Progress(self, None)
            p.update(initial)
            p.start_heartbeat(heartbeat_seconds(self.env))
            try:
                yield p
            finally:
                p.stop_heartbeat()


HEARTBEAT_ENV = "KUBECTL_KAITO_HEARTBEAT"  # seconds between repeated wait lines off a terminal (tests set it small)
HEARTBEAT_SECONDS = 30.0


def heartbeat_seconds(env: Mapping[str, str]) -> float:
    """The heartbeat interval: $KUBECTL_KAITO_HEARTBEAT when it is a positive number, else 30 s."""
    try:
        value = float(env.get(HEARTBEAT_ENV) or HEARTBEAT_SECONDS)
    except ValueError:
        return HEARTBEAT_SECONDS
    return value if math.isfinite(value) and value > 0 else HEARTBEAT_SECONDS


def elapsed_text(seconds: float) -> str:
    """4 -> `4s`, 75 -> `1m15s`, 3725 -> `1h2m5s` (whole seconds, as kubectl's ages)."""
    total = int(max(seconds, 0.0))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{sec}s"
    return f"{m}m{sec}s" if m else f"{sec}s"


class Progress:
    """A wait's one-line status on stderr, `<text> [<elapsed>]`: a spinner redrawn in place on a terminal,
    plain lines otherwise (a line per change, repeated at least every heartbeat while nothing changes)."""

    def __init__(self, console: Console, live: Any | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._live = live
        self._clock = clock
        self._start = clock()
        self._last: str | None = None
        self._printed_at = self._start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def elapsed(self) -> str:
        return elapsed_text(self._clock() - self._start)

    def line(self) -> str:
        return f"{self._last or ''} [{self.elapsed()}]"

    def update(self, text: str) -> None:
        """Show text; plain mode prints only when it changed (the heartbeat repeats it)."""
        with self._lock:
            if text == self._last:
                return
            self._last = text
            if self._live is not None:
                self._live.update(_Elapsed(self))
            else:
                self._print()

    def _print(self) -> None:  # with the lock held
        self._console.info(self.line())
        self._printed_at = self._clock()

    def start_heartbeat(self, interval: float) -> None:
        """Off a terminal: a daemon thread repeats the line when `interval` seconds passed without one."""

        def beat() -> None:
            while not self._stop.wait(interval / 4):
                with self._lock:
                    if not self._stop.is_set() and self._clock() - self._printed_at >= interval:
                        self._print()

        self._thread = threading.Thread(target=beat, name="wait-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)


class _Elapsed:
    """What the live spinner shows: the text and the elapsed time, re-read at every refresh."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def __rich__(self) -> str:
        return self._progress.line()
