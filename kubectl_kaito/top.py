"""`top`'s core (pure): Prometheus text, vLLM's serving metrics, rates and TTFT quantiles.

A model server's `/metrics` (read through the API server's pod proxy) is parsed into a `Snapshot`
of the vLLM metrics `top` shows. Two snapshots of one pod make a `PodStats`: gauges from the
later one, token rates from the counter deltas over the time between them, and TTFT p50/p90 by
`histogram_quantile` over the delta of the histogram buckets, exactly as Prometheus computes
`histogram_quantile(0.5, rate(vllm:time_to_first_token_seconds_bucket[interval]))`.
Workspace rows add their pods up (rates and counts summed, KV cache averaged, TTFT from the
summed bucket deltas). Nothing here does I/O.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

# vLLM's names (vllm/v1/metrics/loggers.py); KV cache under its V1 name, else the older one
RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_CACHE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
TTFT = "vllm:time_to_first_token_seconds"

NO_ANSWER = "NoAnswer"  # the pod did not answer within the timeout
UNREACHABLE = "Unreachable"  # the API server or the pod refused (503, connection refused, 404)
NOT_RUNNING = "NotRunning"  # the pod is not Running: nothing to ask
NO_METRICS = "NoMetrics"  # answered, but not with vLLM's metrics (another runtime, a login page)
OK = "OK"


class MetricsParseError(ValueError):
    """The text is not Prometheus' text exposition format."""


@dataclass(frozen=True)
class Sample:
    """One sample line: name, labels, value."""

    name: str
    labels: Mapping[str, str]
    value: float


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def _parse_labels(text: str, pos: int, lineno: int) -> tuple[dict[str, str], int]:
    """Labels from text[pos] == '{' to the closing '}'; returns (labels, index after '}')."""
    labels: dict[str, str] = {}
    i = pos + 1
    n = len(text)
    while True:
        while i < n and text[i] in " \t,":
            i += 1
        if i < n and text[i] == "}":
            return labels, i + 1
        start = i
        while i < n and (text[i].isalnum() or text[i] == "_"):
            i += 1
        name = text[start:i]
        while i < n and text[i] in " \t":
            i += 1
        if not name or i + 1 >= n or text[i] != "=" or text[i + 1] != '"':
            raise MetricsParseError(f"line {lineno}: malformed label set")
        i += 2
        value: list[str] = []
        while i < n and text[i] != '"':
            if text[i] == "\\" and i + 1 < n:
                value.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
            else:
                value.append(text[i])
                i += 1
        if i >= n:
            raise MetricsParseError(f"line {lineno}: unterminated label value")
        labels[name] = "".join(value)
        i += 1


def _parse_value(text: str, lineno: int) -> float:
    t = text.strip()
    special = {"+inf": math.inf, "inf": math.inf, "-inf": -math.inf, "nan": math.nan}
    if t.lower() in special:
        return special[t.lower()]
    try:
        return float(t)
    except ValueError:
        raise MetricsParseError(f"line {lineno}: value {t[:40]!r} is not a number") from None


def parse(text: str) -> list[Sample]:
    """Prometheus' text exposition format (0.0.4; OpenMetrics' `# EOF` is allowed) -> samples.
    Comments and blank lines are skipped; a line that is no sample raises MetricsParseError."""
    samples: list[Sample] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        i = 0
        while i < len(line) and (line[i].isalnum() or line[i] in "_:"):
            i += 1
        name = line[:i]
        if not name or name[0].isdigit():
            raise MetricsParseError(f"line {lineno}: no metric name")
        labels: dict[str, str] = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, lineno)
        rest = line[i:].split()
        if not rest or len(rest) > 2:  # value [timestamp]
            raise MetricsParseError(f"line {lineno}: expected a value after {name}")
        samples.append(Sample(name, labels, _parse_value(rest[0], lineno)))
    return samples


# ---- histogram_quantile ---------------------------------------------------------------------------


Buckets = Sequence[tuple[float, float]]  # (upper bound le, cumulative count), sorted by le


def histogram_quantile(q: float, buckets: Buckets) -> float:
    """Prometheus' histogram_quantile (promql/quantile.go) on cumulative buckets: linear
    interpolation inside the bucket holding the q-th observation; the +Inf bucket answers the
    highest finite bound; NaN without observations or without a +Inf bucket."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets, key=lambda b: b[0])
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    # monotonic counts, as Prometheus' ensureMonotonic (a scrape racing an observation)
    fixed: list[tuple[float, float]] = []
    top = 0.0
    for le, count in ordered:
        top = max(top, count)
        fixed.append((le, top))
    observations = fixed[-1][1]
    if observations <= 0:
        return math.nan
    rank = q * observations
    b = next(i for i, (_, c) in enumerate(fixed) if c >= rank)
    if b == len(fixed) - 1:
        return fixed[-2][0]
    if b == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start = 0.0 if b == 0 else fixed[b - 1][0]
    end, count = fixed[b]
    if b > 0:
        count -= fixed[b - 1][1]
        rank -= fixed[b - 1][1]
    return start + (end - start) * (rank / count)


def counter_delta(before: float, after: float) -> float:
    """How much a counter grew; a counter that went down was reset (the server restarted), and
    everything it counts since then is new, as Prometheus' increase() takes it."""
    return after - before if after >= before else after


def bucket_delta(before: Buckets, after: Buckets) -> list[tuple[float, float]]:
    """The observations between two scrapes, bucket by bucket (a reset: the later buckets)."""
    old = dict(before)
    if any(c < old.get(le, 0.0) for le, c in after):
        return list(after)
    return [(le, c - old.get(le, 0.0)) for le, c in after]


# ---- one pod's snapshot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The vLLM metrics of one scrape (summed over label sets: engines, models); None = not exposed."""

    at: float  # monotonic seconds when the answer came
    running: float | None = None
    waiting: float | None = None
    kv_cache: float | None = None  # 0..1
    prompt_tokens: float | None = None
    generation_tokens: float | None = None
    ttft: tuple[tuple[float, float], ...] | None = None

    @property
    def is_vllm(self) -> bool:
        return self.running is not None or self.generation_tokens is not None


def snapshot(samples: Iterable[Sample], at: float) -> Snapshot:
    """The metrics `top` shows, from one scrape's samples."""
    sums: dict[str, float] = {}
    kv: dict[str, list[float]] = {}
    buckets: dict[float, float] = {}
    for s in samples:
        if s.name in (RUNNING, WAITING, PROMPT_TOKENS, GENERATION_TOKENS):
            sums[s.name] = sums.get(s.name, 0.0) + s.value
        elif s.name in KV_CACHE:
            kv.setdefault(s.name, []).append(s.value)
        elif s.name == TTFT + "_bucket" and "le" in s.labels:
            try:
                le = float(s.labels["le"])
            except ValueError:
                continue
            buckets[le] = buckets.get(le, 0.0) + s.value
    kv_values = kv.get(KV_CACHE[0]) or kv.get(KV_CACHE[1])
    return Snapshot(
        at=at,
        running=sums.get(RUNNING),
        waiting=sums.get(WAITING),
        kv_cache=(sum(kv_values) / len(kv_values)) if kv_values else None,
        prompt_tokens=sums.get(PROMPT_TOKENS),
        generation_tokens=sums.get(GENERATION_TOKENS),
        ttft=tuple(sorted(buckets.items())) if buckets else None,
    )


# ---- stats over an interval --------------------------------------------------------------------------


@dataclass(frozen=True)
class PodStats:
    """What `top` shows for one pod (None = not known: no answer, no second scrape, no requests)."""

    running: float | None = None
    waiting: float | None = None
    kv_cache: float | None = None
    prompt_tps: float | None = None
    generation_tps: float | None = None
    ttft_delta: tuple[tuple[float, float], ...] | None = None  # bucket deltas over the interval
    seconds: float | None = None  # time between the two scrapes

    @property
    def ttft_p50(self) -> float | None:
        return _quantile(0.5, self.ttft_delta)

    @property
    def ttft_p90(self) -> float | None:
        return _quantile(0.9, self.ttft_delta)


def _quantile(q: float, buckets: Buckets | None) -> float | None:
    if not buckets:
        return None
    v = histogram_quantile(q, buckets)
    return None if math.isnan(v) else v


def _rate(before: float | None, after: float | None, seconds: float | None) -> float | None:
    if before is None or after is None or not seconds or seconds <= 0:
        return None
    return counter_delta(before, after) / seconds


def pod_stats(before: Snapshot | None, after: Snapshot) -> PodStats:
    """Gauges from `after`; rates and TTFT from `after` minus `before` (None without `before`)."""
    seconds = (after.at - before.at) if before is not None else None
    ttft = None
    if before is not None and before.ttft is not None and after.ttft is not None:
        ttft = tuple(bucket_delta(before.ttft, after.ttft))
    return PodStats(
        running=after.running,
        waiting=after.waiting,
        kv_cache=after.kv_cache,
        prompt_tps=_rate(before.prompt_tokens if before else None, after.prompt_tokens, seconds),
        generation_tps=_rate(before.generation_tokens if before else None, after.generation_tokens, seconds),
        ttft_delta=ttft,
        seconds=seconds,
    )


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def workspace_stats(pods: Sequence[PodStats]) -> PodStats:
    """A workspace's pods added up: counts and rates summed, KV cache averaged, TTFT from the summed buckets."""
    kv = [p.kv_cache for p in pods if p.kv_cache is not None]
    merged: dict[float, float] = {}
    for p in pods:
        for le, c in p.ttft_delta or ():
            merged[le] = merged.get(le, 0.0) + c
    secs = [p.seconds for p in pods if p.seconds is not None]
    return PodStats(
        running=_sum(p.running for p in pods),
        waiting=_sum(p.waiting for p in pods),
        kv_cache=(sum(kv) / len(kv)) if kv else None,
        prompt_tps=_sum(p.prompt_tps for p in pods),
        generation_tps=_sum(p.generation_tps for p in pods),
        ttft_delta=tuple(sorted(merged.items())) if merged else None,
        seconds=max(secs) if secs else None,
    )


# ---- pods of a workspace, and the rows ---------------------------------------------------------------


@dataclass(frozen=True)
class PodTarget:
    """A model-server pod to scrape."""

    namespace: str
    workspace: str
    pod: str
    node: str | None
    gpus: int
    running: bool  # phase Running (else it is not asked)
    port: str = "5000"


def gpu_count(pod: Mapping[str, Any]) -> int:
    """GPUs the pod's containers ask for (limits, else requests, of nvidia.com/gpu, amd.com/gpu)."""
    total = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        res = c.get("resources") or {}
        for key in ("nvidia.com/gpu", "amd.com/gpu"):
            value = (res.get("limits") or {}).get(key, (res.get("requests") or {}).get(key))
            try:
                total += int(str(value)) if value is not None else 0
            except ValueError:
                continue
    return total


def server_port(pod: Mapping[str, Any]) -> str:
    """The model server's port: the container port named http, else the first one, else KAITO's 5000."""
    ports = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
    named = next((p for p in ports if p.get("name") == "http"), None)
    chosen = named or (ports[0] if ports else None)
    return str(chosen.get("containerPort", 5000)) if chosen else "5000"


def targets(workspace: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[PodTarget]:
    """The workspace's model-server pods (tuning Job pods serve nothing and are left out), by name."""
    meta = workspace.get("metadata") or {}
    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    out = []
    for p in pods:
        labels = (p.get("metadata") or {}).get("labels") or {}
        if "job-name" in labels or "batch.kubernetes.io/job-name" in labels:
            continue
        out.append(
            PodTarget(
                namespace=ns,
                workspace=name,
                pod=str((p.get("metadata") or {}).get("name", "")),
                node=(p.get("spec") or {}).get("nodeName"),
                gpus=gpu_count(p),
                running=(p.get("status") or {}).get("phase") == "Running",
                port=server_port(p),
            )
        )
    return sorted(out, key=lambda t: t.pod)


@dataclass
class PodResult:
    """One pod after a round of scrapes: its status, the error text, its stats."""

    target: PodTarget
    status: str
    error: str | None = None
    stats: PodStats = field(default_factory=PodStats)


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def stats_json(s: PodStats) -> dict[str, Any]:
    """The stable JSON fields of a pod's or workspace's stats (documented in docs/top.md)."""
    return {
        "runningRequests": None if s.running is None else int(s.running),
        "waitingRequests": None if s.waiting is None else int(s.waiting),
        "kvCacheUsage": _round(s.kv_cache, 4),
        "promptTokensPerSecond": _round(s.prompt_tps, 2),
        "generationTokensPerSecond": _round(s.generation_tps, 2),
        "ttftSeconds": {"p50": _round(s.ttft_p50, 4), "p90": _round(s.ttft_p90, 4)},
        "intervalSeconds": _round(s.seconds, 3),
    }


def document(results: Sequence[PodResult], workspaces: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """`top -o json|yaml`: every workspace (even one without pods) with its totals and its pods."""
    by_ws: dict[tuple[str, str], list[PodResult]] = {k: [] for k in workspaces}
    for r in results:
        by_ws.setdefault((r.target.namespace, r.target.workspace), []).append(r)
    items = []
    for (ns, name), pods in by_ws.items():
        ok = [p.stats for p in pods if p.status == OK]
        items.append(
            {
                "namespace": ns,
                "name": name,
                "gpus": sum(p.target.gpus for p in pods),
                "pods": len(pods),
                "answering": len(ok),
                **stats_json(workspace_stats(ok)),
                "podMetrics": [
                    {
                        "name": p.target.pod,
                        "node": p.target.node,
                        "gpus": p.target.gpus,
                        "status": p.status,
                        "error": p.error,
                        **stats_json(p.stats),
                    }
                    for p in pods
                ],
            }
        )
    return {"kind": "WorkspaceMetricsList", "items": items}


# ---- the table ----------------------------------------------------------------------------------------

HEADERS = (
    "WORKSPACE",
    "POD",
    "NODE",
    "GPUS",
    "STATUS",
    "RUNNING",
    "WAITING",
    "KV-CACHE",
    "PROMPT-TOK/S",
    "GEN-TOK/S",
    "TTFT-P50",
    "TTFT-P90",
)


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.0f}ms" if v < 1 else f"{v:.2f}s"


def _cells(s: PodStats) -> list[str]:
    return [
        _num(s.running, ".0f"),
        _num(s.waiting, ".0f"),
        "-" if s.kv_cache is None else f"{s.kv_cache * 100:.1f}%",
        _num(s.prompt_tps, ".1f"),
        _num(s.generation_tps, ".1f"),
        _secs(s.ttft_p50),
        _secs(s.ttft_p90),
    ]


def table_rows(
    results: Sequence[PodResult], workspaces: Sequence[tuple[str, str]], all_namespaces: bool
) -> tuple[list[str], list[list[str]]]:
    """(headers, rows): a row per pod; a workspace with several pods adds a `(total)` row after them;
    a workspace without pods one row with POD `<none>`. NAMESPACE first with -A, as kubectl."""
    by_ws: dict[tuple[str, str], list[PodResult]] = {k: [] for k in workspaces}
    for r in results:
        by_ws.setdefault((r.target.namespace, r.target.workspace), []).append(r)
    rows: list[list[str]] = []
    for (ns, name), pods in by_ws.items():
        lead = [ns] if all_namespaces else []
        if not pods:
            rows.append(lead + [name, "<none>", "<none>", "0", "NoPods"] + ["-"] * 7)
            continue
        for p in pods:
            rows.append(
                lead
                + [name, p.target.pod, p.target.node or "<none>", str(p.target.gpus), p.status]
                + (_cells(p.stats) if p.status == OK else ["-"] * 7)
            )
        if len(pods) > 1:
            ok = [p.stats for p in pods if p.status == OK]
            status = OK if len(ok) == len(pods) else f"{len(ok)}/{len(pods)}"
            rows.append(
                lead
                + [name, "(total)", "", str(sum(p.target.gpus for p in pods)), status]
                + _cells(workspace_stats(ok))
            )
    headers = (["NAMESPACE"] if all_namespaces else []) + list(HEADERS)
    return headers, rows


# ---- scraping (the fetch is the caller's: top.py stays free of the cluster client) ---------------------


class ScrapeError(Exception):
    """A pod's /metrics could not be read: `status` is NO_ANSWER or UNREACHABLE, `message` says why."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Scraper:
    """Scrapes pods concurrently, each within `timeout` seconds, and keeps each pod's last snapshot
    so that the next round has rates. A pod that fails never holds up the others: a round ends by
    `timeout` (plus a little) whatever the slowest pod does."""

    def __init__(
        self,
        fetch: Callable[[PodTarget], str],
        timeout: float,
        *,
        workers: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.timeout = timeout
        self.clock = clock
        self.workers = workers
        self.last: dict[tuple[str, str], Snapshot] = {}
        self._pool: ThreadPoolExecutor | None = None

    def _one(self, target: PodTarget) -> PodResult:
        if not target.running:
            return PodResult(target, NOT_RUNNING, "the pod is not Running")
        try:
            text = self.fetch(target)
        except ScrapeError as e:
            return PodResult(target, e.status, e.message)
        at = self.clock()
        try:
            snap = snapshot(parse(text), at)
        except MetricsParseError as e:
            return PodResult(target, NO_METRICS, f"/metrics is not Prometheus text: {e}")
        if not snap.is_vllm:
            return PodResult(target, NO_METRICS, "/metrics has no vLLM metrics (vllm:num_requests_running)")
        key = (target.namespace, target.pod)
        before = self.last.get(key)
        self.last[key] = snap
        return PodResult(target, OK, None, pod_stats(before, snap))

    def round(self, pods: Sequence[PodTarget]) -> list[PodResult]:
        """One scrape of every pod, results in the order given."""
        if not pods:
            return []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="kaito-top")
        futures = [self._pool.submit(self._one, t) for t in pods]
        # the fetch has its own timeout; this one only guards against a fetch that ignores it
        done, _ = wait(futures, timeout=self.timeout * (1 + len(pods) / self.workers) + 1)
        out = []
        for t, f in zip(pods, futures, strict=True):
            if f in done:
                out.append(f.result())
            else:
                f.cancel()
                out.append(PodResult(t, NO_ANSWER, f"no answer within {self.timeout:g}s"))
        return out

    def close(self) -> None:
        """Let the worker threads go (a stuck fetch is not waited for)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
