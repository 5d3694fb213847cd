"""The simulator's copy of KAITO's files (sim/kaito_sim/data) is the plugin's (kubectl_kaito/data), byte for byte."""

from __future__ import annotations

from pathlib import Path

import kaito_sim
import pytest

import kubectl_kaito

PLUGIN_DATA = Path(kubectl_kaito.__file__).parent / "data"
SIM_DATA = Path(kaito_sim.__file__).parent / "data"


@pytest.mark.parametrize("name", ["kaito.sh_workspaces.yaml", "kaito.sh_inferencesets.yaml", "supported_models.yaml",
                                  "model_catalog.yaml", "LICENSE-KAITO", "SOURCE.md"])
def test_sim_serves_the_kaito_release_the_plugin_bundles(name):
    """Both packages describe the same KAITO release: update the two copies together."""
    assert (SIM_DATA / name).read_bytes() == (PLUGIN_DATA / name).read_bytes(), name
