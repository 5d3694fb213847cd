"""A deterministic OpenAI-compatible stand-in for a vLLM workspace.

Reached through the API server's service proxy (per workspace, 503 until ready) and on its
own plain-HTTP port (`SimCluster.openai_url`). Answers are deterministic so tests can check
conversation history: `Hello from <model>. You said: <last user message> (turn <n>)`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .metrics import RequestTrack, ServerMetrics
from .util import CIDict

MODES = ("normal", "hang", "fail_midstream", "drop_midstream", "slow")


_DONE = b"data: [DONE]\n\n"  # the last event of an OpenAI stream


class AbortConnection(Exception):
    """Raised from a body iterator to drop the connection without finishing the response."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterator[bytes] = b""


def _json(status: int, obj: Any, extra: list[tuple[str, str]] | None = None) -> Response:
    data = json.dumps(obj).encode()
    return Response(status, [("Content-Type", "application/json")] + (extra or []), data)


def _error(status: int, message: str, typ: str, param: str | None = None) -> Response:
    return _json(status, {"error": {"message": message, "type": typ, "param": param, "code": status}})


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and p.get("type") in ("text", "input_text"):
                parts.append(str(p.get("text", "")))
            elif isinstance(p, str):
                parts.append(p)
        return "".join(parts)
    return "" if content is None else str(content)


class OpenAIStandIn:
    def __init__(self, default_model: str = "phi-4-mini-instruct") -> None:
        self.mode = "normal"
        self.requests: list[dict] = []
        self.max_prompt_chars = 32_000
        self.default_model = default_model
        self.chunk_delay = 0.01  # between streamed chunks in normal mode
        self.slow_delay = 0.4  # per chunk (and before a non-streamed answer) in slow mode
        self.midstream_chunks = 2  # chunks sent before failing in fail/drop_midstream modes
        self.hang_seconds = 300.0
        # Speed knobs (None = the defaults above). ttft: seconds before the first token of an answer;
        # itl: seconds between tokens (1 / tokens per second); max_num_seqs: answers generated at
        # once, as vLLM's --max-num-seqs (the rest wait in a queue, their time to first token grows).
        self.ttft: float | None = None
        self.itl: float | None = None
        self.max_num_seqs: int | None = None
        self.usage_in_stream = True  # False: ignore stream_options.include_usage (a server without it)
        # Every `fail_every`-th completion request answers `fail_status` (deterministic error rates).
        self.fail_status = 500
        self.fail_every = 0
        self.in_flight = 0  # completion requests being answered (queued ones included)
        self.max_in_flight = 0  # the most at once since the last reset_stats()
        self.completions = 0
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._seq_cond = threading.Condition()
        # per model server (pod): sequences running, and the requests waiting for a slot, oldest first
        self._running: dict[object, int] = {}
        self._queue: dict[object, list[object]] = {}
        # the pod proxy to these pods: "hang" (connects, never answers) or "refuse" (nothing listens)
        self.pod_faults: dict[tuple[str, str], str] = {}
        # vLLM's /metrics, one set per model-server pod: (namespace, pod) -> counters
        self.metrics: dict[tuple[str, str], ServerMetrics] = {}

    def metrics_for(self, ctx: dict, model: str) -> ServerMetrics:
        """The counters of the pod that answers: ctx["pod"], else the workspace's first pod (the
        service proxy sends everything to `<workspace>-0`), else the direct port's own server."""
        ws = ctx.get("workspace")
        key = (str(ctx.get("namespace") or ""), str(ctx.get("pod") or (f"{ws}-0" if ws else "direct")))
        with self._lock:
            m = self.metrics.get(key)
            if m is None:
                m = self.metrics[key] = ServerMetrics(model)
            return m

    def set_speed(
        self, ttft: float | None = None, tokens_per_second: float | None = None, max_num_seqs: int | None = None
    ) -> None:
        """How fast the stand-in answers: time to first token (s), tokens per second, sequences at once."""
        self.ttft = ttft
        self.itl = (1.0 / tokens_per_second) if tokens_per_second else None
        self.max_num_seqs = max_num_seqs

    def reset_stats(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight
            self.completions = 0

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _acquire_seq(self, server: object = None) -> None:
        """Wait for a free sequence slot (max_num_seqs) on one model server (each pod is its own vLLM),
        as a request waits in vLLM's queue."""
        with self._seq_cond:
            # first come, first served, as vLLM's scheduler: a request waits for the ones ahead of it
            ticket = object()
            queue = self._queue.setdefault(server, [])
            queue.append(ticket)
            try:
                while (
                    self.max_num_seqs
                    and (self._running.get(server, 0) >= self.max_num_seqs or queue[0] is not ticket)
                    and not self.stop_event.is_set()
                ):
                    self._seq_cond.wait(0.05)
            finally:
                queue.remove(ticket)
                self._seq_cond.notify_all()
            self._running[server] = self._running.get(server, 0) + 1

    def _release_seq(self, server: object = None) -> None:
        with self._seq_cond:
            self._running[server] = self._running.get(server, 0) - 1
            self._seq_cond.notify_all()

    # ---------------------------------------------------------------
    def _record(self, method: str, path: str, headers: dict, body: Any, ctx: dict) -> None:
        payload = body if isinstance(body, dict) else {}
        rec = {
            "method": method,
            "path": path,
            "headers": CIDict(headers),
            "body": body,
            "workspace": ctx.get("workspace"),
            "namespace": ctx.get("namespace"),
            "via": ctx.get("via", "direct"),
            "model": payload.get("model"),
            "messages": payload.get("messages"),
            "prompt": payload.get("prompt"),
            "temperature": payload.get("temperature"),
            "max_tokens": payload.get("max_tokens"),
            "top_p": payload.get("top_p"),
            "stream": payload.get("stream"),
        }
        with self._lock:
            self.requests.append(rec)

    def _hang(self) -> None:
        deadline = time.time() + self.hang_seconds
        while self.mode == "hang" and not self.stop_event.is_set() and time.time() < deadline:
            self.stop_event.wait(0.05)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stop_event.wait(seconds)

    # ---------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        headers: dict,
        body: bytes,
        *,
        model: str | None = None,
        root: str | None = None,
        max_model_len: int | None = None,
        ctx: dict | None = None,
    ) -> Response:
        ctx = ctx or {}
        model = model or self.default_model
        route = path.split("?", 1)[0].rstrip("/") or "/"
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        self._record(
            method,
            route,
            headers,
            parsed if parsed is not None else (body.decode("utf-8", "replace") if body else None),
            ctx,
        )
        if self.mode == "hang":
            self._hang()
            if self.stop_event.is_set():
                raise AbortConnection()
        if route == "/health":
            return Response(200, [("Content-Type", "application/json")], b"")
        if route == "/version":
            return _json(200, {"version": "0.26.0"})
        if route == "/metrics":
            if method != "GET":
                return _json(405, {"detail": "Method Not Allowed"})
            return Response(
                200,
                [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                self.metrics_for(ctx, model).render().encode(),
            )
        if route == "/v1/models":
            if method != "GET":
                return _json(405, {"detail": "Method Not Allowed"})
            return _json(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": model,
                            "object": "model",
                            "created": int(time.time()),
                            "owned_by": "vllm",
                            "root": root or model,
                            "parent": None,
                            "max_model_len": max_model_len or 131072,
                            "permission": [],
                        }
                    ],
                },
            )
        if route in ("/v1/chat/completions", "/v1/completions"):
            if method != "POST":
                return _json(405, {"detail": "Method Not Allowed"})
            if not isinstance(parsed, dict):
                return _error(400, "Invalid JSON body", "BadRequestError")
            self._enter()
            try:
                return self._completion(route, parsed, model, max_model_len, ctx)
            finally:
                # a stream counts itself from its first to its last byte (a generator that is never
                # started cannot run a `finally`, so it must not hold a count from here)
                self._leave()
        return _json(404, {"detail": "Not Found"})

    def _completion(
        self, route: str, req: dict, model: str, max_model_len: int | None, ctx: dict | None = None
    ) -> Response:
        chat = route.endswith("/chat/completions")
        req_model = req.get("model")
        if req_model is not None and req_model != model:
            return _error(404, f"The model `{req_model}` does not exist.", "NotFoundError", "model")
        if chat:
            messages = req.get("messages")
            if not isinstance(messages, list) or not messages:
                return _error(400, "messages must be a non-empty list", "BadRequestError", "messages")
            prompt_text = "".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            last = _text_of(users[-1].get("content")) if users else ""
            turn = len(users)
        else:
            prompt = req.get("prompt", "")
            if isinstance(prompt, list):
                prompt = "".join(str(p) for p in prompt)
            prompt_text = last = str(prompt)
            turn = 1
        prompt_tokens = max(1, len(prompt_text) // 4)
        if len(prompt_text) > self.max_prompt_chars:
            limit = max_model_len or self.max_prompt_chars // 4
            return _error(
                400,
                (
                    f"This model's maximum context length is {limit} tokens. However, your request has "
                    f"{prompt_tokens} input tokens. Please reduce the length of the input messages."
                ),
                "BadRequestError",
            )
        with self._lock:
            self.completions += 1
            failing = self.fail_every > 0 and self.completions % self.fail_every == 0
        if failing:
            return _error(self.fail_status, f"simulated failure ({self.fail_status})", "InternalServerError")
        answer = f"Hello from {model}. You said: {last} (turn {turn})"
        words = answer.split(" ")
        finish = "stop"
        max_tokens = req.get("max_tokens", req.get("max_completion_tokens"))
        if req.get("ignore_eos") and isinstance(max_tokens, int) and max_tokens > len(words):
            # vLLM's ignore_eos: generate until max_tokens (the answer again, word by word)
            words = [words[i % len(words)] for i in range(max_tokens)]
        if isinstance(max_tokens, int) and 0 < max_tokens < len(words):
            words = words[:max_tokens]
            finish = "length"
        elif req.get("ignore_eos") and isinstance(max_tokens, int) and max_tokens == len(words):
            finish = "length"
        text = " ".join(words)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        }
        created = int(time.time())
        rid = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        if req.get("stream"):
            include_usage = self.usage_in_stream and bool((req.get("stream_options") or {}).get("include_usage"))
            return Response(
                200,
                [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")],
                self._stream(
                    chat, rid, created, model, words, finish, usage, include_usage, self.metrics_for(ctx or {}, model)
                ),
            )
        server = self.metrics_for(ctx or {}, model)
        track = server.request(prompt_tokens)
        done: str | None = None
        try:
            if self.mode == "slow":
                self._sleep(self.slow_delay)
            if self.ttft is not None or self.itl is not None:
                self._acquire_seq(server)
                try:
                    track.run()
                    self._sleep(self.ttft or 0.0)
                    track.tokens(1)
                    self._sleep((self.itl or 0.0) * max(0, len(words) - 1))
                    track.tokens(len(words) - 1)
                finally:
                    self._release_seq(server)
            else:
                track.run()
                track.tokens(len(words))
            if self.mode in ("fail_midstream", "drop_midstream"):
                return _error(500, "Internal server error: the engine died while generating", "InternalServerError")
            done = finish
        finally:
            track.finish(done)
        if chat:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": text, "reasoning_content": None, "tool_calls": []},
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
            body = {
                "id": rid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": usage,
                "prompt_logprobs": None,
            }
        else:
            body = {
                "id": rid,
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish, "stop_reason": None}],
                "usage": usage,
            }
        return _json(200, body)

    def _stream(
        self,
        chat: bool,
        rid: str,
        created: int,
        model: str,
        words: list[str],
        finish: str,
        usage: dict,
        include_usage: bool,
        server: ServerMetrics | None = None,
    ) -> Iterator[bytes]:
        """The SSE body; the request counts as in flight (and holds a sequence slot) until its answer is
        complete. The sequence ends before the closing `data: [DONE]` goes out (vLLM frees a finished
        sequence before the response is flushed): a client that sends its next request on reading
        [DONE] never finds the previous one still counted."""
        seq = False
        self._enter()
        # made here, not by the caller: a body that is never iterated must not stay "waiting"
        track = (server or ServerMetrics(model)).request(usage["prompt_tokens"])
        done = complete = False
        try:
            if self.max_num_seqs:
                self._acquire_seq(server)
                seq = True
            track.run()
            for piece in self._stream_body(chat, rid, created, model, words, finish, usage, include_usage, track):
                if piece == _DONE:
                    complete = True
                    break
                yield piece
            done = self.mode not in ("fail_midstream", "drop_midstream")
        finally:
            track.finish(finish if done else None)
            if seq:
                self._release_seq(server)
            self._leave()
        if complete:
            yield _DONE

    def _stream_body(
        self,
        chat: bool,
        rid: str,
        created: int,
        model: str,
        words: list[str],
        finish: str,
        usage: dict,
        include_usage: bool,
        track: RequestTrack | None = None,
    ) -> Iterator[bytes]:
        obj = "chat.completion.chunk" if chat else "text_completion"

        def chunk(delta_text: str | None, finish_reason: str | None = None, role: bool = False) -> bytes:
            if chat:
                delta: dict[str, Any] = {}
                if role:
                    delta["role"] = "assistant"
                if delta_text is not None:
                    delta["content"] = delta_text
                choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            else:
                choice = {"index": 0, "text": delta_text or "", "logprobs": None, "finish_reason": finish_reason}
            data = {"id": rid, "object": obj, "created": created, "model": model, "choices": [choice]}
            return b"data: " + json.dumps(data).encode() + b"\n\n"

        def delay(first: bool) -> None:
            if self.mode == "slow":
                self._sleep(self.slow_delay)
            elif first and self.ttft is not None:
                self._sleep(self.ttft)
            elif not first and self.itl is not None:
                self._sleep(self.itl)
            else:
                self._sleep(self.chunk_delay)

        mode = self.mode
        sent = 0
        if chat:
            yield chunk("", role=True)
        for i, w in enumerate(words):
            delay(i == 0)
            if self.stop_event.is_set():
                raise AbortConnection()
            if mode in ("fail_midstream", "drop_midstream") and sent >= self.midstream_chunks:
                if mode == "drop_midstream":
                    raise AbortConnection()
                err = {
                    "error": {
                        "object": "error",
                        "message": "Internal server error: the engine died while generating",
                        "type": "InternalServerError",
                        "param": None,
                        "code": 500,
                    }
                }
                yield b"data: " + json.dumps(err).encode() + b"\n\n"
                return
            if track is not None:
                track.tokens(1)
            yield chunk(w if i == 0 else " " + w)
            sent += 1
        yield chunk(None if chat else "", finish)
        if include_usage:
            data = {"id": rid, "object": obj, "created": created, "model": model, "choices": [], "usage": usage}
            yield b"data: " + json.dumps(data).encode() + b"\n\n"
        yield _DONE
