"""Start-up: a run registers only the command it names, the root's help comes from a static table
that matches the real commands, and short runs skip interpreter teardown without losing output.

No timings here (bench/startup.py measures); these check what the cuts must not change."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

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
    commands = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    real = {name: cmd.get_short_help_str(limit=1000) for name, cmd in commands.items() if cmd is not None}
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


# ---- differential: registering only the named command answers exactly as the whole tree --------------


def _corpus() -> list[list[str]]:
    """Hot commands' flags in every syntax kubectl users type (pflag forms, before and after the command),
    plus malformed and unsure lines."""
    w = "diff-llm"
    names = [[w], ["--workspace-name", w], ["--workspace-name=" + w]]
    namespaces: list[tuple[list[str], list[str]]] = [
        ([], []), ([], ["-n", "default"]), ([], ["-ndefault"]), ([], ["-n=default"]),
        ([], ["--namespace", "default"]), ([], ["--namespace=default"]), (["-n", "default"], []),
        (["--namespace=default", "--context", "sim"], []),
    ]
    outputs = [[], ["-o", "json"], ["-ojson"], ["-o=yaml"], ["--output", "name"], ["--output=json"]]
    corpus = []
    for cmd in ("get-endpoint", "status"):
        for name in names:
            for before, ns in namespaces:
                for out in outputs:
                    if cmd == "status" and not out:
                        continue  # the table's AGE column may tick between the two runs
                    corpus.append([*before, cmd, *name, *ns, *out])
    corpus += [
        ["get-endpoint", w, "--path", "/v1/completions"], ["get-endpoint", w, "--path="],
        ["get-endpoint", w, "--cluster-domain=example.org"], ["get-endpoint", "-A"], ["get-endpoint", "-A", "-ojson"],
        ["get-endpoint", w, "--request-timeout=5s"], ["--request-timeout", "5s", "get-endpoint", w],
        ["status", "-A", "-o", "name"], ["status", w, "other-ws", "-o", "json"],
        ["--version"], ["--version", "status"], ["-h"], ["--help"], [], ["help"], ["help", "get-endpoint"],
        ["get-endpoint", "--help"], ["status", "-h"], ["get-endpoint", "-h", w], ["models", "--help"],
        # malformed or unsure
        ["get-endpoint"], ["get-endpoint", "--bogus", w], ["get-endpoint", w, "-o", "bogus"], ["get-endpoint", w, "-n"],
        ["get-endpoint", w, "--path"], ["get-endpoint", "--workspace-name"], ["get-endpoint", "Bad_Name"],
        ["get-endpoint", w, "--namespace=Bad_NS"], ["get-endpoint", w, "--request-timeout=soon"],
        ["get-endpoint", "-A", w], ["get-endpoint", w, "--workspace-name", "other"], ["get-endpoint", "missing-ws"],
        ["get-endpoint", w, "--wait", "--timeout=xyz"], ["get-endpoint", w, "-ojsonpath="],
        ["get-endpoint", w, "-o", "jsonpath={.x"], ["get-endpoint", w, "--context", "no-such-context"],
        ["get-endpoint", w, "--kubeconfig", "/nonexistent/kubeconfig"], ["get-endpoin", w], ["-n"], ["-n", "x"],
        ["--bogus", "get-endpoint", w], ["-v", "get-endpoint", w, "-o", "name"], ["--", "get-endpoint", w],
        ["status", w, "-w=maybe"], ["status", "--bogus"], ["status", w, "-o", "wide", "--no-headers", "-o", "json"],
        ["version", "--bogus"], ["models", "bogus"], ["get-endpoint", w, "\udcff"], ["get-endpoint", "inf"],
    ]
    return corpus


def test_a_named_command_alone_answers_as_the_whole_tree(sim: Any) -> None:
    from tests.helpers import fake_console

    sim.seed_workspace("diff-llm")
    sim.seed_workspace("other-ws")
    corpus = _corpus()
    assert len(corpus) > 250
    codes = []
    for args in corpus:
        answers = []
        for lazy in (True, False):
            console = fake_console(None)
            code = cli.main(list(args), console=console, lazy=lazy)
            answers.append((code, console.stdout.getvalue(), console.stderr.getvalue()))
        assert answers[0] == answers[1], args
        codes.append(answers[0][0])
    assert codes.count(0) > 200 and codes.count(2) > 20  # most lines answer; the malformed ones are refused
