"""connect's pure parts: the listen flags, the request-target check and the header filters."""

from __future__ import annotations

import pytest

from kubectl_kaito import flags, relay
from kubectl_kaito.errors import UsageError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
        ("LOCALHOST", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("0.0.0.0", "0.0.0.0"),
        ("::", "::"),
        ("0:0::1", "::1"),
    ],
)
def test_listen_address(given: str, expected: str) -> None:
    assert flags.listen_address(given) == expected


@pytest.mark.parametrize("given", ["example.com", "127.0.0.1:80", "1.2.3.4.5", "", "a\x1bb", "\udcff"])
def test_listen_address_refuses_what_is_not_an_ip(given: str) -> None:
    with pytest.raises(UsageError) as e:
        flags.listen_address(given)
    assert e.value.message.startswith("invalid --address ")
    assert "\x1b" not in e.value.message


@pytest.mark.parametrize(("value", "ok"), [(0, True), (1, True), (65535, True), (-1, False), (65536, False)])
def test_check_port(value: int, ok: bool) -> None:
    if ok:
        assert flags.check_port(value) == value
    else:
        with pytest.raises(UsageError, match=r"must be between 1 and 65535 \(0 = pick a free port\)"):
            flags.check_port(value)


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("/v1/chat/completions", True),
        ("/v1/models?x=../y", True),
        ("/health", True),
        ("/", True),
        ("/v1/../api", False),
        ("/v1/%2e%2e/api", False),
        ("/v1/%2E./api", False),
        ("/..%2fapi", False),
        ("/v1/./x", False),
        ("/..", False),
        ("http://evil/v1", False),
        ("//evil/v1", False),
        ("*", False),
        ("/v1\\..\\api", False),
    ],
)
def test_safe_path(target: str, ok: bool) -> None:
    assert relay.safe_path(target) is ok


def test_request_headers_drop_credentials_impersonation_and_hop_by_hop() -> None:
    given = [
        ("Authorization", "Bearer sk-x"),
        ("Proxy-Authorization", "Basic x"),
        ("Cookie", "a=b"),
        ("Impersonate-User", "admin"),
        ("Impersonate-Group", "system:masters"),
        ("X-Remote-User", "admin"),
        ("Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
        ("Host", "127.0.0.1:8080"),
        ("Content-Length", "5"),
        ("Expect", "100-continue"),
        ("User-Agent", "OpenAI/Python"),
        ("Content-Type", "application/json"),
        ("Accept", "text/event-stream"),
        ("X-Request-Id", "r1"),
        ("OpenAI-Organization", "org"),
    ]
    assert relay.request_headers(given) == [
        ("Content-Type", "application/json"),
        ("Accept", "text/event-stream"),
        ("X-Request-Id", "r1"),
        ("OpenAI-Organization", "org"),
        ("Accept-Encoding", "identity"),
    ]
    assert relay.request_headers([("accept-encoding", "gzip")]) == [("accept-encoding", "gzip")]


def test_response_headers_keep_all_but_framing() -> None:
    given = [
        ("Content-Type", "text/event-stream"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "9"),
        ("Connection", "close"),
        ("Set-Cookie", "a=b"),
        ("Audit-Id", "x"),
        ("Content-Encoding", "gzip"),
    ]
    assert relay.response_headers(given) == [
        ("Content-Type", "text/event-stream"),
        ("Set-Cookie", "a=b"),
        ("Audit-Id", "x"),
        ("Content-Encoding", "gzip"),
    ]
