"""logs core: flag values, pod/container selection and the line multiplexer (no cluster)."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_kaito import logs
from kubectl_kaito.errors import InvalidError, NotFoundError, NotReadyError, UsageError

# ---- flag values ----------------------------------------------------------------------------


def test_tail_minus_one_means_all_and_other_negatives_are_usage_errors() -> None:
    assert logs.tail_lines(-1) is None
    assert logs.tail_lines(0) == 0
    assert logs.tail_lines(20) == 20
    with pytest.raises(UsageError):
        logs.tail_lines(-2)


@pytest.mark.parametrize(
    ("text", "seconds"), [("10m", 600), ("1h", 3600), ("90", 90), ("1.2s", 2), ("250ms", 1), ("0", None)]
)
def test_since_is_whole_seconds_rounded_up(text: str, seconds: int | None) -> None:
    assert logs.since_seconds(text) == seconds


def test_since_rejects_garbage_and_negatives() -> None:
    with pytest.raises(UsageError, match="--since"):
        logs.since_seconds("ten minutes")
    with pytest.raises(UsageError, match="--since"):
        logs.since_seconds("-5")


@pytest.mark.parametrize("value", ["2025-01-31T14:00:00Z", "2025-01-31T14:00:00.5+02:00"])
def test_since_time_accepts_rfc3339(value: str) -> None:
    assert logs.since_time(value) == value


@pytest.mark.parametrize("value", ["yesterday", "2025-01-31", "2025-01-31T14:00:00"])
def test_since_time_needs_a_full_timestamp_with_zone(value: str) -> None:
    with pytest.raises(UsageError, match="--since-time"):
        logs.since_time(value)


def test_since_and_since_time_are_exclusive() -> None:
    logs.check_since("5m", None)
    logs.check_since(None, "2025-01-31T14:00:00Z")
    with pytest.raises(UsageError):
        logs.check_since("5m", "2025-01-31T14:00:00Z")


# ---- selection ------------------------------------------------------------------------------


def pod(
    name: str,
    containers: list[str],
    *,
    waiting: dict[str, str] | None = None,
    init: list[str] | None = None,
    default: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"kaito.sh/workspace": "ws"}}
    if default:
        meta["annotations"] = {"kubectl.kubernetes.io/default-container": default}
    statuses: list[dict[str, Any]] = [
        {"name": c, "state": {"waiting": {"reason": waiting[c]}} if waiting and c in waiting else {"running": {}}}
        for c in containers
    ]
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": c} for c in containers], "initContainers": [{"name": c} for c in init or []]},
        "status": {"containerStatuses": statuses},
    }


def test_pods_are_in_ordinal_order_and_use_the_container_named_after_the_workspace() -> None:
    pods = [pod(f"ws-{i}", ["sidecar", "ws"]) for i in (10, 2, 0, 1)]
    targets = logs.select_targets(pods, "ws")
    assert [t.pod for t in targets] == ["ws-0", "ws-1", "ws-2", "ws-10"]
    assert {t.container for t in targets} == {"ws"}


def test_default_container_falls_back_to_the_annotation_then_the_first() -> None:
    assert logs.default_container(pod("a", ["x", "y"], default="y"), "ws") == "y"
    assert logs.default_container(pod("a", ["x", "y"]), "ws") == "x"
    assert logs.default_container(pod("a", []), "ws") is None


def test_container_flag_overrides_and_may_name_an_init_container() -> None:
    pods = [pod("ws-0", ["ws"], init=["model-weights-downloader"])]
    [t] = logs.select_targets(pods, "ws", container="model-weights-downloader")
    assert t.container == "model-weights-downloader"


def test_unknown_container_is_not_found_and_lists_the_containers() -> None:
    with pytest.raises(NotFoundError) as e:
        logs.select_targets([pod("ws-0", ["ws", "side"])], "ws", container="nope")
    assert e.value.exit_code == 3
    assert e.value.hint == "containers: side, ws"


def test_pods_without_the_container_are_skipped_when_others_have_it() -> None:
    pods = [pod("ws-0", ["ws", "router"]), pod("ws-1", ["ws"])]
    targets = logs.select_targets(pods, "ws", container="router")
    assert [t.pod for t in targets] == ["ws-0"]
    assert logs.skipped_for_container(pods, targets) == ["ws-1"]


def test_pod_flag_picks_one_and_an_unknown_pod_lists_the_valid_names() -> None:
    pods = [pod("ws-1", ["ws"]), pod("ws-0", ["ws"])]
    assert [t.pod for t in logs.select_targets(pods, "ws", pod="ws-1")] == ["ws-1"]
    with pytest.raises(NotFoundError) as e:
        logs.select_targets(pods, "ws", pod="ws-7")
    assert "ws-7" in e.value.message
    assert e.value.hint == "pods of ws: ws-0, ws-1"


def test_crash_loop_is_read_from_the_chosen_containers_waiting_reason() -> None:
    p = pod("ws-0", ["ws", "side"], waiting={"ws": "CrashLoopBackOff", "side": "ContainerCreating"})
    [t] = logs.select_targets([p], "ws")
    assert t.crash_looping and t.waiting_reason == "CrashLoopBackOff"
    [s] = logs.select_targets([p], "ws", container="side")
    assert not s.crash_looping and s.waiting_reason == "ContainerCreating"


def test_prefix_is_pod_slash_container_and_on_by_default_only_for_several_streams() -> None:
    one = [logs.Target("ws-0", "ws")]
    two = one + [logs.Target("ws-1", "ws")]
    assert one[0].prefix() == b"[ws-0/ws] "
    assert logs.prefix_wanted(None, one) is False
    assert logs.prefix_wanted(None, two) is True
    assert logs.prefix_wanted(False, two) is False
    assert logs.prefix_wanted(True, one) is True


def test_no_pods_error_names_the_state_and_the_pending_condition() -> None:
    ws = {
        "metadata": {"name": "ws"},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        "status": {
            "conditions": [{"type": "ResourceReady", "status": "False", "reason": "workspaceResourceStatusNotReady"}]
        },
    }
    err = logs.no_pods_error(ws, "ws", "team")
    assert isinstance(err, NotReadyError) and err.exit_code == 4
    assert err.message == (
        'workspace "ws" has no pods yet: state Pending, '
        "waiting for ResourceReady=False (workspaceResourceStatusNotReady)"
    )
    # only what KAITO reported: conditions it has not written are not listed as "Unknown (NotReported)"
    assert [c["type"] for c in err.details["pending"]] == ["ResourceReady"]
    assert "-n team" in (err.hint or "")


def test_no_pods_error_says_a_failed_condition_outright() -> None:
    ws = {
        "status": {
            "conditions": [
                {
                    "type": "ResourceReady",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available",
                }
            ]
        }
    }
    err = logs.no_pods_error(ws, "ws", "default")
    assert err.message.endswith(
        "has no pods yet: state Failed, ResourceReady failed: Unschedulable (0/3 nodes are available)"
    )


# ---- multiplexer ----------------------------------------------------------------------------


class Gate:
    """A stream whose lines the test releases one at a time (a live follow)."""

    def __init__(self) -> None:
        self.q: queue.Queue[bytes | BaseException | None] = queue.Queue()

    def feed(self, *lines: bytes) -> None:
        for line in lines:
            self.q.put(line)

    def end(self) -> None:
        self.q.put(None)

    def fail(self, err: BaseException) -> None:
        self.q.put(err)

    def __call__(self) -> Iterator[bytes]:
        while True:
            item = self.q.get(timeout=10)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


class Sink:
    """Collects written chunks, and lets a test wait for some text to appear."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.cond = threading.Condition()

    def __call__(self, data: bytes) -> None:
        with self.cond:
            self.chunks.append(data)
            self.cond.notify_all()

    @property
    def text(self) -> str:
        with self.cond:
            return b"".join(self.chunks).decode()

    def wait_for(self, needle: str, timeout: float = 10) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: needle in b"".join(self.chunks).decode(), timeout), self.text


def run_in_thread(mux: logs.Multiplexer, sink: Sink, **kw: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = mux.run(sink, **kw)
        except BaseException as e:  # noqa: BLE001  the test asserts on it
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, box


def test_a_silent_stream_never_holds_up_another() -> None:
    quiet, busy = Gate(), Gate()
    mux = logs.Multiplexer([logs.Source("pod/a", b"[a] ", quiet), logs.Source("pod/b", b"[b] ", busy)], poll=0.05)
    sink = Sink()
    t, box = run_in_thread(mux, sink)
    busy.feed(b"one\n", b"two\n")
    sink.wait_for("[b] two\n")  # while pod a has said nothing at all
    assert sink.text == "[b] one\n[b] two\n"
    quiet.feed(b"late\n")
    sink.wait_for("[a] late\n")
    quiet.end()
    busy.end()
    t.join(10)
    assert not t.is_alive()
    assert sorted(box["result"].ended) == ["pod/a", "pod/b"]


def test_lines_are_whole_and_a_last_partial_line_gets_its_newline() -> None:
    a = Gate()
    a.feed(b"complete\n", b"no newline at the end")
    a.end()
    sink = Sink()
    result = logs.Multiplexer([logs.Source("pod/a", b"", a)]).run(sink)
    assert sink.text == "complete\nno newline at the end\n"
    assert result.lines == 2


def test_many_threads_many_lines_every_line_whole_and_complete() -> None:
    n_sources, n_lines = 6, 3000
    gates = [Gate() for _ in range(n_sources)]
    sources = [logs.Source(f"pod/p{i}", f"[p{i}/c] ".encode(), g) for i, g in enumerate(gates)]
    sink = Sink()
    t, box = run_in_thread(logs.Multiplexer(sources, queue_size=100), sink)

    def produce(i: int) -> None:
        for j in range(n_lines):
            gates[i].feed(f"pod {i} line {j} ".encode() + b"x" * (j % 50) + b"\n")
        gates[i].end()

    producers = [threading.Thread(target=produce, args=(i,)) for i in range(n_sources)]
    for p in producers:
        p.start()
    for p in producers:
        p.join(30)
    t.join(30)
    assert "error" not in box
    out = sink.text.splitlines()
    assert len(out) == n_sources * n_lines
    seen: dict[int, list[int]] = {i: [] for i in range(n_sources)}
    for line in out:
        tag, rest = line.split(" ", 1)
        i = int(tag[2:].split("/")[0])
        words = rest.split(" ")
        assert words[0] == "pod" and int(words[1]) == i and words[2] == "line"
        j = int(words[3])
        assert words[4] == "x" * (j % 50)  # nothing from another line glued on
        seen[i].append(j)
    for i in range(n_sources):
        assert seen[i] == list(range(n_lines))  # each pod's own order is kept


def test_a_failing_stream_is_reported_and_the_others_go_on() -> None:
    bad, good = Gate(), Gate()
    bad.fail(InvalidError("container is waiting to start"))
    good.feed(b"fine\n")
    good.end()
    failures: list[tuple[str, str]] = []
    result = logs.Multiplexer([logs.Source("pod/bad", b"", bad), logs.Source("pod/good", b"", good)]).run(
        Sink(), on_fail=lambda n, e: failures.append((n, str(e)))
    )
    assert failures == [("pod/bad", "container is waiting to start")]
    assert list(result.failed) == ["pod/bad"]
    assert result.ended == ["pod/good"]


def test_a_bug_in_a_reader_reaches_the_caller() -> None:
    def broken() -> Iterator[bytes]:
        raise ZeroDivisionError("bug")
        yield b""  # pragma: no cover

    with pytest.raises(ZeroDivisionError):
        logs.Multiplexer([logs.Source("pod/a", b"", broken)]).run(Sink())


def test_ended_messages_come_after_the_lines_before_them() -> None:
    a, b = Gate(), Gate()
    events: list[str] = []
    sink_text: list[str] = []

    def write(data: bytes) -> None:
        sink_text.append(data.decode())
        events.append("write")

    a.feed(b"a1\n")
    a.end()
    mux = logs.Multiplexer([logs.Source("pod/a", b"", a), logs.Source("pod/b", b"", b)])
    t = threading.Thread(target=lambda: mux.run(write, on_end=lambda n: events.append(f"end {n}")), daemon=True)
    t.start()
    # wait for pod a's end to be reported, then let b go
    for _ in range(1000):
        if "end pod/a" in events:
            break
        threading.Event().wait(0.01)
    assert events[:2] == ["write", "end pod/a"]
    b.end()
    t.join(10)
    assert "".join(sink_text) == "a1\n"


def test_ordered_mode_writes_pod_by_pod_even_when_later_pods_answer_first() -> None:
    first, second = Gate(), Gate()
    second.feed(b"s1\n", b"s2\n")
    second.end()
    sink = Sink()
    mux = logs.Multiplexer(
        [logs.Source("pod/0", b"", first), logs.Source("pod/1", b"", second)], ordered=True, poll=0.05
    )
    t, _box = run_in_thread(mux, sink)
    for _ in range(1000):  # until pod 1's lines and its end went through the queue (they must be held back)
        if second.q.empty() and mux.pending() == 0:
            break
        threading.Event().wait(0.01)
    assert sink.text == ""
    first.feed(b"f1\n")
    first.end()
    t.join(10)
    assert sink.text == "f1\ns1\ns2\n"


def test_console_bytes_writer_writes_bytes_to_a_binary_buffer_and_text_to_a_stringio() -> None:
    from kubectl_kaito.console import Console

    raw = io.BytesIO()
    wrapper = io.TextIOWrapper(raw, encoding="utf-8")
    Console(stdin=io.StringIO(), stdout=wrapper, stderr=io.StringIO()).bytes_writer()(b"caf\xc3\xa9 \xff\n")
    assert raw.getvalue() == b"caf\xc3\xa9 \xff\n"  # passed through untouched
    text = io.StringIO()
    Console(stdin=io.StringIO(), stdout=text, stderr=io.StringIO()).bytes_writer()(b"caf\xc3\xa9 \xff\n")
    assert text.getvalue() == "café \ufffd\n"


def test_channel_is_bounded_a_producer_waits_for_the_consumer() -> None:
    ch = logs.Channel(limit=10)

    def produce() -> None:
        for i in range(50):
            ch.put((0, 0, i))

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    for _ in range(500):  # until the producer is stuck at the limit
        if len(ch._items) > 10:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.05)
    assert producer.is_alive() and len(ch._items) == 11  # one over the limit, then it waits
    got: list[int] = []
    while len(got) < 50:
        got += [payload for _, _, payload in ch.take(1.0, 7)]
    producer.join(5)
    assert got == list(range(50))
    assert ch.take(0.01, 7) == []  # empty: returns after the timeout
