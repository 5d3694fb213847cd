"""The same mistake gives the same message and exit 2 in every command, before any request;
`-o` is case-insensitive everywhere; `-n=x`, `-nx` and `-n x` mean the same (kubectl's pflag)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.helpers import assert_usage_error_sends_nothing, run_cli, subprocess_env

# Each command that takes a workspace name, with what else it needs, NAME standing for the name.
NAMED = {
    "deploy": ["deploy", "NAME", "--model", "phi-4-mini-instruct"],
    "status": ["status", "NAME"],
    "get-endpoint": ["get-endpoint", "NAME"],
    "logs": ["logs", "NAME"],
    "chat": ["chat", "NAME", "-m", "hi"],
    "delete": ["delete", "NAME", "--yes"],
    "connect": ["connect", "NAME", "--port", "0"],
    "scale": ["scale", "NAME", "--replicas", "2"],
    "top": ["top", "NAME", "--interval", "100ms"],
}
# Every command, with a good name where it takes one (for flag mistakes that are not the name).
EVERY = {
    **{cmd: [a.replace("NAME", "my-llm") for a in args] for cmd, args in NAMED.items()},
    "models list": ["models", "list", "--offline"],
    "models describe": ["models", "describe", "phi-4-mini-instruct", "--offline"],
    "install-provider": ["install-provider", "--dry-run"],
}
BAD_NAMES = ["A_B", "a\nb", "a" * 64, "a\udcffb"]  # the last: a non-UTF-8 argv byte, as Python carries it


def _with_name(cmd: str, name: str, option: bool) -> list[str]:
    args = NAMED[cmd]
    if option:  # the same name through --workspace-name
        return [args[0], "--workspace-name", name, *args[2:]]
    return [name if a == "NAME" else a for a in args]


def _same_everywhere(results: dict[str, Any]) -> None:
    messages = {r.stderr for r in results.values()}
    assert len(messages) == 1, results


@pytest.mark.parametrize("name", BAD_NAMES, ids=["underscore", "newline", "64-chars", "non-utf8"])
@pytest.mark.parametrize("option", [False, True], ids=["argument", "--workspace-name"])
def test_a_bad_workspace_name_is_the_same_error_in_every_command(sim: Any, name: str, option: bool) -> None:
    results = {
        cmd: assert_usage_error_sends_nothing(sim, _with_name(cmd, name, option), "invalid workspace name")
        for cmd in NAMED
    }
    _same_everywhere(results)
    r = results["logs"]
    # error + hint: the name is escaped, never a broken line
    assert [ln.split(" ", 1)[0] for ln in r.stderr.splitlines()] == ["error:", "hint:"]
    assert repr(name) in r.stderr


def test_two_different_names_is_the_same_error_in_every_command(sim: Any) -> None:
    results = {}
    for cmd, args in NAMED.items():
        if cmd in ("delete", "status", "get-endpoint"):  # take several names: a and b are two workspaces
            continue
        argv = [a.replace("NAME", "a") for a in args] + ["--workspace-name", "b"]
        results[cmd] = assert_usage_error_sends_nothing(sim, argv, "two different workspace names given")
    _same_everywhere(results)


@pytest.mark.parametrize("cmd", list(EVERY))
def test_a_bad_namespace_is_exit_2_before_any_request(sim: Any, cmd: str) -> None:
    r = assert_usage_error_sends_nothing(sim, [*EVERY[cmd], "-n", "../kube-system"], "invalid namespace")
    assert r.stderr.splitlines()[0] == "error: invalid namespace '../kube-system': not a DNS-1123 label"


@pytest.mark.parametrize("value", ["inf", "nan", "1e309", "99999999h", "-5s"])
def test_a_bad_duration_is_the_same_error_in_every_command(sim: Any, value: str) -> None:
    # --request-timeout: every command has it
    results = {
        cmd: assert_usage_error_sends_nothing(sim, [*args, f"--request-timeout={value}"], "invalid --request-timeout")
        for cmd, args in EVERY.items()
    }
    _same_everywhere(results)
    # --timeout: every command that has one (deploy, get-endpoint and delete use it with --wait)
    timeouts = {
        "deploy": [*EVERY["deploy"], "--wait"],
        "get-endpoint": [*EVERY["get-endpoint"], "--wait"],
        "delete": [*EVERY["delete"], "--wait"],
        "chat": EVERY["chat"],
        "connect": EVERY["connect"],
    }
    results = {
        cmd: assert_usage_error_sends_nothing(sim, [*args, "--timeout", value], f"invalid --timeout value {value!r}")
        for cmd, args in timeouts.items()
    }
    _same_everywhere(results)
    assert_usage_error_sends_nothing(sim, [*EVERY["logs"], "--since", value], f"invalid --since value {value!r}")
    assert_usage_error_sends_nothing(sim, [*EVERY["top"], "--interval", value], f"invalid --interval value {value!r}")


WITH_OUTPUT = ["deploy", "status", "get-endpoint", "chat", "models list", "models describe", "install-provider", "top"]


@pytest.mark.parametrize("cmd", WITH_OUTPUT)
def test_an_unknown_output_format_is_the_same_error_in_every_command(sim: Any, cmd: str) -> None:
    r = assert_usage_error_sends_nothing(sim, [*EVERY[cmd], "-o", "xml"], "unknown output format 'xml'")
    assert r.stderr.splitlines()[0] == "error: unknown output format 'xml'"


def _json_run(sim: Any, cmd: str, fmt: str) -> Any:
    args = list(EVERY[cmd])
    if cmd == "deploy":
        args.append("--dry-run")  # prints the manifest in the asked format, creates nothing
    r = run_cli(*args, "-o", fmt)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("cmd", WITH_OUTPUT)
def test_output_format_is_case_insensitive_in_every_command(sim: Any, cmd: str) -> None:
    sim.seed_workspace("my-llm", model="phi-4-mini-instruct", ready=True)
    upper = _json_run(sim, cmd, "JSON")
    lower = _json_run(sim, cmd, "json")
    if cmd == "chat":  # the answer's id and time differ per request; the text is the same
        assert upper["choices"] == lower["choices"]
    elif cmd == "status":
        upper.pop("age", None), lower.pop("age", None)
        assert upper.keys() == lower.keys()
    elif cmd == "top":  # the measured interval differs by milliseconds
        assert [list(i) for i in upper["items"]] == [list(i) for i in lower["items"]]
    else:
        assert upper == lower


# ---- kubectl's (pflag's) short options ------------------------------------------------------------


@pytest.mark.parametrize("form", [["-n=team-b"], ["-nteam-b"], ["-n", "team-b"]], ids=["-n=x", "-nx", "-n x"])
@pytest.mark.parametrize("where", ["after", "before"])
def test_short_namespace_forms_all_mean_the_namespace(sim: Any, form: list[str], where: str) -> None:
    sim.seed_workspace("other", namespace="team-b", ready=True)
    args = [*form, "status", "-o=json"] if where == "before" else ["status", *form, "-o=json"]
    r = run_cli(*args)
    assert r.exit_code == 0, r.stderr
    assert [i["metadata"]["name"] for i in json.loads(r.stdout)["items"]] == ["other"]


@pytest.mark.parametrize("form", [["-n=team-b"], ["-nteam-b"], ["-n", "team-b"]], ids=["-n=x", "-nx", "-n x"])
def test_short_namespace_forms_in_a_dry_run_manifest(form: list[str]) -> None:
    r = run_cli("deploy", "my-llm", "--model", "phi-4-mini-instruct", "--dry-run", *form, "-o=json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["metadata"]["namespace"] == "team-b"


def test_a_value_that_looks_like_an_option_stays_a_value(sim: Any) -> None:
    sim.seed_workspace("my-llm", model="phi-4-mini-instruct", ready=True)
    r = run_cli("chat", "my-llm", "-m", "-n=x")
    assert r.exit_code == 0, r.stderr
    assert "You said: -n=x" in r.stdout


# ---- through the real kubectl ---------------------------------------------------------------------


@pytest.mark.e2e
def test_pflag_forms_and_a_non_utf8_name_through_kubectl(sim: Any, kubectl: Any) -> None:
    sim.seed_workspace("other", namespace="team-b", ready=True)
    env = subprocess_env()

    def run(*argv: str | bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["kubectl", "kaito", *argv], capture_output=True, env=env, timeout=60, stdin=subprocess.DEVNULL
        )

    listing = run("status", "-n=team-b", "-o=json")
    assert listing.returncode == 0, listing.stderr
    assert [i["metadata"]["name"] for i in json.loads(listing.stdout)["items"]] == ["other"]

    before = len(sim.requests)
    bad = run("logs", b"a\xffb")  # bytes that are not UTF-8, as a shell would pass them
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert bad.stderr.decode().splitlines()[0] == "error: invalid workspace name 'a\\udcffb': it is not valid UTF-8"
    assert b"Traceback" not in bad.stderr
    assert len(sim.requests) == before
