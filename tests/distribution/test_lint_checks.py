"""mypy and ruff, as .ci/run and the pre-commit hooks run them, fail on what they must catch.

Each check runs with the project's own settings (pyproject.toml) on a small file in a temporary
directory: a finding exits non-zero (which ends .ci/run before the tests), and the same file without
the finding passes, so the failure is the finding and not a broken configuration.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyproject.toml"
VENV_BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' (it is in the test extra)")
    return str(path)


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd, timeout=300, stdin=subprocess.DEVNULL)


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sample.py").write_text(source)
    # Files named on the command line replace the configured `files`; the rest of [tool.mypy] applies.
    return _run(
        _tool("mypy"),
        "--config-file",
        str(CONFIG),
        "--no-incremental",
        "--cache-dir",
        str(tmp_path / ".mypy"),
        "sample.py",
        cwd=tmp_path,
    )


def _ruff(tmp_path: Path, source: str, *command: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sample.py").write_text(source)
    return _run(_tool("ruff"), *command, "--config", str(CONFIG), "--no-cache", "sample.py", cwd=tmp_path)


def test_ci_runs_mypy_and_ruff_before_the_tests() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    tests = lines.index("python -m pytest -q -p no:cacheprovider")
    for command in ("mypy", "ruff check .", "ruff format --check ."):
        assert command in lines[:tests], command
    assert "set -euo pipefail" in lines  # a finding's non-zero exit ends the run


def test_mypy_fails_on_a_type_error(tmp_path: Path) -> None:
    bad = _mypy(tmp_path, 'def double(n: int) -> int:\n    return n * 2\n\n\ndouble("two")\n')
    assert bad.returncode != 0
    assert re.search(r"sample\.py:5: error: .*\[arg-type\]", bad.stdout), bad.stdout
    good = _mypy(tmp_path, "def double(n: int) -> int:\n    return n * 2\n\n\ndouble(2)\n")
    assert good.returncode == 0, good.stdout + good.stderr


def test_mypy_is_strict_outside_the_tests_and_the_simulator(tmp_path: Path) -> None:
    # An unannotated function is an error under strict (kubectl_kaito/), not in the tests' override.
    bad = _mypy(tmp_path, "def double(n):\n    return n * 2\n")
    assert bad.returncode != 0
    assert "[no-untyped-def]" in bad.stdout, bad.stdout


def test_ruff_check_fails_on_an_unused_import(tmp_path: Path) -> None:
    bad = _ruff(tmp_path, "import os\n", "check")
    assert bad.returncode != 0
    assert "F401" in bad.stdout, bad.stdout
    good = _ruff(tmp_path, "import os\n\nprint(os.sep)\n", "check")
    assert good.returncode == 0, good.stdout + good.stderr


def test_ruff_format_check_fails_on_unformatted_code(tmp_path: Path) -> None:
    bad = _ruff(tmp_path, "x = {  'a':1 }\n", "format", "--check")
    assert bad.returncode != 0
    assert "would be reformatted" in bad.stdout, bad.stdout
    good = _ruff(tmp_path, 'x = {"a": 1}\n', "format", "--check")
    assert good.returncode == 0, good.stdout + good.stderr
