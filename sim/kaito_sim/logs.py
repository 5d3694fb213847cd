"""Pod log buffers: append is O(lines appended), follow readers wake on new lines."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterable, Iterator

from .util import rfc3339_nano


class LogBuffer:
    """The log of one container instance. Keeps at most `max_lines` lines."""

    def __init__(self, max_lines: int = 2_000_000) -> None:
        self.cond = threading.Condition()
        self.lines: list[bytes] = []
        self.times: list[float] = []
        self.offset = 0  # absolute index of lines[0]
        self.closed = False
        self.cut = False  # a fault: readers' connections drop without the chunked terminator
        self.max_lines = max_lines

    def append(self, lines: Iterable[str | bytes], ts: float | None = None) -> None:
        t = time.time() if ts is None else ts
        enc = []
        for line in lines:
            b = line.encode() if isinstance(line, str) else bytes(line)
            if not b.endswith(b"\n"):
                b += b"\n"
            enc.append(b)
        if not enc:
            return
        with self.cond:
            self.lines.extend(enc)
            self.times.extend([t] * len(enc))
            if len(self.lines) > 2 * self.max_lines:
                drop = len(self.lines) - self.max_lines
                del self.lines[:drop]
                del self.times[:drop]
                self.offset += drop
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def cut_off(self) -> None:
        """Fault injection: end the log and make every reader's stream break off mid-body."""
        with self.cond:
            self.cut = True
            self.closed = True
            self.cond.notify_all()

    def start_index(self, *, tail: int | None, since: float | None) -> int:
        """Absolute index of the first line to send."""
        with self.cond:
            start = self.offset
            if since is not None:
                start = self.offset + bisect.bisect_left(self.times, since)
            if tail is not None:
                end = self.offset + len(self.lines)
                start = max(start, end - max(tail, 0))
            return start

    def read(self, start: int, *, timestamps: bool, max_lines: int = 20000) -> tuple[bytes, int]:
        """Lines from absolute index `start` (up to max_lines); returns (data, next index)."""
        with self.cond:
            i = max(start - self.offset, 0)
            chunk = self.lines[i : i + max_lines]
            tchunk = self.times[i : i + max_lines] if timestamps else []
            nxt = self.offset + i + len(chunk)
        if not chunk:
            return b"", nxt
        if timestamps:
            return b"".join(rfc3339_nano(t).encode() + b" " + line for t, line in zip(tchunk, chunk, strict=True)), nxt
        return b"".join(chunk), nxt

    def wait(self, index: int, timeout: float) -> bool:
        """Wait until there are lines at/after `index` or the log is closed. True if data/closed."""
        with self.cond:
            if self.offset + len(self.lines) > index or self.closed:
                return True
            self.cond.wait(timeout)
            return self.offset + len(self.lines) > index or self.closed

    def end_index(self) -> int:
        with self.cond:
            return self.offset + len(self.lines)


class LogStore:
    """All pod logs, keyed by (namespace, pod, container, previous)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict[tuple[str, str, str, bool], LogBuffer] = {}

    def buffer(self, ns: str, pod: str, container: str | None, previous: bool = False) -> LogBuffer:
        """The buffer of a pod's container, made if it is not there yet."""
        key = (ns, pod, container or "", bool(previous))
        with self._lock:
            buf = self._buffers.get(key)
            if buf is None:
                buf = LogBuffer()
                self._buffers[key] = buf
            return buf

    def find(self, ns: str, pod: str, container: str | None, previous: bool = False) -> LogBuffer | None:
        with self._lock:
            return self._buffers.get((ns, pod, container or "", bool(previous))) or (
                self._buffers.get((ns, pod, "", bool(previous)))
            )

    def drop_pod(self, ns: str, pod: str) -> None:
        with self._lock:
            keys = [k for k in self._buffers if k[0] == ns and k[1] == pod]
            bufs = [self._buffers.pop(k) for k in keys]
        for b in bufs:
            b.close()

    def close_all(self) -> None:
        with self._lock:
            bufs = list(self._buffers.values())
        for b in bufs:
            b.close()


def follow(
    buf: LogBuffer,
    start: int,
    *,
    timestamps: bool,
    stop: threading.Event,
    limit_bytes: int | None = None,
    follow_: bool = True,
    poll: float = 0.5,
    alive=None,
) -> Iterator[bytes]:
    """Yield chunks from `start`; with follow, keep waiting until the log is closed, `stop` is set
    or `alive()` (checked while idle) says the reader went away."""
    idx = start
    sent = 0
    while True:
        data, idx = buf.read(idx, timestamps=timestamps)
        if data:
            if limit_bytes is not None and sent + len(data) >= limit_bytes:
                yield data[: limit_bytes - sent]
                return
            sent += len(data)
            yield data
            continue
        if not follow_ or stop.is_set():
            return
        if buf.closed and buf.end_index() <= idx:
            return
        if not buf.wait(idx, poll) and alive is not None and not alive():
            return
