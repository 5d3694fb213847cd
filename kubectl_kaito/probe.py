"""Ask a workspace's model server which models it serves (`GET /v1/models`).

The request goes through the API server's service proxy, so it works from any
machine kubectl works from (it needs `services/proxy` RBAC). It is chat's own
`/v1/models` client (`inference.ChatClient.models`): `get-endpoint --check` and
chat ask the same way and fail the same way. httpx is imported there, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_kaito.resources import Resources

MODELS_PATH = "/v1/models"


def model_ids(body: Any) -> list[str]:
    """The ids in an OpenAI `/v1/models` answer (`{"object": "list", "data": [{"id": ...}]}`)."""
    if not isinstance(body, dict):
        return []
    return [str(m["id"]) for m in body.get("data") or [] if isinstance(m, dict) and m.get("id")]


def served_models(
    cluster: Resources, namespace: str, service: str, port: str | int, *, timeout: float | None = 10.0
) -> list[str]:
    """The model ids the server behind `service:port` answers with. No answer (502/503, no byte in
    time) -> NotReadyError/WaitTimeoutError (exit 4); the other failures as chat reports them."""
    from kubectl_kaito import inference  # noqa: PLC0415

    where = f"GET {MODELS_PATH} of service {namespace}/{service} port {port}"
    with inference.open_service(cluster, namespace, service, port, timeout, where=where) as client:
        return client.models()
