"""The shared wait helpers against a scripted stand-in for Cluster (GET + watch), no network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest

from kubectl_kaito import waiting
from kubectl_kaito.errors import NotFoundError, WaitTimeoutError, WorkspaceFailedError
from kubectl_kaito.kaito import is_ready

if TYPE_CHECKING:
    from kubectl_kaito.resources import Resources


def ws(rv: str, *, ready: str = "False", reason: str = "WorkspaceInferenceStatusPending") -> dict[str, Any]:
    return {
        "metadata": {"name": "w", "namespace": "ns", "resourceVersion": rv},
        "inference": {"preset": {"name": "phi-4-mini-instruct"}},
        "status": {
            "conditions": [
                {"type": "ResourceReady", "status": "True", "reason": "workspaceResourceStatusSuccess"},
                {"type": "InferenceReady", "status": ready, "reason": reason},
            ]
        },
    }


class FakeCluster:
    """GET answers from `gets` (an exception instance is raised); each watch() call plays one script."""

    def __init__(self, gets: list[Any], watches: list[list[dict[str, Any]] | Exception]) -> None:
        self.gets = list(gets)
        self.watches = list(watches)
        self.watch_calls: list[dict[str, Any]] = []
        self.get_calls = 0

    def get_workspace(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.get_calls += 1
        item = self.gets.pop(0) if len(self.gets) > 1 else self.gets[0]
        if isinstance(item, Exception):
            raise item
        return item

    def watch_workspaces(
        self,
        namespace: str | None,
        *,
        name: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        self.watch_calls.append({"namespace": namespace, "name": name, "rv": resource_version, "timeout": timeout})
        script = self.watches.pop(0) if self.watches else WaitTimeoutError("read timed out")
        if isinstance(script, Exception):
            raise script
        yield from script


def _resources(fake: FakeCluster) -> Resources:
    """The fake as the Resources the waits take: it has the methods they call (get, watch)."""
    return cast("Resources", fake)


def test_format_seconds() -> None:
    assert [waiting.format_seconds(s) for s in (2.5, 90, 600, 3600, 5400)] == ["2.5s", "1m30s", "10m", "1h", "1h30m"]


def test_returns_at_once_when_already_there_without_watching() -> None:
    c = FakeCluster([ws("5", ready="True")], [])
    seen: list[str] = []
    got = waiting.wait_for_workspace(
        _resources(c), "w", "ns", timeout=5, until=is_ready, on_change=lambda w: seen.append("x")
    )
    assert got["metadata"]["resourceVersion"] == "5"
    assert c.watch_calls == [] and seen == ["x"]


def test_watches_from_the_get_resource_version_by_name() -> None:
    events = [
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "6"}}},
        {"type": "MODIFIED", "object": ws("7")},
        {"type": "MODIFIED", "object": ws("8", ready="True", reason="WorkspaceInferenceStatusSuccess")},
        {"type": "MODIFIED", "object": ws("9")},  # never read: the wait returned already
    ]
    c = FakeCluster([ws("5")], [events])
    seen: list[str] = []
    got = waiting.wait_for_workspace(
        _resources(c),
        "w",
        "ns",
        timeout=30,
        until=is_ready,
        on_change=lambda w: seen.append(w["metadata"]["resourceVersion"]),
    )
    assert got["metadata"]["resourceVersion"] == "8"
    assert seen == ["5", "7", "8"]
    call = c.watch_calls[0]
    assert call["name"] == "w" and call["rv"] == "5"
    assert call["namespace"] == "ns"
    assert 0 < call["timeout"] <= 30


def test_a_watch_that_ends_early_is_reopened_from_the_last_version() -> None:
    first = [{"type": "MODIFIED", "object": ws("7")}]
    second = [{"type": "MODIFIED", "object": ws("9", ready="True")}]
    c = FakeCluster([ws("5")], [first, second])
    got = waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=30, until=is_ready)
    assert got["metadata"]["resourceVersion"] == "9"
    assert [w["rv"] for w in c.watch_calls] == ["5", "7"]


def test_fail_on_is_raised() -> None:
    broken = ws("7", reason="ImagePullError")
    c = FakeCluster([ws("5")], [[{"type": "MODIFIED", "object": broken}]])
    with pytest.raises(WorkspaceFailedError, match=r"InferenceReady is False \(ImagePullError\)") as ei:
        waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=30, until=is_ready, fail_on=waiting.failure_error)
    assert (ei.value.exit_code, ei.value.code) == (1, "WORKSPACE_FAILED")  # every wait's failure


def test_failure_error_is_none_while_merely_pending() -> None:
    assert waiting.failure_error(ws("1")) is None


def test_timeout_names_the_pending_conditions() -> None:
    c = FakeCluster([ws("5")], [WaitTimeoutError("read timed out")])
    with pytest.raises(WaitTimeoutError) as ei:
        waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=0.05, until=is_ready)
    assert ei.value.exit_code == 4
    assert "timed out after 0.05s waiting for workspace ns/w" in ei.value.message
    assert "InferenceReady=False (WorkspaceInferenceStatusPending)" in ei.value.message


def test_zero_timeout_checks_once() -> None:
    c = FakeCluster([ws("5")], [])
    with pytest.raises(WaitTimeoutError):
        waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=0, until=is_ready)
    assert c.watch_calls == []


def test_not_found_propagates() -> None:
    c = FakeCluster([NotFoundError("workspace ns/w not found")], [])
    with pytest.raises(NotFoundError):
        waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=5, until=is_ready)


def test_deleted_while_waiting_is_not_found() -> None:
    c = FakeCluster([ws("5")], [[{"type": "DELETED", "object": ws("6")}]])
    with pytest.raises(NotFoundError, match="deleted while waiting"):
        waiting.wait_for_workspace(_resources(c), "w", "ns", timeout=5, until=is_ready)


def test_wait_for_deletion_returns_on_404() -> None:
    c = FakeCluster([NotFoundError("gone")], [])
    waiting.wait_for_deletion(_resources(c), "w", "ns", timeout=5)
    assert c.watch_calls == []


def test_wait_for_deletion_returns_on_deleted_event() -> None:
    c = FakeCluster([ws("5")], [[{"type": "MODIFIED", "object": ws("6")}, {"type": "DELETED", "object": ws("7")}]])
    waiting.wait_for_deletion(_resources(c), "w", "ns", timeout=5)
    assert c.watch_calls[0]["rv"] == "5"


def test_wait_for_deletion_gets_again_after_a_watch_ends() -> None:
    c = FakeCluster([ws("5"), NotFoundError("gone")], [[]])
    waiting.wait_for_deletion(_resources(c), "w", "ns", timeout=5)
    assert c.get_calls == 2


def test_wait_for_deletion_times_out_naming_finalizers() -> None:
    stuck = ws("5")
    stuck["metadata"]["finalizers"] = ["workspace.finalizer.kaito.sh"]
    c = FakeCluster([stuck], [WaitTimeoutError("read timed out")])
    with pytest.raises(WaitTimeoutError, match=re.escape("finalizers: workspace.finalizer.kaito.sh")):
        waiting.wait_for_deletion(_resources(c), "w", "ns", timeout=0.05)
