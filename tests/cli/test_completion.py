"""`kubectl kaito <TAB>`: kubectl 1.26+ runs `kubectl_complete-kaito ARGS... INCOMPLETE` (cobra's format)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kubectl_kaito import completion
from tests.helpers import VENV_BIN, fake_console, subprocess_env

COMMANDS = [
    "deploy",
    "status",
    "get-endpoint",
    "logs",
    "delete",
    "install-provider",
    "models",
    "chat",
    "bench",
    "connect",
    "scale",
    "top",
    "version",
    "help",
    "diagnose",
]


def values(stdout: str) -> list[str]:
    """Candidate values (before the tab), without the trailing `:<directive>` line."""
    lines = stdout.splitlines()
    assert lines and lines[-1] == ":4", stdout  # ShellCompDirectiveNoFileComp, always last
    return [line.split("\t", 1)[0] for line in lines[:-1]]


def run_main(capsys, *words: str) -> str:
    console = fake_console()
    completion.main(list(words), console=console)
    out, err = console.stdout.getvalue(), console.stderr.getvalue()
    assert err == ""  # kubectl shows the plugin's stderr in the middle of the user's prompt
    assert capsys.readouterr() == ("", "")  # and nothing went around the console
    return out


def test_top_level_lists_every_command(capsys):
    out = run_main(capsys, "__complete", "")
    assert sorted(values(out)) == sorted(COMMANDS)
    deploy = next(line for line in out.splitlines() if line.startswith("deploy\t"))
    assert deploy.split("\t")[1]  # with a description


def test_prefix_filters(capsys):
    assert values(run_main(capsys, "de")) == ["deploy", "delete"]
    assert values(run_main(capsys, "get-endpoint", "--work")) == ["--workspace-name"]
    assert values(run_main(capsys, "models", "")) == ["list", "describe"]


def test_no_descriptions_when_asked(capsys):
    out = run_main(capsys, "__completeNoDesc", "")
    assert "\t" not in out
    assert sorted(values(out)) == sorted(COMMANDS)


def test_descriptions_are_one_line(capsys):
    """cobra keeps only a description's first line, and a tab inside one would split the value."""
    out = run_main(capsys, "deploy", "--")
    lines = out.splitlines()
    assert "--model" in values(out)
    assert all(line.count("\t") <= 1 for line in lines)


def test_eager_version_option_prints_nothing_extra(capsys):
    """`--version`'s callback runs while Click parses the words; its output is not a candidate."""
    out = run_main(capsys, "--version", "")
    assert "kubectl-kaito" not in out
    assert sorted(values(out)) == sorted(COMMANDS)


def test_an_error_gives_the_error_directive_and_no_traceback(capsys, monkeypatch):
    def broken(words):
        raise RuntimeError("boom")

    monkeypatch.setattr(completion, "complete", broken)
    completion.main(["deploy", ""])
    out, err = capsys.readouterr()
    assert (out, err) == (":1\n", "")


def test_console_script(tmp_path):
    """The installed `kubectl_complete-kaito` script (what kubectl runs)."""
    script = VENV_BIN + "/kubectl_complete-kaito"
    if not shutil.which(script):
        pytest.skip("kubectl_complete-kaito is not installed in this venv")
    proc = subprocess.run(
        [script, "__complete", ""],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env({"HOME": str(tmp_path)}),
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(values(proc.stdout)) == sorted(COMMANDS)


def kubectl_complete(tmp_path, *words: str) -> subprocess.CompletedProcess[str]:
    kubectl = shutil.which("kubectl", path=VENV_BIN) or shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl not found")
    return subprocess.run(
        [kubectl, "__complete", "kaito", *words],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env({"HOME": str(tmp_path)}),
    )


@pytest.mark.e2e
def test_through_kubectl_commands(tmp_path):
    """`kubectl __complete kaito ""` is what the shell asks kubectl on `kubectl kaito <TAB>`."""
    proc = kubectl_complete(tmp_path, "")
    assert proc.returncode == 0, proc.stderr
    assert set(COMMANDS) <= set(values(proc.stdout))  # (plus `sim`: the test install's kubectl-kaito-sim)


@pytest.mark.e2e
def test_through_kubectl_flag_prefix(tmp_path):
    proc = kubectl_complete(tmp_path, "get-endpoint", "--work")
    assert proc.returncode == 0, proc.stderr
    assert values(proc.stdout) == ["--workspace-name"]


@pytest.mark.e2e
def test_through_kubectl_subcommand(tmp_path):
    proc = kubectl_complete(tmp_path, "models", "d")
    assert values(proc.stdout) == ["describe"]


# ---- values: model names from the catalog, workspace names from the cluster ------------------------


def test_deploy_model_completes_catalog_names(capsys):
    got = values(run_main(capsys, "deploy", "--model", "phi-4"))
    assert "phi-4-mini-instruct" in got
    assert all(v.lower().startswith("phi-4") for v in got)
    assert "microsoft/Phi-4-mini-instruct" in values(run_main(capsys, "deploy", "--model", "microsoft/Phi-4-m"))


def test_workspace_names_come_from_the_cluster(sim, capsys):
    for name in ("alpha", "alpine", "beta"):
        sim.seed_workspace(name)
    sim.seed_workspace("other-ns", namespace="team-a")
    assert values(run_main(capsys, "status", "al")) == ["alpha", "alpine"]
    assert values(run_main(capsys, "get-endpoint", "--workspace-name", "")) == ["alpha", "alpine", "beta"]
    assert values(run_main(capsys, "logs", "-n", "team-a", "")) == ["other-ns"]
    assert values(run_main(capsys, "-n", "team-a", "delete", "")) == ["other-ns"]


def test_workspace_completion_against_an_unreachable_cluster_is_empty_and_silent(tmp_path, monkeypatch, capsys):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert values(run_main(capsys, "status", "")) == []  # run_main also asserts stderr is empty


def test_workspace_names_through_kubectl(sim):
    sim.seed_workspace("my-llm")
    proc = subprocess.run(
        [shutil.which("kubectl", path=VENV_BIN) or "kubectl", "__complete", "kaito", "chat", "--workspace-name", "my"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "my-llm"


# ---- every value a kubectl user TABs for (issue 12) ------------------------------------------------


def test_output_formats_complete_per_command(capsys):
    assert values(run_main(capsys, "status", "-o", "")) == [
        "json",
        "yaml",
        "wide",
        "name",
        "jsonpath=",
        "custom-columns=",
    ]
    assert values(run_main(capsys, "status", "-o", "w")) == ["wide"]
    assert values(run_main(capsys, "get-endpoint", "--output", "j")) == ["json", "jsonpath="]
    assert values(run_main(capsys, "version", "-o", "")) == ["text", "json", "yaml"]


def test_instance_types_are_the_skus_kaito_knows(capsys):
    from kubectl_kaito import kaito

    got = values(run_main(capsys, "deploy", "--instance-type", "Standard_NC24"))
    assert got == ["Standard_NC24s_v3", "Standard_NC24rs_v3", "Standard_NC24ads_A100_v4"]
    assert len(values(run_main(capsys, "deploy", "--instance-type", ""))) == len(kaito.KNOWN_INSTANCE_TYPES)


def test_runtime_and_install_provider_actions(capsys):
    assert values(run_main(capsys, "deploy", "--runtime", "")) == ["vllm", "transformers"]
    assert values(run_main(capsys, "install-provider", "")) == ["install", "status", "uninstall"]
    assert values(run_main(capsys, "install-provider", "un")) == ["uninstall"]


def test_models_describe_completes_model_names(capsys):
    got = values(run_main(capsys, "models", "describe", "phi-4-m"))
    assert "phi-4-mini-instruct" in got and all(v.startswith("phi-4-m") for v in got)


def test_namespaces_come_from_the_cluster(sim, capsys):
    sim.seed_workspace("a", namespace="team-a")
    sim.seed_workspace("b", namespace="team-b")
    assert values(run_main(capsys, "status", "-n", "team-")) == ["team-a", "team-b"]
    assert values(run_main(capsys, "--namespace", "team-a")) == ["team-a"]


def test_contexts_come_from_the_kubeconfig_given_on_the_line(tmp_path, capsys):
    kc = tmp_path / "other"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: prod, context: {cluster: c, user: u}}, {name: dev, context: {cluster: c, user: u}}]\n"
    )
    assert values(run_main(capsys, "--kubeconfig", str(kc), "status", "--context", "")) == ["dev", "prod"]
    assert values(run_main(capsys, "status", "--kubeconfig", str(kc), "--context", "p")) == ["prod"]


def test_logs_pod_and_container_come_from_the_workspace(sim, capsys):
    sim.seed_workspace("my-llm", count=2)
    pods = values(run_main(capsys, "logs", "my-llm", "--pod", ""))
    assert pods and all(p.startswith("my-llm") for p in pods)
    containers = values(run_main(capsys, "logs", "my-llm", "--pod", pods[0], "-c", ""))
    assert containers == ["my-llm"]  # KAITO names the inference container after the workspace
    assert values(run_main(capsys, "logs", "--pod", "")) == []  # no workspace named yet: nothing to list


def test_cluster_values_respect_context_and_namespace_typed_earlier(sim_factory, tmp_path, capsys):
    first = sim_factory()
    first.seed_workspace("in-first", namespace="only-first")
    second = sim_factory(env=False)
    second.seed_workspace("in-second", namespace="only-second")
    kc2 = tmp_path / "kubeconfig-2"
    assert "only-second" in values(run_main(capsys, "--kubeconfig", str(kc2), "status", "-n", "only-"))
    assert "only-first" not in values(run_main(capsys, "--kubeconfig", str(kc2), "status", "-n", "only-"))
    assert values(run_main(capsys, "status", "--kubeconfig", str(kc2), "-n", "only-second", "")) == ["in-second"]


def test_value_completers_are_quiet_and_fast_on_a_dead_cluster(tmp_path, monkeypatch, capsys):
    import socket
    import time

    listener = socket.socket()  # accepts, never answers: a hung API server
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    try:
        for words in (("status", "-n", ""), ("logs", "w", "--pod", ""), ("logs", "w", "-c", "")):
            t0 = time.monotonic()
            assert values(run_main(capsys, *words)) == []  # run_main asserts stderr is empty
            assert time.monotonic() - t0 < 8
    finally:
        listener.close()


def test_kubectl_offers_no_sim_without_the_simulator_on_path(tmp_path):
    """kubectl 1.37.1 lists `kubectl-kaito-*` binaries on PATH as subcommands of `kubectl kaito`; our own
    candidates never include `sim` (the simulator is its own distribution, kubectl-kaito-sim)."""
    import os

    kubectl = shutil.which("kubectl", path=VENV_BIN)
    if not kubectl:
        pytest.skip("kubectl not found")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kubectl", "kubectl-kaito", "kubectl_complete-kaito"):
        os.symlink(os.path.join(VENV_BIN, name), bin_dir / name)
    env = subprocess_env({"HOME": str(tmp_path), "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"})
    proc = subprocess.run(
        [str(bin_dir / "kubectl"), "__complete", "kaito", ""], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    got = values(proc.stdout)
    assert "sim" not in got
    assert set(COMMANDS) <= set(got)
    direct = completion.complete([""])
    assert "sim" not in [v for v, _ in direct]


@pytest.mark.e2e
def test_through_kubectl_values(sim, tmp_path):
    """`kubectl kaito deploy --instance-type Standard_ND<TAB>` and `-n <TAB>` through kubectl 1.37.1."""
    sim.seed_workspace("x", namespace="team-z")
    proc = subprocess.run(
        [
            shutil.which("kubectl", path=VENV_BIN) or "kubectl",
            "__complete",
            "kaito",
            "deploy",
            "--instance-type",
            "Standard_ND",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert values(proc.stdout) == ["Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4", "Standard_ND96isr_H100_v5"]
    proc = subprocess.run(
        [shutil.which("kubectl", path=VENV_BIN) or "kubectl", "__complete", "kaito", "status", "-n", "team-"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert values(proc.stdout) == ["team-z"]
