"""get-endpoint's work, without typer: the Typer command (commands/get_endpoint.py) and the start-up
fast path (fastpath.py) both call `get_endpoint` with the flags' values."""

from __future__ import annotations

import time

from kubectl_kaito import endpoints, flagcheck, kaito
from kubectl_kaito.errors import (
    ForbiddenError,
    InvalidError,
    KaitoError,
    NotFoundError,
    NotReadyError,
    UsageError,
    WaitTimeoutError,
)
from kubectl_kaito.output import Document, Result, Table, Text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from kubectl_kaito.console import Console
    from kubectl_kaito.resources import Resources
    from kubectl_kaito.settings import AppContext

#: --timeout's default with --wait: a new GPU node and the model download often take 10 to 20 minutes.
WAIT_TIMEOUT = "30m"


def get_endpoint(
    app: AppContext,
    names: list[str] | None,
    workspace_name: list[str] | None = None,
    fmt: str | None = None,
    *,
    all_namespaces: bool = False,
    external: bool = False,
    path: str = endpoints.DEFAULT_PATH,
    cluster_domain: str = endpoints.DEFAULT_CLUSTER_DOMAIN,
    wait: bool = False,
    timeout: str = WAIT_TIMEOUT,
    check: bool = False,
    replica: str | None = None,
) -> Result | None:
    """The endpoint (Text: the URL; Document: -o json/yaml) of one workspace or InferenceSet, or a Table
    (Document) of several. `fmt` is the checked -o value (None: url). See the command's help."""
    fmt = fmt or "url"  # checked and lower-cased by the command wrapper (flagcheck.Formats)
    targets = flagcheck.workspace_names(names, workspace_name)
    if all_namespaces or len(targets) > 1:
        if all_namespaces and targets:
            raise UsageError("give workspace names or -A, not both", hint="-A lists every workspace's endpoint")
        if wait or check:
            raise UsageError(
                f"{'--wait' if wait else '--check'} takes one workspace", hint="give one NAME, or drop the flag"
            )
        return _many(app, targets, fmt, external=external, path=path, cluster_domain=cluster_domain)
    name = flagcheck.workspace_name(
        targets[0] if targets else None, None, required=True, example="kubectl kaito get-endpoint my-llm"
    )
    wait_seconds = (flagcheck.parse_timeout(timeout) or flagcheck.NO_LIMIT) if wait else None
    path = flagcheck.url_path(path)

    cluster = app.resources()
    namespace = app.namespace
    started = time.monotonic()
    replica_index = None if replica is None else flagcheck.positive_int(replica, "--replica", 1000)
    if replica_index is not None or wait_seconds is not None:
        iset = cluster.find_inferenceset(name, namespace)
        if iset is not None:
            return _set_endpoint(app, cluster, name, fmt, path, replica_index, wait_seconds)
        if replica_index is not None:
            raise UsageError("--replica is for an InferenceSet", hint=f"{name} is not an InferenceSet in {namespace}")
    try:
        ws = _workspace(app.console, cluster, name, namespace, wait_seconds)
    except NotFoundError:
        if cluster.find_inferenceset(name, namespace) is None:
            raise
        return _set_endpoint(app, cluster, name, fmt, path, None, None)
    if kaito.is_tuning(ws):
        raise InvalidError(
            f"workspace {namespace}/{name} is a tuning workspace: it runs a fine-tuning Job and serves no endpoint",
            hint="deploy an inference workspace (with the tuned adapter) to get an endpoint",
            details={"workspace": name, "namespace": namespace},
        )
    if fmt == "url" and not kaito.is_ready(ws):
        raise endpoints.not_ready_error(ws, namespace)

    try:
        service = cluster.workspace_service(name, namespace)
    except NotFoundError:
        # KAITO creates the Service only once the nodes are ready: before that, -o json is the endpoint
        # the Service will have, with "ready": false (a ready workspace without one is exit 3)
        if kaito.is_ready(ws):
            raise
        if check:
            raise endpoints.not_ready_error(ws, namespace) from None
        return Document(endpoints.pending_info(ws, namespace, cluster_domain, path))
    internal = endpoints.internal_origin(service, namespace, cluster_domain)
    if external and wait_seconds is not None:  # --wait covers the cloud assigning the external address too
        left = round(max(0.0, wait_seconds - (time.monotonic() - started)), 1)
        service, external_origin = _await_external(app.console, cluster, name, namespace, left)
    else:
        external_origin = _external(cluster, service, name, namespace, required=external, wanted=fmt != "url")
    if (private := endpoints.private_address_warning(external_origin)) is not None:
        app.console.warn(private)

    served: list[str] | None = None
    if check:
        from kubectl_kaito import inference  # noqa: PLC0415

        port = endpoints.port_ref(endpoints.http_port(service))
        try:
            served = inference.served_models(
                cluster,
                namespace,
                str(service["metadata"]["name"]),
                port,
                timeout=app.settings.request_timeout or 10.0,
            )
        except (NotReadyError, WaitTimeoutError) as err:
            raise _check_failed(ws, namespace, err) from None

    if fmt == "url":
        chosen = external_origin if external and external_origin is not None else internal
        return Text(chosen.url(path))
    info = endpoints.endpoint_info(ws, service, namespace, internal, external_origin, use_external=external, path=path)
    if served is not None:
        info["served_model"] = served[0]
    return Document(info)


def _workspace(
    console: Console, cluster: Resources, name: str, namespace: str, wait_seconds: float | None
) -> dict[str, Any]:
    """GET the workspace; with --wait, block until ready (a spinner only once there is something to wait for)."""
    if wait_seconds is None:
        return cluster.get_workspace(name, namespace)
    from kubectl_kaito.waiting import await_workspace  # noqa: PLC0415

    # a tuning workspace never gets InferenceReady: stop at once and let the caller say why
    return await_workspace(
        console,
        cluster,
        name,
        namespace,
        timeout=wait_seconds,
        until=lambda ws: kaito.is_ready(ws) or kaito.is_tuning(ws),
    )


def _list_items(list_them: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    try:
        return list_them()
    except NotFoundError:  # the API is not served (an old cluster without networking.k8s.io/v1)
        return []


def _external(
    cluster: Resources, service: dict[str, Any], name: str, namespace: str, *, required: bool, wanted: bool
) -> endpoints.Origin | None:
    """The external route: an error when --external asked for it; best effort for json/yaml output."""
    if not (required or wanted):
        return None

    def ingresses() -> list[dict[str, Any]]:
        return _list_items(lambda: cluster.list_ingresses(namespace))

    def nodes() -> list[dict[str, Any]]:
        return _list_items(cluster.list_nodes)

    if required:
        return endpoints.resolve_external(service, ingresses, nodes, workspace=name, namespace=namespace)
    try:
        return endpoints.resolve_external(service, ingresses, nodes, workspace=name, namespace=namespace)
    except (NotFoundError, NotReadyError, ForbiddenError):
        # without --external the external address is extra information: none (or no right to list
        # nodes/ingresses) just leaves external_endpoint out
        return None


# ---- several workspaces: get-endpoint a b, get-endpoint -A -----------------------------------------


def _many(
    app: AppContext, names: list[str], fmt: str, *, external: bool, path: str, cluster_domain: str
) -> Result | None:
    """Several endpoints: a table NAME URL READY (NAMESPACE first with -A) in url format, else a JSON
    (YAML) array of the one-workspace objects, in the order asked (-A: by namespace, then name).
    A workspace without an endpoint yet (no Service) has `endpoint: null` / URL `<none>`; tuning
    workspaces serve none and are left out of -A. Named workspaces that do not exist: the others
    are printed, then exit 3."""
    cluster = app.resources()
    missing: list[NotFoundError] = []
    if names:
        found: list[dict[str, Any]] = []
        for n in names:
            try:
                found.append(cluster.workspace_or_set(n, app.namespace)[0])  # a set of that name: its one row
            except NotFoundError as e:
                missing.append(e)
    else:
        found = sorted(
            _with_sets(cluster, [w for w in cluster.list_workspaces(all_namespaces=True) if not kaito.is_tuning(w)]),
            key=lambda w: ((w.get("metadata") or {}).get("namespace", ""), (w.get("metadata") or {}).get("name", "")),
        )
    infos = [
        _set_info(cluster, w, path)
        if w.get("kind") == kaito.IS_KIND
        else _info(cluster, w, external=external, path=path, cluster_domain=cluster_domain)
        for w in found
    ]
    if fmt == "url":
        headers = ["NAMESPACE", "NAME", "URL", "READY"] if not names else ["NAME", "URL", "READY"]
        rows = [
            [i["namespace"], _row_name(i), i["endpoint"] or "<none>", str(i["ready"]).lower()][1 if names else 0 :]
            for i in infos
        ]
        result: Result | None = Table(headers, rows) if rows else None
        if not rows and not names:
            app.console.info("No workspaces found.")
    else:
        result = Document(infos)
    if missing:
        from kubectl_kaito import output  # noqa: PLC0415

        output.render(app.console, result, app.settings.output)
        raise missing[0]
    return result


def _info(cluster: Resources, ws: dict[str, Any], *, external: bool, path: str, cluster_domain: str) -> dict[str, Any]:
    """One workspace's endpoint object (as `get-endpoint NAME -o json`), best effort: no Service
    (yet) or a tuning workspace gives `endpoint: null`; a missing external route is left out."""
    meta = ws.get("metadata") or {}
    name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    try:
        if kaito.is_tuning(ws):
            raise NotFoundError("a tuning workspace serves no endpoint")
        service = cluster.workspace_service(name, namespace)
    except NotFoundError:
        return {
            "workspace": name,
            "namespace": namespace,
            "endpoint": None,
            "type": None,
            "port": None,
            "ready": kaito.is_ready(ws),
            "model": kaito.model_name(ws),
            "base_url": None,
            "service": None,
            **endpoints.state_fields(ws),
        }
    internal = endpoints.internal_origin(service, namespace, cluster_domain)
    external_origin = _external(cluster, service, name, namespace, required=False, wanted=True)
    return endpoints.endpoint_info(ws, service, namespace, internal, external_origin, use_external=external, path=path)


def _check_failed(ws: dict[str, Any], namespace: str, err: KaitoError) -> KaitoError:
    """--check got no answer: on a workspace that is not ready (or has failed), say so first, with its
    conditions' reason and message, and then what the server said; a ready one keeps the server's error."""
    if kaito.is_ready(ws):
        return err
    state = endpoints.not_ready_error(ws, namespace)
    return NotReadyError(
        f"{state.message}; {err.message}", hint=state.hint, details={**(state.details or {}), "check": err.message}
    )


def _await_external(
    console: Console, cluster: Resources, name: str, namespace: str, seconds: float
) -> tuple[dict[str, Any], endpoints.Origin | None]:
    """--external --wait: ask again while the LoadBalancer (or a host-less Ingress) has no address yet."""
    from kubectl_kaito.waiting import await_value  # noqa: PLC0415

    def attempt() -> tuple[dict[str, Any], endpoints.Origin | None]:
        service = cluster.workspace_service(name, namespace)
        return service, _external(cluster, service, name, namespace, required=True, wanted=True)

    return await_value(console, f"the external address of workspace {namespace}/{name}", attempt, timeout=seconds)


# ---- InferenceSets (issue 14) ---------------------------------------------------------------------


def _set_endpoint(
    app: AppContext, cluster: Resources, name: str, fmt: str, path: str, replica: int | None, wait_seconds: float | None
) -> Result:
    """get-endpoint on an InferenceSet: the gateway URL (a Gateway routing to its InferencePool), else
    `--replica N`'s URL; -o json: the gateway and every replica (see inferenceset.endpoint_info)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    namespace = app.namespace
    if wait_seconds is not None:  # until one replica serves (all of them behind a gateway is not needed)
        inferenceset.await_ready(
            app.console, cluster, name, namespace, wait_seconds, until=lambda s: kaito.inferenceset_counts(s)[0] > 0
        )
    found = inferenceset.set_endpoints(cluster, name, namespace)
    if fmt == "url":
        return Text(inferenceset.endpoint_url(found, path, replica))
    return Document(inferenceset.endpoint_info(found, path))


def _with_sets(cluster: Resources, workspaces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`get-endpoint -A`: every InferenceSet as one item, its replica Workspaces folded into it (as the
    `status` list); the Workspaces alone when the cluster serves no sets or they may not be listed."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    try:
        sets = cluster.list_inferencesets(all_namespaces=True)
    except ForbiddenError:
        sets = []
    return [*inferenceset.hide_replicas(workspaces, sets), *sets] if sets else workspaces


def _set_info(cluster: Resources, iset: dict[str, Any], path: str) -> dict[str, Any]:
    """A set's item in the several-names forms: `get-endpoint SET -o json`'s object (the gateway URL or
    `endpoint: null`, and every replica)."""
    from kubectl_kaito import inferenceset  # noqa: PLC0415

    meta = iset.get("metadata") or {}
    name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    found = inferenceset.SetEndpoints(
        iset=iset,
        replicas=inferenceset.replica_rows(cluster, name, namespace),
        gateway=inferenceset.find_gateway(cluster, name, namespace),
    )
    return inferenceset.endpoint_info(found, path)


def _row_name(info: dict[str, Any]) -> str:
    """The NAME cell: the workspace, or `is/NAME` for a set (as in the `status` list)."""
    return f"is/{info['inferenceset']}" if info.get("kind") == kaito.IS_KIND else str(info["workspace"])
