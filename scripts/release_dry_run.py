#!/usr/bin/env python3
"""Run the release workflow's build job here, in a clean copy of the checkout, and check its outputs.

What it does:
1. Copies the checkout's files (git's tracked and untracked-but-not-ignored files, as they are in
   the work tree) into a temporary folder: no venv, no dist/, no build/ leftovers.
2. Runs every `run:` step of the `build` job in .github/workflows/release.yml there, with bash as
   GitHub runs it (`-eo pipefail`) and GITHUB_REF_NAME set to the tag (default: v + __version__).
   The step with `id: tools` (pip install of the build tools) is skipped: this environment has
   them (the test extra). `uses:` steps (checkout, setup-python, upload-artifact) are GitHub's.
3. Checks the outputs: the version in the wheel, the sdist, the archive name and the manifest
   (scripts/release_check.py), the manifest's sha256 against the archive, krew's structural rules
   (tests/distribution/test_krew_manifest.py's validator, as krew-index holds it: plugins/kaito.yaml),
   and that .krew.yaml, rendered the way krew-release-bot renders it for this tag and archive, is
   the same manifest.

Usage:
    python scripts/release_dry_run.py [--tag v0.1.0] [--keep]

Exit 0 and a summary on stderr when everything agrees; otherwise `error: ...` lines and exit 1.
Needs pip to reach a package index (build isolation, the pinned archive requirements).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = Path(".github/workflows/release.yml")
SKIP_STEP_IDS = {"tools"}
# krew-release-bot's template functions (rajatjindal/krew-release-bot pkg/source/template.go).
TAG_NAME = re.compile(r"\{\{\s*\.TagName\s*\}\}")
ADD_URI_AND_SHA = re.compile(r'\{\{\s*addURIAndSha\s+"([^"]*)"\s+\.TagName\s*\}\}')


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_copy(root: Path, dest: Path) -> int:
    """Copy the files git would see in a fresh clone (plus untracked, not ignored ones) to `dest`."""
    proc = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"error: {root} is not a git checkout: {proc.stderr.decode(errors='replace').strip()}")
    count = 0
    for rel in sorted(set(proc.stdout.decode().split("\0")) - {""}):
        src = root / rel
        if not src.is_file():  # deleted in the work tree, or a submodule
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        count += 1
    return count


def build_steps(workflow: Path) -> list[dict[str, Any]]:
    """The `build` job's steps from the release workflow."""
    import yaml

    doc = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    steps = doc["jobs"]["build"]["steps"]
    return [s for s in steps if isinstance(s, dict)]


def run_steps(steps: list[dict[str, Any]], cwd: Path, tag: str) -> list[str]:
    """Run each `run:` step as GitHub's bash would; returns the names of the steps run."""
    env = {
        **os.environ,
        "GITHUB_REF_NAME": tag,
        "GITHUB_REF": f"refs/tags/{tag}",
        "GITHUB_WORKSPACE": str(cwd),
        "CI": "true",
        "GITHUB_OUTPUT": str(cwd.parent / "github-output"),  # steps' outputs (read by later jobs on GitHub)
        # `python` in the steps is this interpreter, as setup-python's would be.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    ran = []
    for step in steps:
        if "run" not in step or step.get("id") in SKIP_STEP_IDS:
            continue
        name = step.get("name") or step["run"].splitlines()[0]
        if "${{" in step["run"]:
            raise SystemExit(
                f"error: step {name!r} uses a ${{{{ }}}} expression; the build job's steps must be "
                "plain shell (env vars) so this dry run can run them"
            )
        print(f"--- {name}", file=sys.stderr, flush=True)
        step_env = {**env, **{k: str(v) for k, v in (step.get("env") or {}).items()}}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=step_env,
            check=False,
            stdout=sys.stderr,
        )  # a log, not a result
        if proc.returncode != 0:
            raise SystemExit(f"error: release step {name!r} failed (exit {proc.returncode})")
        ran.append(name)
    return ran


def render_krew_template(template: str, tag: str, sha_of: dict[str, str]) -> str:
    """.krew.yaml as krew-release-bot renders it: the tag, and `uri:`/`sha256:` for each addURIAndSha.

    `sha_of` maps a download URL to the sha256 the bot would compute from the downloaded file.
    """

    def uri_and_sha(match: re.Match[str]) -> str:
        url = TAG_NAME.sub(tag, match.group(1))
        if url not in sha_of:
            raise ValueError(f".krew.yaml downloads {url}, which the release does not publish")
        return f"uri: {url}\n    sha256: {sha_of[url]}"  # the bot's own format, 4-space indent

    text = TAG_NAME.sub(tag, ADD_URI_AND_SHA.sub(uri_and_sha, template))
    if "{{" in text:
        raise ValueError(f".krew.yaml has template syntax the dry run does not know: {text[text.index('{{') :][:80]}")
    return text


def _without_leading_comments(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def check_outputs(src: Path, tag: str) -> list[str]:
    """Every disagreement between the outputs in src/dist and each other, the tag, krew's rules and .krew.yaml."""
    import yaml

    release_check = _load("release_check", src / "scripts" / "release_check.py")
    ver = release_check.version(src)
    pypi, krew = src / "dist" / "pypi", src / "dist" / "krew"
    errors = [*release_check.tag_errors(tag, ver), *release_check.dist_errors(pypi, krew, ver)]
    manifest_path, archive = krew / "krew-manifest.yaml", krew / f"kubectl-kaito_v{ver}.tar.gz"
    if not manifest_path.is_file() or not archive.is_file():
        return errors
    manifest_text = manifest_path.read_text(encoding="utf-8")
    if manifest_text != (src / "krew-manifest.yaml").read_text(encoding="utf-8"):
        errors.append("dist/krew/krew-manifest.yaml is not the krew-manifest.yaml the build rendered")

    # krew's structural rules, as krew-index would hold the file: plugins/kaito.yaml.
    krew_rules = _load("krew_rules", ROOT / "tests" / "distribution" / "test_krew_manifest.py")
    errors += [f"krew: {e}" for e in krew_rules.validate(yaml.safe_load(manifest_text), "kaito.yaml", ver)]

    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    url = release_check.DOWNLOAD.format(v=ver)
    try:
        rendered = render_krew_template((src / ".krew.yaml").read_text(encoding="utf-8"), tag, {url: digest})
    except (OSError, ValueError) as exc:
        errors.append(str(exc))
    else:
        if _without_leading_comments(rendered) != manifest_text:
            errors.append(
                ".krew.yaml rendered for this release differs from krew-manifest.yaml "
                "(change .krew.yaml with scripts/build_release.py's render_manifest)"
            )
    return errors


def main(argv: list[str] | None = None) -> int:
    """Copy, run the build job's steps, check; one `error:` line per problem."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tag", help="the tag to release (default: v + __version__)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)
    release_check = _load("release_check", ROOT / "scripts" / "release_check.py")
    tag = args.tag or f"v{release_check.version(ROOT)}"

    tmp = Path(tempfile.mkdtemp(prefix="kaito-release-dry-run-"))
    try:
        src = tmp / "src"
        count = clean_copy(ROOT, src)
        print(f"copied {count} files to {src}", file=sys.stderr)
        ran = run_steps(build_steps(src / WORKFLOW), src, tag)
        errors = check_outputs(src, tag)
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not errors:
            archive = next((src / "dist" / "krew").glob("kubectl-kaito_v*.tar.gz"))
            digest = hashlib.sha256(archive.read_bytes()).hexdigest()
            outputs = sorted(p.name for p in (src / "dist").rglob("*") if p.is_file())
            out_file = tmp / "github-output"
            step_outputs = " ".join(out_file.read_text().split()) if out_file.exists() else "none"
            print(
                f"release dry run for {tag}: {len(ran)} steps ran (outputs: {step_outputs}); "
                f"files {', '.join(outputs)}; "
                f"{archive.name} sha256 {digest} = krew-manifest.yaml = .krew.yaml rendered; "
                "krew's rules pass",
                file=sys.stderr,
            )
        return 1 if errors else 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        raise
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.umask(0o022)  # build_release's archive modes, as in a release
    sys.exit(main())
