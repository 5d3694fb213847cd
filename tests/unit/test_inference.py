"""inference.py without a cluster: parameters, payloads, SSE parsing, error mapping, and the
HTTP client against an httpx.MockTransport standing in for a model server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kubectl_kaito import inference
from kubectl_kaito.errors import (
    ClusterUnavailableError,
    ExitCode,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    NotReadyError,
    ServerError,
    UsageError,
    WaitTimeoutError,
)
from kubectl_kaito.inference import Params, SSEEvent, Target

PROXY = Target(
    chat_url="/api/v1/namespaces/default/services/ws:http/proxy/v1/chat/completions",
    models_url="/api/v1/namespaces/default/services/ws:http/proxy/v1/models",
    where="workspace default/ws",
    via_proxy=True,
    workspace="ws",
    namespace="default",
)
DIRECT = Target(
    chat_url="http://127.0.0.1:9/v1/chat/completions",
    models_url="http://127.0.0.1:9/v1/models",
    where="http://127.0.0.1:9/v1",
    via_proxy=False,
)


# ---- parameters ---------------------------------------------------------------------------


def test_defaults_are_the_go_plugins() -> None:
    p = Params()
    assert (p.temperature, p.max_tokens, p.top_p, p.system_prompt) == (0.7, 1024, 0.9, None)


@pytest.mark.parametrize(
    ("params", "flag"),
    [
        (Params(temperature=2.5), "--temperature"),
        (Params(temperature=-0.1), "--temperature"),
        (Params(temperature=float("nan")), "--temperature"),
        (Params(top_p=0.0), "--top-p"),
        (Params(top_p=1.01), "--top-p"),
        (Params(max_tokens=0), "--max-tokens"),
    ],
)
def test_validate_params_rejects_out_of_range(params: Params, flag: str) -> None:
    with pytest.raises(UsageError) as e:
        inference.validate_params(params)
    assert flag in e.value.message
    assert e.value.exit_code == ExitCode.USAGE


def test_validate_params_accepts_the_edges() -> None:
    p = Params(temperature=0.0, top_p=1.0, max_tokens=1)
    assert inference.validate_params(p) is p
    assert inference.validate_params(Params(temperature=2.0)).temperature == 2.0


@pytest.mark.parametrize(
    ("name", "value", "canonical", "shown"),
    [
        ("temperature", "0.3", "temperature", "0.3"),
        ("temperature", "0.35", "temperature", "0.35"),
        ("temperature", "1", "temperature", "1"),
        ("top-p", "0.95", "top_p", "0.95"),
        ("max_tokens", "256", "max_tokens", "256"),
        ("MAX-TOKENS", "7", "max_tokens", "7"),
        ("system", "You are terse.", "system", "You are terse."),
    ],
)
def test_apply_setting_echoes_exactly(name: str, value: str, canonical: str, shown: str) -> None:
    params, key = inference.apply_setting(Params(), name, value)
    assert key == canonical
    assert dict(inference.describe_params(params))[key] == shown


def test_apply_setting_system_alone_removes_the_prompt() -> None:
    params, _ = inference.apply_setting(Params(system_prompt="x"), "system", "  ")
    assert params.system_prompt is None
    assert dict(inference.describe_params(params))["system"] == "(none)"


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("temperature", "3", "between 0 and 2"),
        ("temperature", "hot", "not a number"),
        ("top_p", "0", "greater than 0"),
        ("max_tokens", "1.5", "positive whole number"),
        ("max_tokens", "-1", "positive whole number"),
        ("seed", "1", "unknown setting"),
        ("temperature", "", "needs a value"),
    ],
)
def test_apply_setting_refuses(name: str, value: str, needle: str) -> None:
    with pytest.raises(UsageError) as e:
        inference.apply_setting(Params(), name, value)
    assert needle in e.value.message


def test_format_number_never_rounds() -> None:
    assert inference.format_number(0.123456789) == "0.123456789"
    assert inference.format_number(1.0) == "1"
    assert inference.format_number(0.1 + 0.2) == "0.30000000000000004"


# ---- payloads and answers --------------------------------------------------------------------


def test_build_payload_puts_the_system_prompt_first() -> None:
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    messages = inference.build_messages(history, "be brief")
    payload = inference.build_payload("phi", messages, Params(temperature=0.2, max_tokens=5, top_p=0.5), stream=True)
    assert payload == {
        "model": "phi",
        "messages": [{"role": "system", "content": "be brief"}, *history],
        "temperature": 0.2,
        "max_tokens": 5,
        "top_p": 0.5,
        "stream": True,
    }
    assert inference.build_messages(history, None) == history


def test_message_and_delta_text() -> None:
    assert inference.message_text({"choices": [{"message": {"content": "hi"}}]}) == "hi"
    assert inference.message_text({"choices": [{"message": {"content": None}}]}) == ""
    assert inference.message_text({}) == ""
    assert inference.delta_text({"choices": [{"delta": {"content": " x"}}]}) == " x"
    assert inference.delta_text({"choices": [{"delta": {"role": "assistant"}}]}) == ""
    assert inference.delta_text({"choices": [], "usage": {}}) == ""


def test_assemble_response_from_chunks() -> None:
    chunks: list[dict[str, Any]] = [
        {"id": "c1", "created": 5, "model": "m", "choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]},
        {"id": "c1", "created": 5, "model": "m", "choices": [{"delta": {"content": "Hi"}, "finish_reason": None}]},
        {"id": "c1", "created": 5, "model": "m", "choices": [{"delta": {}, "finish_reason": "stop"}]},
        {"id": "c1", "choices": [], "usage": {"total_tokens": 3}},
    ]
    out = inference.assemble_response(chunks, "Hi")
    assert out == {
        "id": "c1",
        "object": "chat.completion",
        "created": 5,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"total_tokens": 3},
    }


# ---- SSE -------------------------------------------------------------------------------------------


def test_parse_sse_follows_the_spec() -> None:
    lines = [
        ": keep-alive",
        "",
        'data: {"a": 1}',
        "",
        "event: error",
        "data: first",
        "data:second",
        "",
        "id: 7",
        "retry: 100",
        "data: [DONE]",  # no blank line before EOF: still dispatched
    ]
    assert list(inference.parse_sse(lines)) == [
        SSEEvent('{"a": 1}'),
        SSEEvent("first\nsecond", "error"),
        SSEEvent("[DONE]"),
    ]


def test_parse_sse_handles_crlf() -> None:
    assert list(inference.parse_sse(["data: x\r\n", "\r\n"])) == [SSEEvent("x")]


def test_stream_chunks_stop_at_done() -> None:
    events = [SSEEvent('{"choices": [{"delta": {"content": "a"}}]}'), SSEEvent("[DONE]"), SSEEvent('{"never": 1}')]
    assert [inference.delta_text(c) for c in inference.stream_chunks(events)] == ["a"]


def test_stream_chunks_error_chunk_raises_with_the_message() -> None:
    bad = {"error": {"object": "error", "message": "the engine died", "code": 500}}
    events = [SSEEvent('{"choices": [{"delta": {"content": "a"}}]}'), SSEEvent(json.dumps(bad))]
    gen = inference.stream_chunks(events)
    assert inference.delta_text(next(gen)) == "a"
    with pytest.raises(ServerError) as e:
        next(gen)
    assert "the engine died" in e.value.message
    assert e.value.exit_code == ExitCode.ERROR


def test_stream_chunks_error_event_raises() -> None:
    with pytest.raises(ServerError, match="overloaded"):
        list(inference.stream_chunks([SSEEvent('{"message": "overloaded"}', "error")]))
    with pytest.raises(ServerError, match="plain text"):
        list(inference.stream_chunks([SSEEvent("plain text", "error")]))


def test_stream_chunks_unreadable_chunk() -> None:
    with pytest.raises(ServerError, match="unreadable"):
        list(inference.stream_chunks([SSEEvent("{not json")]))


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"error": {"message": "too long", "type": "BadRequestError"}}, "too long"),
        ({"error": "plain"}, "plain"),
        ({"object": "error", "message": "vllm says"}, "vllm says"),
        ({"kind": "Status", "message": "no endpoints available"}, "no endpoints available"),
        ({"detail": "Not Found"}, "Not Found"),
        ({"detail": [{"msg": "field required"}]}, "field required"),
        ({"ok": True}, None),
        ("text", None),
    ],
)
def test_error_text(body: Any, text: str | None) -> None:
    assert inference.error_text(body) == text


# ---- endpoints ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://localhost:8080", "http://localhost:8080/v1"),
        ("http://localhost:8080/", "http://localhost:8080/v1"),
        ("http://localhost:8080/v1", "http://localhost:8080/v1"),
        ("http://localhost:8080/v1/", "http://localhost:8080/v1"),
        ("https://llm.example.com/v1/chat/completions", "https://llm.example.com/v1"),
        ("http://10.0.0.5/v1/models", "http://10.0.0.5/v1"),
        ("http://gw.example.com/team-a", "http://gw.example.com/team-a/v1"),
        ("http://gw.example.com/team-a/v1/chat/completions/", "http://gw.example.com/team-a/v1"),
    ],
)
def test_api_root_normalises(url: str, root: str) -> None:
    assert inference.api_root(url) == root


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://x/v1", "http://", "http://h/v1?key=1", ""])
def test_api_root_refuses(url: str) -> None:
    with pytest.raises(UsageError):
        inference.api_root(url)


# ---- error mapping ------------------------------------------------------------------------------------


def test_http_error_too_long_prompt_is_exit_1_with_the_models_message() -> None:
    body = json.dumps({"error": {"message": "This model's maximum context length is 4096 tokens.", "code": 400}})
    err = inference.http_error(400, body, PROXY)
    assert isinstance(err, InvalidError)
    assert err.exit_code == ExitCode.ERROR
    assert "maximum context length is 4096 tokens" in err.message


def test_http_error_proxy_503_is_not_ready() -> None:
    status = {"kind": "Status", "message": 'no endpoints available for service "ws"', "code": 503}
    err = inference.http_error(503, json.dumps(status), PROXY)
    assert isinstance(err, NotReadyError)
    assert err.exit_code == ExitCode.NOT_READY
    assert "no endpoints available" in err.message
    assert "kubectl kaito status --workspace-name ws -n default" in (err.hint or "")


def test_http_error_api_server_403_is_exit_5_with_the_rbac_hint() -> None:
    status = {"kind": "Status", "message": 'services "ws" is forbidden: cannot create services/proxy', "code": 403}
    err = inference.http_error(403, json.dumps(status), PROXY)
    assert isinstance(err, ForbiddenError)
    assert err.exit_code == ExitCode.CLUSTER
    assert "services/proxy" in (err.hint or "")


def test_http_error_model_404_and_500() -> None:
    err = inference.http_error(404, json.dumps({"error": {"message": "The model `x` does not exist."}}), DIRECT)
    assert isinstance(err, NotFoundError)
    assert "The model `x` does not exist." in err.message
    err = inference.http_error(500, "<html>\nboom", DIRECT)
    assert isinstance(err, ServerError)
    assert err.message.endswith("<html>")
    assert isinstance(inference.http_error(502, "", DIRECT), NotReadyError)
    assert isinstance(inference.http_error(504, "", DIRECT), WaitTimeoutError)


def test_transport_error_depends_on_the_path() -> None:
    refused = httpx.ConnectError("connection refused")
    proxied = inference.transport_error(refused, PROXY, 5)
    assert isinstance(proxied, ClusterUnavailableError)
    assert proxied.exit_code == ExitCode.CLUSTER
    direct = inference.transport_error(refused, DIRECT, 5)
    assert isinstance(direct, NotReadyError)
    assert "did not answer" in direct.message
    timeout = inference.transport_error(httpx.ReadTimeout("timed out"), DIRECT, 1.5)
    assert isinstance(timeout, WaitTimeoutError)
    assert timeout.code == "TIMEOUT"
    assert "within 1.5s" in timeout.message
    broke = inference.transport_error(httpx.RemoteProtocolError("peer closed"), DIRECT, 5, answered=True)
    assert isinstance(broke, ServerError)
    silent = inference.transport_error(httpx.RemoteProtocolError("no response"), DIRECT, 5)
    assert isinstance(silent, NotReadyError)


# ---- the client against a MockTransport --------------------------------------------------------------


def _client(handler: Any, target: Target = DIRECT) -> inference.ChatClient:
    return inference.ChatClient(httpx.Client(transport=httpx.MockTransport(handler)), target, 5.0)


def _sse(*objs: Any) -> bytes:
    return b"".join(b"data: " + (o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n\n" for o in objs)


def test_client_models_and_complete() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": "phi"}, {"id": "phi-lora"}]})
        return httpx.Response(200, json={"object": "chat.completion", "choices": [{"message": {"content": "yo"}}]})

    with _client(handler) as c:
        assert c.models() == ["phi", "phi-lora"]
        out = c.complete({"model": "phi", "messages": [], "stream": False})
    assert out["choices"][0]["message"]["content"] == "yo"
    assert json.loads(seen[1].content) == {"model": "phi", "messages": [], "stream": False}
    assert seen[1].method == "POST"


def test_client_models_empty_list_is_not_ready() -> None:
    c = _client(lambda r: httpx.Response(200, json={"object": "list", "data": []}))
    with pytest.raises(NotReadyError, match="listed no model"):
        c.models()


def test_client_stream_yields_chunks_and_ignores_keepalives() -> None:
    body = b": ping\n\n" + _sse(
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
        b"[DONE]",
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    text = "".join(inference.delta_text(ch) for ch in _client(handler).stream({"stream": True}))
    assert text == "Hello"


def test_client_stream_http_error_carries_the_server_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "prompt too long"}})

    with pytest.raises(InvalidError, match="prompt too long"):
        list(_client(handler).stream({"stream": True}))


def test_client_complete_error_body_in_200() -> None:
    c = _client(lambda r: httpx.Response(200, json={"error": {"message": "oops"}}))
    with pytest.raises(ServerError, match="oops"):
        c.complete({})


def test_client_transport_errors_are_mapped() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(NotReadyError, match="did not answer"):
        _client(refuse).complete({})
    with pytest.raises(ClusterUnavailableError):
        list(_client(refuse, PROXY).stream({}))

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(WaitTimeoutError):
        _client(slow).models()


def test_open_endpoint_builds_the_urls() -> None:
    with inference.open_endpoint("http://localhost:8080/v1/chat/completions", 2.0) as c:
        assert c.target.chat_url == "http://localhost:8080/v1/chat/completions"
        assert c.target.models_url == "http://localhost:8080/v1/models"
        assert c.target.via_proxy is False
        assert c.http.timeout.read == 2.0
        assert c.http.timeout.connect == 2.0  # never longer than --timeout
    with inference.open_endpoint("http://localhost:8080", None) as c:
        assert c.http.timeout.read is None
        assert c.http.timeout.connect == inference.CONNECT_TIMEOUT


def test_http_error_api_server_401_is_exit_5() -> None:
    from kubectl_kaito.errors import UnauthorizedError

    err = inference.http_error(401, json.dumps({"kind": "Status", "message": "Unauthorized", "code": 401}), PROXY)
    assert isinstance(err, UnauthorizedError)
    assert err.exit_code == ExitCode.CLUSTER
    # the same status from a model server behind --endpoint is the model's refusal (exit 1)
    assert inference.http_error(401, json.dumps({"error": {"message": "bad key"}}), DIRECT).exit_code == ExitCode.ERROR
