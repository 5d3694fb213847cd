"""Workspace logs: pod and container selection (pure) and the concurrent line multiplexer.

Selection turns a Workspace plus its pods (label `kaito.sh/workspace=<ws>`) into one
`Target` per pod. The `Multiplexer` runs one daemon thread per log stream, each feeding
whole lines into one channel; the caller's thread writes them out, so a slow, silent or
failing pod never holds up the others, and lines are never split or merged.

Nothing here talks to the cluster: streams are opened through callables the command gives.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_kaito import flags, kaito
from kubectl_kaito.errors import KaitoError, NotFoundError, NotReadyError, UsageError

CRASH_LOOP = "CrashLoopBackOff"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


# ---- flag values ------------------------------------------------------------------------


def tail_lines(tail: int) -> int | None:
    """`--tail N` -> the API's tailLines; -1 (the default) means all lines."""
    if tail == -1:
        return None
    if tail < 0:
        raise UsageError(f"invalid --tail value {tail}", hint="use a number of lines, or -1 for all")
    return tail


def since_seconds(since: str | None) -> int | None:
    """`--since 10m` -> whole seconds, rounded up like kubectl; 0 means no limit."""
    if since is None:
        return None
    seconds = flags.parse_duration(since, "--since")
    if seconds == 0:
        return None
    whole = int(seconds)
    return whole if whole == seconds else whole + 1


def since_time(value: str | None) -> str | None:
    """Check `--since-time` is an RFC 3339 timestamp with a zone (the API rejects anything else)."""
    if value is None:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in text.upper():
        raise UsageError(
            f"invalid --since-time value {value!r}", hint="use an RFC 3339 timestamp, e.g. 2025-01-31T14:00:00Z"
        )
    return text


def check_since(since: str | None, since_time_value: str | None) -> None:
    """kubectl's rule: at most one of --since and --since-time."""
    if since is not None and since_time_value is not None:
        raise UsageError("only one of --since and --since-time may be given")


# ---- pod and container selection --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One log stream to open: a pod's container, and how it is labelled on output."""

    pod: str
    container: str
    waiting_reason: str | None = None  # e.g. CrashLoopBackOff, ContainerCreating

    @property
    def crash_looping(self) -> bool:
        return self.waiting_reason == CRASH_LOOP

    @property
    def label(self) -> str:
        """How stderr messages name the stream."""
        return f"pod/{self.pod}"

    def prefix(self) -> bytes:
        """`[<pod>/<container>] ` (kubectl writes `[pod/<pod>/<container>] `; the issue asks for the shorter form)."""
        return f"[{self.pod}/{self.container}] ".encode()


def natural_key(name: str) -> list[Any]:
    """Sort `ws-2` before `ws-10` (StatefulSet ordinals), text parts alphabetically."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def pod_name(pod: dict[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def container_names(pod: dict[str, Any], *, include_init: bool = False) -> list[str]:
    """The pod's container names, in spec order (init containers last when asked)."""
    spec = pod.get("spec") or {}
    names = [str(c.get("name")) for c in spec.get("containers") or [] if c.get("name")]
    if include_init:
        names += [str(c.get("name")) for c in spec.get("initContainers") or [] if c.get("name")]
    return names


def default_container(pod: dict[str, Any], workspace: str) -> str | None:
    """KAITO names the main container after the workspace; else kubectl's annotation; else the first."""
    names = container_names(pod)
    if workspace in names:
        return workspace
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if annotated in names:
        return str(annotated)
    return names[0] if names else None


def waiting_reason(pod: dict[str, Any], container: str) -> str | None:
    """The container's `state.waiting.reason` (CrashLoopBackOff, ContainerCreating, ...), if waiting."""
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            return str(reason) if reason else None
    return None


def select_targets(
    pods: Sequence[dict[str, Any]],
    workspace: str,
    *,
    pod: str | None = None,
    container: str | None = None,
) -> list[Target]:
    """Pick the pods (all, or `--pod`) and each one's container (`-c`, else the default).

    Raises NotFoundError when `--pod` is not one of the workspace's pods, or when `-c`
    names a container that none of the chosen pods has. A pod without that container
    (while others have it) is left out: `skipped_for_container` tells which.
    """
    ordered = sorted(pods, key=lambda p: natural_key(pod_name(p)))
    if pod is not None:
        chosen = [p for p in ordered if pod_name(p) == pod]
        if not chosen:
            names = ", ".join(pod_name(p) for p in ordered)
            raise NotFoundError(
                f'pod "{pod}" is not one of workspace "{workspace}"\'s pods',
                hint=f"pods of {workspace}: {names}",
                details={"pods": [pod_name(p) for p in ordered]},
            )
        ordered = chosen
    targets: list[Target] = []
    for p in ordered:
        if container is not None:
            if container not in container_names(p, include_init=True):
                continue
            name = container
        else:
            found = default_container(p, workspace)
            if found is None:  # a pod without containers cannot log; the API would say so too
                continue
            name = found
        targets.append(Target(pod=pod_name(p), container=name, waiting_reason=waiting_reason(p, name)))
    if not targets and container is not None:
        available = sorted({c for p in ordered for c in container_names(p, include_init=True)})
        raise NotFoundError(
            f'container "{container}" not found in the pods of workspace "{workspace}"',
            hint="containers: " + (", ".join(available) if available else "none"),
            details={"containers": available},
        )
    return targets


def skipped_for_container(pods: Sequence[dict[str, Any]], targets: Sequence[Target]) -> list[str]:
    """Pods left out by `select_targets` because they lack the `-c` container (sorted)."""
    chosen = {t.pod for t in targets}
    return sorted((pod_name(p) for p in pods if pod_name(p) not in chosen), key=natural_key)


def no_pods_error(ws: dict[str, Any], workspace: str, namespace: str) -> NotReadyError:
    """Exit 4: the workspace exists but has no pods yet; say its state and the condition it waits for."""
    state = kaito.state(ws)
    fail = kaito.failure(ws)
    pending = kaito.pending_conditions(ws)
    if fail is not None:
        why = f"{fail.condition} failed: {fail.reason}" + (f" ({fail.message})" if fail.message else "")
    elif pending:  # the first one in the controller's order is what holds the pods back
        c = pending[0]
        why = f"waiting for {c.get('type')}={c.get('status')} ({c.get('reason') or 'no reason'})"
    else:
        why = "no conditions reported yet"
    return NotReadyError(
        f'workspace "{workspace}" has no pods yet: state {state}, {why}',
        hint=f"pods appear once its nodes are ready; watch with 'kubectl get workspace {workspace} -n {namespace} -w'",
        details={"workspace": workspace, "namespace": namespace, "state": state, "pending": pending},
    )


def prefix_wanted(flag: bool | None, targets: Sequence[Target]) -> bool:
    """`--prefix` defaults to on when more than one stream is shown."""
    return flag if flag is not None else len(targets) > 1


# ---- the multiplexer --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One stream for the multiplexer: a name for messages, a prefix, and how to open it."""

    name: str
    prefix: bytes
    open: Callable[[], Iterable[bytes]]


@dataclass
class MuxResult:
    """How the streams finished: per-source failures (the error) and the ones that ended."""

    ended: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    lines: int = 0


_LINE, _END, _FAIL, _BUG = 0, 1, 2, 3
_NL = b"\n"


class Channel:
    """Many producer threads, one consumer: a deque plus two events.

    Cheaper per line than queue.Queue (no lock and no notify per item): a producer appends and
    wakes the consumer only when it is asleep; the consumer takes everything queued at once.
    Bounded: a producer more than `limit` items ahead waits, so a slow stdout cannot make the
    readers buffer without end.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self._items: deque[tuple[int, int, Any]] = deque()
        self._ready = threading.Event()
        self._room = threading.Event()
        self._room.set()
        self._limit = limit

    def put(self, item: tuple[int, int, Any]) -> None:
        items = self._items
        items.append(item)
        if not self._ready.is_set():
            self._ready.set()
        while len(items) > self._limit:
            self._room.clear()
            if len(items) > self._limit:  # re-checked after clear: a take() in between set it again
                self._room.wait(0.1)

    def take(self, timeout: float, most: int) -> list[tuple[int, int, Any]]:
        """Up to `most` items, waiting at most `timeout` seconds for the first; [] on timeout."""
        # Clear before draining: an item put after the drain finds the flag clear and sets it.
        self._ready.clear()
        out = self._drain(most)
        if not out and self._ready.wait(timeout):
            out = self._drain(most)
        if len(self._items) <= self._limit:
            self._room.set()
        return out

    def _drain(self, most: int) -> list[tuple[int, int, Any]]:
        items = self._items
        out: list[tuple[int, int, Any]] = []
        pop = items.popleft
        while items and len(out) < most:
            out.append(pop())
        return out


def _pump(idx: int, source: Source, channel: Channel) -> None:
    """Thread body: read whole lines from one stream into the channel, then say how it ended."""
    put = channel.put
    try:
        for line in source.open():
            put((idx, _LINE, line))
    except KaitoError as err:  # the API refused or the connection broke: this pod only
        put((idx, _FAIL, err))
        return
    except OSError as err:  # a socket error the client did not map; still this pod only
        put((idx, _FAIL, err))
        return
    except BaseException as exc:  # noqa: BLE001  a bug: hand it to the main thread, which re-raises it
        put((idx, _BUG, exc))
        return
    put((idx, _END, None))


class Multiplexer:
    """Read several line streams concurrently and write whole lines, as they arrive, in one thread.

    `ordered=True` (used without --follow) writes each source's lines in source order:
    later sources are read at the same time but held back until the earlier ones end,
    so the output reads pod by pod like `kubectl logs -l`.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        ordered: bool = False,
        queue_size: int = 20_000,
        poll: float = 0.2,
        batch: int = 4096,
    ) -> None:
        self.sources = list(sources)
        self.ordered = ordered
        self.poll = poll  # how often the main thread wakes up, so Ctrl-C is handled promptly
        self.batch = batch
        self._channel = Channel(queue_size)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one daemon reader thread per source (daemon: Ctrl-C or a closed pipe never waits for them)."""
        for idx, source in enumerate(self.sources):
            t = threading.Thread(
                target=_pump, args=(idx, source, self._channel), name=f"logs:{source.name}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def pending(self) -> int:
        """Items read but not yet written (for tests)."""
        return len(self._channel._items)

    def run(
        self,
        write: Callable[[bytes], None],
        *,
        on_end: Callable[[str], None] | None = None,
        on_fail: Callable[[str, BaseException], None] | None = None,
    ) -> MuxResult:
        """Start the readers (if not yet) and write until every stream has ended or failed."""
        if not self._threads:
            self.start()
        result = MuxResult()
        n = len(self.sources)
        prefixes = [s.prefix for s in self.sources]
        done = [False] * n
        held: list[list[bytes]] = [[] for _ in range(n)]  # ordered mode: lines of sources not yet at the head
        head = 0
        open_count = n
        take = self._channel.take
        while open_count:
            items = take(self.poll, self.batch)  # one write per batch, not per line
            out: list[bytes] = []
            for idx, kind, payload in items:
                if kind == _LINE:
                    line = payload if payload.endswith(_NL) else payload + _NL  # a last partial line stays whole
                    if prefixes[idx]:
                        line = prefixes[idx] + line
                    result.lines += 1
                    if not self.ordered or idx == head:
                        out.append(line)
                    else:
                        held[idx].append(line)
                    continue
                # A stream finished: flush what precedes the message, so stdout and stderr stay in order.
                if out:
                    write(b"".join(out))
                    out = []
                open_count -= 1
                done[idx] = True
                name = self.sources[idx].name
                if kind == _END:
                    result.ended.append(name)
                    if on_end is not None:
                        on_end(name)
                elif kind == _FAIL:
                    result.failed[name] = payload
                    if on_fail is not None:
                        on_fail(name, payload)
                else:
                    raise payload
                if self.ordered:
                    while head < n and done[head]:
                        head += 1
                        if head < n and held[head]:
                            out.extend(held[head])
                            held[head] = []
            if out:
                write(b"".join(out))
        return result


# ---- logs -f: waiting for a pod to run ------------------------------------------------------------------


def log_readable(pod: dict[str, Any], container: str) -> bool:
    """The container has a log to stream: it runs or has run (a crash-looping one keeps its last log)."""
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            state = cs.get("state") or {}
            if state.get("running") is not None or state.get("terminated") is not None:
                return True
            return (state.get("waiting") or {}).get("reason") == CRASH_LOOP or bool(
                (cs.get("lastState") or {}).get("terminated")
            )
    return False


def not_running(
    ws: dict[str, Any], pods: Sequence[dict[str, Any]], workspace: str, *, pod: str | None, container: str | None
) -> str | None:
    """Why there is nothing to follow yet (for the wait display), or None once a chosen pod's container runs."""
    if not pods:
        state = kaito.state(ws)
        pending = kaito.describe_pending(ws)
        return f"no pods yet ({state}: {pending})" if pending else f"no pods yet ({state})"
    if pod is not None and pod not in {pod_name(p) for p in pods}:
        return f"no pod {pod} yet"
    targets = select_targets(pods, workspace, pod=pod, container=container)
    by_name = {pod_name(p): p for p in pods}
    if any(log_readable(by_name[t.pod], t.container) for t in targets):
        return None
    if not targets:
        return "the pods have no containers yet"
    return ", ".join(f"{t.label} {t.waiting_reason or 'Pending'}" for t in targets)


def provisioning(ws: dict[str, Any]) -> bool:
    """The workspace's nodes are still being provisioned (ResourceReady not True, no failure): a new GPU node
    takes minutes, so `--pod-running-timeout` counts from when this ends."""
    return kaito.failure(ws) is None and kaito.condition_status(ws, kaito.RESOURCE_READY) != "True"
