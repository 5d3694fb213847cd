"""flags.py: the one flag vocabulary (durations, timeouts, dry-run, -o, names, namespaces, pflag argv)."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import typer

from kubectl_kaito import flags
from kubectl_kaito.errors import UsageError

# ---- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 30.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("250ms", 0.25),
        ("10us", 1e-5),
        ("10µs", 1e-5),
        ("100ns", 1e-7),
        ("0", 0.0),
        ("0s", 0.0),
        ("2562047h", 2562047 * 3600.0),
    ],
)
def test_durations_parse_like_kubectl(text: str, seconds: float) -> None:
    assert flags.parse_duration(text, "--timeout") == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "it is empty"),
        ("abc", "not a duration"),
        ("5x", "not a duration"),
        ("5m3", "not a duration"),
        ("inf", "not a duration"),
        ("nan", "not a duration"),
        ("1e309", "not a duration"),
        ("1e3", "not a duration"),
        ("99999999h", "longer than the largest duration"),
        ("2562048h", "longer than the largest duration"),
        ("-5s", "must not be negative"),
        ("-1", "must not be negative"),
        ("5\ns", "control character"),
        ("5\udcffs", "not valid UTF-8"),
    ],
)
def test_bad_durations_are_usage_errors_naming_the_flag(text: str, why: str) -> None:
    with pytest.raises(UsageError) as ei:
        flags.parse_duration(text, "--since")
    assert ei.value.exit_code == 2
    assert ei.value.message.startswith(f"invalid --since value {text!r}")
    assert why in ei.value.message
    assert "\n" not in ei.value.message  # a control character is shown escaped, on one line


def test_zero_timeout_means_no_limit() -> None:
    assert flags.parse_timeout("0") is None
    assert flags.parse_timeout("0s") is None
    assert flags.parse_timeout("90s") == 90.0
    with pytest.raises(UsageError, match="--request-timeout"):
        flags.parse_timeout("soon", "--request-timeout")


def test_timeout_help_states_the_default_its_reason_and_zero() -> None:
    opt = flags.timeout_option("5m", "because")
    assert opt.help is not None
    assert "Default 5m: because." in opt.help
    assert flags.TIMEOUT_ZERO in opt.help


# ---- dry run and -o ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "mode"),
    [(None, None), ("none", None), ("client", "client"), ("Server", "server"), (" client ", "client")],
)
def test_dry_run_modes(value: str | None, mode: str | None) -> None:
    assert flags.dry_run_mode(value) == mode


def test_bad_dry_run_mode() -> None:
    with pytest.raises(UsageError, match="invalid --dry-run value 'all'"):
        flags.dry_run_mode("all")


def test_output_formats_are_case_insensitive_and_checked_once() -> None:
    assert flags.output_format("JSON", ("json", "yaml")) == "json"
    assert flags.output_format(" Yaml ", ("json", "yaml")) == "yaml"
    assert flags.output_format(None, ("json",)) is None
    with pytest.raises(UsageError) as ei:
        flags.output_format("xml", ("json", "yaml"))
    assert ei.value.message == "unknown output format 'xml'"
    assert ei.value.hint == "use -o json, -o yaml"


def test_output_option_carries_its_formats() -> None:
    ann = Annotated[str | None, flags.output_option("json", "wide", help="h")]
    assert flags.formats_of(ann) == flags.Formats(("json", "wide"))
    assert flags.formats_of(flags.NameArg) is None


# ---- names and namespaces ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["my-llm", "a", "x" * 63, "phi4", "4phi"])
def test_valid_workspace_names(name: str) -> None:
    assert flags.check_workspace_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "it is empty"),
        ("My-LLM", "not a DNS-1123 label"),
        ("-x", "not a DNS-1123 label"),
        ("x-", "not a DNS-1123 label"),
        ("A_B", "not a DNS-1123 label"),
        ("a.b", "not a DNS-1123 label"),
        ("x" * 64, "it is 64 characters long"),
        ("a\nb", "control character"),
        ("a\udcffb", "not valid UTF-8"),
    ],
)
def test_invalid_workspace_names(name: str, why: str) -> None:
    with pytest.raises(UsageError) as ei:
        flags.check_workspace_name(name)
    assert ei.value.message.startswith(f"invalid workspace name {name!r}")
    assert why in ei.value.message
    ei.value.message.encode("ascii")  # printable anywhere: no raw newline, no lone surrogate


def test_namespaces_are_dns_labels() -> None:
    assert flags.check_namespace(None) is None
    assert flags.check_namespace("team-b") == "team-b"
    with pytest.raises(UsageError, match=r"invalid namespace '\.\./kube-system'"):
        flags.check_namespace("../kube-system")


def test_name_argument_and_option_merge() -> None:
    assert flags.workspace_name("a", None, required=True, example="") == "a"
    assert flags.workspace_name(None, "a", required=True, example="") == "a"
    assert flags.workspace_name("a", "a", required=True, example="") == "a"
    assert flags.workspace_name(None, None, required=False, example="") is None
    with pytest.raises(UsageError, match="two different workspace names given: 'a' and --workspace-name 'b'"):
        flags.workspace_name("a", "b", required=True, example="")
    with pytest.raises(UsageError, match="a workspace name is required") as ei:
        flags.workspace_name(None, None, required=True, example="kubectl kaito logs my-llm")
    assert "--workspace-name" in (ei.value.hint or "")
    assert flags.workspace_names(["a", "b"], ["a", "c"]) == ["a", "b", "c"]
    with pytest.raises(UsageError, match="invalid workspace name 'B'"):
        flags.workspace_names(["a"], ["B"])


# ---- pflag argv ----------------------------------------------------------------------------------


_app = typer.Typer()


@_app.command("cmd")
def _cmd(
    name: Annotated[str | None, typer.Argument()] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0,
    yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
    dry_run: Annotated[str | None, typer.Option("--dry-run")] = None,
) -> None:
    """A command with the kinds of options the plugin has (--dry-run takes a value)."""


@_app.command("flag-cmd")
def _flag_cmd(dry_run: Annotated[bool, typer.Option("--dry-run")] = False) -> None:
    """--dry-run as a plain flag (install-provider's)."""


def _params(dry_run_is_flag: bool = False) -> list[Any]:
    group = typer.main.get_command(_app)
    cmd = group.commands["flag-cmd" if dry_run_is_flag else "cmd"]  # type: ignore[attr-defined]  # a Group (get_command is typed Command)
    return list(cmd.params)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-n=x"], ["-n", "x"]),
        (["-o=json", "a"], ["-o", "json", "a"]),
        (["-nx"], ["-nx"]),  # click reads -xvalue as pflag does
        (["-n", "x"], ["-n", "x"]),
        (["-n=a=b"], ["-n", "a=b"]),
        (["-m", "-n=x"], ["-m", "-n=x"]),  # the message's text is not an option
        (["--", "-n=x"], ["--", "-n=x"]),
        (["-v=6"], ["--v=6"]),  # -v is kubectl's log level (every form becomes --v=N)
        (["-v", "3", "a"], ["--v=3", "a"]),  # `status -v 3`: level 3, not a workspace named 3
        (["-v6"], ["--v=6"]),
        (["--v", "7"], ["--v=7"]),
        (["-v", "a"], ["--v=6", "a"]),  # a bare -v is 6 (this plugin's shorthand)
        (["-vv"], ["--v=7"]),
        (["-m", "-v"], ["-m", "-v"]),  # the message's text is not an option
        (["-y=1"], ["-y=1"]),
        (["--dry-run", "a"], ["--dry-run=client", "a"]),
        (["--dry-run=server"], ["--dry-run=server"]),
    ],
)
def test_preprocess_argv_reads_short_options_as_pflag(argv: list[str], expected: list[str]) -> None:
    assert flags.preprocess_argv(_params(), argv) == expected


def test_preprocess_argv_leaves_a_flag_dry_run_alone() -> None:
    assert flags.preprocess_argv(_params(dry_run_is_flag=True), ["--dry-run", "x"]) == ["--dry-run", "x"]


def test_preprocess_argv_stops_at_the_subcommand_for_a_group() -> None:
    assert flags.preprocess_argv(_params(), ["-n=a", "status", "-o=json"], stop_at_positional=True) == [
        "-n",
        "a",
        "status",
        "-o=json",
    ]


def test_flags_module_is_light() -> None:
    # flags.py is imported by waiting, logs and every command at module level: no cluster, no yaml
    import subprocess
    import sys

    code = (
        "import sys, kubectl_kaito.flags; print(sorted(m for m in ('kubectl_kaito.cluster', 'yaml', 'httpx', "
        "'kubectl_kaito.cli') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
