"""vLLM-style Prometheus metrics for the OpenAI stand-in, one set per model-server pod.

The names, types, labels and histogram buckets are vLLM's (vllm/v1/metrics/loggers.py): gauges
`vllm:num_requests_running`, `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` (the V1 name of
`vllm:gpu_cache_usage_perc`, which is still written for older dashboards), counters
`vllm:prompt_tokens_total`, `vllm:generation_tokens_total`, `vllm:request_success_total` and the
histograms `vllm:time_to_first_token_seconds` and `vllm:e2e_request_latency_seconds`.
The values follow what the stand-in is really serving: a request waits while every sequence slot
(max_num_seqs) is taken, runs from then to its last token, and its tokens hold KV cache while it runs.
"""

from __future__ import annotations

import threading
import time

# vllm/v1/metrics/loggers.py: histogram_time_to_first_token buckets
TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
    160.0,
    640.0,
    2560.0,
)
# histogram_e2e_time_request buckets
E2E_BUCKETS = (
    0.3,
    0.5,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    120.0,
    240.0,
    480.0,
    960.0,
    1920.0,
    7680.0,
)
KV_CACHE_TOKENS = 8192  # tokens of KV cache per server (usage = tokens held by running requests / this)


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for i, b in enumerate(self.buckets):
            if value <= b:
                self.counts[i] += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out = [f'{name}_bucket{{{labels},le="{b}"}} {float(c)}' for b, c in zip(self.buckets, self.counts, strict=True)]
        out.append(f'{name}_bucket{{{labels},le="+Inf"}} {float(self.count)}')
        out.append(f"{name}_count{{{labels}}} {float(self.count)}")
        out.append(f"{name}_sum{{{labels}}} {self.sum!r}")
        return out


class ServerMetrics:
    """The counters of one model server (one pod)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.running = 0
        self.waiting = 0
        self.kv_tokens = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.success: dict[str, int] = {}
        self.ttft = _Histogram(TTFT_BUCKETS)
        self.e2e = _Histogram(E2E_BUCKETS)

    def request(self, prompt_tokens: int) -> RequestTrack:
        """A request has arrived: it waits until `run()`."""
        return RequestTrack(self, prompt_tokens)

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4), as vLLM's /metrics answers."""
        labels = f'engine="0",model_name="{self.model}"'
        with self.lock:
            usage = min(1.0, self.kv_tokens / KV_CACHE_TOKENS)
            lines = [
                "# HELP vllm:num_requests_running Number of requests in model execution batches.",
                "# TYPE vllm:num_requests_running gauge",
                f"vllm:num_requests_running{{{labels}}} {float(self.running)}",
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                "# TYPE vllm:num_requests_waiting gauge",
                f"vllm:num_requests_waiting{{{labels}}} {float(self.waiting)}",
                "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                "# TYPE vllm:kv_cache_usage_perc gauge",
                f"vllm:kv_cache_usage_perc{{{labels}}} {usage!r}",
                "# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage."
                " DEPRECATED: Use vllm:kv_cache_usage_perc instead.",
                "# TYPE vllm:gpu_cache_usage_perc gauge",
                f"vllm:gpu_cache_usage_perc{{{labels}}} {usage!r}",
                "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
                "# TYPE vllm:prompt_tokens_total counter",
                f"vllm:prompt_tokens_total{{{labels}}} {float(self.prompt_tokens)}",
                "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
                "# TYPE vllm:generation_tokens_total counter",
                f"vllm:generation_tokens_total{{{labels}}} {float(self.generation_tokens)}",
                "# HELP vllm:request_success_total Count of successfully processed requests.",
                "# TYPE vllm:request_success_total counter",
            ]
            for reason in ("abort", "length", "stop"):
                lines.append(
                    f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} '
                    f"{float(self.success.get(reason, 0))}"
                )
            lines += [
                "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.",
                "# TYPE vllm:time_to_first_token_seconds histogram",
            ]
            lines += self.ttft.lines("vllm:time_to_first_token_seconds", labels)
            lines += [
                "# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.",
                "# TYPE vllm:e2e_request_latency_seconds histogram",
            ]
            lines += self.e2e.lines("vllm:e2e_request_latency_seconds", labels)
        return "\n".join(lines) + "\n"


class RequestTrack:
    """One request's path through the server: waiting -> running (first token, tokens) -> finished."""

    def __init__(self, server: ServerMetrics, prompt_tokens: int) -> None:
        self.server = server
        self.prompt_tokens = prompt_tokens
        self.arrival = time.monotonic()
        self.state = "waiting"
        self.held = 0  # KV-cache tokens this request holds
        self.first = False
        with server.lock:
            server.waiting += 1

    def run(self) -> None:
        """Scheduled: leaves the queue, its prompt is prefilled into the KV cache."""
        s = self.server
        with s.lock:
            if self.state != "waiting":
                return
            self.state = "running"
            s.waiting -= 1
            s.running += 1
            s.prompt_tokens += self.prompt_tokens
            self.held = self.prompt_tokens
            s.kv_tokens += self.held

    def tokens(self, n: int = 1) -> None:
        """`n` tokens generated (the first one observes the time to first token)."""
        s = self.server
        with s.lock:
            if self.state != "running":
                return
            if not self.first:
                self.first = True
                s.ttft.observe(time.monotonic() - self.arrival)
            s.generation_tokens += n
            self.held += n
            s.kv_tokens += n

    def finish(self, reason: str | None) -> None:
        """Done (reason "stop"/"length"), or gone without an answer (None: failed, aborted)."""
        s = self.server
        with s.lock:
            if self.state == "waiting":
                s.waiting -= 1
            elif self.state == "running":
                s.running -= 1
                s.kv_tokens -= self.held
            else:
                return
            self.state = "done"
            if reason is not None:
                s.success[reason] = s.success.get(reason, 0) + 1
                s.e2e.observe(time.monotonic() - self.arrival)
