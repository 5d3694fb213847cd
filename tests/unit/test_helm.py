"""helm.py (argv building, validation, running) and provider.py's pure readers, without a cluster."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from kubectl_kaito import helm, provider
from kubectl_kaito.errors import ExitCode, HelmFailedError, UsageError
from tests.fixtures import fake_helm

BASE = [
    "helm",
    "upgrade",
    "--install",
    "kaito-workspace",
    "kaito/workspace",
    "--namespace",
    "kaito-workspace",
    "--create-namespace",
]


# ---- argument lists ----------------------------------------------------------------


def test_default_install_is_the_documented_three_commands() -> None:
    assert helm.install_commands(helm.InstallOptions()) == [
        ["helm", "repo", "add", "kaito", "https://kaito-project.github.io/kaito/charts/kaito"],
        ["helm", "repo", "update", "kaito"],
        [*BASE, "--wait"],
    ]


@pytest.mark.parametrize(
    ("opts", "extra"),
    [
        (helm.InstallOptions(chart_version="0.12.0"), ["--version", "0.12.0", "--wait"]),
        (helm.InstallOptions(cluster_name="my-aks"), ["--set-string", "clusterName=my-aks", "--wait"]),
        (
            helm.InstallOptions(byo_nodes=True),
            ["--set", "featureGates.disableNodeAutoProvisioning=true", "--set", "nodeProvisioner=byo", "--wait"],
        ),
        (helm.InstallOptions(set_values=("a=1", "b.c=x")), ["--set", "a=1", "--set", "b.c=x", "--wait"]),
        (
            helm.InstallOptions(values_files=("v1.yaml", "v2.yaml")),
            ["--values", "v1.yaml", "--values", "v2.yaml", "--wait"],
        ),
        (helm.InstallOptions(take_ownership=True), ["--wait", "--take-ownership"]),
        (
            helm.InstallOptions(kubeconfig="/k", kube_context="ctx"),
            ["--wait", "--kubeconfig", "/k", "--kube-context", "ctx"],
        ),
    ],
)
def test_each_flag_lands_in_the_install_argv(opts: helm.InstallOptions, extra: list[str]) -> None:
    assert helm.install_argv(opts) == [*BASE, *extra]


def test_all_flags_together_in_a_stable_order_user_set_last() -> None:
    opts = helm.InstallOptions(
        chart_version="0.12.0",
        namespace="kaito",
        cluster_name="c1",
        byo_nodes=True,
        set_values=("nodeProvisioner=karpenter",),
        values_files=("v.yaml",),
        kubeconfig="/k",
        kube_context="ctx",
        take_ownership=True,
    )
    assert helm.install_argv(opts) == [
        "helm",
        "upgrade",
        "--install",
        "kaito-workspace",
        "kaito/workspace",
        "--namespace",
        "kaito",
        "--create-namespace",
        "--version",
        "0.12.0",
        "--set-string",
        "clusterName=c1",
        "--set",
        "featureGates.disableNodeAutoProvisioning=true",
        "--set",
        "nodeProvisioner=byo",
        "--values",
        "v.yaml",
        "--set",
        "nodeProvisioner=karpenter",
        "--wait",
        "--take-ownership",
        "--kubeconfig",
        "/k",
        "--kube-context",
        "ctx",
    ]


def test_repo_commands_never_take_kube_flags() -> None:
    cmds = helm.install_commands(helm.InstallOptions(kubeconfig="/k", kube_context="ctx"))
    assert "--kubeconfig" not in cmds[0] and "--kubeconfig" not in cmds[1]


def test_uninstall_argv() -> None:
    assert helm.uninstall_argv() == ["helm", "uninstall", "kaito-workspace", "--namespace", "kaito-workspace"]
    assert helm.uninstall_argv("kaito-workspace", "ns", "/k", "c") == [
        "helm",
        "uninstall",
        "kaito-workspace",
        "--namespace",
        "ns",
        "--kubeconfig",
        "/k",
        "--kube-context",
        "c",
    ]


def test_formatted_commands_paste_back_to_the_same_argv() -> None:
    opts = helm.InstallOptions(set_values=("msg=hello world", "x=$(rm -rf ~)", "q='a'"), kubeconfig="/my dir/k")
    lines = helm.format_commands(helm.install_commands(opts)).splitlines()
    assert len(lines) == 3
    assert [shlex.split(line) for line in lines] == helm.install_commands(opts)
    assert lines[0] == "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito"


def test_subcommand_names() -> None:
    assert helm.subcommand(helm.repo_add_argv()) == "repo add"
    assert helm.subcommand(helm.install_argv(helm.InstallOptions())) == "upgrade"
    assert helm.subcommand(helm.uninstall_argv()) == "uninstall"


# ---- validation and versions ------------------------------------------------------------


@pytest.mark.parametrize("value", ["a=1", "featureGates.vLLM=false", "tolerations[0].key=x", "a=", "a=b=c"])
def test_valid_set_values(value: str) -> None:
    assert helm.validate_set(value) == value


@pytest.mark.parametrize("value", ["novalue", "=1", "a b=1", ""])
def test_invalid_set_values_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError) as exc:
        helm.validate_set(value)
    assert exc.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("name", ["my-aks", "123", "a.b_c"])
def test_valid_cluster_names(name: str) -> None:
    assert helm.validate_cluster_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a b", "a,b", "x" * 64])
def test_invalid_cluster_names(name: str) -> None:
    with pytest.raises(UsageError):
        helm.validate_cluster_name(name)


def test_chart_version_must_not_be_blank() -> None:
    assert helm.validate_chart_version("0.12.0") == "0.12.0"
    with pytest.raises(UsageError):
        helm.validate_chart_version(" ")


@pytest.mark.parametrize(
    ("text", "parsed", "short", "takes"),
    [
        ("v3.17.3+ge4da497", (3, 17, 3), "v3.17.3", True),
        ("v3.16.4+g7877b45", (3, 16, 4), "v3.16.4", False),
        ("v4.0.0+g1234567", (4, 0, 0), "v4.0.0", True),
        (
            'version.BuildInfo{Version:"v3.18.1", GitCommit:"x", GitTreeState:"clean", GoVersion:"go1.24"}',
            (3, 18, 1),
            "v3.18.1",
            True,
        ),
        ("v2.17.0", (2, 17, 0), "v2.17.0", False),
        ("", None, None, False),
        ("garbage", None, "garbage", False),
    ],
)
def test_helm_versions(text: str, parsed: tuple[int, int, int] | None, short: str | None, takes: bool) -> None:
    assert helm.parse_version(text) == parsed
    assert helm.short_version(text) == short
    assert helm.supports_take_ownership(text) is takes


def test_missing_helm_error_names_the_install_page_and_the_commands() -> None:
    cmds = helm.install_commands(helm.InstallOptions())
    err = helm.missing_helm_error(cmds)
    assert err.message == "helm is not installed or not on PATH"
    assert err.exit_code == ExitCode.ERROR
    assert "https://helm.sh/docs/intro/install/" in (err.hint or "")
    assert (err.hint or "").endswith("or run these commands yourself:\n" + helm.format_commands(cmds))
    assert err.to_dict()["details"]["commands"][1] == "helm repo update kaito"


# ---- running helm (the fake) ------------------------------------------------------------------


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = fake_helm.install(tmp_path / "bin")
    log = tmp_path / "helm.log"
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    monkeypatch.setenv("PATH", f"{path.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for var in ("FAKE_HELM_FAIL", "FAKE_HELM_FAIL_CODE", "FAKE_HELM_FAIL_STDERR", "FAKE_HELM_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return log


def test_run_forwards_output_and_records_the_exact_argv(fake: Path) -> None:
    out: list[str] = []
    err: list[str] = []
    argv = helm.install_argv(helm.InstallOptions(set_values=("a=b c",)))
    helm.run(str(helm.find_helm()), argv, on_stdout=out.append, on_stderr=err.append)
    assert fake_helm.recorded(fake) == [argv[1:]]
    assert out[0] == 'Release "kaito-workspace" does not exist. Installing it now.'
    assert "STATUS: deployed" in out
    assert err == []


def test_run_failure_carries_exit_code_and_stderr(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_HELM_FAIL", "upgrade")
    monkeypatch.setenv("FAKE_HELM_FAIL_CODE", "7")
    err: list[str] = []
    with pytest.raises(HelmFailedError) as exc:
        helm.run(
            str(helm.find_helm()),
            helm.install_argv(helm.InstallOptions()),
            on_stdout=lambda _: None,
            on_stderr=err.append,
        )
    assert err == ["Error: UPGRADE FAILED: context deadline exceeded"]
    assert exc.value.exit_code == ExitCode.ERROR
    assert exc.value.code == "HELM_FAILED"
    assert exc.value.message == "helm upgrade failed with exit code 7: Error: UPGRADE FAILED: context deadline exceeded"
    assert exc.value.details["exitCode"] == 7


def test_helm_info_reads_the_short_version(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_HELM_VERSION", "v3.16.4")
    info = helm.helm_info()
    assert (info.available, info.version) == (True, "v3.16.4")
    assert info.to_dict() == {"available": True, "version": "v3.16.4"}
    assert fake_helm.recorded(fake) == [["version", "--short"]]


def test_release_status_reads_helm_list(fake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_HELM_CHART_VERSION", "0.12.1")
    opts = helm.InstallOptions(kubeconfig="/k/config", kube_context="dev")
    assert helm.release_status(str(helm.find_helm()), opts) == ("0.12.1", "deployed")
    assert fake_helm.recorded(fake) == [helm.list_argv(opts)]
    assert helm.list_argv(opts)[:4] == ["list", "--namespace", "kaito-workspace", "--filter"]
    monkeypatch.setenv("FAKE_HELM_FAIL", "list")
    assert helm.release_status(str(helm.find_helm()), opts) == (None, None)  # helm cannot say: not an error


def test_helm_info_without_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert helm.find_helm() is None
    assert helm.helm_info().to_dict() == {"available": False, "version": None}


def test_fake_helm_long_version_is_buildinfo(fake: Path) -> None:
    import subprocess

    out = subprocess.run([sys.executable, fake_helm.__file__, "version"], capture_output=True, text=True).stdout
    assert out.startswith('version.BuildInfo{Version:"v3.17.3"')


# ---- provider.py: pure readers ------------------------------------------------------------------


def _deployment(
    labels: dict[str, str] | None = None,
    ready: int = 1,
    desired: int | None = 1,
    image: str = "mcr.microsoft.com/aks/kaito/workspace:0.12.0",
) -> dict:
    spec: dict = {"template": {"spec": {"containers": [{"name": "workspace", "image": image}]}}}
    if desired is not None:
        spec["replicas"] = desired
    return {"metadata": {"labels": labels or {}}, "spec": spec, "status": {"readyReplicas": ready}}


def test_chart_version_prefers_the_helm_chart_label() -> None:
    assert provider.chart_version(_deployment({"helm.sh/chart": "workspace-0.12.0"})) == "0.12.0"
    assert provider.chart_version(_deployment({"helm.sh/chart": "workspace-0.13.0-rc.1"})) == "0.13.0-rc.1"
    assert provider.chart_version(_deployment({"app.kubernetes.io/version": "0.11.1"})) == "0.11.1"
    assert provider.chart_version(_deployment({})) == "0.12.0"  # the image tag, last resort
    assert provider.chart_version(_deployment({}, image="reg:5000/kaito/workspace@sha256:abc")) is None


def test_replicas_default_desired_to_one() -> None:
    assert provider.replicas(_deployment(ready=0, desired=None)) == (0, 1)
    assert provider.replicas(_deployment(ready=2, desired=2)) == (2, 2)


def test_crd_and_discovery_versions() -> None:
    crd = {
        "spec": {
            "versions": [
                {"name": "v1alpha1", "served": True},
                {"name": "v1beta1", "served": True},
                {"name": "v1", "served": False},
            ]
        }
    }
    assert provider.crd_served_versions(crd) == ["v1alpha1", "v1beta1"]
    group = {"versions": [{"groupVersion": "kaito.sh/v1beta1", "version": "v1beta1"}]}
    assert provider.discovery_versions(group) == ["v1beta1"]
    assert provider.serves_workspaces({"resources": [{"name": "workspaces"}, {"name": "workspaces/status"}]})
    assert not provider.serves_workspaces({"resources": [{"name": "inferencesets"}]})
    assert provider.preferred_version(["v1alpha1", "v1beta1"]) == "v1beta1"
    assert provider.preferred_version(["v1alpha1"]) == "v1alpha1"


def _status(**kw: object) -> provider.ProviderStatus:
    base = dict(
        namespace="kaito-workspace",
        crd_installed=True,
        crd_versions=["v1alpha1", "v1beta1"],
        operator_installed=True,
        ready_replicas=1,
        desired_replicas=1,
        version="0.12.0",
        workspaces=2,
        helm_available=True,
        helm_version="v3.17.3",
    )
    base.update(kw)
    return provider.ProviderStatus(**base)  # type: ignore[arg-type]  # a dict of mixed values as keywords


def test_installed_and_ready_has_no_error_and_the_seed_shape() -> None:
    st = _status()
    assert provider.assess(st) is None
    assert st.to_dict() == {
        "installed": True,
        "ready": True,
        "crdInstalled": True,
        "crdVersions": ["v1alpha1", "v1beta1"],
        "operatorInstalled": True,
        "operatorReady": True,
        "operatorReplicas": {"ready": 1, "desired": 1},
        "version": "0.12.0",
        "helm": {"available": True, "version": "v3.17.3"},
        "namespace": "kaito-workspace",
        "deployment": "kaito-workspace",
        "workspaces": 2,
    }
    assert provider.render_text(st).splitlines() == [
        "KAITO:       installed, ready",
        "Version:     0.12.0",
        "CRD:         workspaces.kaito.sh (served: v1alpha1, v1beta1)",
        "Operator:    deployment kaito-workspace/kaito-workspace, 1/1 ready",
        "Workspaces:  2",
        "Helm:        v3.17.3",
    ]


def test_not_installed_is_exit_3() -> None:
    st = _status(
        crd_installed=False,
        crd_versions=[],
        operator_installed=False,
        ready_replicas=None,
        desired_replicas=None,
        version=None,
        workspaces=None,
        helm_available=False,
        helm_version=None,
    )
    err = provider.assess(st)
    assert err is not None and err.exit_code == ExitCode.NOT_FOUND and err.code == "PROVIDER_NOT_INSTALLED"
    assert st.to_dict()["installed"] is False
    text = provider.render_text(st)
    assert "KAITO:       not installed" in text
    assert "Helm:        not found on PATH (install: https://helm.sh/docs/intro/install/)" in text


def test_operator_missing_or_not_ready_is_exit_4() -> None:
    missing = provider.assess(_status(operator_installed=False))
    assert missing is not None and missing.exit_code == ExitCode.NOT_READY
    assert "kaito-workspace/kaito-workspace was not found" in missing.message
    st = _status(ready_replicas=0, desired_replicas=1)
    not_ready = provider.assess(st)
    assert not_ready is not None and not_ready.exit_code == ExitCode.NOT_READY
    assert "(0/1 replicas ready)" in not_ready.message
    assert st.to_dict()["installed"] is True and st.to_dict()["ready"] is False
    assert provider.assess(_status(ready_replicas=0, desired_replicas=0)) is not None  # scaled to zero


def test_operator_unknown_is_not_an_error() -> None:
    st = _status(operator_installed=None, ready_replicas=None, desired_replicas=None)
    assert provider.assess(st) is None
    assert st.to_dict()["operatorReady"] is None
    assert "could not be read" in provider.render_text(st)


# ---- provider.probe over a stand-in API (RBAC cases the simulator does not model) --------------------


CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/workspaces.kaito.sh"


class _API:
    """A stand-in client under the real resources layer: answers GET/LIST by path from a dict;
    a value that is an exception class is raised."""

    namespace = "default"
    server = "https://stand-in"

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.paths: list[str] = []

    def _answer(self, path: str) -> dict:
        from kubectl_kaito.errors import NotFoundError

        self.paths.append(path)
        value = self.answers.get(path, NotFoundError)
        if isinstance(value, type) and issubclass(value, Exception):
            raise value(f"{path}: refused")
        return value  # type: ignore[return-value]  # a canned answer of the fake API

    def get(self, path: str, query: dict | None = None) -> dict:
        return self._answer(path)

    def list(self, path: str, query: dict | None = None) -> dict:
        return self._answer(path)


def _resources(api: _API) -> Any:
    from kubectl_kaito.resources import Resources

    return Resources(api)  # type: ignore[arg-type]  # a fake API standing in for the Client


def test_probe_falls_back_to_discovery_when_crds_may_not_be_read() -> None:
    from kubectl_kaito.errors import ForbiddenError

    api = _API(
        {
            CRD_PATH: ForbiddenError,
            "/apis/kaito.sh": {"versions": [{"version": "v1beta1"}, {"version": "v1alpha1"}]},
            "/apis/kaito.sh/v1beta1": {"resources": [{"name": "workspaces"}]},
            "/apis/kaito.sh/v1alpha1": {"resources": [{"name": "workspaces"}]},
            "/apis/apps/v1/namespaces/kaito-workspace/deployments/kaito-workspace": ForbiddenError,
            "/apis/kaito.sh/v1beta1/workspaces": ForbiddenError,
        }
    )
    st = provider.probe(_resources(api), "kaito-workspace")
    assert (st.crd_installed, st.crd_versions, st.crd_source) == (True, ["v1beta1", "v1alpha1"], "discovery")
    assert st.operator_installed is None and st.workspaces is None
    assert len(st.notes) == 2
    assert provider.assess(st) is None  # the CRD is served; the operator could not be checked


def test_probe_reads_crd_deployment_and_count() -> None:
    api = _API(
        {
            CRD_PATH: {
                "spec": {"versions": [{"name": "v1alpha1", "served": True}, {"name": "v1beta1", "served": True}]}
            },
            "/apis/apps/v1/namespaces/kaito/deployments/kaito-workspace": _deployment(
                {"helm.sh/chart": "workspace-0.12.0"}, ready=0, desired=1
            ),
            "/apis/kaito.sh/v1beta1/workspaces": {"items": [{}, {}, {}]},
        }
    )
    st = provider.probe(_resources(api), "kaito")
    assert (st.version, st.workspaces, st.ready_replicas, st.desired_replicas) == ("0.12.0", 3, 0, 1)
    assert st.operator_ready is False
    assert api.paths[-1] == "/apis/kaito.sh/v1beta1/workspaces"


def test_probe_without_kaito_makes_no_workspace_list() -> None:
    api = _API({})
    st = provider.probe(_resources(api), "kaito-workspace")
    assert (st.crd_installed, st.operator_installed, st.workspaces) == (False, False, None)
    assert not any(p.endswith("/workspaces") for p in api.paths)
