"""The simulator is a package of its own (sim/kaito_sim): it imports nothing of the plugin, and its copy of
KAITO's files (kaito_sim/data) is the plugin's (kubectl_kaito/data), byte for byte."""

from __future__ import annotations

import ast
from pathlib import Path

import kaito_sim
import pytest

import kubectl_kaito

PLUGIN_DATA = Path(kubectl_kaito.__file__).parent / "data"
SIM_PACKAGE = Path(kaito_sim.__file__).parent
SIM_DATA = SIM_PACKAGE / "data"


def _imported_modules(path: Path) -> set[str]:
    """Absolute modules a source file imports, at any depth (function-local imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_sim_imports_nothing_of_the_plugin():
    sources = sorted(SIM_PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    bad = {f"{p.name}: {m}" for p in sources for m in _imported_modules(p) if m.split(".")[0] == "kubectl_kaito"}
    assert not bad, sorted(bad)


@pytest.mark.parametrize(
    "name",
    [
        "kaito.sh_workspaces.yaml",
        "kaito.sh_inferencesets.yaml",
        "supported_models.yaml",
        "model_catalog.yaml",
        "LICENSE-KAITO",
        "SOURCE.md",
    ],
)
def test_sim_serves_the_kaito_release_the_plugin_bundles(name):
    """Both packages describe the same KAITO release: update the two copies together."""
    assert (SIM_DATA / name).read_bytes() == (PLUGIN_DATA / name).read_bytes(), name
