"""kubectl's names and output forms on status, get-endpoint, delete and logs (issue 12), compared
with the real kubectl 1.37.1 (`kubectl get workspaces.kaito.sh ...`) on the same simulated objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import run_cli, run_kubectl

TEMPLATES = [
    "{.items[*].metadata.name}",
    '{range .items[*]}{.metadata.name}{"\\t"}{.inference.preset.name}{"\\n"}{end}',
    '{.items[?(@.metadata.name=="b-llm")].status.conditions[?(@.type=="InferenceReady")].status}',
    "{.items[0].metadata.labels}",
    "{.items[-1:].metadata.name}",
    "{..instanceType}",
    "{.kind},{.items[*].kind}",
    "before{.nope}after",
    "{.items[*].status.targetNodeCount}",
]


@pytest.fixture
def three(sim: Any) -> Any:
    sim.seed_workspace("a-llm", ready=True, labels={"team": "search"})
    sim.seed_workspace("b-llm", ready=False, labels={"team": "chat", "tier": "gpu"})
    sim.seed_workspace("c-llm", ready=True, model="qwen2.5-coder-7b-instruct")
    return sim


@pytest.mark.parametrize("template", TEMPLATES)
def test_jsonpath_prints_exactly_what_kubectl_prints(three: Any, template: str) -> None:
    ours = run_cli("status", "-o", f"jsonpath={template}")
    theirs = run_kubectl("get", "workspaces.kaito.sh", "-o", f"jsonpath={template}")
    assert theirs.exit_code == 0, theirs.stderr
    assert (ours.exit_code, ours.stdout) == (0, theirs.stdout)


def test_jsonpath_on_one_workspace_is_applied_to_the_object(three: Any) -> None:
    ours = run_cli("status", "b-llm", "-o=jsonpath={.metadata.labels.tier}")
    theirs = run_kubectl("get", "workspaces.kaito.sh", "b-llm", "-o=jsonpath={.metadata.labels.tier}")
    assert ours.stdout == theirs.stdout == "gpu"


def test_name_and_custom_columns_print_what_kubectl_prints(three: Any) -> None:
    for fmt in ("name", "custom-columns=NAME:.metadata.name,MODEL:.inference.preset.name,X:.nope"):
        ours = run_cli("status", "-o", fmt)
        theirs = run_kubectl("get", "workspaces.kaito.sh", "-o", fmt)
        assert (ours.exit_code, ours.stdout) == (0, theirs.stdout), fmt
    assert run_cli("status", "a-llm", "-o", "name").stdout == "workspace.kaito.sh/a-llm\n"


def test_a_bad_template_is_exit_2_before_any_request(three: Any) -> None:
    before = len(three.requests)
    r = run_cli("status", "-o", "jsonpath={range .items[*]}{.x}")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0] == "error: error parsing jsonpath {range .items[*]}{.x}, range without {end}"
    assert len(three.requests) == before


def test_several_names_show_their_rows_and_a_list(three: Any) -> None:
    r = run_cli("status", "c-llm", "a-llm")
    assert r.exit_code == 0, r.stderr
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["NAME", "c-llm", "a-llm"]
    doc = json.loads(run_cli("status", "c-llm", "a-llm", "-o", "json").stdout)
    assert doc["kind"] == "List" and [i["metadata"]["name"] for i in doc["items"]] == ["c-llm", "a-llm"]
    missing = run_cli("status", "a-llm", "nope")
    assert missing.exit_code == 3 and [ln.split()[0] for ln in missing.stdout.splitlines()] == ["NAME", "a-llm"]


def test_selector_is_sent_to_the_list_and_filters(three: Any) -> None:
    r = run_cli("status", "-l", "team in (chat,search),tier", "-o", "name")
    assert r.stdout == "workspace.kaito.sh/b-llm\n"
    lists = [q for q in three.requests if q.path.endswith("/workspaces") and q.method == "GET"]
    assert lists[-1].query["labelSelector"] == "team in (chat,search),tier"
    bad = run_cli("status", "-l", "a b")  # as kubectl 1.37.1: the server judges the syntax
    assert bad.exit_code == 1 and bad.stdout == "" and "unable to parse requirement" in bad.stderr


def test_no_headers_show_labels_and_sort_by(three: Any) -> None:
    r = run_cli("status", "--show-labels", "--no-headers", "--sort-by", ".metadata.labels.team")
    rows = [ln.split() for ln in r.stdout.splitlines()]
    assert [row[0] for row in rows] == ["c-llm", "b-llm", "a-llm"]  # no team, chat, search
    assert rows[1][-1] == "team=chat,tier=gpu" and rows[0][-1] == "<none>"
    theirs = run_kubectl("get", "workspaces.kaito.sh", "--sort-by", ".metadata.labels.team", "-o", "name")
    assert run_cli("status", "--sort-by", ".metadata.labels.team", "-o", "name").stdout == theirs.stdout
    names = run_cli("status", "--sort-by", "{.metadata.name}", "-o", "name").stdout.split()
    assert names == sorted(names)


def test_status_column_names_the_trouble(sim: Any) -> None:
    sim.seed_workspace("ok", ready=True)
    sim.seed_workspace("broken", ready=False)
    sim.controller.fail_workspace("broken", reason="ContainerCrashLoopBackOff", message="back-off restarting")
    rows = {ln.split()[0]: ln.split() for ln in run_cli("status").stdout.splitlines()}
    col = rows["NAME"].index("STATUS")
    assert rows["ok"][col] == "Ready" and rows["broken"][col] == "ContainerCrashLoopBackOff"


def test_detail_view_never_cuts_a_message(sim: Any) -> None:
    sim.seed_workspace("broken", ready=False)
    long = "Back-off pulling image " + "x" * 150 + " END"
    sim.controller.fail_workspace("broken", reason="ImagePullError", message=long)
    piped = run_cli("status", "broken")
    assert long in piped.stdout
    tty = run_cli("status", "broken", stdout_tty=True, env={"COLUMNS": "120"})
    assert "END" in tty.stdout and "..." not in tty.stdout
    assert all(len(ln) <= 120 for ln in tty.stdout.splitlines() if "Back-off" in ln or "xxxx" in ln)


def test_get_endpoint_several_names_and_all_namespaces(three: Any) -> None:
    three.seed_workspace("d-llm", namespace="team-b", ready=True)
    r = run_cli("get-endpoint", "a-llm", "b-llm")
    assert r.exit_code == 0, r.stderr
    assert [ln.split() for ln in r.stdout.splitlines()] == [
        ["NAME", "URL", "READY"],
        ["a-llm", "http://a-llm.default.svc.cluster.local/v1/chat/completions", "true"],
        ["b-llm", "http://b-llm.default.svc.cluster.local/v1/chat/completions", "false"],
    ]
    j = json.loads(run_cli("get-endpoint", "-A", "-o", "json").stdout)
    assert [(i["namespace"], i["workspace"]) for i in j] == [
        ("default", "a-llm"),
        ("default", "b-llm"),
        ("default", "c-llm"),
        ("team-b", "d-llm"),
    ]
    one = json.loads(run_cli("get-endpoint", "a-llm", "-o", "json").stdout)
    assert one == j[0]  # the list's items are the one-workspace object
    urls = run_cli("get-endpoint", "-A", "-o", "jsonpath={[*].base_url}").stdout.split()
    assert urls[-1] == "http://d-llm.team-b.svc.cluster.local/v1"
    assert run_cli("get-endpoint", "a-llm", "b-llm", "--wait").exit_code == 2


def test_delete_by_selector(three: Any) -> None:
    r = run_cli("delete", "-l", "team=chat", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "b-llm" deleted\n'
    assert run_cli("delete", "a-llm", "-l", "team=chat", "--yes").exit_code == 2


def test_logs_selector_narrows_the_workspace_pods(three: Any) -> None:
    run_cli("logs", "a-llm", "-l", "nope=1")
    pods = [q for q in three.requests if q.path.endswith("/pods") and q.method == "GET"]
    assert pods[-1].query["labelSelector"] == "kaito.sh/workspace=a-llm,nope=1"
