"""Talking to a model server's OpenAI API: payloads, SSE parsing, errors, and the HTTP client.

KAITO's runtimes (vLLM and, since v0.9, transformers) serve `/v1/chat/completions` and
`/v1/models` on the Service port `http`. We reach them through the API server's service
proxy (works wherever kubectl works, no port-forward), or straight at `--endpoint URL`.

The first half of this module is pure (tested without a network); `ChatClient` and the
`open_*` functions at the end do the I/O. httpx is imported only inside functions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from kubectl_kaito.errors import (
    ClusterUnavailableError,
    InvalidError,
    KaitoError,
    NotFoundError,
    NotReadyError,
    ServerError,
    UsageError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    import httpx

    from kubectl_kaito.resources import Resources

API_ROOT = "/v1"
CHAT_SUFFIX = "/chat/completions"
MODELS_SUFFIX = "/models"
CHAT_PATH = API_ROOT + CHAT_SUFFIX

DEFAULT_TIMEOUT = 300.0  # seconds without a byte from the server; large models are slow to start answering
CONNECT_TIMEOUT = 10.0  # connecting is fast or it is not happening
MODELS_TIMEOUT = 30.0  # /v1/models answers at once when the server is up

# The Go plugin's defaults (anchors §1), kept so scripts moving over get the same answers.
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TOP_P = 0.9


# ---- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Sampling parameters and the system prompt, as sent with every request."""

    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    top_p: float = DEFAULT_TOP_P
    system_prompt: str | None = None


# `/set` names -> Params field; dashes and the flag spellings are accepted too.
SETTING_NAMES = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "max-tokens": "max_tokens",
    "top_p": "top_p",
    "top-p": "top_p",
    "system": "system_prompt",
    "system_prompt": "system_prompt",
    "system-prompt": "system_prompt",
}


def check_temperature(value: float, flag: str = "--temperature") -> float:
    """0 <= temperature <= 2 (the OpenAI range; vLLM accepts the same)."""
    if not math.isfinite(value) or not 0.0 <= value <= 2.0:
        raise UsageError(f"invalid {flag} {format_number(value)}: must be between 0 and 2")
    return value


def check_top_p(value: float, flag: str = "--top-p") -> float:
    """0 < top_p <= 1 (vLLM rejects 0, so we do too, before sending anything)."""
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise UsageError(f"invalid {flag} {format_number(value)}: must be greater than 0 and at most 1")
    return value


def check_max_tokens(value: int, flag: str = "--max-tokens") -> int:
    """max_tokens > 0."""
    if value <= 0:
        raise UsageError(f"invalid {flag} {value}: must be a positive whole number")
    return value


def validate_params(params: Params) -> Params:
    """Check every range; UsageError (exit 2) names the flag."""
    check_temperature(params.temperature)
    check_top_p(params.top_p)
    check_max_tokens(params.max_tokens)
    return params


def format_number(value: float | int) -> str:
    """Shortest exact text for a number (0.3 stays 0.3, 1.0 prints as 1): never rounded."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def apply_setting(params: Params, name: str, text: str) -> tuple[Params, str]:
    """`/set NAME VALUE` -> (new Params, canonical name). UsageError on an unknown name or bad value."""
    key = SETTING_NAMES.get(name.strip().lower())
    if key is None:
        known = "temperature, max_tokens, top_p, system"
        raise UsageError(f"unknown setting {name!r}; settings: {known}")
    raw = text.strip()
    if key == "system_prompt":
        return replace(params, system_prompt=raw or None), "system"
    if not raw:
        raise UsageError(f"/set {key} needs a value")
    if key == "max_tokens":
        try:
            number = int(raw)
        except ValueError:
            raise UsageError(f"invalid max_tokens {raw!r}: must be a positive whole number") from None
        return replace(params, max_tokens=check_max_tokens(number, "max_tokens")), key
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"invalid {key} {raw!r}: not a number") from None
    if key == "temperature":
        return replace(params, temperature=check_temperature(value, "temperature")), key
    return replace(params, top_p=check_top_p(value, "top_p")), key


def describe_params(params: Params) -> list[tuple[str, str]]:
    """(name, value) pairs for `/params`, values exactly as they will be sent."""
    return [
        ("temperature", format_number(params.temperature)),
        ("max_tokens", str(params.max_tokens)),
        ("top_p", format_number(params.top_p)),
        ("system", params.system_prompt if params.system_prompt else "(none)"),
    ]


# ---- payloads and answers -----------------------------------------------------------------------


def build_messages(history: Iterable[dict[str, str]], system_prompt: str | None = None) -> list[dict[str, str]]:
    """The system prompt first (when set), then the conversation in order."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.extend({"role": m["role"], "content": m["content"]} for m in history)
    return messages


def build_payload(model: str, messages: list[dict[str, str]], params: Params, *, stream: bool) -> dict[str, Any]:
    """The /v1/chat/completions request body."""
    return {
        "model": model,
        "messages": messages,
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
        "top_p": params.top_p,
        "stream": stream,
    }


def message_text(response: dict[str, Any]) -> str:
    """The answer text of a chat.completion object ("" when the model said nothing)."""
    choices = response.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    message = choices[0].get("message") or {}
    return str(message.get("content") or "")


def finish_reason(obj: dict[str, Any]) -> str | None:
    """choices[0].finish_reason of a response or a stream chunk."""
    choices = obj.get("choices") or []
    if choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason")
        return str(reason) if reason else None
    return None


def delta_text(chunk: dict[str, Any]) -> str:
    """The new text in one chat.completion.chunk ("" for role-only and final chunks)."""
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta") or {}
    return str(delta.get("content") or "")


# ---- Server-Sent Events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event: its type ("message" unless `event:` said otherwise) and data."""

    data: str
    event: str = "message"


def parse_sse(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Events from SSE lines (WHATWG rules: `data:` lines joined by newlines, blank line dispatches,
    `:` comments and keep-alives ignored). An event left open when the stream ends is still
    dispatched, because some servers omit the last blank line."""
    data: list[str] = []
    event = ""
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEEvent("\n".join(data), event or "message")
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        # `id:` and `retry:` mean nothing for a one-off completion stream
    if data:
        yield SSEEvent("\n".join(data), event or "message")


def error_text(body: Any) -> str | None:
    """The message in an error body: OpenAI `{"error": {"message"}}`, vLLM `{"object": "error",
    "message"}`, FastAPI `{"detail"}`, or a Kubernetes Status `{"message"}`. None if none."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str) and err:
        return err
    if body.get("object") == "error" and body.get("message"):
        return str(body["message"])
    if body.get("kind") == "Status" and body.get("message"):
        return str(body["message"])
    detail = body.get("detail")
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and detail[0].get("msg"):
        return "; ".join(str(d.get("msg")) for d in detail if isinstance(d, dict))
    return None


def stream_chunks(events: Iterable[SSEEvent]) -> Iterator[dict[str, Any]]:
    """chat.completion.chunk objects until `[DONE]`; an error event or chunk raises ServerError."""
    for ev in events:
        data = ev.data.strip()
        if data == "[DONE]":
            return
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = None
        if ev.event == "error":
            text = error_text(obj) or data or "unknown error"
            raise ServerError(f"the model server reported an error mid-answer: {text}")
        if not isinstance(obj, dict):
            raise ServerError(f"the model server sent an unreadable stream chunk: {data[:200]!r}")
        error = error_text(obj) if "error" in obj or obj.get("object") == "error" else None
        if error is not None:
            raise ServerError(f"the model server reported an error mid-answer: {error}")
        yield obj


def assemble_response(chunks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """A chat.completion object equivalent to a streamed answer (id, model, usage from the chunks)."""
    first = chunks[0] if chunks else {}
    usage = next((c["usage"] for c in reversed(chunks) if c.get("usage")), None)
    reason = next((r for r in (finish_reason(c) for c in reversed(chunks)) if r), None)
    out: dict[str, Any] = {
        "id": first.get("id"),
        "object": "chat.completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": reason}],
    }
    if usage is not None:
        out["usage"] = usage
    return out


# ---- endpoints and errors ---------------------------------------------------------------------------


def api_root(url: str) -> str:
    """Normalise `--endpoint`: `http://h:8080`, `.../v1`, `.../v1/` or `.../v1/chat/completions`
    (also `.../v1/models`) -> `http://h:8080/v1`. A path prefix (an Ingress route) is kept."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"invalid --endpoint {url!r}: expected an http(s) URL",
            hint="for example --endpoint http://localhost:8080 (after kubectl port-forward svc/<workspace> 8080:80)",
        )
    if parts.query:
        raise UsageError(f"invalid --endpoint {url!r}: a query string is not supported")
    path = parts.path.rstrip("/")
    for suffix in (CHAT_SUFFIX, MODELS_SUFFIX):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if not path.endswith(API_ROOT):
        path += API_ROOT
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class Target:
    """Where requests go and how failures read: through the service proxy or straight to a URL."""

    chat_url: str  # a path (proxy: relative to the API server) or a full URL (--endpoint)
    models_url: str
    where: str  # "workspace default/my-llm" or the endpoint URL, for messages
    via_proxy: bool
    workspace: str | None = None
    namespace: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def http_error(status: int, text: str, target: Target) -> KaitoError:
    """The error for an HTTP error answer: 502/503/504 -> not ready (exit 4); a Kubernetes Status
    from the API server keeps its meaning (401/403 exit 5, 404 exit 3); any other answer from the
    model -> exit 1 with the model's own message (e.g. a prompt longer than the context)."""
    body = _body(text)
    message = error_text(body)
    if message is None:
        first = text.strip().splitlines()[0][:300] if text.strip() else ""
        message = first or f"HTTP {status}"
    details = {**target.details, "status_code": status}
    from_api_server = target.via_proxy and isinstance(body, dict) and body.get("kind") == "Status"
    hint_status = (
        f"see `kubectl kaito status --workspace-name {target.workspace} -n {target.namespace}`"
        if target.workspace
        else "is the model server up behind that URL?"
    )
    if status in (502, 503, 504):
        if status == 504 and not from_api_server:
            return WaitTimeoutError(f"{target.where} timed out answering ({status}): {message}", details=details)
        return NotReadyError(
            f"{target.where} is not answering ({status}): {message}", hint=hint_status, details=details
        )
    if from_api_server:  # the API server's own answer: its one mapping (client.error_class)
        from kubectl_kaito.client import error_class  # noqa: PLC0415

        cls = error_class(status, str(body.get("reason") or ""))
        if status in (401, 403):
            hint = "chat through the API server needs the `services/proxy` permission (get, create) in the namespace"
            return cls(f"the API server refused the service proxy request: {message}", hint=hint, details=details)
        return cls(f"the API server cannot proxy to {target.where}: {message}", details=details)
    if status in (400, 422):
        return InvalidError(f"the model server refused the request: {message}", details=details)
    if status == 404:
        return NotFoundError(
            f"the model server answered 404: {message}",
            hint="is the model name right? see `/v1/models`; with --endpoint, is the URL the OpenAI API root?",
            details=details,
        )
    return ServerError(f"the model server answered {status}: {message}", details=details)


def transport_error(exc: Exception, target: Target, timeout: float | None, *, answered: bool = False) -> KaitoError:
    """The error for an httpx transport failure. Reaching the API server failing -> exit 5; an
    `--endpoint` that does not answer -> exit 4; no byte within --timeout -> exit 4 (TIMEOUT);
    a connection that broke mid-answer -> exit 1."""
    import httpx  # noqa: PLC0415

    why = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)) or exc.__class__.__name__  # "[Errno 111] Connection refused"
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)) or (
        isinstance(exc, httpx.RemoteProtocolError) and not answered
    ):
        if target.via_proxy:
            return ClusterUnavailableError(
                f"cannot reach the Kubernetes API server to talk to {target.where}: {why}",
                hint="check: kubectl cluster-info",
                details=target.details,
            )
        return NotReadyError(
            f"the endpoint {target.where} did not answer: {why}",
            hint="is the model server running and the URL right? (kubectl port-forward svc/<workspace> 8080:80)",
            details=target.details,
        )
    if isinstance(exc, httpx.TimeoutException):
        limit = f" within {format_number(timeout)}s" if timeout else ""
        return WaitTimeoutError(
            f"{target.where} sent nothing{limit}",
            hint="large models can be slow: raise --timeout (0 = wait forever)",
            details=target.details,
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return ServerError(
            f"the connection to {target.where} broke before the answer ended: {why}", details=target.details
        )
    return ServerError(f"talking to {target.where} failed: {why}", details=target.details)


def not_json_error(what: str, resp: httpx.Response, target: Target) -> ServerError:
    """A 200 that should be JSON and is not (a login page, a torn or empty body): exit 1, one line
    naming what came, worded as the API client words it."""
    from kubectl_kaito.client import describe_body  # noqa: PLC0415

    return ServerError(
        f"{what} answered {resp.status_code} but not with JSON: "
        f"{describe_body(resp.headers.get('Content-Type'), resp.content)}",
        hint="is something between you and the model server (a proxy or login page)?",
        details={**target.details, "status_code": resp.status_code},
    )


# ---- the client -------------------------------------------------------------------------------------


class ChatClient:
    """Sends chat requests to one target with one httpx.Client; every failure becomes a KaitoError."""

    def __init__(self, http: httpx.Client, target: Target, timeout: float | None) -> None:
        self.http = http
        self.target = target
        self.timeout = timeout

    def close(self) -> None:
        """Close the underlying connections."""
        self.http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def models(self) -> list[str]:
        """The model ids of GET /v1/models (the served name to send as `model`)."""
        import httpx  # noqa: PLC0415

        try:
            # /v1/models answers at once when the server is up, so it never waits the whole --timeout
            limit = min(self.timeout or MODELS_TIMEOUT, MODELS_TIMEOUT)
            resp = self.http.get(self.target.models_url, timeout=_timeout(limit))
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.target, self.timeout) from None
        if resp.status_code != 200:
            raise http_error(resp.status_code, resp.text, self.target)
        body = _body(resp.text)
        if not isinstance(body, dict):
            raise not_json_error(f"{self.target.where} GET {API_ROOT}{MODELS_SUFFIX}", resp, self.target)
        ids = model_ids(body)
        if not ids:
            raise NotReadyError(
                f"{self.target.where} answered GET /v1/models but listed no model", details=self.target.details
            )
        return ids

    def complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One non-streaming POST; the chat.completion object."""
        import httpx  # noqa: PLC0415

        try:
            resp = self.http.post(self.target.chat_url, json=payload)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.target, self.timeout) from None
        if resp.status_code != 200:
            raise http_error(resp.status_code, resp.text, self.target)
        body = _body(resp.text)
        if not isinstance(body, dict):
            raise not_json_error(f"{self.target.where} POST {API_ROOT}{CHAT_SUFFIX}", resp, self.target)
        text = error_text(body) if "error" in body else None
        if text is not None:
            raise ServerError(f"the model server reported an error: {text}")
        return body

    def stream(self, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Streamed chunks as they arrive. Closing the generator (Ctrl-C) closes the connection."""
        import httpx  # noqa: PLC0415

        answered = False
        try:
            with self.http.stream("POST", self.target.chat_url, json=payload) as resp:
                answered = True
                if resp.status_code != 200:
                    resp.read()
                    raise http_error(resp.status_code, resp.text, self.target)
                yield from stream_chunks(parse_sse(resp.iter_lines()))
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.target, self.timeout, answered=answered) from None


def _timeout(seconds: float | None) -> httpx.Timeout:
    import httpx  # noqa: PLC0415

    # `seconds` bounds every wait for the server (a read: the next token when streaming); connecting
    # gets a shorter limit so a dead address fails fast even with a generous --timeout.
    connect = CONNECT_TIMEOUT if seconds is None else min(CONNECT_TIMEOUT, seconds)
    return httpx.Timeout(seconds, connect=connect)


def open_endpoint(url: str, timeout: float | None) -> ChatClient:
    """A client straight to `--endpoint` (no kubeconfig needed)."""
    import httpx  # noqa: PLC0415

    root = api_root(url)
    target = Target(
        chat_url=root + CHAT_SUFFIX,
        models_url=root + MODELS_SUFFIX,
        where=root,
        via_proxy=False,
        details={"endpoint": root},
    )
    return ChatClient(httpx.Client(timeout=_timeout(timeout), follow_redirects=True), target, timeout)


def open_workspace(cluster: Resources, workspace: str, namespace: str, timeout: float | None) -> ChatClient:
    """A client through the API server's service proxy to a ready workspace's Service port `http`.

    Missing workspace -> NotFoundError (3); not ready -> NotReadyError (4) naming the pending
    conditions; a tuning workspace serves nothing -> KaitoError (1).
    """
    from kubectl_kaito import endpoints, kaito  # noqa: PLC0415

    ws = cluster.get_workspace(workspace, namespace)
    where = f"workspace {namespace}/{workspace}"
    details = {"workspace": workspace, "namespace": namespace}
    if kaito.is_tuning(ws):
        raise KaitoError(
            f"{where} is a tuning workspace: it runs a fine-tuning job and serves no model",
            hint="chat with an inference workspace (deploy one with `kubectl kaito deploy`)",
            details=details,
        )
    if not kaito.is_ready(ws):
        err = endpoints.not_ready_error(ws, namespace)
        err.hint = f"see `kubectl kaito status --workspace-name {workspace} -n {namespace}`"
        raise err
    service = cluster.workspace_service(workspace, namespace)  # missing: NotFoundError (exit 3)
    port = endpoints.port_ref(endpoints.http_port(service))
    return open_service(cluster, namespace, workspace, port, timeout, where=where, details=details)


def open_service(
    cluster: Resources,
    namespace: str,
    service: str,
    port: str | int,
    timeout: float | None,
    *,
    where: str | None = None,
    details: dict[str, Any] | None = None,
) -> ChatClient:
    """A client through the API server's service proxy to `service:port` (KAITO names the Service
    after the workspace). chat and `get-endpoint --check` both talk through it."""
    target = Target(
        chat_url=cluster.proxy_path(namespace, service, port, CHAT_PATH),
        models_url=cluster.proxy_path(namespace, service, port, API_ROOT + MODELS_SUFFIX),
        where=where or f"service {namespace}/{service} port {port}",
        via_proxy=True,
        workspace=service,
        namespace=namespace,
        details={**(details or {"workspace": service, "namespace": namespace}), "service": service, "port": port},
    )
    http = cluster.http_client()
    http.timeout = _timeout(timeout)  # --timeout, not --request-timeout: answers take longer than API calls
    return ChatClient(http, target, timeout)


def model_ids(body: Any) -> list[str]:
    """The ids in an OpenAI `/v1/models` answer (`{"object": "list", "data": [{"id": ...}]}`)."""
    if not isinstance(body, dict):
        return []
    return [str(m["id"]) for m in body.get("data") or [] if isinstance(m, dict) and m.get("id")]


def served_models(
    cluster: Resources, namespace: str, service: str, port: str | int, *, timeout: float | None = 10.0
) -> list[str]:
    """`get-endpoint --check`: the model ids behind `service:port`, asked by chat's own client, so both
    fail alike. No answer (502/503, no byte in time) -> NotReadyError/WaitTimeoutError (exit 4)."""
    where = f"GET {API_ROOT}{MODELS_SUFFIX} of service {namespace}/{service} port {port}"
    with open_service(cluster, namespace, service, port, timeout, where=where) as client:
        return client.models()


def reopen(client: ChatClient, cluster: Resources | None = None) -> ChatClient:
    """Another client to the same target with connections of its own (`bench` keeps one per request
    in flight, so no shared connection pool limits or queues them)."""
    import httpx  # noqa: PLC0415

    if client.target.via_proxy:
        if cluster is None:
            raise ValueError("a service-proxy client needs the cluster to reopen")
        http = cluster.http_client()
        http.timeout = _timeout(client.timeout)
    else:
        http = httpx.Client(timeout=_timeout(client.timeout), follow_redirects=True)
    return ChatClient(http, client.target, client.timeout)
