"""`bench`'s engine: prompts, load, per-request timing and the serving metrics.

Metrics are defined as vLLM's serving benchmark (benchmarks/benchmark_serving.py and
backend_request_func.py) defines them, so numbers compare with what KAITO users already read:

- TTFT: from sending the request to the first stream chunk that carries text;
- ITL: the gap between consecutive chunks that carry text (one value per gap, all requests pooled);
- TPOT: per request, (E2E latency - TTFT) / (output tokens - 1), for requests with more than one token;
- E2E latency: from sending the request to the end of its stream (`[DONE]`);
- request throughput: successful requests / run duration; output token throughput: their output
  tokens / run duration; the run lasts from the first request sent to the last one finished.
Percentiles interpolate linearly between the closest ranks (numpy's default, which vLLM uses).

The first half is pure (tested without a network); `run_load` does the I/O with threads and httpx
(imported inside functions). Nothing here builds an API path: requests go to a `ChatClient`'s
target, made by `inference`.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_kaito.errors import UsageError

if TYPE_CHECKING:
    from kubectl_kaito.inference import ChatClient

PERCENTILES = (50, 90, 99)
MAX_REQUESTS = 1_000_000
MAX_CONCURRENCY = 10_000
MAX_TOKENS_LIMIT = 1_000_000

# Three-letter English words: with a space before each, nearly every tokenizer makes one token of
# each, and a stand-in counting 4 characters per token counts one too.
_WORDS = [
    "the",
    "and",
    "for",
    "are",
    "but",
    "not",
    "you",
    "all",
    "any",
    "can",
    "had",
    "her",
    "was",
    "one",
    "our",
    "out",
    "day",
    "get",
    "has",
    "him",
    "his",
    "how",
    "man",
    "new",
    "now",
    "old",
    "see",
    "two",
    "way",
    "who",
    "boy",
    "did",
    "its",
    "let",
    "put",
    "say",
    "she",
    "too",
    "use",
    "act",
    "add",
    "age",
    "ago",
    "air",
    "arm",
    "art",
    "ask",
    "bad",
    "bag",
    "bed",
    "big",
    "box",
    "bus",
    "buy",
    "car",
    "cat",
    "cup",
    "cut",
    "dog",
    "dry",
    "ear",
    "eat",
    "egg",
    "end",
    "eye",
    "far",
    "few",
    "fit",
    "fly",
    "fun",
    "gas",
    "god",
    "gun",
    "hat",
    "hot",
    "ice",
    "job",
    "key",
    "kid",
    "lab",
    "law",
    "lay",
    "leg",
    "lie",
    "lot",
    "low",
    "map",
    "mix",
    "mom",
    "net",
    "oil",
    "own",
    "pay",
    "pen",
    "pet",
    "pie",
    "pot",
    "red",
    "row",
    "run",
    "sea",
    "set",
    "sit",
    "six",
    "sky",
    "son",
    "sun",
    "tax",
    "tea",
    "ten",
    "tie",
    "top",
    "toy",
    "try",
    "war",
    "web",
    "win",
    "yes",
    "yet",
    "zoo",
]


# ---- prompts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """What one request sends: chat messages and, when known, how many tokens they are."""

    messages: list[dict[str, Any]]
    tokens: int | None = None  # the synthetic prompt's length; None for a file's prompt


def synthetic_prompts(count: int, tokens: int, seed: int) -> list[Prompt]:
    """`count` different prompts of about `tokens` tokens each: random short words, the same for the same seed."""
    rng = random.Random(seed)
    prompts = []
    for _ in range(count):
        text = " ".join(rng.choice(_WORDS) for _ in range(tokens)) + "."
        prompts.append(Prompt([{"role": "user", "content": text}], tokens))
    return prompts


def read_prompts(lines: Iterable[bytes], source: str) -> list[Prompt]:
    """Prompts from JSONL: each non-blank line `{"prompt": "..."}` or `{"messages": [...]}`.
    A bad line is a UsageError (exit 2) naming the file and the line number."""
    prompts: list[Prompt] = []
    for number, raw in enumerate(lines, start=1):

        def bad(why: str, n: int = number) -> UsageError:
            return UsageError(
                f"invalid --prompts {source} line {n}: {why}",
                hint='each line is a JSON object: {"prompt": "..."} or '
                '{"messages": [{"role": "user", "content": "..."}]}',
            )

        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise bad("not UTF-8") from None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            raise bad("not JSON") from None
        if not isinstance(obj, dict):
            raise bad("not a JSON object")
        if "messages" in obj:
            messages = obj["messages"]
            ok = (
                isinstance(messages, list)
                and messages
                and all(isinstance(m, dict) and isinstance(m.get("role"), str) and "content" in m for m in messages)
            )
            if not ok:
                raise bad('"messages" must be a non-empty list of {"role", "content"} objects')
            prompts.append(Prompt(list(messages)))
        elif "prompt" in obj:
            if not isinstance(obj["prompt"], str) or not obj["prompt"].strip():
                raise bad('"prompt" must be a non-empty string')
            prompts.append(Prompt([{"role": "user", "content": obj["prompt"]}]))
        else:
            raise bad('no "prompt" or "messages" key')
    if not prompts:
        raise UsageError(f"invalid --prompts {source}: no prompts in it", hint="one JSON object per line")
    return prompts


def build_request(model: str, prompt: Prompt, max_tokens: int, *, ignore_eos: bool) -> dict[str, Any]:
    """A streaming /v1/chat/completions body that asks for usage in the stream (vLLM, OpenAI)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": prompt.messages,
        "max_tokens": max_tokens,
        "temperature": 0.0,  # as vLLM's benchmark: the same answer length from run to run
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if ignore_eos:
        body["ignore_eos"] = True  # a vLLM extension: answers run to max_tokens
    return body


# ---- flags -----------------------------------------------------------------------------------------


def parse_concurrency(value: str | None) -> list[int | None]:
    """`--concurrency 8` or `1,4,16` (one run each) -> the list; None (not given) -> [None]."""
    if value is None:
        return [None]
    out: list[int | None] = []
    for part in value.split(","):
        text = part.strip()
        if not text.isdigit() or not text.isascii():
            raise UsageError(
                f"invalid --concurrency {value!r}: {text!r} is not a whole number",
                hint="for example --concurrency 8, or --concurrency 1,4,16 for one run each",
            )
        n = int(text)
        if not 1 <= n <= MAX_CONCURRENCY:
            raise UsageError(f"invalid --concurrency {value!r}: each value must be between 1 and {MAX_CONCURRENCY}")
        out.append(n)
    return out


def check_rate(rate: float | None) -> float | None:
    """--rate: requests per second, finite and > 0 (None: closed loop)."""
    if rate is None:
        return None
    if not math.isfinite(rate) or rate <= 0:
        raise UsageError(
            f"invalid --rate {rate}: must be a number of requests per second greater than 0",
            hint="leave --rate out for a closed loop (each request sent when one finishes)",
        )
    return rate


def check_count(value: int, flag: str, limit: int) -> int:
    """A positive whole number no larger than `limit`."""
    if not 1 <= value <= limit:
        raise UsageError(f"invalid {flag} {value}: must be between 1 and {limit}")
    return value


def arrival_times(count: int, rate: float | None, seed: int) -> list[float]:
    """Send times (s from the start): all 0 for a closed loop, else a Poisson process of `rate`."""
    if rate is None:
        return [0.0] * count
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(count):
        out.append(t)
        t += rng.expovariate(rate)
    return out


# ---- one request's outcome and the metrics -----------------------------------------------------------


@dataclass
class Outcome:
    """One request: its timing (seconds) or the kind of error that ended it."""

    ok: bool = False
    error: str | None = None  # "http_503", "timeout", "connection", "stream", "empty"
    message: str = ""
    ttft: float | None = None
    e2e: float | None = None
    itl: list[float] = field(default_factory=list)
    chunks: int = 0  # stream chunks that carried text
    usage_output: int | None = None  # completion_tokens of the server's usage
    usage_input: int | None = None
    prompt_tokens: int | None = None  # the synthetic prompt's length

    @property
    def output_tokens(self) -> int:
        return self.usage_output if self.usage_output is not None else self.chunks


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values: Sequence[float]) -> dict[str, float | None]:
    """mean, p50 (the median), p90, p99 in milliseconds; all None when there are no values."""
    if not values:
        return {"mean": None, **{f"p{p}": None for p in PERCENTILES}}
    out: dict[str, float | None] = {"mean": round(sum(values) / len(values) * 1000, 3)}
    for p in PERCENTILES:
        out[f"p{p}"] = round(percentile(values, p) * 1000, 3)
    return out


def token_source(outcomes: Sequence[Outcome]) -> str:
    """ "usage" (every successful request's server usage), "stream" (counted chunks), "mixed", or "none"."""
    done = [o for o in outcomes if o.ok]
    if not done:
        return "none"
    with_usage = sum(1 for o in done if o.usage_output is not None)
    return "usage" if with_usage == len(done) else "stream" if with_usage == 0 else "mixed"


def metrics(outcomes: Sequence[Outcome], duration: float) -> dict[str, Any]:
    """The run's metrics from its outcomes and its duration (s), as vLLM defines them (module doc)."""
    done = [o for o in outcomes if o.ok]
    errors: dict[str, int] = {}
    for o in outcomes:
        if not o.ok and o.error:
            errors[o.error] = errors.get(o.error, 0) + 1
    out_tokens = sum(o.output_tokens for o in done)
    in_tokens = sum(o.usage_input if o.usage_input is not None else (o.prompt_tokens or 0) for o in done)
    tpots = [
        (o.e2e - o.ttft) / (o.output_tokens - 1)
        for o in done
        if o.output_tokens > 1 and o.e2e is not None and o.ttft is not None
    ]
    per_s = (lambda n: round(n / duration, 3)) if duration > 0 else (lambda n: None)
    return {
        "completed": len(done),
        "failed": len(outcomes) - len(done),
        "errors": dict(sorted(errors.items())),
        "duration_s": round(duration, 3),
        "total_input_tokens": in_tokens,
        "total_output_tokens": out_tokens,
        "token_source": token_source(outcomes),
        "request_throughput": per_s(len(done)),
        "output_throughput": per_s(out_tokens),
        "total_token_throughput": per_s(in_tokens + out_tokens),
        "ttft_ms": summary_ms([o.ttft for o in done if o.ttft is not None]),
        "tpot_ms": summary_ms(tpots),
        "itl_ms": summary_ms([gap for o in done for gap in o.itl]),
        "e2e_latency_ms": summary_ms([o.e2e for o in done if o.e2e is not None]),
    }


def first_error_messages(outcomes: Sequence[Outcome]) -> dict[str, str]:
    """One example message per error kind (the first seen), for the report."""
    out: dict[str, str] = {}
    for o in outcomes:
        if not o.ok and o.error and o.error not in out:
            out[o.error] = o.message
    return out


# ---- one request ---------------------------------------------------------------------------------------


def _error_message(status: int, text: str) -> str:
    from kubectl_kaito.inference import error_text  # noqa: PLC0415

    try:
        body = json.loads(text)
    except ValueError:
        body = None
    msg = error_text(body) or (text.strip().splitlines()[0][:200] if text.strip() else "")
    return f"HTTP {status}: {msg}" if msg else f"HTTP {status}"


def send(
    client: ChatClient, body: dict[str, Any], prompt_tokens: int | None, timeout: float | None, stop: threading.Event
) -> Outcome:
    """Send one streaming request and time it; every failure becomes an Outcome with an error kind."""
    import httpx  # noqa: PLC0415

    from kubectl_kaito.inference import error_text, parse_sse  # noqa: PLC0415

    out = Outcome(prompt_tokens=prompt_tokens)
    start = time.perf_counter()
    last = start
    try:
        with client.http.stream("POST", client.target.chat_url, json=body) as resp:
            if resp.status_code != 200:
                resp.read()
                out.error, out.message = f"http_{resp.status_code}", _error_message(resp.status_code, resp.text)
                return out
            for ev in parse_sse(resp.iter_lines()):
                now = time.perf_counter()
                if stop.is_set():
                    out.error, out.message = "interrupted", "interrupted"
                    return out
                if timeout is not None and now - start > timeout:
                    out.error, out.message = "timeout", f"the answer took longer than {timeout:g}s"
                    return out
                data = ev.data.strip()
                if data == "[DONE]":
                    break
                try:
                    obj = json.loads(data)
                except ValueError:
                    obj = None
                if ev.event == "error" or not isinstance(obj, dict) or "error" in obj or obj.get("object") == "error":
                    out.error = "stream"
                    out.message = f"error mid-answer: {error_text(obj) or data[:200]}"
                    return out
                usage = obj.get("usage")
                if isinstance(usage, dict):
                    if isinstance(usage.get("completion_tokens"), int):
                        out.usage_output = usage["completion_tokens"]
                    if isinstance(usage.get("prompt_tokens"), int):
                        out.usage_input = usage["prompt_tokens"]
                choices = obj.get("choices") or []
                first = choices[0] if choices and isinstance(choices[0], dict) else {}
                text = (first.get("delta") or {}).get("content") if "delta" in first else first.get("text")
                if text:
                    if out.ttft is None:
                        out.ttft = now - start
                    else:
                        out.itl.append(now - last)
                    last = now
                    out.chunks += 1
        out.e2e = time.perf_counter() - start
    except httpx.TimeoutException:
        out.error, out.message = "timeout", f"nothing within {timeout:g}s" if timeout else "timed out"
        return out
    except (httpx.ConnectError, httpx.ProxyError) as exc:
        out.error, out.message = "connection", f"cannot connect: {exc}"
        return out
    except httpx.HTTPError as exc:
        if stop.is_set():
            out.error, out.message = "interrupted", "interrupted"
        else:
            out.error, out.message = "connection", f"the connection broke: {exc or exc.__class__.__name__}"
        return out
    if out.chunks == 0:
        out.error, out.message = "empty", "the stream ended without any text"
        return out
    out.ok = True
    return out


# ---- a run -----------------------------------------------------------------------------------------------


@dataclass
class RunSpec:
    """One run's load: how many requests, at most how many in flight (None: no bound), arrivals."""

    requests: int
    concurrency: int | None
    rate: float | None
    seed: int
    timeout: float | None


@dataclass
class RunState:
    """What a run has measured so far (read by the progress display and by Ctrl-C)."""

    spec: RunSpec
    outcomes: list[Outcome] = field(default_factory=list)
    sent: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    started: float | None = None
    ended: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def duration(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.perf_counter()) - self.started


def run_load(
    spec: RunSpec,
    bodies: Sequence[tuple[dict[str, Any], int | None]],
    new_client: Callable[[], ChatClient],
    state: RunState,
    stop: threading.Event,
    tick: Callable[[RunState], None] | None = None,
) -> RunState:
    """Send `spec.requests` requests (bodies used in turn) and wait for them all.

    Never more than `spec.concurrency` requests in flight: a request is sent only after taking a slot,
    and gives it back when its stream has ended. A KeyboardInterrupt sets `stop`, closes the
    connections in use and propagates; `state` keeps what was measured.
    """
    slots = threading.BoundedSemaphore(spec.concurrency) if spec.concurrency else None
    free: list[ChatClient] = []  # idle clients: one connection each, reused
    clients: list[ChatClient] = []
    finished = threading.Event()
    times = arrival_times(spec.requests, spec.rate, spec.seed)

    def worker(client: ChatClient, index: int) -> None:
        body, ptokens = bodies[index % len(bodies)]
        outcome = Outcome(error="client", message="the request failed in the client")
        try:
            outcome = send(client, body, ptokens, spec.timeout, stop)
        except Exception as exc:  # noqa: BLE001 - in a thread, anything else would print a traceback and hang the run
            outcome.message = f"the request failed in the client: {exc!r}"
        finally:
            with state.lock:
                state.in_flight -= 1
                free.append(client)
                if slots is not None:
                    slots.release()
        with state.lock:
            state.outcomes.append(outcome)
            if len(state.outcomes) == spec.requests:
                state.ended = time.perf_counter()
                finished.set()

    def dispatch() -> None:
        assert state.started is not None
        for i in range(spec.requests):
            wait = state.started + times[i] - time.perf_counter()
            if wait > 0 and stop.wait(wait):
                return
            while slots is not None and not slots.acquire(timeout=0.1):
                if stop.is_set():
                    return
            if stop.is_set():
                return
            with state.lock:
                client = free.pop() if free else None
            if client is None:
                client = new_client()
                clients.append(client)
            with state.lock:
                state.sent += 1
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            threading.Thread(target=worker, args=(client, i), daemon=True, name=f"kaito-bench-{i}").start()

    state.started = time.perf_counter()
    dispatcher = threading.Thread(target=dispatch, daemon=True, name="kaito-bench-dispatch")
    dispatcher.start()
    try:
        while not finished.wait(0.1):
            if tick is not None:
                tick(state)
    except KeyboardInterrupt:
        stop.set()
        state.ended = time.perf_counter()
        for c in list(clients):  # closing the sockets ends the reads in flight at once
            try:
                c.close()
            except Exception:  # noqa: BLE001 - a half-closed client must not hide the Ctrl-C
                pass
        raise
    for c in clients:
        c.close()
    return state


def run_report(state: RunState) -> dict[str, Any]:
    """One run's entry of the report: its load, then its metrics (only finished requests count)."""
    spec = state.spec
    outcomes = [o for o in state.outcomes if o.error != "interrupted"]
    return {
        "concurrency": spec.concurrency,
        "rate": spec.rate,
        "requests": spec.requests,
        "sent": state.sent,
        "max_in_flight": state.max_in_flight,
        **metrics(outcomes, state.duration),
        "error_examples": first_error_messages(outcomes),
    }


# ---- the text report -----------------------------------------------------------------------------------

_SOURCES = {
    "usage": "the server's usage",
    "stream": "counted from the stream (one per chunk with text)",
    "mixed": "the server's usage where reported, else counted from the stream",
    "none": "none (no request succeeded)",
}


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.2f}{unit}"


def load_label(run: dict[str, Any]) -> str:
    """`concurrency 4, closed loop` / `rate 2 req/s (Poisson), no concurrency limit`."""
    conc = f"concurrency {run['concurrency']}" if run["concurrency"] else "no concurrency limit"
    arrivals = f"rate {run['rate']:g} req/s (Poisson)" if run["rate"] else "closed loop"
    return f"{arrivals}, {conc}"


def report_text(report: dict[str, Any]) -> str:
    """The table report: per run a key:value block and a latency table; a summary table for a sweep."""
    from kubectl_kaito import output  # noqa: PLC0415

    parts: list[str] = []
    runs = report["runs"]
    for n, run in enumerate(runs, start=1):
        head = f"Run {n}/{len(runs)}: {load_label(run)}"
        if report.get("interrupted") and n == len(runs):
            head += " (interrupted)"
        errors = ", ".join(f"{k} {v}" for k, v in run["errors"].items()) or "none"
        fields = [
            ("Model", report["model"]),
            ("Requests", f"{run['completed']} succeeded, {run['failed']} failed of {run['sent']} sent"),
            ("Errors", errors),
            ("Duration", f"{run['duration_s']:.2f}s"),
            ("Request throughput", _num(run["request_throughput"], " req/s")),
            ("Output token throughput", _num(run["output_throughput"], " tok/s")),
            ("Total token throughput", _num(run["total_token_throughput"], " tok/s")),
            ("Input tokens", run["total_input_tokens"]),
            ("Output tokens", run["total_output_tokens"]),
            ("Token counts", _SOURCES.get(run["token_source"], run["token_source"])),
            ("Most in flight", run["max_in_flight"]),
        ]
        rows = [
            [label, *(_num(run[key][stat]) for stat in ("mean", "p50", "p90", "p99"))]
            for label, key in (
                ("TTFT", "ttft_ms"),
                ("TPOT", "tpot_ms"),
                ("ITL", "itl_ms"),
                ("E2E latency", "e2e_latency_ms"),
            )
        ]
        parts.append(
            head
            + "\n"
            + output.block(fields, indent="  ")
            + "\n\n"
            + output.table(["metric (ms)", "mean", "p50", "p90", "p99"], rows, indent="  ")
        )
    if len(runs) > 1:
        rows = [
            [
                run["concurrency"] or "-",
                f"{run['rate']:g}" if run["rate"] else "-",
                run["completed"],
                run["failed"],
                _num(run["request_throughput"]),
                _num(run["output_throughput"]),
                _num(run["ttft_ms"]["p50"]),
                _num(run["tpot_ms"]["p50"]),
                _num(run["e2e_latency_ms"]["p50"]),
            ]
            for run in runs
        ]
        headers = ["concurrency", "rate", "ok", "failed", "req/s", "out tok/s", "ttft p50", "tpot p50", "e2e p50"]
        parts.append("Sweep (times in ms)\n" + output.table(headers, rows, indent="  "))
    return "\n\n".join(parts)
