"""Is KAITO (the "provider") installed and ready? The probe behind `install-provider --status`.

Reads, through the resources layer only: the `workspaces.kaito.sh` CRD (falling back to API
discovery when the CRD itself may not be read), the operator Deployment `kaito-workspace`
in the release namespace, and the number of Workspaces. The shapes follow seed 001's
`/installation/providers/:id/status` and `/installation/helm/status`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_kaito import kaito, output
from kubectl_kaito.errors import (
    ForbiddenError,
    NotFoundError,
    NotReadyError,
    OperatorNotReadyError,
    ProviderStatusNotInstalledError,
)

if TYPE_CHECKING:
    from kubectl_kaito.helm import HelmInfo
    from kubectl_kaito.resources import Resources

CRD_NAME = f"{kaito.PLURAL}.{kaito.GROUP}"
CHART_NAME = "workspace"  # the chart's name: the Deployment's helm.sh/chart label is "workspace-0.12.0"
_CHART_LABEL = re.compile(r"^(?P<name>.+?)-(?P<version>v?\d+\.\d+.*)$")


@dataclass
class ProviderStatus:
    """What the probe found; None means "could not tell" (e.g. RBAC forbade the read)."""

    namespace: str
    deployment: str = kaito.OPERATOR_DEPLOYMENT
    crd_installed: bool = False
    crd_versions: list[str] = field(default_factory=list)
    crd_source: str = "crd"  # "crd" or "discovery" (the CRD could not be read)
    operator_installed: bool | None = None
    ready_replicas: int | None = None
    desired_replicas: int | None = None
    version: str | None = None
    workspaces: int | None = None
    helm_available: bool = False
    helm_version: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def operator_ready(self) -> bool | None:
        """All desired replicas ready (None when the Deployment could not be read)."""
        if self.operator_installed is None:
            return None
        if not self.operator_installed:
            return False
        return bool(self.desired_replicas) and (self.ready_replicas or 0) >= (self.desired_replicas or 0)

    @property
    def installed(self) -> bool:
        """The CRD is there and the operator is not known to be missing."""
        return self.crd_installed and self.operator_installed is not False

    @property
    def ready(self) -> bool:
        """Installed, and the operator is ready (or could not be checked)."""
        return self.installed and self.operator_ready is not False

    def to_dict(self) -> dict[str, Any]:
        """The `-o json` object (seed 001's provider status, plus helm and details)."""
        return {
            "installed": self.installed,
            "ready": self.ready,
            "crdInstalled": self.crd_installed,
            "crdVersions": list(self.crd_versions),
            "operatorInstalled": self.operator_installed,
            "operatorReady": self.operator_ready,
            "operatorReplicas": {"ready": self.ready_replicas, "desired": self.desired_replicas},
            "version": self.version,
            "helm": {"available": self.helm_available, "version": self.helm_version},
            "namespace": self.namespace,
            "deployment": self.deployment,
            "workspaces": self.workspaces,
        }


# ---- pure readers ---------------------------------------------------------------------


def crd_served_versions(crd: dict[str, Any]) -> list[str]:
    """The versions a CRD serves, in the CRD's own order."""
    versions = (crd.get("spec") or {}).get("versions") or []
    return [str(v.get("name")) for v in versions if v.get("name") and v.get("served", True)]


def discovery_versions(group: dict[str, Any]) -> list[str]:
    """The versions of an `/apis/kaito.sh` APIGroup document."""
    return [str(v.get("version")) for v in group.get("versions") or [] if v.get("version")]


def serves_workspaces(resource_list: dict[str, Any]) -> bool:
    """Whether an APIResourceList (`/apis/kaito.sh/<v>`) has the workspaces resource."""
    return any(r.get("name") == kaito.PLURAL for r in resource_list.get("resources") or [])


def replicas(deployment: dict[str, Any]) -> tuple[int, int]:
    """(ready, desired) replicas of a Deployment; desired defaults to 1 like the API server's."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = spec.get("replicas")
    return int(status.get("readyReplicas") or 0), int(1 if desired is None else desired)


def chart_version(deployment: dict[str, Any]) -> str | None:
    """The installed chart version: `helm.sh/chart` (workspace-0.12.0), else app version, else image tag."""
    meta = deployment.get("metadata") or {}
    labels = meta.get("labels") or {}
    m = _CHART_LABEL.match(str(labels.get("helm.sh/chart") or ""))
    if m:
        return m.group("version")
    app_version = labels.get("app.kubernetes.io/version")
    if app_version:
        return str(app_version)
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    for c in containers:
        image = str(c.get("image") or "")
        tail = image.rsplit("/", 1)[-1]
        if ":" in tail and "@" not in tail:
            return tail.rsplit(":", 1)[1]
    return None


def preferred_version(versions: list[str]) -> str | None:
    """v1beta1 when served, else the first served version."""
    for v in kaito.VERSIONS:
        if v in versions:
            return v
    return versions[0] if versions else None


def assess(st: ProviderStatus) -> NotFoundError | NotReadyError | None:
    """The error that sets the exit code: 3 not installed, 4 operator missing/not ready, else None."""
    if not st.crd_installed:
        return ProviderStatusNotInstalledError(
            f"KAITO is not installed: the {CRD_NAME} CRD was not found",
            hint="install it with `kubectl kaito install-provider` (see --dry-run for the helm commands)",
            details={"crd": CRD_NAME},
        )
    where = f"{st.namespace}/{st.deployment}"
    if st.operator_installed is False:
        return OperatorNotReadyError(
            f"the {CRD_NAME} CRD is installed but the KAITO operator Deployment {where} was not found",
            hint="KAITO may be installed under another release or namespace (try -n); "
            "else reinstall it with `kubectl kaito install-provider`",
            details={"namespace": st.namespace, "deployment": st.deployment},
        )
    if st.operator_ready is False:
        return OperatorNotReadyError(
            f"the KAITO operator Deployment {where} is not ready "
            f"({st.ready_replicas or 0}/{st.desired_replicas} replicas ready)",
            hint=f"see `kubectl -n {st.namespace} describe deployment {st.deployment}` and its pods",
            details={"namespace": st.namespace, "deployment": st.deployment},
        )
    return None


def render_text(st: ProviderStatus) -> str:
    """A small key/value block for humans."""
    from kubectl_kaito.helm import HELM_INSTALL_URL  # noqa: PLC0415  (light; kept local to avoid a cycle)

    if not st.crd_installed:
        state = "not installed"
    elif st.operator_installed is False:
        state = "CRD installed, operator missing"
    elif st.operator_ready is False:
        state = "installed, operator not ready"
    elif st.operator_ready is None:
        state = "installed (operator not checked)"
    else:
        state = "installed, ready"
    crd = f"{CRD_NAME} (served: {', '.join(st.crd_versions)})" if st.crd_installed else f"{CRD_NAME} not found"
    where = f"deployment {st.namespace}/{st.deployment}"
    if st.operator_installed is None:
        operator = f"{where}: could not be read"
    elif not st.operator_installed:
        operator = f"{where} not found"
    else:
        word = "ready" if st.operator_ready else "not ready"
        operator = f"{where}, {st.ready_replicas or 0}/{st.desired_replicas} {word}"
    helm = (
        (st.helm_version or "available, version unknown")
        if st.helm_available
        else f"not found on PATH (install: {HELM_INSTALL_URL})"
    )
    rows = [
        ("KAITO", state),
        ("Version", st.version or "-"),
        ("CRD", crd),
        ("Operator", operator),
        ("Workspaces", "-" if st.workspaces is None else str(st.workspaces)),
        ("Helm", helm),
    ]
    return output.block(rows)


# ---- cluster reads --------------------------------------------------------------------------


def _crd(cluster: Resources, st: ProviderStatus) -> None:
    try:
        crd = cluster.get_crd(CRD_NAME)
    except NotFoundError:
        return
    except ForbiddenError:
        # Reading CRDs is cluster-scoped RBAC many users lack; discovery is open to every user.
        st.crd_source = "discovery"
        _discover(cluster, st)
        return
    st.crd_installed = True
    st.crd_versions = crd_served_versions(crd)


def _discover(cluster: Resources, st: ProviderStatus) -> None:
    try:
        group = cluster.kaito_group()
    except NotFoundError:
        return
    for version in discovery_versions(group):
        try:
            if serves_workspaces(cluster.kaito_resources(version)):
                st.crd_versions.append(version)
        except NotFoundError:
            continue
    st.crd_installed = bool(st.crd_versions)


def _operator(cluster: Resources, st: ProviderStatus) -> None:
    try:
        dep = cluster.get_deployment(st.deployment, st.namespace)
    except NotFoundError:
        st.operator_installed = False
        return
    except ForbiddenError:
        st.notes.append(f"not allowed to read deployment {st.namespace}/{st.deployment}; operator readiness unknown")
        return
    st.operator_installed = True
    st.ready_replicas, st.desired_replicas = replicas(dep)
    st.version = chart_version(dep)


def count_workspaces(cluster: Resources, version: str) -> int | None:
    """Workspaces in all namespaces (one LIST); None when RBAC forbids listing them."""
    try:
        return cluster.count_workspaces(version)
    except ForbiddenError:
        return None
    except NotFoundError:  # the CRD went away between the probe and the list
        return 0


def list_workspaces(cluster: Resources) -> list[dict[str, Any]] | None:
    """Every Workspace across namespaces, or None when KAITO's API is not served (nothing to lose)."""
    from kubectl_kaito.errors import ProviderNotInstalledError as NotServed  # noqa: PLC0415

    try:
        cluster.workspace_version()
    except NotServed:
        return None
    try:
        return cluster.list_workspaces(all_namespaces=True)  # the version discovery just confirmed
    except NotFoundError:
        return None


def probe(cluster: Resources, namespace: str, helm: HelmInfo | None = None) -> ProviderStatus:
    """Check the CRD, the operator Deployment in `namespace`, and count the Workspaces."""
    st = ProviderStatus(namespace=namespace)
    if helm is not None:
        st.helm_available, st.helm_version = helm.available, helm.version
    _crd(cluster, st)
    _operator(cluster, st)
    version = preferred_version(st.crd_versions)
    if st.crd_installed and version:
        st.workspaces = count_workspaces(cluster, version)
        if st.workspaces is None:
            st.notes.append("not allowed to list workspaces across namespaces; count unknown")
    return st
