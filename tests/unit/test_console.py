"""The console (streams, terminals, colour, the prompt) and the renderer (results, tables, blocks)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from kubectl_kaito import output
from kubectl_kaito.console import Console
from kubectl_kaito.errors import NotFoundError
from kubectl_kaito.output import Block, Document, Table, Text

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_kaito"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def console(input: str = "", *, tty: bool = False, env: dict[str, str] | None = None) -> Console:
    stream = Tty if tty else io.StringIO
    return Console(stdin=stream(input), stdout=stream(), stderr=stream(), env=env or {})


def err(c: Console) -> str:
    return c.stderr.getvalue()  # type: ignore[attr-defined]  # the test console writes to a StringIO


def out(c: Console) -> str:
    return c.stdout.getvalue()  # type: ignore[attr-defined]  # the test console writes to a StringIO


# ---- the console ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "yes"),
    [("y\n", True), ("Yes\n", True), ("n\n", False), ("", False), ("\n", False), ("yes please\n", False)],
)
def test_confirm_asks_on_stderr_and_reads_one_line(answer: str, yes: bool) -> None:
    c = console(answer + "rest\n", tty=True)
    assert c.confirm("Delete it?") is yes
    assert err(c).startswith("Delete it? [y/N]: ")
    assert out(c) == ""
    assert c.stdin.read() == ("rest\n" if answer else "")  # exactly one line was read


def test_confirm_at_end_of_input_finishes_the_prompt_line() -> None:
    c = console("")
    assert c.confirm("Go?") is False
    assert err(c) == "Go? [y/N]: \n"


@pytest.mark.parametrize(
    ("tty", "env", "coloured"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_needs_a_terminal_and_no_no_color(tty: bool, env: dict[str, str], coloured: bool) -> None:
    c = console(tty=tty, env=env)
    c.error(NotFoundError("gone", hint="look elsewhere"))
    c.warn("careful")
    assert ("\x1b[" in err(c)) is coloured
    assert c.live is coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", err(c)) == "error: gone\nhint: look elsewhere\nwarning: careful\n"


def test_error_as_json_adds_one_json_line() -> None:
    c = console()
    c.error(NotFoundError("gone", details={"workspace": "x"}), as_json=True)
    lines = err(c).splitlines()
    assert lines[0] == "error: gone" and lines[1].startswith('{"error": "gone"')


def test_progress_without_a_terminal_prints_each_change_once() -> None:
    c = console()
    with c.progress("waiting") as p:
        p.update("waiting")
        p.update("step 2")
        p.update("step 2")
    assert err(c) == "waiting [0s]\nstep 2 [0s]\n" and out(c) == ""  # each with the elapsed time


def test_nothing_in_the_product_touches_the_process_streams_but_the_console() -> None:
    """sys.stdin/stdout/stderr are the console's business: everything else is handed one."""
    pattern = re.compile(r"\bsys\.(stdin|stdout|stderr)\b|\bprint\(")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "sim" or str(rel) == "console.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []


# ---- the renderer --------------------------------------------------------------------------------------


def test_table_pads_columns_three_spaces_apart_and_upper_cases_headers() -> None:
    text = output.table(["name", "age"], [["a-long-name", "5m"], ["b", None]])
    assert text.splitlines() == ["NAME          AGE", "a-long-name   5m", "b"]


def test_table_minimum_widths_are_for_rows_that_come_later() -> None:
    widths = output.column_widths(["NAME", "AGE"], [["a", "1s"]], minimum={"NAME": 8})
    assert output.table_row(["a", "1s"], widths) == "a          1s"


def test_block_aligns_values_two_spaces_after_the_longest_key() -> None:
    assert output.block([("Name", "x"), ("Instance type", None)]).splitlines() == [
        "Name:           x",
        "Instance type:  ",
    ]


def test_render_draws_each_result_and_documents_in_the_runs_format() -> None:
    c = console()
    output.render(c, Text("http://x/v1"))
    output.render(c, Table(["A"], [["1"]]))
    output.render(c, Block([("K", "v")]))
    output.render(c, Document({"k": 1}), "yaml")
    output.render(c, Document({"k": 1}), None)
    output.render(c, Document({"k": 1}, default="yaml"), "wide")
    output.render(c, None, "json")
    assert out(c) == 'http://x/v1\nA\n1\nK:  v\nk: 1\n{\n  "k": 1\n}\nk: 1\n'
    assert err(c) == ""
