"""Every KAITO v0.12.0 example in docs/deploy.md's table, built by `deploy --dry-run` and compared field by
field with the example's spec (tests/fixtures/kaito_examples/expected_specs.yaml, derived from
kaito-project/kaito at tag v0.12.0), and the examples KAITO refuses, refused by deploy too."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
FIXTURES = ROOT / "tests" / "fixtures" / "kaito_examples"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((FIXTURES / "expected_specs.yaml").read_text())


def table_rows() -> list[tuple[str, str]]:
    """(KAITO file, deploy command) from the table between the examples-table markers."""
    text = DOC.read_text()
    body = text.split("<!-- examples-table:start -->", 1)[1].split("<!-- examples-table:end -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|$", body, re.M)
    assert rows, "the examples table in docs/deploy.md is empty"
    return rows


ROWS = table_rows()


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Field-by-field differences, each naming its path (missing, extra, or a different value or type)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for k in want.keys() | got.keys():
            p = f"{path}.{k}" if path else k
            if k not in got:
                out.append(f"{p}: missing (want {want[k]!r})")
            elif k not in want:
                out.append(f"{p}: not in the example (got {got[k]!r})")
            else:
                out += differences(want[k], got[k], p)
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (w, g) in enumerate(zip(want, got, strict=True)) for d in differences(w, g, f"{path}[{i}]")]
    if want != got or type(want) is not type(got):
        return [f"{path}: want {want!r}, got {got!r}"]
    return []


def test_the_table_covers_every_expected_example() -> None:
    assert sorted(k for k, _ in ROWS) == sorted(EXPECTED)
    assert len(ROWS) >= 60


@pytest.mark.parametrize(("example", "command"), ROWS, ids=[k for k, _ in ROWS])
def test_deploy_builds_the_example(example: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)  # the --template files of the table live here
    argv = shlex.split(command)
    assert argv[:3] == ["kubectl", "kaito", "deploy"]
    r = run_cli(*argv[2:], "--dry-run", "-o", "json")
    assert r.exit_code == 0, r.stderr
    ws = json.loads(r.stdout)
    assert ws["apiVersion"] == "kaito.sh/v1beta1" and ws["kind"] == "Workspace"
    meta = {k: v for k, v in ws["metadata"].items() if k != "namespace"}
    got = {"metadata": meta, **{k: v for k, v in ws.items() if k in ("resource", "inference", "tuning")}}
    assert differences(EXPECTED[example], got) == []


REFUSED = [
    # KAITO v0.11+ does not accept falcon-7b as a preset name (examples/fine-tuning/*falcon*, tuning.md, ...)
    (
        [
            "workspace-tuning-falcon",
            "--tuning",
            "--model",
            "falcon-7b",
            "--instance-type",
            "Standard_NC24ads_A100_v4",
            "--input-image",
            "pullregistry/data:0.0.1",
            "--input-pull-secret",
            "pull",
            "--output-image",
            "pushregistry/adapter:0.0.1",
            "--output-image-push-secret",
            "push",
        ],
        "no longer accepted by KAITO v0.11+",
    ),
    (
        [
            "workspace-falcon-7b",
            "--model",
            "falcon-7b",
            "--instance-type",
            "Standard_NC24ads_A100_v4",
            "--label-selector",
            "apps=gpu",
        ],
        "no longer accepted by KAITO v0.11+",
    ),
    # examples/inference/kaito_workspace_phi_3_with_adapters.yaml: strength "1.0" under the default vLLM runtime
    (
        [
            "workspace-phi-3-mini-adapter",
            "--model",
            "phi-3-mini-128k-instruct",
            "--instance-type",
            "Standard_NC24ads_A100_v4",
            "--label-selector",
            "apps=phi-3-adapter",
            "--adapter",
            "phi-3-adapter=myacr.azurecr.io/adapter:0.0.1,strength=1.0",
        ],
        "vLLM does not support adapter strength",
    ),
]


@pytest.mark.parametrize(("args", "message"), REFUSED)
def test_examples_kaito_refuses_are_refused(args: list[str], message: str) -> None:
    r = run_cli("deploy", *args, "--dry-run")
    assert r.exit_code == 2 and r.stdout == ""
    assert message in r.stderr


def test_strength_refusal_says_how_to_keep_it() -> None:
    r = run_cli(
        "deploy", "w", "--model", "phi-3-mini-128k-instruct", "--adapter", "a=r.io/a:1,strength=1.0", "--dry-run"
    )
    assert r.stderr.splitlines()[-1] == (
        "hint: add --runtime transformers to use strength=, or drop strength= to serve with vLLM"
    )


def test_a_gated_model_without_a_secret_is_a_warning_as_kaito_v012_accepts_it() -> None:
    # website/docs/multi-node-inference.md deploys llama-3.3-70b-instruct with no modelAccessSecret
    r = run_cli(
        "deploy",
        "workspace-large-model",
        "--model",
        "llama-3.3-70b-instruct",
        "--instance-type",
        "Standard_NC80adis_H100_v5",
        "--dry-run",
    )
    assert r.exit_code == 0, r.stderr
    assert yaml.safe_load(r.stdout)["inference"]["preset"] == {"name": "llama-3.3-70b-instruct"}
    assert r.stderr.startswith(
        "warning: model llama-3.3-70b-instruct is gated on Hugging Face: without "
        "--model-access-secret its download will fail"
    )
