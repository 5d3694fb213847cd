"""`kubectl kaito delete` against the simulated cluster: confirmation, --yes, --all, --wait, not found, dry run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import assert_usage_error_sends_nothing, run_cli

API = "kaito.sh/v1beta1"


def exists(sim: Any, name: str, namespace: str = "default") -> bool:
    """Still stored and not being deleted."""
    obj = sim.get(API, "Workspace", name, namespace)
    return obj is not None and not (obj.get("metadata") or {}).get("deletionTimestamp")


def deletes(sim: Any, since: int) -> list[Any]:
    return [q for q in sim.requests[since:] if q.method == "DELETE"]


def test_without_a_terminal_and_without_yes_it_refuses_before_contacting_the_cluster(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    before = len(sim.requests)
    r = run_cli("delete", "--workspace-name", "my-llm")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert "refusing to delete without confirmation" in r.stderr
    assert "hint: add --yes" in r.stderr
    assert len(sim.requests) == before
    assert exists(sim, "my-llm")


def test_yes_deletes_and_reports_like_kubectl(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    r = run_cli("delete", "--workspace-name", "my-llm", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted\n'
    assert "releases its GPU nodes" in r.stderr
    assert not exists(sim, "my-llm")


def test_terminal_confirmation_yes_deletes(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    r = run_cli("delete", "my-llm", stdin_tty=True, input="y\n")
    assert r.exit_code == 0, r.stderr
    assert 'Delete workspace "my-llm" in namespace "default"? [y/N]: ' in r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted\n'  # the prompt never reaches stdout
    assert not exists(sim, "my-llm")


@pytest.mark.parametrize("answer", ["n\n", "\n", "", "maybe\n"])
def test_terminal_confirmation_anything_but_yes_deletes_nothing(sim: Any, answer: str) -> None:
    sim.seed_workspace("my-llm")
    before = len(sim.requests)
    r = run_cli("delete", "my-llm", stdin_tty=True, input=answer)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert "Nothing deleted." in r.stderr
    assert deletes(sim, before) == []
    assert exists(sim, "my-llm")


def test_several_names_are_asked_about_once(sim: Any) -> None:
    sim.seed_workspace("a-llm")
    sim.seed_workspace("b-llm")
    r = run_cli("delete", "a-llm", "--workspace-name", "b-llm", stdin_tty=True, input="yes\n")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.count("[y/N]") == 1 and "2 workspaces (a-llm, b-llm)" in r.stderr
    assert r.stdout.splitlines() == ['workspace.kaito.sh "a-llm" deleted', 'workspace.kaito.sh "b-llm" deleted']
    assert not exists(sim, "a-llm") and not exists(sim, "b-llm")


def test_not_found_is_exit_3_and_the_others_are_still_deleted(sim: Any) -> None:
    sim.seed_workspace("real")
    r = run_cli("delete", "ghost", "real", "--yes")
    assert r.exit_code == 3
    assert r.stdout == 'workspace.kaito.sh "real" deleted\n'
    assert 'error: workspace "ghost" not found in namespace "default"' in r.stderr
    assert not exists(sim, "real")


def test_ignore_not_found_is_exit_0_and_quiet(sim: Any) -> None:
    r = run_cli("delete", "ghost", "--yes", "--ignore-not-found")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert "error" not in r.stderr


def test_all_deletes_every_workspace_of_the_namespace_only(sim: Any) -> None:
    sim.seed_workspace("a-llm")
    sim.seed_workspace("b-llm")
    sim.seed_workspace("keep-me", namespace="team-b")
    r = run_cli("delete", "--all", "--yes")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ['workspace.kaito.sh "a-llm" deleted', 'workspace.kaito.sh "b-llm" deleted']
    assert not exists(sim, "a-llm") and not exists(sim, "b-llm")
    assert exists(sim, "keep-me", "team-b")


def test_all_in_an_empty_namespace_is_fine(sim: Any) -> None:
    r = run_cli("delete", "--all", "--yes", "-n", "empty")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert "No workspaces found in empty namespace." in r.stderr


def test_wait_returns_once_the_workspace_is_gone(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    r = run_cli("delete", "my-llm", "--yes", "--wait", "--timeout", "30s")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted\n'
    assert "workspace default/my-llm is gone" in r.stderr
    assert sim.get(API, "Workspace", "my-llm", "default") is None


def test_wait_times_out_with_exit_4_when_the_finalizer_stays(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    sim.set_operator(False)  # nobody removes KAITO's finalizer
    r = run_cli("delete", "my-llm", "--yes", "--wait", "--timeout", "1s")
    assert r.exit_code == 4
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted\n'
    assert "error: timed out after 1s waiting for workspace default/my-llm to be deleted" in r.stderr
    assert "workspace.finalizer.kaito.sh" in r.stderr


def test_dry_run_says_what_would_go_and_deletes_nothing(sim: Any) -> None:
    sim.seed_workspace("a-llm")
    sim.seed_workspace("b-llm")
    before = len(sim.requests)
    r = run_cli("delete", "--all", "--dry-run")  # no terminal, no --yes: a dry run needs neither
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        'workspace.kaito.sh "a-llm" deleted (dry run)',
        'workspace.kaito.sh "b-llm" deleted (dry run)',
    ]
    assert deletes(sim, before) == []
    assert exists(sim, "a-llm") and exists(sim, "b-llm")


def test_dry_run_before_the_name_does_not_swallow_it(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    r = run_cli("delete", "--dry-run", "my-llm")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted (dry run)\n'
    assert exists(sim, "my-llm")


def test_server_dry_run_sends_a_dry_run_delete_and_keeps_the_workspace(sim: Any) -> None:
    sim.seed_workspace("my-llm")
    before = len(sim.requests)
    r = run_cli("delete", "my-llm", "--dry-run=server")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == 'workspace.kaito.sh "my-llm" deleted (server dry run)\n'
    sent = deletes(sim, before)
    assert len(sent) == 1 and sent[0].query.get("dryRun") == "All"
    assert exists(sim, "my-llm")


def test_dry_run_of_a_missing_workspace_is_still_not_found(sim: Any) -> None:
    r = run_cli("delete", "ghost", "--dry-run")
    assert r.exit_code == 3 and r.stdout == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("delete", "--yes"), "no workspace to delete"),
        (("delete", "a", "--all", "--yes"), "not both"),
        (("delete", "Not_Valid", "--yes"), "invalid workspace name"),
        (("delete", "a", "--yes", "--wait", "--timeout", "soon"), "invalid --timeout"),
        (("delete", "a", "--dry-run=maybe"), "invalid --dry-run value"),
        (("delete", "a", "--dry-run", "--wait"), "--wait cannot be used with --dry-run"),
    ],
)
def test_usage_errors_are_exit_2_before_any_request(sim: Any, args: tuple[str, ...], needle: str) -> None:
    assert_usage_error_sends_nothing(sim, args, needle)
