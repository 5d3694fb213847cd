"""The one console and the one renderer, seen from the commands: the confirmation prompt, colour and
live displays, and the shape of every table and key:value block.

Each run gets a fake console (captured streams that are terminals or not, and its own environment),
so what is asserted is what a user at that terminal, or a script behind that pipe, would see.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_install_provider import FakeHelm, fake  # noqa: F401  (the fixture)
from tests.helpers import Result, run_cli

ESC = "\x1b["


# ---- one confirmation prompt --------------------------------------------------------------------


def _delete(sim: Any, **kw: Any) -> Result:
    sim.seed_workspace("my-llm")
    return run_cli("delete", "my-llm", **kw)


def _uninstall(sim: Any, **kw: Any) -> Result:
    return run_cli("install-provider", "--uninstall", **kw)


ASKERS = {
    "delete": (_delete, 'Delete workspace "my-llm" in namespace "default"?', "Nothing deleted."),
    "install-provider": (
        _uninstall,
        "Uninstall release kaito-workspace from namespace kaito-workspace?",
        "Nothing uninstalled.",
    ),
}


@pytest.mark.parametrize("command", list(ASKERS))
@pytest.mark.parametrize(
    ("answer", "proceeds"),
    [
        ("y\n", True),
        ("yes\n", True),
        ("YES\n", True),
        (" y \n", True),
        ("n\n", False),
        ("\n", False),
        ("maybe\n", False),
        ("", False),
        ("y", True),
    ],
)
def test_the_confirmation_is_the_same_prompt_in_delete_and_install_provider(
    fake: FakeHelm,  # noqa: F811  (the imported fixture, by name)
    sim: Any,
    command: str,
    answer: str,
    proceeds: bool,
) -> None:
    run, question, declined = ASKERS[command]
    r = run(sim, input=answer, stdin_tty=True)
    # asked once, on stderr, in the same words; stdout never sees the prompt
    assert r.stderr.count("[y/N]") == 1
    assert f"{question} [y/N]: " in r.stderr
    if not answer.endswith("\n"):  # end of input: the prompt line is finished for the next message
        assert f"{question} [y/N]: \n" in r.stderr
    if proceeds:
        assert r.exit_code == 0, r.stderr
        assert declined not in r.stderr
        assert r.stdout.endswith(" deleted\n") or r.stdout.endswith("uninstalled (namespace kaito-workspace)\n")
    else:
        assert r.exit_code == 1
        assert r.stdout == ""
        assert r.stderr.endswith(f"{declined}\n")


@pytest.mark.parametrize("command", list(ASKERS))
def test_without_a_terminal_both_refuse_to_ask_and_want_yes(
    fake: FakeHelm,  # noqa: F811  (the imported fixture, by name)
    sim: Any,
    command: str,
) -> None:
    run, _, _ = ASKERS[command]
    r = run(sim, input="y\n", stdin_tty=False)  # "y" piped in is not a person answering
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "[y/N]" not in r.stderr
    assert "without confirmation: stdin is not a terminal" in r.stderr
    assert "add --yes" in r.stderr
    assert fake.calls == [] or all(c[0] != "uninstall" for c in fake.calls)


# ---- colour and live displays: only on a terminal, never with NO_COLOR ------------------------------


@pytest.mark.parametrize(
    ("stderr_tty", "env", "coloured"),
    [
        (True, {"NO_COLOR": "", "TERM": "xterm-256color"}, True),
        (False, {"NO_COLOR": "", "TERM": "xterm-256color"}, False),
        (True, {"NO_COLOR": "1", "TERM": "xterm-256color"}, False),
        (True, {"NO_COLOR": "", "TERM": "dumb"}, False),
    ],
)
def test_error_colour_follows_the_consoles_stderr_and_environment(
    stderr_tty: bool, env: dict[str, str], coloured: bool
) -> None:
    r = run_cli("status", "-o", "nonsense", stderr_tty=stderr_tty, env=env)
    assert r.exit_code == 2 and r.stdout == ""
    assert (ESC in r.stderr) is coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", r.stderr).startswith("error: unknown output format 'nonsense'")


def test_a_terminal_stdout_does_not_colour_stderr_or_stdout(sim: Any) -> None:
    env = {"NO_COLOR": "", "TERM": "xterm-256color"}
    r = run_cli("status", "-o", "nonsense", stdout_tty=True, env=env)
    assert ESC not in r.stderr
    sim.seed_workspace("my-llm")
    ok = run_cli("status", stdout_tty=True, stderr_tty=True, env=env)
    assert ok.exit_code == 0, ok.stderr
    assert ESC not in ok.stdout  # results are never styled: they are for pipes and eyes alike


@pytest.mark.parametrize(("stderr_tty", "no_color", "live"), [(True, "", True), (True, "1", False), (False, "", False)])
def test_the_wait_spinner_needs_a_terminal_stderr_and_no_no_color(
    sim: Any, stderr_tty: bool, no_color: str, live: bool
) -> None:
    sim.seed_workspace("my-llm", ready=False)
    sim.controller.fail_workspace("my-llm", reason="ImagePullError")  # ends the wait without any timing
    r = run_cli(
        "get-endpoint",
        "--workspace-name",
        "my-llm",
        "--wait",
        stderr_tty=stderr_tty,
        env={"NO_COLOR": no_color, "TERM": "xterm-256color"},
    )
    assert r.exit_code == 1 and r.stdout == ""  # WORKSPACE_FAILED
    assert ("\x1b[?25l" in r.stderr) is live  # rich's live display hides the cursor
    if not live:
        assert "waiting for workspace default/my-llm" in r.stderr  # plain progress lines instead


# ---- one table, one key:value block -------------------------------------------------------------------


def _columns(header: str) -> list[int]:
    """Where each column starts: the header words, split where two or more spaces separate them."""
    return [m.start() for m in re.finditer(r"(?:(?<=^)|(?<=  ))\S", header)]


def assert_table(lines: list[str]) -> None:
    """Every column is as wide as its widest cell, then exactly three spaces; no trailing spaces."""
    indent = len(lines[0]) - len(lines[0].lstrip())
    lines = [line[indent:] for line in lines]
    starts = _columns(lines[0])
    assert len(starts) > 1, lines[0]
    for line in lines:
        assert line == line.rstrip()
    for i, (start, nxt) in enumerate(itertools.pairwise(starts)):
        widest = max(len(line[start:nxt].rstrip()) for line in lines)
        assert nxt - start == widest + 3, (i, lines)


def assert_block(lines: list[str]) -> None:
    """Each value starts two spaces after the longest `Key:`."""
    keys = [line.split(":", 1)[0] for line in lines]
    value_at = max(len(k) for k in keys) + 1 + 2
    for key, line in zip(keys, lines, strict=True):
        assert line[len(key) + 1 : value_at].strip() == "", (line, value_at)
        assert line[value_at] != " ", (line, value_at)


def _block_lines(stdout: str) -> list[str]:
    """The key:value lines at the top of a text view (up to the first blank line)."""
    return stdout.split("\n\n", 1)[0].splitlines()


def _indented_tables(stdout: str) -> list[list[str]]:
    """The tables under the `Section:` headings of a text view (indented lines after the heading)."""
    tables = []
    for part in stdout.split("\n\n")[1:]:
        lines = part.splitlines()[1:]
        if len(lines) > 1:
            tables.append(lines)
    return tables


def test_every_table_follows_the_one_column_rule(sim: Any, tmp_path: Path) -> None:
    sim.seed_workspace("a-llm")
    sim.seed_workspace("b-much-longer-name", namespace="team-a", model="qwen2.5-coder-7b-instruct")
    tables = {
        "status": run_cli("status").stdout.splitlines(),
        "status -A -o wide": run_cli("status", "-A", "-o", "wide").stdout.splitlines(),
        "models list": run_cli("models", "list", "--offline").stdout.splitlines(),
        "models list -o wide": run_cli("models", "list", "--offline", "-o", "wide").stdout.splitlines(),
    }
    detail = run_cli("status", "a-llm").stdout
    for i, lines in enumerate(_indented_tables(detail)):
        tables[f"status a-llm #{i}"] = lines
    assert len(tables) >= 6  # conditions and pods at least
    for name, lines in tables.items():
        assert lines, name
        assert_table(lines)


def test_every_key_value_block_follows_the_one_alignment_rule(
    fake: FakeHelm,  # noqa: F811  (the imported fixture, by name)
    sim: Any,
) -> None:
    sim.seed_workspace("my-llm")
    blocks = {
        "status NAME": _block_lines(run_cli("status", "my-llm").stdout),
        "models describe": _block_lines(run_cli("models", "describe", "phi-4-mini-instruct", "--offline").stdout),
        "install-provider --status": run_cli("install-provider", "--status").stdout.splitlines(),
    }
    for name, lines in blocks.items():
        assert len(lines) > 3, name
        assert_block(lines)
