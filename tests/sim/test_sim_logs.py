"""Pod logs: options, follow streaming, previous containers, error cases, floods."""

from __future__ import annotations

import time

LOG = "/api/v1/namespaces/default/pods/{}/log"


def test_log_options(sim, http):
    sim.seed_workspace("w", logs=False)
    sim.append_logs("default", "w-0", ["one", "two", "three"])
    r = http.get(LOG.format("w-0"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "one\ntwo\nthree\n"
    assert http.get(LOG.format("w-0"), params={"tailLines": 2}).text == "two\nthree\n"
    assert http.get(LOG.format("w-0"), params={"tailLines": 0}).text == ""
    assert http.get(LOG.format("w-0"), params={"container": "w"}).text.startswith("one")
    ts = http.get(LOG.format("w-0"), params={"timestamps": "true"}).text.splitlines()
    assert len(ts) == 3 and ts[0].endswith(" one") and ts[0][:4].isdigit() and "T" in ts[0].split()[0]
    since = ts[2].split()[0]
    assert http.get(LOG.format("w-0"), params={"sinceTime": since}).text.startswith("one")
    # lines written "an hour ago" straight into the buffer, then fresh ones
    sim.logs.buffer("default", "old-0", "c").append(["old"], ts=time.time() - 3600)
    sim.logs.buffer("default", "old-0", "c").append(["four", "five"])
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "old-0"},
            "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "i"}]},
        }
    )
    assert http.get(LOG.format("old-0"), params={"sinceSeconds": 60}).text == "four\nfive\n"
    assert http.get(LOG.format("old-0"), params={"sinceSeconds": 7200}).text == "old\nfour\nfive\n"
    assert http.get(LOG.format("w-0"), params={"limitBytes": 5}).text == "one\nt"


def test_python_client_reads_logs(sim, k8s):
    from kubernetes import client

    sim.seed_workspace("w")
    text = client.CoreV1Api(k8s).read_namespaced_pod_log("w-0", "default", tail_lines=1)
    assert "Uvicorn running on http://0.0.0.0:5000" in text


def test_follow_streams_new_lines_and_ends_when_closed(sim, http):
    sim.seed_workspace("w", logs=False)
    sim.append_logs("default", "w-0", ["first"])
    got = []
    t0 = time.time()
    with http.stream("GET", LOG.format("w-0"), params={"follow": "true"}) as r:
        assert r.headers["content-type"].startswith("text/plain")
        assert r.headers["transfer-encoding"] == "chunked"
        it = r.iter_lines()
        got.append(next(it))
        sim.append_logs("default", "w-0", ["second", "third"])
        got.append(next(it))
        got.append(next(it))
        sim.close_logs("default", "w-0")
        rest = list(it)
    assert got == ["first", "second", "third"] and rest == []
    assert time.time() - t0 < 3


def test_follow_ends_when_pod_is_deleted(sim, http):
    sim.seed_workspace("w")
    with http.stream("GET", LOG.format("w-0"), params={"follow": "true", "tailLines": "1"}) as r:
        it = r.iter_lines()
        assert "Uvicorn" in next(it)
        sim.delete("v1", "Pod", "w-0")
        assert list(it) == []


def test_log_errors(sim, http):
    r = http.get(LOG.format("missing"))
    assert r.status_code == 404 and r.json()["message"] == 'pods "missing" not found'
    sim.seed_workspace("w")
    r = http.get(LOG.format("w-0"), params={"container": "sidecar"})
    assert r.status_code == 400 and r.json()["message"] == "container sidecar is not valid for pod w-0"
    r = http.get(LOG.format("w-0"), params={"previous": "true"})
    assert r.status_code == 400
    assert r.json()["message"] == 'previous terminated container "w" in pod "w-0" not found'
    sim.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "two"},
            "spec": {"nodeName": "n", "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
        }
    )
    r = http.get(LOG.format("two"))
    assert r.status_code == 400
    assert r.json()["message"] == "a container name must be specified for pod two, choose one of: [a b]"


def test_waiting_containers(sim, http):
    sim.seed_workspace("img", logs=False)
    sim.controller.fail_workspace("img", reason="ImagePullError")
    r = http.get(LOG.format("img-0"))
    assert r.status_code == 400
    assert r.json()["message"] == (
        'container "img" in pod "img-0" is waiting to start: trying and failing to pull image'
    )
    sim.seed_workspace("crash", logs=False)
    sim.controller.fail_workspace("crash", reason="ContainerCrashLoopBackOff")
    prev = http.get(LOG.format("crash-0"), params={"previous": "true"})
    assert prev.status_code == 200 and "RuntimeError: Engine core initialization failed" in prev.text


def test_log_flood(sim, http):
    sim.seed_workspace("f", count=2, logs=False)
    flood = sim.start_log_flood("default", ["f-0", "f-1"], 20000)
    with http.stream("GET", LOG.format("f-1"), params={"follow": "true"}) as r:
        n = sum(chunk.count(b"\n") for chunk in r.iter_bytes())
    assert flood.join(5)
    assert n == 20000 and flood.lines_written == 40000
    assert http.get(LOG.format("f-0"), params={"tailLines": 1}).text.split()[3] == "line=000019999"
