"""kubectl's JSONPath (client-go's syntax, as kubectl 1.37.1 prints it) and custom columns, pure."""

from __future__ import annotations

import pytest

from kubectl_kaito import jsonpath, output
from kubectl_kaito.errors import UsageError
from kubectl_kaito.flags import output_format

DOC = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"k.io/x": "1"}}, "n": 2, "ok": True, "c": [{"t": "R", "s": "True"}]},
        {"metadata": {"name": "b"}, "n": 10, "ok": False, "c": [{"t": "R", "s": "False"}]},
    ],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.items[*].metadata.name}", "a b"),
        ('{range .items[*]}{.metadata.name}{"\\n"}{end}', "a\nb\n"),
        ('{.items[?(@.metadata.name=="b")].n}', "10"),
        ("{.items[?(@.n>5)].metadata.name}", "b"),
        ('{.items[*].c[?(@.t=="R")].s}', "True False"),
        ("{.items[0].metadata.labels['k.io/x']}", "1"),
        ("{.items[*].ok}", "true false"),
        ("{.items[0].c}", '[{"t":"R","s":"True"}]'),
        ("{.items[-1].metadata.name}{.items[5].x}", "b"),
        ("x{.missing}y", "xy"),
        ("{..name}", "a b"),
        ("{.items[0].metadata.name,.items[1].metadata.name}", "a b"),
    ],
)
def test_templates(template: str, expected: str) -> None:
    assert jsonpath.compile(template).render(DOC) == expected


@pytest.mark.parametrize("bad", ["{.items[*", "{range .items[*]}", "{end}", "{.a b}", "{}"])
def test_bad_templates_are_refused_once_by_the_format_check(bad: str) -> None:
    with pytest.raises(UsageError, match="error parsing jsonpath"):
        output_format(f"jsonpath={bad}", ("json", "jsonpath"))


def test_format_keeps_the_template_as_typed_and_lowers_the_kind() -> None:
    assert output_format("JSONPath={.Items}", ("jsonpath",)) == "jsonpath={.Items}"
    with pytest.raises(UsageError, match="unknown output format"):
        output_format("jsonpath={.a}", ("json", "yaml"))
    with pytest.raises(UsageError, match="expected <header>:<json-path-expr>"):
        output_format("custom-columns=NAME", ("custom-columns",))


def test_custom_columns_and_names() -> None:
    text = output.format_objects(DOC, "custom-columns=NAME:.metadata.name,N:.n,L:.metadata.labels")
    assert text.splitlines() == ["NAME   N    L", 'a      2    {"k.io/x":"1"}', "b      10   <none>"]
    ws = {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "metadata": {"name": "x"}}
    assert output.format_objects(ws, "name") == "workspace.kaito.sh/x\n"
