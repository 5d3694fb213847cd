"""Fixtures for the simulator's own tests."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest


@pytest.fixture
def http(sim):
    """An httpx client for the sim's API server (TLS verified against the sim CA, bearer token)."""
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    with httpx.Client(
        base_url=sim.url, verify=ctx, headers={"Authorization": f"Bearer {sim.token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def http_for():
    """Make httpx clients for other SimClusters (from sim_factory): `http_for(cluster)`."""
    clients = []

    def make(cluster):
        ctx = ssl.create_default_context(cadata=cluster.ca_pem.decode())
        c = httpx.Client(
            base_url=cluster.url, verify=ctx, headers={"Authorization": f"Bearer {cluster.token}"}, timeout=10
        )
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def k8s(sim):
    """A kubernetes.client.ApiClient built from the sim's kubeconfig (no global state)."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(sim.kubeconfig_path))
    yield client
    client.close()


def _workspace(
    name: str,
    *,
    preset: str = "phi-4-mini-instruct",
    api_version: str = "kaito.sh/v1beta1",
    instance_type: str | None = "Standard_NC24ads_A100_v4",
    **extra,
) -> dict:
    ws: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "Workspace",
        "metadata": {"name": name},
        "resource": {"labelSelector": {"matchLabels": {"apps": name}}},
        "inference": {"preset": {"name": preset}},
    }
    if instance_type:
        ws["resource"]["instanceType"] = instance_type
    ws.update(extra)
    return ws


@pytest.fixture
def make_ws():
    """Build a Workspace manifest: `make_ws("ws1", preset=..., api_version=..., tuning=...)`."""
    return _workspace
