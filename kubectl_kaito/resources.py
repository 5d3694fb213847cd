"""The resources the plugin reads and writes, by name: the ONLY module that builds API paths.

Every path segment is quoted (names are DNS labels, but a user's string never goes into a URL
unquoted). KAITO's group and versions live here too: Workspace paths name v1beta1 (what KAITO
v0.12 serves) until a request proves otherwise, and a 404 that names no object (the resource type
is not served) asks discovery once: v1alpha1 is tried next, and when neither serves workspaces the
answer is ProviderNotInstalledError. So `get-endpoint` still makes two requests (Workspace, Service).

Requests go through `client.Client` (one error mapping); results are plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import quote

from kubectl_kaito import kaito
from kubectl_kaito.errors import NotFoundError, ProviderNotInstalledError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up; mypy reads the name)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    import httpx

    from kubectl_kaito.client import Client
    from kubectl_kaito.kubeconfig import ClusterConfig

    T = TypeVar("T")

CRD_API = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _q(part: str) -> str:
    """Quote one path segment (names are DNS labels, but never trust a user's string in a URL)."""
    return quote(str(part), safe="")


def _core(namespace: str, kind: str, name: str | None = None) -> str:
    path = f"/api/v1/namespaces/{_q(namespace)}/{kind}"
    return f"{path}/{_q(name)}" if name else path


class Resources:
    """Typed reads and writes on one cluster, over one `Client`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.namespace = client.namespace
        self.server = client.server
        self._workspace_version: str | None = None
        self._inferenceset_version: str | None = None

    @classmethod
    def connect(
        cls,
        cfg: ClusterConfig,
        *,
        timeout: float | None = None,
        verbose: int = 0,
        log: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Resources:
        """A resources layer over a new client for a resolved kubeconfig."""
        from kubectl_kaito.client import Client  # noqa: PLC0415

        return cls(Client(cfg, timeout=timeout, verbose=verbose, log=log, env=env))

    def close(self) -> None:
        """Close idle connections."""
        self.client.close()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- discovery and version -------------------------------------------------------------------

    def server_version(self) -> dict[str, Any]:
        """GET /version (gitVersion, major, minor, ...)."""
        return self.client.get("/version")

    def kaito_group(self) -> dict[str, Any]:
        """The APIGroup document of kaito.sh (NotFoundError when the group is not served)."""
        return self.client.get(f"/apis/{_q(kaito.GROUP)}")

    def kaito_resources(self, version: str) -> dict[str, Any]:
        """The APIResourceList of kaito.sh/<version> (NotFoundError when not served)."""
        return self.client.get(f"/apis/{_q(kaito.GROUP)}/{_q(version)}")

    def workspace_version(self) -> str:
        """The Workspace API version the server serves: v1beta1 when it serves workspaces, else v1alpha1.
        Discovery (/apis/kaito.sh/<version>), asked at most once per process."""
        if self._workspace_version is not None:
            return self._workspace_version
        for version in kaito.VERSIONS:
            try:
                resources = self.kaito_resources(version)
            except NotFoundError:
                continue
            names = {r.get("name") for r in resources.get("resources") or [] if isinstance(r, dict)}
            if kaito.PLURAL in names:
                self._workspace_version = version
                return version
        raise ProviderNotInstalledError(
            "KAITO is not installed in this cluster (the workspaces.kaito.sh resource is not served)",
            hint="install it with: kubectl kaito install-provider",
            details={"server": self.server},
        )

    def get_crd(self, name: str) -> dict[str, Any]:
        """One CustomResourceDefinition (cluster-scoped; many users may not read it)."""
        return self.client.get(f"{CRD_API}/{_q(name)}")

    # -- workspaces ------------------------------------------------------------------------------

    def _workspace_path(self, namespace: str | None, name: str | None = None, version: str | None = None) -> str:
        """/apis/kaito.sh/<version>/namespaces/N/workspaces[/NAME]; namespace None = all namespaces.

        Until a request has confirmed the version, the path names the newest one (v1beta1) without
        asking discovery first: one round trip fewer for every command."""
        version = version or self._workspace_version or kaito.VERSIONS[0]
        base = f"/apis/{_q(kaito.GROUP)}/{_q(version)}"
        path = f"{base}/namespaces/{_q(namespace)}/{kaito.PLURAL}" if namespace else f"{base}/{kaito.PLURAL}"
        return f"{path}/{_q(name)}" if name else path

    def _on_workspaces(self, call: Callable[[str], T], namespace: str | None, name: str | None = None) -> T:
        """Run `call(path)` on a Workspace path; after a 404 on an unconfirmed version that names no
        object (the type is not served), ask discovery and retry once with the served version."""
        confirmed = self._workspace_version is not None
        tried = self._workspace_version or kaito.VERSIONS[0]
        try:
            result = call(self._workspace_path(namespace, name, tried))
        except NotFoundError as e:
            if confirmed or e.details.get("name"):
                raise
            actual = self.workspace_version()  # ProviderNotInstalledError when none is served
            if actual == tried:
                raise
            result = call(self._workspace_path(namespace, name, actual))
            return result
        if self._workspace_version is None:
            self._workspace_version = tried  # a Workspace path that answered proves its version
        return result

    def _missing_workspace(self, e: NotFoundError, name: str, ns: str) -> NotFoundError:
        return NotFoundError(
            f'workspace "{name}" not found in namespace "{ns}"',
            hint=f"list the workspaces with: kubectl kaito status -n {ns}",
            details={**e.details, "name": name, "namespace": ns},
        )

    def get_workspace(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One Workspace; NotFoundError names it and the namespace."""
        ns = namespace or self.namespace
        try:
            return self._on_workspaces(self.client.get, ns, name)
        except NotFoundError as e:
            raise self._missing_workspace(e, name, ns) from None

    def workspace_listing(
        self, namespace: str | None = None, *, all_namespaces: bool = False, label_selector: str | None = None
    ) -> dict[str, Any]:
        """The paginated LIST of Workspaces: the envelope (kind, metadata.resourceVersion) with all items."""
        ns = None if all_namespaces else (namespace or self.namespace)
        query = {"labelSelector": label_selector} if label_selector else None
        return self._on_workspaces(lambda p: self.client.list(p, query), ns)

    def list_workspaces(
        self, namespace: str | None = None, *, all_namespaces: bool = False, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Workspaces in `namespace` (default: the current one), or in all namespaces."""
        listing = self.workspace_listing(namespace, all_namespaces=all_namespaces, label_selector=label_selector)
        return list(listing.get("items") or [])

    def create_workspace(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST a Workspace; the URL's version follows the object's apiVersion (the server insists)."""
        ns = (obj.get("metadata") or {}).get("namespace") or self.namespace
        group, _, version = str(obj.get("apiVersion") or "").partition("/")
        if group == kaito.GROUP and version:
            created = self.client.create(self._workspace_path(ns, version=version), obj, dry_run=dry_run)
            if self._workspace_version is None:
                self._workspace_version = version
            return created
        return self._on_workspaces(lambda p: self.client.create(p, obj, dry_run=dry_run), ns)

    def delete_workspace(self, name: str, namespace: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """DELETE a Workspace; NotFoundError names it."""
        ns = namespace or self.namespace
        try:
            return self._on_workspaces(lambda p: self.client.delete(p, dry_run=dry_run), ns, name)
        except NotFoundError as e:
            raise self._missing_workspace(e, name, ns) from None

    def watch_workspaces(
        self,
        namespace: str | None,
        *,
        name: str | None = None,
        resource_version: str | None = None,
        timeout: float | None = None,
        label_selector: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Watch Workspaces in `namespace` (None = all), or the one called `name` (a fieldSelector),
        or those matching `label_selector`; see `Client.watch` for resume, 410 and `timeout`."""
        query = {"fieldSelector": f"metadata.name={name}"} if name else None
        if label_selector:
            query = {**(query or {}), "labelSelector": label_selector}
        return self.client.watch(
            self._workspace_path(namespace), query, resource_version=resource_version, timeout=timeout
        )

    def count_workspaces(self, version: str) -> int:
        """How many Workspaces of `version` exist in all namespaces (one paginated LIST)."""
        return len(self.client.list(self._workspace_path(None, version=version)).get("items") or [])

    # -- core objects ----------------------------------------------------------------------------

    def get_service(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One core/v1 Service."""
        return self.client.get(_core(namespace or self.namespace, "services", name))

    def workspace_service(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The inference Service KAITO names after the workspace: THE lookup for every command.
        Missing -> NotFoundError (exit 3) with a hint; status catches it to show no endpoint."""
        ns = namespace or self.namespace
        try:
            return self.get_service(name, ns)
        except NotFoundError:
            raise NotFoundError(
                f"workspace {ns}/{name} has no inference Service {name}",
                hint=(
                    "the KAITO controller creates it when it reconciles the workspace; check "
                    f"`kubectl kaito status --workspace-name {name} -n {ns}` and that the controller is running"
                ),
                details={"workspace": name, "namespace": ns, "service": name},
            ) from None

    def list_pods(self, namespace: str | None = None, *, label_selector: str | None = None) -> list[dict[str, Any]]:
        """Pods in a namespace (default: the current one), optionally by label selector."""
        query = {"labelSelector": label_selector} if label_selector else None
        return list(self.client.list(_core(namespace or self.namespace, "pods"), query).get("items") or [])

    def list_events(self, namespace: str | None = None, *, field_selector: str | None = None) -> list[dict[str, Any]]:
        """Events in a namespace, optionally by field selector (e.g. type=Warning)."""
        query = {"fieldSelector": field_selector} if field_selector else None
        return list(self.client.list(_core(namespace or self.namespace, "events"), query).get("items") or [])

    def list_nodes(self) -> list[dict[str, Any]]:
        """Every Node."""
        return list(self.client.list("/api/v1/nodes").get("items") or [])

    def list_ingresses(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """networking.k8s.io/v1 Ingresses in a namespace."""
        path = f"/apis/networking.k8s.io/v1/namespaces/{_q(namespace or self.namespace)}/ingresses"
        return list(self.client.list(path).get("items") or [])

    def get_configmap(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One ConfigMap."""
        return self.client.get(_core(namespace or self.namespace, "configmaps", name))

    def create_configmap(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST a ConfigMap into its metadata.namespace (default: the current one)."""
        ns = (obj.get("metadata") or {}).get("namespace") or self.namespace
        return self.client.create(_core(ns, "configmaps"), obj, dry_run=dry_run)

    def delete_configmap(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """DELETE a ConfigMap."""
        return self.client.delete(_core(namespace or self.namespace, "configmaps", name))

    def patch_configmap(self, name: str, patch: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """Merge-patch a ConfigMap."""
        return self.client.patch(_core(namespace or self.namespace, "configmaps", name), patch)

    def get_deployment(self, name: str, namespace: str) -> dict[str, Any]:
        """One apps/v1 Deployment."""
        return self.client.get(f"/apis/apps/v1/namespaces/{_q(namespace)}/deployments/{_q(name)}")

    def stream_logs(
        self,
        namespace: str,
        pod: str,
        *,
        container: str | None = None,
        follow: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        since_time: str | None = None,
        timestamps: bool = False,
        previous: bool = False,
    ) -> Iterator[bytes]:
        """A pod's log as whole lines (bytes ending in b"\\n"), as they arrive when `follow`.
        A container still starting raises NotReadyError."""
        query: dict[str, Any] = {
            "container": container,
            "follow": "true" if follow else None,
            "tailLines": tail_lines,
            "sinceSeconds": since_seconds,
            "sinceTime": since_time,
            "timestamps": "true" if timestamps else None,
            "previous": "true" if previous else None,
        }
        return self.client.stream_lines(_core(namespace, "pods", pod) + "/log", query, follow=follow)

    # -- services through the API server ---------------------------------------------------------

    def proxy_path(self, namespace: str, service: str, port: str | int, path: str = "") -> str:
        """The API server's service-proxy path: /api/v1/namespaces/N/services/NAME:PORT/proxy/PATH."""
        rest = path.lstrip("/")
        return f"{_core(namespace, 'services')}/{_q(service)}:{_q(str(port))}/proxy/{rest}"

    def http_client(self, timeout: float | None = None) -> httpx.Client:
        """An httpx.Client for service-proxy requests (see `Client.http_client`)."""
        return self.client.http_client(timeout)

    def list_namespaces(self) -> list[dict[str, Any]]:
        """Every Namespace (cluster-scoped; `-n <TAB>`)."""
        return list(self.client.list("/api/v1/namespaces").get("items") or [])

    # -- diagnose (status --diagnose): the objects below a Workspace ------------------------------

    def get_statefulset(self, name: str, namespace: str) -> dict[str, Any]:
        """One apps/v1 StatefulSet (KAITO's inference workload `<ws>`)."""
        return self.client.get(f"/apis/apps/v1/namespaces/{_q(namespace)}/statefulsets/{_q(name)}")

    def get_job(self, name: str, namespace: str) -> dict[str, Any]:
        """One batch/v1 Job (KAITO's tuning workload `<ws>`)."""
        return self.client.get(f"/apis/batch/v1/namespaces/{_q(namespace)}/jobs/{_q(name)}")

    def list_nodeclaims(self, label_selector: str | None = None) -> list[dict[str, Any]] | None:
        """karpenter.sh/v1 NodeClaims (cluster-scoped; what gpu-provisioner and karpenter create for
        a workspace), or None when the cluster does not serve them (BYO nodes, or no provisioner)."""
        query = {"labelSelector": label_selector} if label_selector else None
        try:
            return list(self.client.list("/apis/karpenter.sh/v1/nodeclaims", query).get("items") or [])
        except NotFoundError:
            return None

    def secret_exists(self, name: str, namespace: str) -> bool:
        """Whether a Secret exists. Its data is dropped here and never leaves this function."""
        try:
            self.client.get(_core(namespace, "secrets", name))
        except NotFoundError:
            return False
        return True

    def pod_proxy_path(self, namespace: str, pod: str, port: str | int, path: str = "") -> str:
        """The API server's pod-proxy path: /api/v1/namespaces/N/pods/NAME:PORT/proxy/PATH (reaches a
        pod that is not ready yet, which a Service's proxy cannot)."""
        rest = path.lstrip("/")
        return f"{_core(namespace, 'pods')}/{_q(pod)}:{_q(str(port))}/proxy/{rest}"

    # -- InferenceSets and the Gateway API Inference Extension (issue 14) ---------------------------

    def inferenceset_version(self) -> str:
        """The InferenceSet API version served: v1beta1 (KAITO v0.11+), else v1alpha1 (v0.8-v0.10, behind the
        enableInferenceSetController gate); ProviderNotInstalledError naming the KAITO version needed when
        neither serves inferencesets. Discovery, asked at most once per process."""
        if self._inferenceset_version is not None:
            return self._inferenceset_version
        group_served = False
        for version in kaito.VERSIONS:
            try:
                resources = self.kaito_resources(version)
            except NotFoundError:
                continue
            group_served = True
            names = {r.get("name") for r in resources.get("resources") or [] if isinstance(r, dict)}
            if kaito.IS_PLURAL in names:
                self._inferenceset_version = version
                return version
        if not group_served:
            raise ProviderNotInstalledError(
                "KAITO is not installed in this cluster (the kaito.sh API group is not served)",
                hint="install it with: kubectl kaito install-provider",
                details={"server": self.server},
            )
        raise ProviderNotInstalledError(
            "this cluster's KAITO does not serve InferenceSets (inferencesets.kaito.sh): they need KAITO v0.8 "
            "or later with the enableInferenceSetController feature gate, or v0.11 or later (on by default)",
            hint="upgrade KAITO with: kubectl kaito install-provider; or deploy without --replicas (one Workspace)",
            details={"server": self.server, "resource": "inferencesets.kaito.sh", "kaitoVersionNeeded": "0.8"},
        )

    def _inferenceset_path(self, namespace: str | None, name: str | None = None, sub: str | None = None) -> str:
        """/apis/kaito.sh/<served version>/namespaces/N/inferencesets[/NAME[/SUB]] (None = all namespaces)."""
        base = f"/apis/{_q(kaito.GROUP)}/{_q(self.inferenceset_version())}"
        path = f"{base}/namespaces/{_q(namespace)}/{kaito.IS_PLURAL}" if namespace else f"{base}/{kaito.IS_PLURAL}"
        if name:
            path = f"{path}/{_q(name)}"
            if sub:
                path = f"{path}/{_q(sub)}"
        return path

    def _missing_inferenceset(self, e: NotFoundError, name: str, ns: str) -> NotFoundError:
        return NotFoundError(
            f'inferenceset "{name}" not found in namespace "{ns}"',
            hint=f"list the workspaces and inference sets with: kubectl kaito status -n {ns}",
            details={**e.details, "name": name, "namespace": ns, "kind": kaito.IS_KIND},
        )

    def get_inferenceset(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """One InferenceSet; NotFoundError names it and the namespace."""
        ns = namespace or self.namespace
        try:
            return self.client.get(self._inferenceset_path(ns, name))
        except NotFoundError as e:
            raise self._missing_inferenceset(e, name, ns) from None

    def find_inferenceset(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The InferenceSet called `name`, or None when there is none or the cluster serves none."""
        from kubectl_kaito.errors import ForbiddenError  # noqa: PLC0415

        try:
            return self.get_inferenceset(name, namespace)
        except (NotFoundError, ProviderNotInstalledError, ForbiddenError):
            return None  # the caller's own error (e.g. the workspace's NotFound) says more

    def workspace_or_set(self, name: str, namespace: str | None = None) -> tuple[dict[str, Any], bool]:
        """The Workspace `name`, else the InferenceSet of that name: (the object, whether it is a set). Neither:
        the Workspace's NotFoundError (what every command says of a name it cannot find)."""
        try:
            return self.get_workspace(name, namespace), False
        except NotFoundError:
            iset = self.find_inferenceset(name, namespace)
            if iset is None:
                raise
            return iset, True

    def list_inferencesets(
        self, namespace: str | None = None, *, all_namespaces: bool = False, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """InferenceSets in `namespace` (default: the current one) or all namespaces; [] when not served."""
        try:
            path = self._inferenceset_path(None if all_namespaces else (namespace or self.namespace))
        except ProviderNotInstalledError:
            return []
        query = {"labelSelector": label_selector} if label_selector else None
        return list(self.client.list(path, query).get("items") or [])

    def create_inferenceset(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST an InferenceSet at the served version (the object's apiVersion follows it)."""
        ns = (obj.get("metadata") or {}).get("namespace") or self.namespace
        version = self.inferenceset_version()
        body = dict(obj, apiVersion=f"{kaito.GROUP}/{version}")
        return self.client.create(self._inferenceset_path(ns), body, dry_run=dry_run)

    def delete_inferenceset(self, name: str, namespace: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """DELETE an InferenceSet (KAITO deletes its replica Workspaces); NotFoundError names it."""
        ns = namespace or self.namespace
        try:
            return self.client.delete(self._inferenceset_path(ns, name), dry_run=dry_run)
        except NotFoundError as e:
            raise self._missing_inferenceset(e, name, ns) from None

    def get_inferenceset_scale(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The autoscaling/v1 Scale of an InferenceSet (its scale subresource)."""
        ns = namespace or self.namespace
        try:
            return self.client.get(self._inferenceset_path(ns, name, "scale"))
        except NotFoundError as e:
            raise self._missing_inferenceset(e, name, ns) from None

    def scale_inferenceset(
        self, name: str, replicas: int, namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Set spec.replicas through the scale subresource (a merge patch, as `kubectl scale` sends)."""
        ns = namespace or self.namespace
        try:
            return self.client.patch(
                self._inferenceset_path(ns, name, "scale"), {"spec": {"replicas": replicas}}, dry_run=dry_run
            )
        except NotFoundError as e:
            raise self._missing_inferenceset(e, name, ns) from None

    def watch_inferencesets(
        self, namespace: str, *, name: str | None = None, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Watch InferenceSets in `namespace`, or the one called `name`."""
        query = {"fieldSelector": f"metadata.name={name}"} if name else None
        return self.client.watch(self._inferenceset_path(namespace), query, timeout=timeout)

    def inferenceset_replicas(self, name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The replica Workspaces of an InferenceSet (label inferenceset.kaito.sh/created-by=<name>)."""
        return self.list_workspaces(namespace, label_selector=f"{kaito.LABEL_CREATED_BY_IS}={name}")

    def _gateway_list(self, group: str, plural: str, namespace: str) -> list[dict[str, Any]]:
        """Objects of a Gateway API type at its v1 version; [] when the group is not served."""
        path = f"/apis/{_q(group)}/v1/namespaces/{_q(namespace)}/{_q(plural)}"
        try:
            return list(self.client.list(path).get("items") or [])
        except NotFoundError:
            return []

    def list_inferencepools(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """InferencePools (inference.networking.k8s.io/v1); [] when the Inference Extension is absent."""
        return self._gateway_list(kaito.INFERENCE_POOL_GROUP, "inferencepools", namespace or self.namespace)

    def list_httproutes(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """HTTPRoutes (gateway.networking.k8s.io/v1); [] when the Gateway API is absent."""
        return self._gateway_list(kaito.GATEWAY_GROUP, "httproutes", namespace or self.namespace)

    def get_gateway(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """One Gateway (gateway.networking.k8s.io/v1), or None when absent."""
        path = f"/apis/{_q(kaito.GATEWAY_GROUP)}/v1/namespaces/{_q(namespace or self.namespace)}/gateways/{_q(name)}"
        try:
            return self.client.get(path)
        except NotFoundError:
            return None
