#!/usr/bin/env python3
"""Build the krew release archive and render krew-manifest.yaml with its real sha256.

The archive holds one self-contained `kubectl-kaito`: a zipapp of the plugin and its
pinned, pure-Python dependencies (scripts/release-requirements.txt) that runs wherever
Python 3.10+ exists, with no package installed by hand. Because every dependency is pure
Python, one archive serves every platform krew lists; the build is reproducible (fixed
timestamps, sorted entries), so a second build gives the same sha256.

Usage:
    python scripts/build_release.py                 # build dist/ and rewrite krew-manifest.yaml
    python scripts/build_release.py --check         # build and fail if krew-manifest.yaml is stale
    python scripts/build_release.py --out DIR --no-manifest
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "scripts" / "release-requirements.txt"
MANIFEST = ROOT / "krew-manifest.yaml"
REPO_URL = "https://github.com/kaito-project/kubectl-kaito"
EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed zip timestamps: reproducible archives
TAR_MTIME = 1577836800  # 2020-01-01, same reason
# Platforms krew installs on: the zipapp is pure Python, so one archive serves them all.
# Windows is left out: krew wants a .exe there (see docs/distribution.md).
PLATFORMS = [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")]

MAIN_PY = """\
# Entry point of the kubectl-kaito zipapp. Kept short: Python compiles it on every run (twice).
import os
import sys

if sys.version_info < (3, 10):
    sys.stderr.write("error: kubectl-kaito needs Python 3.10 or newer (found %d.%d)\\n" % sys.version_info[:2])
    sys.exit(1)

import importlib.util  # loaded already (runpy runs this file)

# The per-build cache folder (docs/distribution.md); the import machinery is in _kaito_zipapp.py.
root = os.path.abspath(
    os.path.join(
        os.environ.get("KUBECTL_KAITO_CACHE")
        or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "kubectl-kaito"
        ),
        "@BUILD_ID@",
    )
)
boot = os.path.join(root, "_kaito_zipapp.py")
spec = importlib.util.spec_from_file_location("_kaito_zipapp", boot)
machinery = importlib.util.module_from_spec(spec)
if os.path.isfile(boot):
    spec.loader.exec_module(machinery)  # cached, with bytecode
else:
    source = __loader__.get_data(os.path.join(os.path.dirname(__file__), "_kaito_zipapp.py"))
    code = compile(source, boot, "exec", dont_inherit=True)
    exec(code, machinery.__dict__)
    machinery.PENDING.append((boot, source, code))  # cached with the modules this run imports
sys.modules["_kaito_zipapp"] = machinery
machinery.install(root, __loader__)

# Linked (or copied) as kubectl_complete-kaito, it answers kubectl's TAB completion instead:
# krew links only kubectl-kaito, so this is how krew users get `kubectl kaito <TAB>`.
if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
    from kubectl_kaito.completion import main as run
else:
    from kubectl_kaito.entry import run

run()
"""

BOOT_PY = """\
# The zipapp's import machinery (__main__.py loads it: from the cache folder, with bytecode, once a
# run has put it there; from the zip before that).
#
# Importing from inside a zip compiles every module on every run (zipimport keeps no .pyc cache).
# So each module of the archive is copied out of the zip, with its bytecode, into a per-build
# cache folder the first time a run imports it; later runs import it from there like any
# installed module. A run pays only for the modules it imports that no earlier run did, and
# nothing is unpacked that is never imported (licences, metadata, typing markers and the parts
# of the dependencies the plugin does not use stay in the zip). Writing those files costs more
# than compiling on some disks, so a run compiles what it needs from the zip and hands the
# writing to a detached child when it ends: the user waits for neither.
import os
import sys
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader

# The archive's top-level packages and modules, and the files (not modules) each package has for
# reading at run time: written when the package's files are first asked for (importlib.resources).
TOPS = @TOPS@
DATA = @DATA@
MTIME = 1577836800  # every unpacked file gets it, so any process's bytecode is valid for any copy
PENDING = []  # (path, source, code) of what this run compiled from the zip, for the cache


class Cached(SourceFileLoader):
    # A module of the cache folder. A package's data files are unpacked when first read.
    def get_resource_reader(self, name):
        rel = name.replace(".", "/")
        folder = os.path.dirname(self.path)
        try:
            for data in DATA.get(rel, ()):
                if not os.path.isfile(os.path.join(folder, data)):
                    write(os.path.join(folder, data), ZIP[0].get_data(rel + "/" + data))
        except OSError:  # read-only or full: read them in the zip
            import zipimport

            parent = rel.rpartition("/")[0]
            where = ZIP[0].archive + ("/" + parent + "/" if parent else "")
            return zipimport.zipimporter(where).get_resource_reader(name)
        return super().get_resource_reader(name)


class FromZip(Cached):
    # A module the cache lacks: its source comes from the zip; the copy is written when the run ends.
    def __init__(self, name, path, source):
        super().__init__(name, path)
        self.source = source

    def get_data(self, path):
        return self.source if path == self.path else super().get_data(path)

    def get_code(self, fullname):
        code = compile(self.source, self.path, "exec", dont_inherit=True)
        PENDING.append((self.path, self.source, code))
        return code


class Unpacker:
    # Finds the archive's modules: in the cache folder when an earlier run put them there, else in the zip.
    def __init__(self, root):
        self.root = root

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in TOPS:
            return None
        rel = name.replace(".", "/")
        base = os.path.join(self.root, rel)
        shapes = (("/__init__.py", base), (".py", None))  # a package, a module
        for tail, folder in shapes:
            if os.path.isfile(base + tail):
                return spec(name, Cached(name, base + tail), folder)
        for tail, folder in shapes:
            try:
                source = ZIP[0].get_data(rel + tail)
            except OSError:
                continue  # not this shape (or not in the archive at all)
            return spec(name, FromZip(name, base + tail, source), folder)
        return None


def spec(name, loader, folder):
    # What the path finder would make for this file (__file__, __cached__, a package's __path__).
    found = ModuleSpec(name, loader, origin=loader.path, is_package=folder is not None)
    found.has_location = True
    if folder is not None:
        found.submodule_search_locations = [folder]
    return found


def write(path, data):
    # Whole or not at all (a concurrent run sees no file or the complete file), with the fixed mtime.
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.utime(tmp, (MTIME, MTIME))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_pending(pending):
    # Each module's source, then its bytecode in the form the path finder checks (PEP 552, by mtime).
    import marshal
    from importlib.util import MAGIC_NUMBER, cache_from_source

    for path, source, code in pending:
        try:
            write(path, source)
            stamp = (MTIME & 0xFFFFFFFF).to_bytes(4, "little") + (len(source) & 0xFFFFFFFF).to_bytes(4, "little")
            write(cache_from_source(path), MAGIC_NUMBER + bytes(4) + stamp + marshal.dumps(code))
        except (OSError, ValueError):
            pass  # the next run that imports it tries again


def handover(root):
    # Writes what this run compiled from the zip, in a detached child when it can, so that the run
    # ends now. The child holds a shared lock on the cache folder until it is done: `flock -x` on
    # the folder waits for every writer (the benchmarks and tests do).
    pending = PENDING[:]
    del PENDING[:]
    if not pending or os.getpid() != OWNER:  # nothing new, or a child the plugin forked
        return
    threads = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threads is not None and threads.active_count() > 1):
        write_pending(pending)  # forking a threaded process is unsafe: write before ending instead
        return
    import fcntl

    try:
        lock = os.open(root, os.O_RDONLY)
    except OSError:
        return  # the folder is gone: nothing to write into
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        pass  # someone holds it exclusively: write anyway (each file is written whole)
    try:
        pid = os.fork()
    except OSError:
        os.close(lock)
        write_pending(pending)
        return
    if pid:
        os.close(lock)  # the child's copy keeps the lock
        return
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)  # whoever waits for the run's output (or its end) stops waiting now
        try:
            fds = [int(fd) for fd in os.listdir("/dev/fd")]
        except (OSError, ValueError):
            fds = []
        for fd in fds:  # nothing the run had open (a pipe someone waits on) stays open for long
            if fd > 2 and fd != lock:
                try:
                    os.close(fd)
                except OSError:
                    pass
        write_pending(pending)
    finally:
        _exit(0)


def install(root, zip_loader):
    # Called by __main__.py with the cache folder of this build and the zipimporter running the archive.
    import zipimport  # loaded already: it is what runs the archive

    if not isinstance(zip_loader, zipimport.zipimporter):
        return  # not run from the zip (an unpacked copy): plain imports from its folder
    ZIP[0] = zip_loader
    try:
        if not os.path.isdir(root):
            os.makedirs(root, exist_ok=True)
        writable = True
    except OSError:  # read-only home: every run compiles what it imports from the zip (zipimport would
        writable = False  # compile each module twice: it compiles to learn a module's file name)
    # Before the path finder: the archive's copy of a package wins over one in site-packages.
    at = sys.meta_path.index(PathFinder) if PathFinder in sys.meta_path else len(sys.meta_path)
    sys.meta_path.insert(at, Unpacker(root))
    # The hook finds every module of the archive; the standard library's need not be looked for in
    # the zip first (runpy put the archive at the head of sys.path).
    for i, entry in enumerate(sys.path):
        if sys.path_importer_cache.get(entry) is zip_loader:
            sys.path.append(sys.path.pop(i))
            break
    if not writable:
        return
    # The plugin ends short runs with os._exit (no atexit): hand over the writing there too.
    import atexit

    def ending(code):
        handover(root)
        _exit(code)

    os._exit = ending
    atexit.register(handover, root)
    # The cache folder is ours, and its bytecode is what makes later runs fast: write it even
    # under PYTHONDONTWRITEBYTECODE (common in containers), or every run compiles.
    sys.dont_write_bytecode = False


_exit = os._exit
OWNER = os.getpid()
ZIP = [None]  # the zipimporter that runs the archive: reads any member of it
"""


def version() -> str:
    """The package version, read from kubectl_kaito/__init__.py without importing it."""
    text = (ROOT / "kubectl_kaito" / "__init__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    if not match:
        raise SystemExit("cannot find __version__ in kubectl_kaito/__init__.py")
    return match.group(1)


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


def stage(tmp: Path) -> Path:
    """Install the plugin and its pinned dependencies into a folder, then strip what must not ship."""
    target = tmp / "stage"
    _pip("install", "--no-deps", "--no-compile", "--target", str(target), "-r", str(REQUIREMENTS))
    # Our own package from the source tree (copied, not pip-installed, so no absolute path leaks in).
    # Only kubectl_kaito/: the simulated cluster (sim/kaito_sim) is a separate distribution for tests.
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "kubectl_kaito", target / "kubectl_kaito", ignore=skip)
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target)
        drop = (
            path.suffix in {".so", ".pyd", ".pyc", ".dylib"}
            or rel.parts[0] == "bin"
            or "__pycache__" in rel.parts
            or (
                rel.parts[0].endswith(".dist-info")
                and path.is_file()
                and not re.search(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS|METADATA)", path.name, re.I)
                and "licenses" not in rel.parts
            )
        )
        if drop:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return target


def _never_read(rel: str) -> bool:
    """Shipped, but never opened at run time: licences, metadata, typing markers, docs."""
    base = rel.rsplit("/", 1)[-1]
    return (
        ".dist-info/" in rel
        or base in ("py.typed", "LICENSE.txt")
        or base.startswith(("LICENSE", "COPYING", "NOTICE"))
        or base.endswith((".pyi", ".md"))
        or rel.startswith("typer/.agents/")
    )


def import_index(names: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """What the entry stub unpacks: the top-level names Python imports from the archive, and per
    package the other files it reads by path (those of its folder and of sub-folders that are not
    packages), relative to the package."""
    names = [n for n in names if not _never_read(n)]
    packages = {n[: -len("/__init__.py")] for n in names if n.endswith("/__init__.py")}
    tops = sorted({n.split("/")[0].removesuffix(".py") for n in names if n.endswith(".py") and n != "__main__.py"})
    data: dict[str, list[str]] = {}
    for name in names:
        if name.endswith(".py"):
            continue
        owner = name.rsplit("/", 1)[0] if "/" in name else ""
        while owner and owner not in packages:
            owner = owner.rsplit("/", 1)[0] if "/" in owner else ""
        if owner:  # a file outside every package is never read through an import: leave it in the zip
            data.setdefault(owner, []).append(name[len(owner) + 1 :])
    return tops, {k: sorted(v) for k, v in sorted(data.items())}


def entry_files(build_id: str, names: list[str]) -> dict[str, str]:
    """The zipapp's __main__.py and _kaito_zipapp.py for a build holding `names`."""
    tops, data = import_index(names)
    boot = BOOT_PY.replace("@TOPS@", f"frozenset({tops!r})").replace(
        "@DATA@", repr({k: tuple(v) for k, v in data.items()})
    )
    return {"__main__.py": MAIN_PY.replace("@BUILD_ID@", build_id), "_kaito_zipapp.py": boot}


def build_zipapp(stage_dir: Path, dest: Path) -> Path:
    """A deterministic zipapp with a `#!/usr/bin/env python3` line, made executable."""
    files = sorted(p for p in stage_dir.rglob("*") if p.is_file())
    names = [p.relative_to(stage_dir).as_posix() for p in files]
    build_id = hashlib.sha256((MAIN_PY + BOOT_PY).encode())  # a new entry stub is a new cache folder too
    for path in files:
        build_id.update(path.relative_to(stage_dir).as_posix().encode() + b"\0" + path.read_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in entry_files(build_id.hexdigest()[:16], names).items():
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = 0o644 << 16
            # __main__.py is read from the zip on every run: stored, so that a run need not import zlib
            info.compress_type = zipfile.ZIP_STORED if name == "__main__.py" else zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(stage_dir).as_posix(), EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    dest.write_bytes(b"#!/usr/bin/env python3\n" + buf.getvalue())
    dest.chmod(0o755)
    return dest


def build_archive(app: Path, out_dir: Path, ver: str) -> Path:
    """The tar.gz krew downloads: kubectl-kaito plus our LICENSE and KAITO's (bundled catalogs)."""
    members = [
        ("kubectl-kaito", app.read_bytes(), 0o755),
        ("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
        ("LICENSE-KAITO", (ROOT / "kubectl_kaito" / "data" / "LICENSE-KAITO").read_bytes(), 0o644),
        ("README.md", (ROOT / "README.md").read_bytes(), 0o644),
    ]
    archive = out_dir / f"kubectl-kaito_v{ver}.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, TAR_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(archive, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return archive


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render_manifest(ver: str, archive_name: str, digest: str) -> str:
    """krew-manifest.yaml for this version: one platform entry per os/arch, all the same archive."""
    uri = f"{REPO_URL}/releases/download/v{ver}/{archive_name}"
    platforms = "".join(
        f"""  - selector:
      matchLabels:
        os: {os_}
        arch: {arch}
    uri: {uri}
    sha256: {digest}
    bin: kubectl-kaito
    files:
    - from: kubectl-kaito
      to: .
    - from: LICENSE
      to: .
    - from: LICENSE-KAITO
      to: .
"""
        for os_, arch in PLATFORMS
    )
    return f"""apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: kaito
spec:
  version: v{ver}
  homepage: {REPO_URL}
  shortDescription: Deploy and use KAITO AI model workspaces
  description: |
    kubectl-kaito deploys AI models with KAITO (the Kubernetes AI Toolchain
    Operator) and works with them from the terminal: deploy a model and wait
    until it serves, print its OpenAI-compatible endpoint (ClusterIP,
    LoadBalancer, NodePort or Ingress), show status and conditions, stream the
    logs of every pod, chat with the model through the API server, list the
    model catalog, and install KAITO itself with Helm.
  caveats: |
    This plugin needs:
    * Python 3.10 or newer as `python3` on PATH (the plugin is a zipapp).
    * A cluster with KAITO installed, or run `kubectl kaito install-provider`
      (which needs helm) to install it.
    Start with: kubectl kaito --help
  platforms:
{platforms}"""


def main(argv: list[str] | None = None) -> int:
    """Build, hash, and write (or check) the manifest."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--check", action="store_true", help="fail if krew-manifest.yaml does not match the build")
    parser.add_argument("--no-manifest", action="store_true", help="do not touch krew-manifest.yaml")
    args = parser.parse_args(argv)

    ver = version()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kaito-release-") as tmp:
        app = build_zipapp(stage(Path(tmp)), args.out / "kubectl-kaito")
    archive = build_archive(app, args.out, ver)
    digest = sha256(archive)
    manifest = render_manifest(ver, archive.name, digest)
    print(f"{archive}  sha256={digest}  size={archive.stat().st_size}", file=sys.stderr)
    print(f"{app}  size={app.stat().st_size}", file=sys.stderr)
    if args.check:
        if not MANIFEST.exists() or MANIFEST.read_text() != manifest:
            print("error: krew-manifest.yaml is stale; run: python scripts/build_release.py", file=sys.stderr)
            return 1
        print("krew-manifest.yaml matches the build", file=sys.stderr)
    elif not args.no_manifest:
        MANIFEST.write_text(manifest)
        print(f"wrote {MANIFEST.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
