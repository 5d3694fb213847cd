"""HTTP/1.1 messages on a byte stream: just what the API client needs, without `http.client`.

`import http.client` costs ~9 ms at every start (it imports the `email` package to parse headers), a fifth
of get-endpoint's budget. This module writes a request and reads a response: the status line (1xx
answers skipped), headers (case-insensitive, repeated names kept), and a body framed by Content-Length,
chunked transfer-encoding (extensions and trailers read and dropped) or the connection's close; HEAD,
1xx, 204 and 304 answers have none. Bodies read whole (`read`) or as they arrive (`read1`, `readline`:
watch and logs). A body that ends early raises `IncompleteRead` with what did arrive. Lines and header
counts are bounded as http.client bounds them, so a hostile server cannot make us read forever.

Sockets, TLS and proxies are `transport.py`'s; mapping failures to our errors is `client.py`'s.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)

MAX_LINE = 65536  # http.client's _MAXLINE: status, header, chunk-size and trailer lines
MAX_HEADERS = 100  # http.client's _MAXHEADERS (trailers count the same)
METHODS_WITH_BODY = ("POST", "PUT", "PATCH")  # Content-Length: 0 even without a body, as http.client sends


if TYPE_CHECKING:  # a type only: importing typing costs start-up time
    from typing import Protocol

    class Reader(Protocol):
        """A buffered binary stream (`socket.makefile("rb")`)."""

        def readline(self, size: int = -1, /) -> bytes: ...

        def read(self, size: int = -1, /) -> bytes: ...

        def read1(self, size: int = -1, /) -> bytes: ...


# ---- errors (client.py maps them, with OSError, to "the connection ... broke: <message>") -------------------


class HTTPError(Exception):
    """The server's bytes are not an HTTP/1.1 answer we can read (the stand-in for http.client.HTTPException)."""


class ServerClosed(HTTPError):
    """The connection ended before the first byte of an answer (http.client's RemoteDisconnected):
    on a reused keep-alive connection, the server had closed it."""

    def __init__(self) -> None:
        super().__init__("Remote end closed connection without response")


class IncompleteRead(HTTPError):
    """The body ended before its end (short of Content-Length, or no last chunk); `partial` is what came."""

    def __init__(self, partial: bytes, expected: int | None = None) -> None:
        self.partial = partial
        self.expected = expected
        more = f", {expected} more expected" if expected is not None else ""
        super().__init__(f"IncompleteRead({len(partial)} bytes read{more})")


class LineTooLong(HTTPError):
    """A status, header, chunk-size or trailer line over MAX_LINE bytes."""

    def __init__(self, what: str) -> None:
        super().__init__(f"got more than {MAX_LINE} bytes when reading {what}")


# ---- requests ----------------------------------------------------------------------------------------------


def request_bytes(method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """The whole request as bytes: request line, Host, headers, Content-Length, body. A CR, LF or NUL in
    any part raises ValueError (as http.client does): nothing can smuggle a header or a second request."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None or method in METHODS_WITH_BODY:
        lines.append(f"Content-Length: {len(body or b'')}")
    if not (method + target).isprintable() or " " in method + target:
        raise ValueError(f"invalid character in the request line {method} {target!r}")
    for name, value in headers.items():
        if not name.isprintable() or ":" in name or "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"invalid character in the request header {name!r}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


# ---- responses ----------------------------------------------------------------------------------------------


class Headers:
    """Response headers in arrival order; names case-insensitive; a repeated name keeps every value."""

    __slots__ = ("_index", "_items")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        self._index: dict[str, list[str]] = {}
        for name, value in items:
            self._index.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value (several joined by ", ", as http.client's getheader joins them), else `default`."""
        values = self._index.get(name.lower())
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order."""
        return list(self._index.get(name.lower(), ()))

    def items(self) -> list[tuple[str, str]]:
        """(name, value) pairs as the server sent them, repeats included."""
        return list(self._items)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)


def _line(fp: Reader, what: str) -> bytes:
    line = fp.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise LineTooLong(what)
    return line


def _header_block(fp: Reader, what: str) -> list[tuple[str, str]]:
    """Header (or trailer) lines up to the blank line; folded lines join the one before. The close
    may end trailers (the body is whole by then, and http.client accepts it), never headers."""
    items: list[tuple[str, str]] = []
    count = 0
    while True:
        line = _line(fp, what)
        if line in (b"\r\n", b"\n"):
            return items
        if not line:
            if what == "trailer line":
                return items
            raise HTTPError(f"the connection closed in the middle of the {what}s")
        count += 1
        if count > MAX_HEADERS:
            raise HTTPError(f"got more than {MAX_HEADERS} headers")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t"):
            if items:  # obsolete line folding: a continuation of the previous value
                name, value = items[-1]
                items[-1] = (name, f"{value} {text.strip()}".strip())
            continue
        name, colon, value = text.partition(":")
        if colon and name and name == name.strip():
            items.append((name, value.strip()))


class Response:
    """One response: status line and headers read on creation; the body read through read/read1/readline.

    The body's end is known (Content-Length, the last chunk) or is the connection's close; `complete` says
    it was reached. A body cut short raises IncompleteRead with the bytes that came."""

    __slots__ = ("_chunked", "_fp", "_left", "complete", "headers", "reason", "status", "version", "will_close")

    def __init__(self, fp: Reader, method: str) -> None:
        self._fp = fp
        while True:
            self.version, self.status, self.reason = self._status_line()
            if 100 <= self.status < 200 and self.status != 101:
                _header_block(fp, "header line")  # 100 Continue, 103 Early Hints: the answer follows
                continue
            break
        self.headers = Headers(_header_block(fp, "header line"))
        tokens = {t.strip().lower() for t in (self.headers.get("Connection") or "").split(",")}
        self.will_close = "close" in tokens if self.version == "HTTP/1.1" else "keep-alive" not in tokens
        self._chunked = False
        self._left: int | None = None  # body bytes left (Content-Length), left in this chunk, or None: to close
        self.complete = False
        encoding = self.headers.get("Transfer-Encoding")
        length = self.headers.get("Content-Length")
        if method == "HEAD" or self.status in (101, 204, 304):
            self._left = 0
            self.will_close = self.will_close or self.status == 101
        elif encoding is not None:
            # RFC 9112 6.3: Transfer-Encoding wins over Content-Length; only a final `chunked` frames the body.
            self._chunked = encoding.rsplit(",", 1)[-1].strip().lower() == "chunked"
            if self._chunked:
                self._left = -1  # the first chunk-size line is next
            else:
                self.will_close = True
        elif length is not None:
            values = {v.strip() for v in length.split(",")}
            value = values.pop() if len(values) == 1 else ""
            if not value.isdigit() or len(value) > 18:
                self.will_close = True
                raise HTTPError(f"invalid Content-Length {length!r}")
            self._left = int(value)
        else:
            self.will_close = True
        if self._left == 0:
            self.complete = True

    def _status_line(self) -> tuple[str, int, str]:
        raw = _line(self._fp, "status line")
        if not raw:
            raise ServerClosed()
        text = raw.decode("iso-8859-1").rstrip("\r\n")
        version, _, rest = text.partition(" ")
        code, _, reason = rest.partition(" ")
        if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit() or code < "100":
            raise HTTPError(f"the server did not answer in HTTP/1.1: {text[:80]!r}")
        return version, int(code), reason.strip()

    # -- the body ------------------------------------------------------------------------------------------

    def _cut(self, parts: list[bytes], expected: int | None) -> IncompleteRead:
        self.complete = True  # nothing more will come on this connection
        self.will_close = True
        return IncompleteRead(b"".join(parts), expected)

    def _chunk(self, parts: list[bytes]) -> int:
        """Bytes left in the current chunk, reading the next chunk-size line (and the CRLF ending the
        previous chunk) when it is used up; 0 once the last chunk and its trailers are read."""
        if self._left is not None and self._left > 0:
            return self._left
        if self._left == 0:  # the CRLF after a chunk's data, read only now so read1 never waits for it
            if _line(self._fp, "chunk end") not in (b"\r\n", b"\n"):
                raise self._cut(parts, None)
        line = _line(self._fp, "chunk size")
        size = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
        try:
            if not size or len(size) > 15 or size.strip(b"0123456789abcdefABCDEF"):
                raise ValueError(size)
            self._left = int(size, 16)
        except ValueError:
            raise self._cut(parts, None) from None
        if self._left == 0:
            _header_block(self._fp, "trailer line")  # trailers: read, not used
            self.complete = True
        return self._left

    def read(self) -> bytes:
        """The rest of the body (up to the connection's close when nothing delimits it)."""
        if self.complete:
            return b""
        if self._left is None:
            data = self._fp.read()
            self.complete = True
            return data
        parts: list[bytes] = []
        while (left := self._chunk(parts) if self._chunked else self._left) > 0:
            self._left = missing = self._read_into(parts, left)
            if missing:
                raise self._cut(parts, missing)
            if not self._chunked:
                self.complete = True
        return b"".join(parts)

    def _read_into(self, parts: list[bytes], n: int) -> int:
        """Read n bytes into `parts`, at most 1 MiB at a time (a huge announced length allocates
        nothing up front); the number still missing when the stream ended."""
        while n > 0:
            data = self._fp.read(min(n, 1 << 20))
            if not data:
                break
            parts.append(data)
            n -= len(data)
        return n

    def read1(self, size: int = 65536) -> bytes:
        """What has arrived (at least one byte, waiting only when nothing has), at most `size`; b"" at the end."""
        if self.complete:
            return b""
        if self._chunked:
            left = self._chunk([])
            if left == 0:
                return b""
        elif self._left is None:
            data = self._fp.read1(size)
            self.complete = not data
            return data
        else:
            left = self._left
        data = self._fp.read1(min(size, left))
        if not data:
            raise self._cut([], left)
        self._left = left - len(data)
        if not self._chunked and self._left == 0:
            self.complete = True
        return data

    def readline(self) -> bytes:
        """One line including its b"\\n" (the body's last may lack it); b"" at the end."""
        if self.complete:
            return b""
        if self._left is None:
            line = self._fp.readline()
            self.complete = not line.endswith(b"\n")
            return line
        parts: list[bytes] = []
        while True:
            left = self._chunk(parts) if self._chunked else self._left
            if left == 0:
                self.complete = True
                return b"".join(parts)
            data = self._fp.readline(left)
            parts.append(data)
            self._left = left - len(data)
            if data.endswith(b"\n"):
                if not self._chunked and self._left == 0:
                    self.complete = True
                return b"".join(parts)
            if len(data) < left:  # neither a newline nor the chunk's end: the stream ended
                raise self._cut(parts, left - len(data))


# ---- reason phrases -----------------------------------------------------------------------------------------

#: The reason phrase of each status, exactly as http.client.responses has it (a test compares them).
REASONS = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
    205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
    305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a Teapot",
    421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
    425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported", 506: "Variant Also Negotiates",
    507: "Insufficient Storage", 508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
}  # fmt: skip
if sys.version_info >= (3, 13):  # Python 3.13 took RFC 9110's names for these
    REASONS.update(
        {413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}
    )
