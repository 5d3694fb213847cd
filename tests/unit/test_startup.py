"""Start-up: a run registers only the command it names, the root's help comes from a static table
that matches the real commands, and short runs skip interpreter teardown without losing output.

No timings here (bench/startup.py measures); these check what the cuts must not change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import typer

from kubectl_kaito import cli, fastpath
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
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
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
        [f"{VENV_BIN}/kubectl-kaito", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
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
        class Watch:  # reports the collector when the run imports typer (the console script's entry)
            def find_spec(self, name, path=None, target=None):
                if name == "typer":
                    print("import gc", gc.isenabled())
                return None
        sys.meta_path.insert(0, Watch())
        atexit.register(lambda: print("exit gc", gc.isenabled()))
        from kubectl_kaito.entry import run
        run()
        """
    )
    assert proc.stdout.splitlines()[:2] == ["import gc False", "exit gc True"], proc.stderr
    # any other program importing the module keeps its collector
    assert _run_python("import gc, kubectl_kaito.cli; print(gc.isenabled())").stdout == "True\n"


# ---- differential: registering only the named command answers exactly as the whole tree --------------


#: Lines the fast path answers (tests/unit/test_startup.py requires it), in the forms kubectl users type.
FAST_LINES: list[list[str]] = [
    ["--version"],
    ["get-endpoint", "diff-llm"],
    ["get-endpoint", "--workspace-name", "diff-llm", "-n", "default"],
    ["get-endpoint", "--workspace-name=diff-llm", "-ndefault", "-ourl"],
    ["-n=default", "get-endpoint", "diff-llm", "-o=json"],
    ["--namespace", "default", "--context=sim", "get-endpoint", "diff-llm", "--output", "json"],
    ["get-endpoint", "diff-llm", "--format=url", "--kubeconfig", "{kubeconfig}"],
    ["--kubeconfig={kubeconfig}", "get-endpoint", "diff-llm"],
    ["get-endpoint", "missing-ws"],
    ["get-endpoint", "missing-ws", "-o", "json"],
    ["get-endpoint", "pending-llm"],
    ["get-endpoint", "pending-llm", "-o", "json"],
    ["get-endpoint", "tune-llm"],
    ["get-endpoint", "diff-llm", "-n", "empty-ns"],
    ["get-endpoint", "diff-llm", "--context", "no-such-context"],
    ["get-endpoint", "diff-llm", "--kubeconfig", "/nonexistent/kubeconfig"],
    ["get-endpoint", "diff-llm", "-o", "json", "--kubeconfig", "/nonexistent/kubeconfig"],
    ["status", "diff-llm"],
    ["status", "--workspace-name", "pending-llm", "-n", "default"],
    ["-ndefault", "status", "tune-llm"],
    ["status", "missing-ws"],
    ["status", "diff-llm", "--context=no-such-context"],
    ["get-endpoint", "diff-llm", "--kubeconfig", "{dead}"],
    ["get-endpoint", "diff-llm", "-ojson", "--kubeconfig={dead}"],
    ["--kubeconfig", "{dead}", "status", "diff-llm"],
]
#: Near misses: the same commands in forms the fast path leaves to Typer (help, other flags, repeats,
#: invalid values, a second name, `--`, a value that looks like a flag).
NEAR_MISSES: list[list[str]] = [
    ["get-endpoint", "diff-llm", "-o", "JSON"],
    ["get-endpoint", "diff-llm", "-o", "yaml"],
    ["get-endpoint", "diff-llm", "-o", "url", "-o", "json"],
    ["get-endpoint", "diff-llm", "diff-llm"],
    ["get-endpoint", "diff-llm", "--workspace-name", "diff-llm"],
    ["get-endpoint", "diff-llm", "other-ws"],
    ["-n", "default", "get-endpoint", "diff-llm", "-n", "default"],
    ["get-endpoint", "diff-llm", "-n", "-o", "json"],
    ["get-endpoint", "diff-llm", "-n"],
    ["get-endpoint", "--", "diff-llm"],
    ["get-endpoint", "diff-llm", "--external"],
    ["get-endpoint", "diff-llm", "-A"],
    ["get-endpoint", "diff-llm", "-v0"],
    ["get-endpoint", "diff-llm", "--request-timeout", "5s"],
    ["get-endpoint", "diff-llm", "--namespace="],
    ["get-endpoint", "diff-llm", "-n", "Bad_NS"],
    ["get-endpoint", "Bad_Name"],
    ["get-endpoint", ""],
    ["get-endpoint", "-"],
    ["get-endpoint", "diff-llm", "--he"],
    ["get-endpoint", "diff-llm", "-h"],
    ["--workspace-name", "diff-llm", "get-endpoint"],
    ["status", "diff-llm", "-o", "json"],
    ["status", "diff-llm", "-w", "--bogus"],
    ["status", "diff-llm", "--diagnose"],
    ["status"],
    ["status", "diff-llm", "--output=json"],
    ["version"],
    ["--version", "-n", "x"],
]


def _corpus() -> list[list[str]]:
    """Hot commands' flags in every syntax kubectl users type (pflag forms, before and after the command),
    plus malformed and unsure lines."""
    w = "diff-llm"
    names = [[w], ["--workspace-name", w], ["--workspace-name=" + w]]
    namespaces: list[tuple[list[str], list[str]]] = [
        ([], []),
        ([], ["-n", "default"]),
        ([], ["-ndefault"]),
        ([], ["-n=default"]),
        ([], ["--namespace", "default"]),
        ([], ["--namespace=default"]),
        (["-n", "default"], []),
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
        ["get-endpoint", w, "--path", "/v1/completions"],
        ["get-endpoint", w, "--path="],
        ["get-endpoint", w, "--cluster-domain=example.org"],
        ["get-endpoint", "-A"],
        ["get-endpoint", "-A", "-ojson"],
        ["get-endpoint", w, "--request-timeout=5s"],
        ["--request-timeout", "5s", "get-endpoint", w],
        ["status", "-A", "-o", "name"],
        ["status", w, "other-ws", "-o", "json"],
        ["--version"],
        ["--version", "status"],
        ["-h"],
        ["--help"],
        [],
        ["help"],
        ["help", "get-endpoint"],
        ["get-endpoint", "--help"],
        ["status", "-h"],
        ["get-endpoint", "-h", w],
        ["models", "--help"],
        # malformed or unsure
        ["get-endpoint"],
        ["get-endpoint", "--bogus", w],
        ["get-endpoint", w, "-o", "bogus"],
        ["get-endpoint", w, "-n"],
        ["get-endpoint", w, "--path"],
        ["get-endpoint", "--workspace-name"],
        ["get-endpoint", "Bad_Name"],
        ["get-endpoint", w, "--namespace=Bad_NS"],
        ["get-endpoint", w, "--request-timeout=soon"],
        ["get-endpoint", "-A", w],
        ["get-endpoint", w, "--workspace-name", "other"],
        ["get-endpoint", "missing-ws"],
        ["get-endpoint", w, "--wait", "--timeout=xyz"],
        ["get-endpoint", w, "-ojsonpath="],
        ["get-endpoint", w, "-o", "jsonpath={.x"],
        ["get-endpoint", w, "--context", "no-such-context"],
        ["get-endpoint", w, "--kubeconfig", "/nonexistent/kubeconfig"],
        ["get-endpoin", w],
        ["-n"],
        ["-n", "x"],
        ["--bogus", "get-endpoint", w],
        ["-v", "get-endpoint", w, "-o", "name"],
        ["--", "get-endpoint", w],
        ["status", w, "-w=maybe"],
        ["status", "--bogus"],
        ["status", w, "-o", "wide", "--no-headers", "-o", "json"],
        ["version", "--bogus"],
        ["models", "bogus"],
        ["get-endpoint", w, "\udcff"],
        ["get-endpoint", "inf"],
        # the fast path's one form and its near misses (these must reach Typer unchanged)
        ["--version", "--version"],
        ["--version", "-h"],
        ["-h", "--version"],
        ["--version=true"],
        ["--version=false"],
        ["--versio"],
        ["--VERSION"],
        ["-n", "x", "--version"],
        ["--version", "-n", "x"],
        ["--version", "extra"],
        ["--version", "--bogus"],
        ["--", "--version"],
        ["--version", ""],
        ["--version\n"],
        [" --version"],
    ]
    corpus += FAST_LINES + NEAR_MISSES
    return corpus


def _masked_ages(text: str) -> str:
    """`status NAME`'s AGE cells (5s, 2m) may tick between two runs of the same line: compared masked."""
    return re.sub(r"\b\d+[smhd]\b", "<age>", text)


def test_a_named_command_alone_answers_as_the_whole_tree(sim: Any) -> None:
    from tests.helpers import fake_console

    sim.seed_workspace("diff-llm")
    sim.seed_workspace("other-ws")
    sim.seed_workspace("pending-llm", ready=False)
    sim.seed_workspace("tune-llm", tuning=True)
    sim.ensure_namespace("empty-ns")
    kubeconfig = os.environ["KUBECONFIG"]
    dead = os.path.join(os.path.dirname(kubeconfig), "dead-kubeconfig")  # a server nobody listens on
    with open(kubeconfig) as src, open(dead, "w") as dst:
        dst.write(re.sub(r"https://127\.0\.0\.1:\d+", "https://127.0.0.1:9", src.read()))

    def filled(args: list[str]) -> list[str]:
        return [a.replace("{kubeconfig}", kubeconfig).replace("{dead}", dead) for a in args]

    corpus = [filled(args) for args in _corpus()]
    assert len(corpus) > 300
    codes = []
    fast_answered = []
    for args in corpus:
        answers = []
        for mode in ("entry", "lazy", "full"):
            console = fake_console(None)
            # "entry" is what the console script does (kubectl_kaito/entry.py): the fast path, else Typer
            fast = fastpath.answer(list(args), console) if mode == "entry" else None
            if mode == "entry" and fast is not None:
                fast_answered.append(args)
            code = fast if fast is not None else cli.main(list(args), console=console, lazy=mode != "full")
            out, err = console.stdout.getvalue(), console.stderr.getvalue()
            if args[:1] == ["status"] or "status" in args[:5]:
                out, err = _masked_ages(out), _masked_ages(err)
            answers.append((code, out, err))
        assert answers[0] == answers[1] == answers[2], args
        codes.append(answers[0][0])
    assert codes.count(0) > 200 and codes.count(2) > 20  # most lines answer; the malformed ones are refused
    assert {0, 1, 3, 4, 5} <= set(codes)  # found, tuning, not found, not ready, unreachable: all alike
    # the fast path took exactly its plain forms, and left every near miss (and everything else) to Typer
    assert all(filled(args) in fast_answered for args in FAST_LINES)
    assert not any(filled(args) in fast_answered for args in NEAR_MISSES)
    assert len(fast_answered) > 100  # the plain forms of the older corpus too


#: What random command lines are made of: the fast path's forms, their near misses, and noise (nothing
#: that starts a watch or a wait: every line must end by itself). Each entry is one or two words.
_GLOBAL_FORMS = [["-n", "default"], ["-ndefault"], ["-n=default"], ["--namespace=default"], ["--context", "sim"]]
_GLOBAL_FORMS += [["--context=sim"], ["-n", "Bad_NS"], ["-n="], ["-v0"], ["--request-timeout=5s"], ["--bogus"]]
_NAME_FORMS = [["diff-llm"], ["other-ws"], ["missing-ws"], ["--workspace-name", "diff-llm"], ["--workspace-name=x-1"]]
_NAME_FORMS += [["Bad_Name"], [""], ["-"], ["--workspace-name"], []]
_OPTION_FORMS = [["-o", "json"], ["-ojson"], ["-o=url"], ["--output=json"], ["--format", "url"], ["-o", "JSON"]]
_OPTION_FORMS += [["-o", "yaml"], ["-o"], ["--external"], ["-A"], ["--path", "/v1"], ["-h"], ["--"], ["-x"]]
_OPTION_FORMS += _GLOBAL_FORMS


def _random_line(rng: Any) -> list[str]:
    """A command line: globals, a command, names and options after it in any order."""
    before = [w for _ in range(rng.choice((0, 0, 1, 2))) for w in rng.choice(_GLOBAL_FORMS)]
    parts = [rng.choice(_NAME_FORMS) for _ in range(rng.choice((1, 1, 1, 2)))]
    parts += [rng.choice(_OPTION_FORMS) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
    rng.shuffle(parts)
    return [*before, rng.choice(("get-endpoint", "get-endpoint", "status", "version")), *(w for p in parts for w in p)]


def test_random_command_lines_answer_alike_on_the_fast_path_and_through_typer(sim: Any) -> None:
    import random

    from tests.helpers import fake_console

    sim.seed_workspace("diff-llm")
    sim.seed_workspace("other-ws")
    rng = random.Random(1117)
    lines = [_random_line(rng) for _ in range(400)]
    fast_answered = 0
    for args in lines:
        answers = []
        for fast_first in (True, False):
            console = fake_console(None)
            code = fastpath.answer(list(args), console) if fast_first else None
            fast_answered += code is not None
            if code is None:
                code = cli.main(list(args), console=console, lazy=False)
            answers.append((code, _masked_ages(console.stdout.getvalue()), _masked_ages(console.stderr.getvalue())))
        assert answers[0] == answers[1], args
    assert 25 < fast_answered < 300  # both: the fast path's forms (33 with this seed) and their near misses


# ---- the fast path (fastpath.py): no typer, the same flags as Typer's declarations -------------------


def test_the_fast_paths_view_of_its_flags_is_typers() -> None:
    from typer.core import TyperOption

    # cli.py declares --version with fastpath.VERSION_OPTION: one definition, read by both paths
    root = _full_tree()
    (param,) = [p for p in root.params if p.name == "version"]
    assert isinstance(param, TyperOption)
    assert param.opts == [fastpath.VERSION_OPTION] and param.secondary_opts == []
    assert param.is_flag and param.is_eager  # answered before any command is looked up, takes no value
    others = [o for p in root.params if p is not param for o in (*p.opts, *p.secondary_opts)]
    assert fastpath.VERSION_OPTION not in others


def test_every_option_the_fast_path_reads_is_declared_by_typer_with_the_same_names_and_a_value() -> None:
    from typer._click.core import Context
    from typer.core import TyperOption

    root = _full_tree()
    # The settings the fast path reads, by option name: before the command (the root's options) and
    # after it (the command's own, with the global ones the wrapper adds to every command).
    views: dict[str, tuple[Any, dict[str, str]]] = {"": (root, fastpath._GLOBALS)}
    for name, (own, _) in fastpath.COMMANDS.items():
        views[name] = (root.get_command(Context(root), name), {**fastpath._GLOBALS, **own})
    for where, (command, names) in views.items():
        assert command is not None, where
        by_name = {o: p for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for setting in set(names.values()):
            fast = {o for o, s in names.items() if s == setting}
            params = {id(by_name[o]) for o in fast if o in by_name}
            assert len(params) == 1, (where, setting, fast)  # one Typer parameter, known by every name
            param = by_name[next(iter(fast))]
            assert set(param.opts) | set(param.secondary_opts) == fast, (where, setting)  # no name missing
            assert isinstance(param, TyperOption) and not param.is_flag and not param.count, (where, setting)
            assert param.nargs == 1, (where, setting)  # exactly one value, as the fast path reads it
    # the -o values it answers are ones Typer accepts
    (fmt,) = [p for p in views["get-endpoint"][0].params if "--output" in p.opts]
    assert fmt is not None
    from kubectl_kaito.commands import get_endpoint

    assert set(fastpath.COMMANDS["get-endpoint"][1]) <= set(get_endpoint.FORMATS)


def test_the_fast_path_answers_version_without_importing_typer_exactly_as_typer() -> None:
    runs = {}
    for entry in ("kubectl_kaito.entry", "kubectl_kaito.cli"):
        runs[entry] = _run_python(
            f"""
            import atexit, sys
            atexit.register(lambda: sys.stderr.write("teardown\\n"))  # a short run skips it on both paths
            sys.argv = ["kubectl-kaito", "--version"]
            from {entry} import run
            run()
            """
        )
    fast, full = runs["kubectl_kaito.entry"], runs["kubectl_kaito.cli"]
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)
    assert fast.returncode == 0 and fast.stdout.startswith("kubectl-kaito ") and fast.stderr == ""  # no teardown
    proc = _run_python(
        """
        import sys
        sys.argv = ["kubectl-kaito", "--version"]
        import kubectl_kaito.entry as entry, os
        os._exit = lambda code: (print(code, sorted(m for m in sys.modules if m.startswith(("typer", "click")))),
                                 sys.stdout.flush(), sys.exit(0))
        entry.run()
        """
    )
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stderr


#: Modules a fast-path run must not import (each costs start-up time; see docs/design.md, start-up).
NOT_ON_THE_FAST_PATH = (
    *("typer", "click", "kubectl_kaito.cli", "kubectl_kaito.commands", "dataclasses", "typing", "inspect"),
    *("http.client", "email", "encodings.idna", "pathlib", "hashlib", "yaml"),
)


@pytest.mark.parametrize(
    ("args", "also"),
    [
        (["get-endpoint", "fast-llm"], ("datetime",)),  # no ages to compute (status's AGE columns need it)
        (["status", "fast-llm", "-n", "default"], ()),
    ],
)
def test_a_fast_path_run_imports_none_of_the_heavy_modules(sim: Any, args: list[str], also: tuple[str, ...]) -> None:
    heavy = (*NOT_ON_THE_FAST_PATH, *also)
    sim.seed_workspace("fast-llm")
    proc = _run_python(
        f"""
        import sys
        before = set(sys.modules)  # what the interpreter's start loaded (site; an editable install's finder)
        sys.argv = ["kubectl-kaito", *{args!r}]
        import kubectl_kaito.entry as entry, os
        def report(code):
            sys.stdout.flush()
            heavy = sorted(m for m in set(sys.modules) - before if m in {heavy!r}
                           or m.split(".")[0] in {heavy!r} or m.startswith("kubectl_kaito.commands."))
            sys.stderr.write(f"exit {{code}} {{heavy}}\\n")
            sys.stderr.flush()
            sys.exit(0)
        os._exit = report
        entry.run()
        """
    )
    assert proc.stderr.splitlines()[-1] == "exit 0 []", proc.stderr
    assert "fast-llm" in proc.stdout  # the URL, or the details that name it


def test_host_names_skip_the_idna_codec_only_when_ascii() -> None:
    from kubectl_kaito.transport import ascii_name

    assert ascii_name("127.0.0.1") == b"127.0.0.1"
    assert ascii_name("api.example.com") == b"api.example.com"
    assert ascii_name("bücher.example") == "bücher.example"  # socket and ssl encode it with idna


def test_a_closed_stdout_ends_version_alike_on_both_paths() -> None:
    import os

    answers = []
    for entry in ("kubectl_kaito.entry", "kubectl_kaito.cli"):
        r, w = os.pipe()
        os.close(r)  # the reader is gone before the plugin writes: EPIPE
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import sys; sys.argv = ['kubectl-kaito', '--version']; from {entry} import run; run()",
                ],
                stdout=w,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
        finally:
            os.close(w)
        answers.append((proc.returncode, proc.stderr))
    assert answers[0] == answers[1] == (1, b"")


def test_the_console_script_and_python_m_enter_through_the_fast_path() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert '\nkubectl-kaito = "kubectl_kaito.entry:run"\n' in (root / "pyproject.toml").read_text()  # 3.10: no tomllib
    assert "from kubectl_kaito.entry import run" in (root / "kubectl_kaito" / "__main__.py").read_text()
    assert "from kubectl_kaito.entry import run" in (root / "scripts" / "build_release.py").read_text()
