#!/usr/bin/env python3
"""Release checks run by .github/workflows/release.yml (and by scripts/release_dry_run.py).

The one version source is `__version__` in kubectl_kaito/__init__.py: pyproject.toml reads it
(setuptools' dynamic version), scripts/build_release.py names the archive and krew's
`spec.version` after it, and this script refuses a tag that says anything else.

Usage:
    python scripts/release_check.py tag v0.1.0      # the tag is exactly "v" + __version__
    python scripts/release_check.py sums dist/krew  # sha256sum lines for the krew archive(s)
    python scripts/release_check.py dist dist/pypi dist/krew
        # the wheel and sdist (dist/pypi), the krew archive and krew-manifest.yaml (dist/krew) agree

Exit 0 when everything agrees; otherwise one `error: ...` line per problem on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "kubectl_kaito" / "__init__.py"
# The URL krew downloads from; build_release.py renders the same one.
DOWNLOAD = "https://github.com/kaito-project/kubectl-kaito/releases/download/v{v}/kubectl-kaito_v{v}.tar.gz"


def version(root: Path = ROOT) -> str:
    """`__version__` from kubectl_kaito/__init__.py under `root`, read without importing the package."""
    text = (root / "kubectl_kaito" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if not match:
        raise SystemExit("error: cannot find __version__ in kubectl_kaito/__init__.py")
    return match.group(1)


def tag_errors(tag: str, ver: str) -> list[str]:
    """Why `tag` cannot release version `ver` ([] if it can): the tag must be exactly v<ver>."""
    if tag.startswith("refs/"):
        return [f"tag {tag!r} is a ref, not a tag name (use GITHUB_REF_NAME, not GITHUB_REF)"]
    if tag != f"v{ver}":
        return [
            f"tag {tag!r} does not match the package version {ver!r} "
            f"(kubectl_kaito/__init__.py); tag v{ver}, or change __version__ first"
        ]
    return []


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wheel_version(wheel: Path) -> str | None:
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith(".dist-info/METADATA"):
                match = re.search(r"^Version: (\S+)$", zf.read(name).decode(), re.M)
                return match.group(1) if match else None
    return None


def _sdist_version(sdist: Path) -> str | None:
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                data = tar.extractfile(member)
                match = re.search(r"^Version: (\S+)$", data.read().decode() if data else "", re.M)
                return match.group(1) if match else None
    return None


def dist_errors(pypi: Path, krew: Path, ver: str) -> list[str]:
    """What is wrong with the release outputs for version `ver` ([] if nothing).

    Expects what the release workflow's build job makes: in `pypi`, exactly one wheel and one
    sdist of kubectl-kaito (what PyPI gets: nothing else may be there); in `krew`, the archive and
    the rendered krew-manifest.yaml whose version, uri and sha256 name that archive.
    """
    import yaml  # only here: `tag` must work before any dependency is installed

    errors: list[str] = []
    wheels = sorted(pypi.glob("*.whl"))
    sdists = sorted(pypi.glob("*.tar.gz"))
    others = sorted(p.name for p in pypi.iterdir() if p not in wheels and p not in sdists) if pypi.is_dir() else []
    if others:
        errors.append(f"{pypi} holds more than the wheel and sdist (PyPI would get them): {others}")
    archive = krew / f"kubectl-kaito_v{ver}.tar.gz"
    if [w.name for w in wheels] != [f"kubectl_kaito-{ver}-py3-none-any.whl"]:
        errors.append(f"want one wheel kubectl_kaito-{ver}-py3-none-any.whl, found {[w.name for w in wheels]}")
    elif _wheel_version(wheels[0]) != ver:
        errors.append(f"{wheels[0].name}: METADATA Version is {_wheel_version(wheels[0])!r}, want {ver!r}")
    if [s.name for s in sdists] != [f"kubectl_kaito-{ver}.tar.gz"]:
        errors.append(f"want one sdist kubectl_kaito-{ver}.tar.gz, found {[s.name for s in sdists]}")
    elif _sdist_version(sdists[0]) != ver:
        errors.append(f"{sdists[0].name}: PKG-INFO Version is {_sdist_version(sdists[0])!r}, want {ver!r}")
    if not archive.is_file():
        return [*errors, f"krew archive {archive.name} missing"]
    manifest_path = krew / "krew-manifest.yaml"
    if not manifest_path.is_file():
        return [*errors, "krew-manifest.yaml missing"]
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    spec = manifest.get("spec") if isinstance(manifest, dict) else None
    if not isinstance(spec, dict):
        return [*errors, "krew-manifest.yaml has no spec"]
    if spec.get("version") != f"v{ver}":
        errors.append(f"krew-manifest.yaml spec.version is {spec.get('version')!r}, want 'v{ver}'")
    digest = _sha256(archive)
    for i, plat in enumerate(spec.get("platforms") or []):
        if plat.get("sha256") != digest:
            errors.append(
                f"krew-manifest.yaml platforms[{i}].sha256 is {plat.get('sha256')}, the archive's is {digest}"
            )
        if plat.get("uri") != DOWNLOAD.format(v=ver):
            errors.append(
                f"krew-manifest.yaml platforms[{i}].uri is {plat.get('uri')!r}, want {DOWNLOAD.format(v=ver)!r}"
            )
    if not spec.get("platforms"):
        errors.append("krew-manifest.yaml has no platforms")
    return errors


def sums(krew: Path) -> str:
    """`sha256sum` lines (hash, two spaces, name) for the krew archives in `krew`."""
    return "".join(f"{_sha256(p)}  {p.name}\n" for p in sorted(krew.glob("kubectl-kaito_v*.tar.gz")))


def main(argv: list[str] | None = None) -> int:
    """Run one check; print one `error:` line per problem."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check", required=True)
    sub.add_parser("tag", help="the tag is v + __version__").add_argument("tag")
    dist = sub.add_parser("dist", help="the built outputs agree with __version__")
    dist.add_argument("pypi", type=Path, help="folder with the wheel and sdist")
    dist.add_argument("krew", type=Path, help="folder with the krew archive and krew-manifest.yaml")
    sub.add_parser("sums", help="sha256sum lines for the krew archive").add_argument("krew", type=Path)
    args = parser.parse_args(argv)
    if args.check == "sums":
        text = sums(args.krew)
        if not text:
            print(f"error: no kubectl-kaito_v*.tar.gz in {args.krew}", file=sys.stderr)
            return 1
        sys.stdout.write(text)
        return 0
    ver = version()
    errors = tag_errors(args.tag, ver) if args.check == "tag" else dist_errors(args.pypi, args.krew, ver)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if not errors:
        what = f"tag {args.tag}" if args.check == "tag" else f"{args.pypi} and {args.krew}"
        print(f"{what}: matches version {ver}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
