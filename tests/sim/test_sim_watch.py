"""Watch streams: events, resume from resourceVersion, timeouts, bookmarks, 410 Expired."""

from __future__ import annotations

import json
import ssl
import threading
import time

import httpx
import pytest

CM = "/api/v1/namespaces/default/configmaps"


def _cm(name: str, **labels) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}}


def _client(sim) -> httpx.Client:
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    return httpx.Client(base_url=sim.url, verify=ctx, headers={"Authorization": f"Bearer {sim.token}"}, timeout=10)


def _events(client: httpx.Client, path: str, params: dict, stop_after: int | None = None) -> tuple[list[dict], dict]:
    out = []
    with client.stream("GET", path, params=params) as r:
        headers = dict(r.headers)
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line:
                continue
            out.append(json.loads(line))
            if stop_after and len(out) >= stop_after:
                break
    return out, headers


def test_watch_from_resource_version_gets_later_events(sim):
    sim.apply(_cm("before"))
    with _client(sim) as c:
        rv = c.get(CM).json()["metadata"]["resourceVersion"]

        def writer():
            time.sleep(0.1)
            sim.apply(_cm("one", app="x"))
            sim.apply({**_cm("one", app="x"), "data": {"k": "v"}})
            sim.delete("v1", "ConfigMap", "one")

        threading.Thread(target=writer, daemon=True).start()
        events, headers = _events(c, CM, {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "5"}, stop_after=3)
    assert headers["content-type"] == "application/json"
    assert headers["transfer-encoding"] == "chunked"
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "one"),
        ("MODIFIED", "one"),
        ("DELETED", "one"),
    ]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)


def test_watch_without_rv_starts_with_current_objects_and_honours_timeout(sim):
    sim.apply(_cm("a"))
    sim.apply(_cm("b"))
    with _client(sim) as c:
        t0 = time.time()
        events, _ = _events(c, CM, {"watch": "true", "timeoutSeconds": "1"})
        elapsed = time.time() - t0
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("ADDED", "b")]
    assert 0.8 < elapsed < 3


def test_watch_label_selector_turns_modifications_into_added_and_deleted(sim):
    sim.apply(_cm("m"))
    with _client(sim) as c:
        rv = c.get(CM).json()["metadata"]["resourceVersion"]

        def writer():
            time.sleep(0.1)
            sim.apply(_cm("m", sel="yes"))  # starts matching
            sim.apply(_cm("other", sel="no"))
            sim.apply(_cm("m"))  # stops matching

        threading.Thread(target=writer, daemon=True).start()
        events, _ = _events(
            c,
            CM,
            {"watch": "1", "resourceVersion": rv, "labelSelector": "sel=yes", "timeoutSeconds": "5"},
            stop_after=2,
        )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "m"), ("DELETED", "m")]


def test_watch_bookmarks(sim_factory):
    s = sim_factory(env=False, bookmark_interval=0.2, watch_max_seconds=0.5)
    with _client(s) as c:
        rv = c.get(CM).json()["metadata"]["resourceVersion"]
        events, _ = _events(
            c, CM, {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "30"}
        )
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks and bookmarks[0]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_send_initial_events_ends_with_marked_bookmark(sim):
    sim.apply(_cm("x"))
    with _client(sim) as c:
        events, _ = _events(
            c,
            CM,
            {
                "watch": "1",
                "sendInitialEvents": "true",
                "allowWatchBookmarks": "true",
                "resourceVersionMatch": "NotOlderThan",
                "timeoutSeconds": "1",
            },
            stop_after=2,
        )
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_too_old_resource_version_is_410_expired(sim_factory):
    s = sim_factory(env=False, event_window=5)
    with _client(s) as c:
        old_rv = c.get(CM).json()["metadata"]["resourceVersion"]
        for i in range(15):
            s.apply(_cm(f"churn-{i}"))
        events, _ = _events(c, CM, {"watch": "1", "resourceVersion": old_rv, "timeoutSeconds": "2"})
        assert len(events) == 1 and events[0]["type"] == "ERROR"
        status = events[0]["object"]
        assert status["code"] == 410 and status["reason"] == "Expired"
        assert "too old resource version" in status["message"]
        s.watch_expired_mode = "http"
        r = c.get(CM, params={"watch": "1", "resourceVersion": old_rv})
        assert r.status_code == 410 and r.json()["reason"] == "Expired"


def test_python_client_watch_resume_and_410(sim_factory):
    from kubernetes import client, config, watch
    from kubernetes.client.exceptions import ApiException

    s = sim_factory(event_window=5)
    api_client = config.new_client_from_config(config_file=str(s.kubeconfig_path))
    core = client.CoreV1Api(api_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    s.apply(_cm("w1"))
    w = watch.Watch()
    seen = []
    for ev in w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1):
        seen.append((ev["type"], ev["object"].metadata.name))
        w.stop()
    assert seen == [("ADDED", "w1")]
    for i in range(15):
        s.apply(_cm(f"c{i}"))
    with pytest.raises(ApiException) as exc:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1
        ):
            pass
    assert exc.value.status == 410
    api_client.close()


def test_watch_max_seconds_closes_streams_for_resume_tests(sim_factory):
    s = sim_factory(env=False, watch_max_seconds=0.5)
    with _client(s) as c:
        rv = c.get(CM).json()["metadata"]["resourceVersion"]
        t0 = time.time()
        events, _ = _events(c, CM, {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "30"})
        assert time.time() - t0 < 2
        s.apply(_cm("after"))
        # resuming from the last seen RV delivers what happened while disconnected
        events, _ = _events(c, CM, {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "30"})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "after")]


def test_watch_single_object_and_table(sim):
    sim.seed_workspace("w1")
    sim.seed_workspace("w2")
    with _client(sim) as c:
        path = "/apis/kaito.sh/v1beta1/namespaces/default/workspaces"
        events, _ = _events(c, path, {"watch": "1", "fieldSelector": "metadata.name=w2", "timeoutSeconds": "1"})
        assert [e["object"]["metadata"]["name"] for e in events] == ["w2"]
        with c.stream(
            "GET",
            path,
            params={"watch": "1", "timeoutSeconds": "5"},
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
        ) as r:
            first = json.loads(next(r.iter_lines()))
    table = first["object"]
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Instance", "ResourceReady"]
    assert table["rows"][0]["cells"][0] == "w1"
