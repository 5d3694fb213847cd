"""`kubectl kaito install-provider`: exact helm argv for every flag, failures, --status and --uninstall.

A recording stand-in named `helm` (tests/fixtures/fake_helm.py) is put first on PATH; it logs
each argv as a JSON line and prints what a real helm prints.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import fake_helm
from tests.helpers import run_cli

REPO_ADD = ["repo", "add", "kaito", "https://kaito-project.github.io/kaito/charts/kaito"]
REPO_UPDATE = ["repo", "update", "kaito"]
UPGRADE = [
    "upgrade",
    "--install",
    "kaito-workspace",
    "kaito/workspace",
    "--namespace",
    "kaito-workspace",
    "--create-namespace",
]
VERSION = ["version", "--short"]


def _list(namespace: str = "kaito-workspace", *kube: str) -> list[str]:
    return ["list", "--namespace", namespace, "--filter", "^kaito-workspace$", "--output", "json", *kube]


@dataclass
class FakeHelm:
    """The fake helm's log and knobs."""

    log: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def calls(self) -> list[list[str]]:
        return fake_helm.recorded(self.log)

    def fail(self, subcommand: str, code: int = 1, stderr: str | None = None) -> None:
        self.monkeypatch.setenv("FAKE_HELM_FAIL", subcommand)
        self.monkeypatch.setenv("FAKE_HELM_FAIL_CODE", str(code))
        if stderr is not None:
            self.monkeypatch.setenv("FAKE_HELM_FAIL_STDERR", stderr)

    def version(self, version: str) -> None:
        self.monkeypatch.setenv("FAKE_HELM_VERSION", version)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHelm:
    """The recording `helm` first on PATH (and no other helm behind it that matters)."""
    path = fake_helm.install(tmp_path / "fakebin")
    log = tmp_path / "helm.log"
    monkeypatch.setenv("PATH", f"{path.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    for var in ("FAKE_HELM_FAIL", "FAKE_HELM_FAIL_CODE", "FAKE_HELM_FAIL_STDERR", "FAKE_HELM_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return FakeHelm(log, monkeypatch)


@pytest.fixture
def no_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with no helm on it."""
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# ---- install: exact argv ---------------------------------------------------------------


def test_default_install_runs_the_three_commands_and_prints_one_result_line(fake: FakeHelm) -> None:
    r = run_cli("install-provider")
    assert r.exit_code == 0, r.stderr
    assert fake.calls == [VERSION, REPO_ADD, REPO_UPDATE, [*UPGRADE, "--wait", "--take-ownership"], _list()]
    assert r.stdout == "kaito-workspace installed (chart kaito/workspace 0.12.0, namespace kaito-workspace)\n"
    # progress: what runs, and helm's own output, on stderr
    assert "running: helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito\n" in r.stderr
    assert '"kaito" has been added to your repositories' in r.stderr
    assert 'Release "kaito-workspace" does not exist. Installing it now.' in r.stderr
    assert "STATUS: deployed" in r.stderr


def test_helm_older_than_3_17_gets_no_take_ownership(fake: FakeHelm) -> None:
    fake.version("v3.16.4")
    r = run_cli("install-provider")
    assert r.exit_code == 0, r.stderr
    assert fake.calls[3] == [*UPGRADE, "--wait"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version", "0.12.0"], [*UPGRADE, "--version", "0.12.0"]),
        (["--cluster-name", "my-aks"], [*UPGRADE, "--set-string", "clusterName=my-aks"]),
        (
            ["--byo-nodes"],
            [*UPGRADE, "--set", "featureGates.disableNodeAutoProvisioning=true", "--set", "nodeProvisioner=byo"],
        ),
        (["--set", "a=1", "--set", "b.c=two words"], [*UPGRADE, "--set", "a=1", "--set", "b.c=two words"]),
        (
            ["--byo-nodes", "--set", "nodeProvisioner=karpenter"],  # the user's --set comes last, so it wins
            [
                *UPGRADE,
                "--set",
                "featureGates.disableNodeAutoProvisioning=true",
                "--set",
                "nodeProvisioner=byo",
                "--set",
                "nodeProvisioner=karpenter",
            ],
        ),
    ],
)
def test_each_flag_reaches_helm_exactly(fake: FakeHelm, args: list[str], expected: list[str]) -> None:
    r = run_cli("install-provider", *args)
    assert r.exit_code == 0, r.stderr
    assert fake.calls == [VERSION, REPO_ADD, REPO_UPDATE, [*expected, "--wait", "--take-ownership"], _list()]


def test_namespace_is_the_release_namespace(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "-n", "kaito")
    assert r.exit_code == 0, r.stderr
    upgrade = [*UPGRADE[:4], "--namespace", "kaito", "--create-namespace", "--wait", "--take-ownership"]
    assert fake.calls[3:] == [upgrade, _list("kaito")]
    assert r.stdout == "kaito-workspace installed (chart kaito/workspace 0.12.0, namespace kaito)\n"
    # the root-level form means the same
    fake.log.unlink()
    assert run_cli("--namespace", "kaito", "install-provider").exit_code == 0
    assert fake.calls[3] == upgrade


def test_values_files_are_passed_in_order(fake: FakeHelm, tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("replicaCount: 1\n")
    b.write_text("clusterName: x\n")
    r = run_cli("install-provider", "--values", str(a), "-f", str(b))
    assert r.exit_code == 0, r.stderr
    assert fake.calls[3] == [*UPGRADE, "--values", str(a), "--values", str(b), "--wait", "--take-ownership"]


def test_kubeconfig_and_context_are_passed_on_to_helm(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "--kubeconfig", "/tmp/my kube", "--context", "prod")
    assert r.exit_code == 0, r.stderr
    kube = ["--kubeconfig", "/tmp/my kube", "--kube-context", "prod"]
    assert fake.calls == [
        VERSION,
        REPO_ADD,
        REPO_UPDATE,
        [*UPGRADE, "--wait", "--take-ownership", *kube],
        _list("kaito-workspace", *kube),
    ]
    # given before the subcommand, too
    fake.log.unlink()
    assert run_cli("--context", "prod", "install-provider").exit_code == 0
    assert fake.calls[3][-2:] == ["--kube-context", "prod"]


def test_everything_at_once(fake: FakeHelm, tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("{}\n")
    r = run_cli(
        "install-provider",
        "--version",
        "0.12.0",
        "-n",
        "kaito",
        "--cluster-name",
        "c1",
        "--byo-nodes",
        "--values",
        str(values),
        "--set",
        "x=1",
        "--kubeconfig",
        "/k",
        "--context",
        "ctx",
        "-o",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    assert fake.calls[3] == [
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
        str(values),
        "--set",
        "x=1",
        "--wait",
        "--take-ownership",
        "--kubeconfig",
        "/k",
        "--kube-context",
        "ctx",
    ]
    out = json.loads(r.stdout)
    assert out["success"] is True
    assert (out["release"], out["namespace"], out["chart"], out["version"], out["status"]) == (
        "kaito-workspace",
        "kaito",
        "kaito/workspace",
        "0.12.0",
        "deployed",
    )


# ---- install: refusals --------------------------------------------------------------------------


def test_missing_values_file_is_a_usage_error_and_runs_nothing(fake: FakeHelm, tmp_path: Path) -> None:
    r = run_cli("install-provider", "--values", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"error: values file '{tmp_path / 'nope.yaml'}' not found\n")
    assert fake.calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "novalue"], "error: invalid --set value 'novalue': expected key=value"),
        (["--cluster-name", "a b"], "error: invalid --cluster-name 'a b'"),
        (["-o", "table"], "error: unknown output format 'table'"),
        (["--status", "--uninstall"], "error: choose one of install, --status or --uninstall"),
        (["status", "--set", "a=b"], "error: --set only applies when installing, not with status"),
        (["--uninstall", "--byo-nodes"], "error: --byo-nodes only applies when installing, not with uninstall"),
        (["--yes"], "error: --yes only applies to --uninstall"),
        (["--status", "--dry-run"], "error: --dry-run applies to installing and uninstalling, not to --status"),
        (["reinstall"], "error: unknown action 'reinstall'"),
    ],
)
def test_bad_flags_are_usage_errors(fake: FakeHelm, args: list[str], message: str) -> None:
    r = run_cli("install-provider", *args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0] == message
    assert fake.calls == []


def test_a_failing_helm_shows_its_stderr_exits_1_and_stops(fake: FakeHelm) -> None:
    fake.fail("repo add", code=1)
    r = run_cli("install-provider")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert 'Error: looks like "https://kaito-project.github.io/kaito/charts/kaito" is not a valid chart' in r.stderr
    assert "error: helm repo add failed with exit code 1: Error: looks like" in r.stderr
    assert fake.calls == [VERSION, REPO_ADD]  # repo update and upgrade never ran


def test_a_failing_upgrade_exits_1_whatever_helms_code_and_json_error(fake: FakeHelm) -> None:
    fake.fail("upgrade", code=7, stderr="Error: INSTALLATION FAILED: cannot re-use a name that is still in use")
    r = run_cli("install-provider", "-o", "json")
    assert r.exit_code == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert "Error: INSTALLATION FAILED: cannot re-use a name that is still in use" in lines
    err = json.loads(lines[-1])
    assert err["code"] == "HELM_FAILED"
    assert err["details"]["exitCode"] == 7
    assert err["details"]["command"].startswith("helm upgrade --install kaito-workspace kaito/workspace")
    assert [c[0] for c in fake.calls] == ["version", "repo", "repo", "upgrade"]


def test_without_helm_the_error_says_how_to_get_it_and_prints_the_commands(no_helm: None) -> None:
    r = run_cli("install-provider", "--version", "0.12.0")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        "error: helm is not installed or not on PATH",
        "hint: install helm (https://helm.sh/docs/intro/install/), or run these commands yourself:",
        "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito",
        "helm repo update kaito",
        "helm upgrade --install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace "
        "--version 0.12.0 --wait",
    ]


# ---- --dry-run ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version", "0.12.0", "--byo-nodes", "--cluster-name", "c1"],
        ["--set", "msg=hello world", "--set", "x=$(id)", "-n", "kaito", "--kubeconfig", "/a b/k", "--context", "c"],
    ],
)
def test_dry_run_prints_exactly_the_commands_a_real_run_runs(fake: FakeHelm, args: list[str]) -> None:
    dry = run_cli("install-provider", *args, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert fake.calls == [VERSION]  # only the local version check, to decide --take-ownership
    printed = [shlex.split(line) for line in dry.stdout.splitlines()]
    fake.log.unlink()
    real = run_cli("install-provider", *args)
    assert real.exit_code == 0, real.stderr
    ran = [["helm", *c] for c in fake.calls[1:4]]
    assert printed == ran


def test_dry_run_lines_are_shell_quoted(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "--set", "msg=hello world", "--dry-run")
    assert r.stdout.splitlines()[2] == (
        "helm upgrade --install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace "
        "--set 'msg=hello world' --wait --take-ownership"
    )
    assert r.stderr == ""


def test_dry_run_json_is_seed_001s_commands_object(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "--dry-run", "-o", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == {
        "commands": [
            "helm repo add kaito https://kaito-project.github.io/kaito/charts/kaito",
            "helm repo update kaito",
            "helm upgrade --install kaito-workspace kaito/workspace --namespace kaito-workspace --create-namespace "
            "--wait --take-ownership",
        ]
    }


def test_dry_run_without_helm_still_prints_the_commands(no_helm: None) -> None:
    r = run_cli("install-provider", "--dry-run")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[2].endswith("--create-namespace --wait")  # unknown helm: no --take-ownership


def test_dry_run_and_help_never_import_the_cluster_module(no_helm: None) -> None:
    code = (
        "import sys; from kubectl_kaito import cli; "
        "rc = cli.main(['install-provider', '--version', '0.12.0', '--dry-run']); "
        "cli.main(['install-provider', '--help']); "
        "print(rc, 'kubectl_kaito.client' in sys.modules, 'kubectl_kaito.provider' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), check=True)
    assert out.stdout.splitlines()[-1] == "0 False False"


def test_uninstall_dry_run(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "--uninstall", "--dry-run", "--kubeconfig", "/k", "--context", "c")
    assert r.exit_code == 0
    assert r.stdout == "helm uninstall kaito-workspace --namespace kaito-workspace --kubeconfig /k --kube-context c\n"
    assert fake.calls == []


def test_help_shows_both_status_forms() -> None:
    r = run_cli("install-provider", "--help")
    assert r.exit_code == 0
    assert "[install|status|uninstall]" in r.stdout
    assert "--status" in r.stdout and "--uninstall" in r.stdout
    assert "Namespace of the KAITO release (default: kaito-" in r.stdout


# ---- --uninstall (the workspace count needs the cluster) -------------------------------------------


def test_uninstall_without_a_terminal_and_without_yes_refuses(fake: FakeHelm) -> None:
    r = run_cli("install-provider", "--uninstall")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0] == (
        "error: refusing to uninstall KAITO without confirmation: stdin is not a terminal"
    )
    assert "every Workspace" in r.stderr and "--yes" in r.stderr
    assert fake.calls == []


def test_uninstall_without_helm_prints_the_command(no_helm: None) -> None:
    r = run_cli("install-provider", "uninstall", "--yes")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == "helm uninstall kaito-workspace --namespace kaito-workspace"


def _seed(sim: Any, *names: tuple[str, str]) -> None:
    for ns, name in names:
        sim.seed_workspace(name, namespace=ns)


def test_uninstall_yes_warns_counts_and_runs_helm_uninstall(fake: FakeHelm, sim: Any) -> None:
    _seed(sim, ("default", "phi"), ("team-a", "llama"))
    r = run_cli("install-provider", "--uninstall", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "kaito-workspace uninstalled (namespace kaito-workspace)\n"
    assert "warning: uninstalling KAITO deletes its CRDs" in r.stderr
    assert "2 Workspaces will be deleted: default/phi, team-a/llama" in r.stderr
    assert fake.calls == [["uninstall", "kaito-workspace", "--namespace", "kaito-workspace"]]
    assert 'release "kaito-workspace" uninstalled' in r.stderr  # helm's own line, as progress


def test_uninstall_on_a_terminal_asks_and_no_means_nothing_runs(fake: FakeHelm, sim: Any) -> None:
    _seed(sim, ("default", "phi"))
    r = run_cli("install-provider", "--uninstall", input="n\n", stdin_tty=True)
    assert r.exit_code == 1
    assert "1 Workspace will be deleted: default/phi" in r.stderr
    assert "Uninstall release kaito-workspace from namespace kaito-workspace? [y/N]: " in r.stderr
    assert "Nothing uninstalled." in r.stderr
    assert r.stdout == ""
    assert fake.calls == []


def test_uninstall_on_a_terminal_yes_runs_helm(fake: FakeHelm, sim: Any) -> None:
    r = run_cli(
        "install-provider", "uninstall", "-n", "kaito", "--context", sim_context(sim), input="yes\n", stdin_tty=True
    )
    assert r.exit_code == 0, r.stderr
    assert "There are no Workspaces in the cluster." in r.stderr
    assert fake.calls == [["uninstall", "kaito-workspace", "--namespace", "kaito", "--kube-context", sim_context(sim)]]


def test_uninstall_failure_shows_helms_stderr(fake: FakeHelm, sim: Any) -> None:
    fake.fail("uninstall")
    r = run_cli("install-provider", "--uninstall", "-y")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert "Error: uninstall: Release not loaded: kaito-workspace: release: not found" in r.stderr
    assert "error: helm uninstall failed with exit code 1" in r.stderr


def sim_context(sim: Any) -> str:
    """The current context of the sim fixture's kubeconfig."""
    import yaml

    cfg = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    return str(cfg["current-context"])


# ---- --status against the simulated cluster -----------------------------------------------------------


def test_status_installed_and_ready_exits_0(fake: FakeHelm, sim: Any) -> None:
    _seed(sim, ("default", "phi"))
    r = run_cli("install-provider", "--status")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "KAITO:       installed, ready"
    assert "CRD:         workspaces.kaito.sh (served: v1alpha1, v1beta1)" in lines
    assert "Operator:    deployment kaito-workspace/kaito-workspace, 1/1 ready" in lines
    assert "Workspaces:  1" in lines
    assert "Helm:        v3.17.3" in lines
    assert r.stderr == ""


def test_status_json_is_one_object(fake: FakeHelm, sim: Any) -> None:
    r = run_cli("install-provider", "status", "-o", "json")
    assert r.exit_code == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["installed"] is True and st["ready"] is True
    assert st["crdInstalled"] is True and st["crdVersions"] == ["v1alpha1", "v1beta1"]
    assert st["operatorInstalled"] is True and st["operatorReady"] is True
    assert st["helm"] == {"available": True, "version": "v3.17.3"}
    assert st["namespace"] == "kaito-workspace"
    assert st["workspaces"] == 0
    assert isinstance(st["version"], str) and st["version"]


def test_status_without_kaito_exits_3_with_the_report(sim_factory: Any, no_helm: None) -> None:
    sim_factory(kaito=False, operator=False)
    r = run_cli("install-provider", "--status", "-o", "json")
    assert r.exit_code == 3
    st = json.loads(r.stdout)
    assert (st["installed"], st["crdInstalled"], st["operatorInstalled"]) == (False, False, False)
    assert st["helm"] == {"available": False, "version": None}
    lines = r.stderr.splitlines()
    assert lines[0] == "error: KAITO is not installed: the workspaces.kaito.sh CRD was not found"
    assert json.loads(lines[-1])["code"] == "PROVIDER_NOT_INSTALLED"


def test_status_after_kaito_is_removed_exits_3(fake: FakeHelm, sim: Any) -> None:
    sim.set_kaito_installed(False)
    r = run_cli("install-provider", "--status")
    assert r.exit_code == 3
    assert r.stdout.splitlines()[0] == "KAITO:       not installed"
    assert "CRD:         workspaces.kaito.sh not found" in r.stdout


def test_status_without_the_operator_exits_4(fake: FakeHelm, sim_factory: Any) -> None:
    sim_factory(operator=False)
    r = run_cli("install-provider", "--status")
    assert r.exit_code == 4
    assert r.stdout.splitlines()[0] == "KAITO:       CRD installed, operator missing"
    assert "Operator:    deployment kaito-workspace/kaito-workspace not found" in r.stdout
    assert r.stderr.startswith(
        "error: the workspaces.kaito.sh CRD is installed but the KAITO operator Deployment "
        "kaito-workspace/kaito-workspace was not found\n"
    )


def test_status_in_another_namespace_finds_no_operator(fake: FakeHelm, sim: Any) -> None:
    r = run_cli("install-provider", "--status", "-n", "elsewhere", "-o", "json")
    assert r.exit_code == 4
    st = json.loads(r.stdout)
    assert (st["namespace"], st["operatorInstalled"], st["installed"]) == ("elsewhere", False, False)
