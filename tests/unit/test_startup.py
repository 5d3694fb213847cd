"""Start-up: a run registers only the command it names, the root's help comes from a static table
that matches the real commands, and short runs skip interpreter teardown without losing output.

No timings here (bench/startup.py measures); these check what the cuts must not change."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import typer

from kubectl_kaito import cli
from kubectl_kaito.commands import registry
from tests.helpers import VENV_BIN, run_cli


def _full_tree() -> typer.core.TyperGroup:
    return typer.main.get_command(cli.build_app())  # type: ignore[return-value]


def test_every_registered_command_is_in_the_static_help_table_with_its_real_short_help() -> None:
    from typer._click.core import Context

    group = _full_tree()
    ctx = Context(group)
    real = {name: group.get_command(ctx, name).get_short_help_str(limit=1000) for name in group.list_commands(ctx)}
    assert list(real) == list(registry.SHORT_HELP), "registry.SHORT_HELP must list every command in --help's order"
    assert real == registry.SHORT_HELP


@pytest.mark.parametrize("args", [["--help"], ["-h"], [], ["-n", "x", "--help"], ["--context=c", "-h"]])
def test_root_help_from_the_static_table_equals_the_full_trees_help(args: list[str]) -> None:
    from typer._click.core import Context

    group = _full_tree()
    expected = Context(group, info_name=cli.PROG, **group.context_settings).get_help() + "\n"
    r = run_cli(*args)
    assert r.exit_code == 0
    assert r.stdout == expected
    assert r.stderr == ""


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["get-endpoint", "w"], "get-endpoint"),
        (["-n", "deploy", "get-endpoint", "w"], "get-endpoint"),  # `deploy` is -n's value
        (["--namespace=ns", "--context", "c", "status", "w"], "status"),
        (["-nns", "status"], "status"),
        (["models", "list"], "models"),
        (["version"], "version"),
        (["help", "deploy"], None),  # help walks the whole tree
        (["-v", "status"], None),  # -v may or may not take `status`: not certain
        (["--help", "status"], None),
        (["frobnicate"], None),
        ([], None),
    ],
)
def test_the_command_word_is_found_only_when_certain(args: list[str], word: str | None) -> None:
    assert cli.command_word(args) == word


@pytest.mark.parametrize(
    ("args", "long"),
    [
        (["get-endpoint", "w"], False),
        (["status", "w", "-o", "json"], False),
        (["--version"], False),
        (["--help"], False),
        (["status", "-w"], True),
        (["status", "--watch=true"], True),
        (["deploy", "--workspace-name", "w", "--wait"], True),
        (["logs", "w"], True),
        (["chat", "w"], True),
        (["connect", "w"], True),
        (["bench", "w"], True),
        (["install-provider"], True),
        (["top"], True),  # not named with certainty: treated as long
    ],
)
def test_long_running_command_lines_keep_the_usual_exit(args: list[str], long: bool) -> None:
    assert cli.is_long_running(args) is long


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_command_imports_no_other_command_module() -> None:
    proc = _run_python(
        """
        import sys
        from kubectl_kaito import cli
        from tests.helpers import fake_console
        code = cli.main(["get-endpoint", "--help"], console=fake_console(None))
        loaded = sorted(m for m in sys.modules if m.startswith("kubectl_kaito.commands."))
        print(code, loaded)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0 ['kubectl_kaito.commands.get_endpoint', 'kubectl_kaito.commands.registry']"


def test_root_help_imports_no_command_module() -> None:
    proc = _run_python(
        """
        import sys
        from kubectl_kaito import cli
        from tests.helpers import fake_console
        cli.main(["--help"], console=fake_console(None))
        print(sorted(m for m in sys.modules if m.startswith("kubectl_kaito.commands.")))
        """
    )
    assert proc.stdout.strip() == "['kubectl_kaito.commands.registry']", proc.stderr


def test_a_short_run_ends_without_teardown_and_flushes_everything_first() -> None:
    # atexit handlers run at interpreter teardown: a short run skips it (os._exit), yet all of a large
    # stdout and the stderr arrive, and the exit code is the command's.
    proc = _run_python(
        """
        import atexit, sys
        atexit.register(lambda: sys.stderr.write("teardown\\n"))
        sys.argv = ["kubectl-kaito", "models", "list", "-o", "json", "--offline"]
        from kubectl_kaito.cli import run
        run()
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "teardown" not in proc.stderr
    expected = run_cli("models", "list", "-o", "json", "--offline").stdout
    assert len(expected) > 8192  # more than one pipe buffer: the flush before os._exit matters
    assert proc.stdout == expected

    bad = _run_python(
        """
        import sys
        sys.argv = ["kubectl-kaito", "get-endpoint", "--no-such-flag"]
        from kubectl_kaito.cli import run
        run()
        """
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("error: no such option: --no-such-flag")


def test_a_long_running_command_line_ends_normally() -> None:
    proc = _run_python(
        """
        import atexit, gc, sys
        atexit.register(lambda: sys.stderr.write(f"teardown gc={gc.isenabled()}\\n"))
        sys.argv = ["kubectl-kaito", "logs", "--no-such-flag"]
        from kubectl_kaito.cli import run
        run()
        """
    )
    assert proc.returncode == 2
    assert proc.stderr.rstrip().endswith("teardown gc=True")


def test_the_console_script_runs_from_the_venv() -> None:
    proc = subprocess.run(
        [f"{VENV_BIN}/kubectl-kaito", "--version"], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("kubectl-kaito ")


def test_the_plugins_own_runs_import_with_the_collector_off_and_long_ones_turn_it_back_on() -> None:
    script = f"{VENV_BIN}/kubectl-kaito"
    proc = _run_python(
        f"""
        import atexit, gc, sys
        sys.argv = [{script!r}, "logs", "--no-such-flag"]
        import kubectl_kaito.cli as cli
        print("import gc", gc.isenabled())
        atexit.register(lambda: print("exit gc", gc.isenabled()))
        cli.run()
        """
    )
    assert proc.stdout.splitlines()[:2] == ["import gc False", "exit gc True"], proc.stderr
    # any other program importing the module keeps its collector
    assert _run_python("import gc, kubectl_kaito.cli; print(gc.isenabled())").stdout == "True\n"
