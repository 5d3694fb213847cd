"""Output forms through the real `kubectl kaito` dispatch (kubectl 1.37.1 hands argv over as typed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import run_kubectl

pytestmark = pytest.mark.e2e


def test_jsonpath_forms_through_kubectl_match_kubectl_get(sim: Any) -> None:
    sim.seed_workspace("a-llm", ready=True)
    sim.seed_workspace("b-llm", ready=False)
    template = '{range .items[*]}{.metadata.name}{"\\n"}{end}'
    theirs = run_kubectl("get", "workspaces.kaito.sh", "-o", f"jsonpath={template}")
    for argv in (["-o", f"jsonpath={template}"], [f"-o=jsonpath={template}"], [f"--output=jsonpath={template}"]):
        ours = run_kubectl("kaito", "status", *argv)
        assert (ours.exit_code, ours.stdout) == (0, theirs.stdout), argv
    assert theirs.stdout == "a-llm\nb-llm\n"
    bad = run_kubectl("kaito", "status", "-o=jsonpath={.items[*")
    assert bad.exit_code == 2 and bad.stdout == "" and bad.stderr.startswith("error: error parsing jsonpath")


def test_status_yaml_piped_to_kubectl_apply_is_safe(sim: Any) -> None:
    sim.seed_workspace("my-llm", ready=True, labels={"team": "search"})
    before = json.loads(run_kubectl("get", "workspaces.kaito.sh", "my-llm", "-o", "json").stdout)
    doc = run_kubectl("kaito", "status", "my-llm", "-o", "yaml")
    assert doc.exit_code == 0, doc.stderr
    applied = run_kubectl("apply", "-f", "-", input=doc.stdout)
    assert applied.exit_code == 0, applied.stderr
    after = json.loads(run_kubectl("get", "workspaces.kaito.sh", "my-llm", "-o", "json").stdout)
    for key in ("inference", "resource"):
        assert after[key] == before[key]
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    listed = run_kubectl("kaito", "status", "-o", "yaml")
    # the simulator serves no OpenAPI for v1 List, so kubectl's client-side check of a List fails for
    # `kubectl get wk -o yaml` as well: skip that check, the server still validates every Workspace
    again = run_kubectl("apply", "--validate=false", "-f", "-", input=listed.stdout)
    assert again.exit_code == 0, again.stderr
    assert (
        json.loads(run_kubectl("get", "workspaces.kaito.sh", "my-llm", "-o", "json").stdout)["inference"]
        == (before["inference"])
    )


def test_selector_and_several_names_through_kubectl(sim: Any) -> None:
    sim.seed_workspace("a-llm", ready=True, labels={"team": "search"})
    sim.seed_workspace("b-llm", ready=True)
    r = run_kubectl("kaito", "status", "-l=team=search", "-o", "name")
    assert (r.exit_code, r.stdout) == (0, "workspace.kaito.sh/a-llm\n")
    both = run_kubectl("kaito", "get-endpoint", "a-llm", "b-llm", "-o", "json")
    assert [i["workspace"] for i in json.loads(both.stdout)] == ["a-llm", "b-llm"]
