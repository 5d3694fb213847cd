"""The root command: help, version, usage errors and the exit-code contract."""

from __future__ import annotations

import json

from kubectl_kaito import __version__
from tests.helpers import run_cli


def test_version_prints_only_the_version_on_stdout() -> None:
    r = run_cli("--version")
    assert r.exit_code == 0
    assert r.stdout == f"kubectl-kaito {__version__}\n"
    assert r.stderr == ""


def test_help_lists_exit_codes_and_global_options() -> None:
    r = run_cli("--help")
    assert r.exit_code == 0
    for flag in ("--kubeconfig", "--context", "--namespace", "--request-timeout", "--verbose"):
        assert flag in r.stdout
    assert "Exit codes: 0 ok" in r.stdout.replace("\n", " ").replace("  ", " ")


def test_unknown_flag_is_one_error_line_with_hint_and_exit_2() -> None:
    r = run_cli("--no-such-flag")
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("error: no such option: --no-such-flag")
    assert lines[1] == "hint: see 'kubectl kaito --help'"
    assert "Traceback" not in r.stderr


def test_unknown_command_is_a_usage_error() -> None:
    r = run_cli("frobnicate")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("error: no such command")


def test_usage_error_after_the_format_is_known_also_prints_a_json_object() -> None:
    # -o json is checked before the command runs, so a later usage error (a bad -n) also goes out as JSON
    r = run_cli("status", "-o", "json", "-n", "../kube-system")
    assert r.exit_code == 2
    assert r.stdout == ""
    obj = json.loads(r.stderr.strip().splitlines()[-1])
    assert obj["code"] == "VALIDATION_ERROR"
    assert "invalid namespace" in obj["error"]


def test_click_usage_error_before_any_command_ran_is_a_plain_line() -> None:
    # click refuses before the command wrapper has read -o: no JSON, and no argv re-scan to guess it
    r = run_cli("--no-such-flag", "-o", "json")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: no such option")
    assert "{" not in r.stderr
