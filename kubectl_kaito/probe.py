"""Ask a workspace's model server which models it serves (`GET /v1/models`).

The request goes through the API server's service proxy, so it works from any
machine kubectl works from (it needs `services/proxy` RBAC). get-endpoint --check
and chat use it. httpx is imported by `Cluster.http_client`, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_kaito.errors import NotReadyError

if TYPE_CHECKING:
    from kubectl_kaito.cluster import Cluster

MODELS_PATH = "/v1/models"


def model_ids(body: Any) -> list[str]:
    """The ids in an OpenAI `/v1/models` answer (`{"object": "list", "data": [{"id": ...}]}`)."""
    if not isinstance(body, dict):
        return []
    return [str(m["id"]) for m in body.get("data") or [] if isinstance(m, dict) and m.get("id")]


def served_models(
    cluster: Cluster, namespace: str, service: str, port: str | int, *, timeout: float | None = 10.0
) -> list[str]:
    """The model ids the server behind `service:port` answers with; NotReadyError (exit 4) otherwise."""
    import httpx  # noqa: PLC0415  (only --check and chat pay for httpx)

    path = cluster.proxy_path(namespace, service, port, MODELS_PATH)
    where = f"service {namespace}/{service} port {port}"
    hint = (
        f"the model server may still be starting: see `kubectl kaito status --workspace-name {service} -n {namespace}` "
        f"and `kubectl kaito logs {service} -n {namespace}`"
    )
    try:
        with cluster.http_client(timeout=timeout) as client:
            resp = client.get(path)
    except httpx.TimeoutException as exc:
        raise NotReadyError(f"{where} did not answer GET {MODELS_PATH} in time ({exc})", hint=hint) from None
    except httpx.HTTPError as exc:
        raise NotReadyError(f"{where} did not answer GET {MODELS_PATH}: {exc}", hint=hint) from None
    if resp.status_code != 200:
        text = resp.text.strip().splitlines()[0][:200] if resp.text.strip() else ""
        raise NotReadyError(
            f"{where} answered GET {MODELS_PATH} with HTTP {resp.status_code}" + (f": {text}" if text else ""),
            hint=hint,
            details={"status_code": resp.status_code},
        )
    try:
        body = resp.json()
    except ValueError:
        body = None
    ids = model_ids(body)
    if not ids:
        raise NotReadyError(f"{where} answered GET {MODELS_PATH} but listed no model", hint=hint)
    return ids
