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
# Entry point of the kubectl-kaito zipapp.
#
# Importing from inside a zip compiles every module on every run (zipimport keeps no
# .pyc cache): 0.3 s instead of 0.1 s. So the first run unpacks the archive once into a
# per-build cache folder and later runs import from there, with normal __pycache__.
import os
import sys

if sys.version_info < (3, 10):
    sys.stderr.write("error: kubectl-kaito needs Python 3.10 or newer (found %d.%d)\\n" % sys.version_info[:2])
    sys.exit(1)

BUILD_ID = "@BUILD_ID@"


def _never_read(name):
    base = name.rsplit("/", 1)[-1]
    return (
        name == "__main__.py"
        or ".dist-info/" in name
        or base in ("py.typed", "LICENSE.txt")
        or name.startswith("typer/.agents/")
    )


def _unpacked():
    base = os.environ.get("KUBECTL_KAITO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "kubectl-kaito"
    )
    target = os.path.join(base, BUILD_ID)
    if os.path.exists(os.path.join(target, ".complete")):
        return target
    import tempfile
    import zipfile

    archive = os.path.dirname(os.path.abspath(__file__))
    try:
        os.makedirs(base, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".unpack-", dir=base)
        with zipfile.ZipFile(archive) as zf:
            # Only what Python imports or the plugin reads: licences, metadata and type markers stay in
            # the zip (they ship; nothing at run time opens them), so the first run writes fewer files.
            zf.extractall(tmp, [n for n in zf.namelist() if not _never_read(n)])
        open(os.path.join(tmp, ".complete"), "w").close()
        try:
            os.rename(tmp, target)  # atomic: a concurrent first run either wins or finds it done
        except OSError:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return target if os.path.exists(os.path.join(target, ".complete")) else None
    except OSError:
        return None  # read-only home: run straight from the zip (slower, still correct)


_dir = _unpacked()
if _dir:
    sys.path.insert(0, _dir)
    # The cache folder is ours, and its bytecode is what makes later runs fast: write it even
    # under PYTHONDONTWRITEBYTECODE (common in containers), or every run compiles (0.44 s, not 0.26 s).
    sys.dont_write_bytecode = False

# Linked (or copied) as kubectl_complete-kaito, it answers kubectl's TAB completion instead:
# krew links only kubectl-kaito, so this is how krew users get `kubectl kaito <TAB>`.
if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
    from kubectl_kaito.completion import main as run
else:
    from kubectl_kaito.entry import run

run()
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


def build_zipapp(stage_dir: Path, dest: Path) -> Path:
    """A deterministic zipapp with a `#!/usr/bin/env python3` line, made executable."""
    files = sorted(p for p in stage_dir.rglob("*") if p.is_file())
    build_id = hashlib.sha256()
    for path in files:
        build_id.update(path.relative_to(stage_dir).as_posix().encode() + b"\0" + path.read_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("__main__.py", EPOCH)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, MAIN_PY.replace("@BUILD_ID@", build_id.hexdigest()[:16]))
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
