"""The root command: help, version, usage errors and the exit-code contract."""

from __future__ import annotations

import json

import pytest

from kubectl_kaito import __version__
from kubectl_kaito.cli import parse_duration
from kubectl_kaito.errors import UsageError
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


def test_usage_error_with_json_output_also_prints_a_json_object() -> None:
    r = run_cli("--no-such-flag", "-o", "json")
    assert r.exit_code == 2
    obj = json.loads(r.stderr.strip().splitlines()[-1])
    assert obj["code"] == "VALIDATION_ERROR"
    assert "no such option" in obj["error"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("1m30s", 90.0), ("250ms", 0.25), ("0", 0.0)],
)
def test_durations_parse_like_kubectl(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5x", "5m3"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)
