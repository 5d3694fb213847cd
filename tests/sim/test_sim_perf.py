"""Scale guards: thousands of objects and log floods stay fast (generous bounds for slow CI)."""

from __future__ import annotations

import time


def test_5000_workspaces_paginate_quickly(sim_factory, http_for):
    sim = sim_factory(operator=False)
    t0 = time.time()
    for i in range(5000):
        sim.apply(
            {
                "apiVersion": "kaito.sh/v1beta1",
                "kind": "Workspace",
                "metadata": {"name": f"ws-{i:05d}"},
                "resource": {
                    "instanceType": "Standard_NC24ads_A100_v4",
                    "labelSelector": {"matchLabels": {"apps": f"ws-{i:05d}"}},
                },
                "inference": {"preset": {"name": "phi-4-mini-instruct"}},
            }
        )
    created = time.time() - t0
    http = http_for(sim)
    t0 = time.time()
    names, token, pages = [], None, 0
    while True:
        params = {"limit": 500}
        if token:
            params["continue"] = token
        page = http.get("/apis/kaito.sh/v1beta1/namespaces/default/workspaces", params=params).json()
        names += [w["metadata"]["name"] for w in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
    listed = time.time() - t0
    assert pages == 10 and len(names) == 5000 and names == sorted(names) and len(set(names)) == 5000
    table = http.get(
        "/apis/kaito.sh/v1beta1/workspaces",
        params={"limit": 500},
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
    ).json()
    assert len(table["rows"]) == 500 and table["metadata"]["remainingItemCount"] == 4500
    assert created < 15 and listed < 10, (created, listed)


def test_log_flood_is_linear(sim, http):
    sim.seed_workspace("fl", count=2, logs=False)
    t0 = time.time()
    flood = sim.start_log_flood("default", ["fl-0", "fl-1"], 100_000)
    with http.stream("GET", "/api/v1/namespaces/default/pods/fl-0/log", params={"follow": "true"}) as r:
        n = sum(chunk.count(b"\n") for chunk in r.iter_bytes())
    assert flood.join(10)
    elapsed = time.time() - t0
    assert n == 100_000
    assert elapsed < 10, elapsed
