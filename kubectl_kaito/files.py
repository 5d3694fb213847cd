"""Reading a file a user named (a kubeconfig, a file a kubeconfig names, a flag's file): at most
`MAX_BYTES`, so `/dev/zero` or a runaway pipe is one clear error instead of memory running out. Pipes
(`--kubeconfig <(...)`) still work: the limit is on what is read, not on the kind of file.

Too much is an `OSError` (EFBIG, "larger than 64 MiB"), so every caller's existing `except OSError`
reports it in its own words, as it reports a missing or unreadable file."""

from __future__ import annotations

import errno

#: Far more than any kubeconfig, certificate, token or manifest: whatever is larger is no such file.
MAX_BYTES = 64 * 1024 * 1024


def _too_large(size: int) -> None:
    if size > MAX_BYTES:
        raise OSError(errno.EFBIG, "larger than 64 MiB")


def read_bytes(path: str) -> bytes:
    """The file's bytes (OSError as `open` raises it, or when it is larger than MAX_BYTES)."""
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    _too_large(len(data))
    return data


def read_text(path: str) -> str:
    """The file as UTF-8 text, newlines as `open` reads them (UnicodeDecodeError when it is not UTF-8;
    OSError as `read_bytes`; the limit counts characters, at most 4 bytes each)."""
    with open(path, encoding="utf-8") as f:
        text = f.read(MAX_BYTES + 1)
    _too_large(len(text))
    return text
