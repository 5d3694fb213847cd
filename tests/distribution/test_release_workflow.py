"""The GitHub workflows, checked without GitHub (schema, zizmor, pins, permissions), and the release job run here.

- `.github/workflows/*.yml` pass check-jsonschema's GitHub-workflow schema and zizmor's offline
  audits, and each of the two fails on a workflow seeded with what it must catch.
- Every third-party action is pinned by a full commit SHA with its version in a comment; every job
  has its own least `permissions`; only the PyPI job may mint an OIDC token.
- scripts/release_check.py: the tag must be v + `__version__` (the one version source), and the
  built outputs must agree with it and with each other.
- scripts/release_dry_run.py runs the release workflow's build job in a clean copy of the checkout
  and checks the wheel, sdist, krew archive, krew-manifest.yaml and the rendered .krew.yaml.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
import yaml

import kubectl_kaito

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
VERSION = kubectl_kaito.__version__
VENV_BIN = Path(sys.executable).parent


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' (it is in the test extra)")
    return str(path)


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _run(*argv: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL
    )


# ---- the validators: the workflows pass, and each validator can fail ---------------------------

BAD_SCHEMA = """\
name: bad
on: push
jobs:
  test:
    steps:                 # no runs-on: GitHub refuses the workflow
      - run: echo hi
    timeout-minutes: soon  # not a number
"""

UNSAFE = """\
name: unsafe
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_workflows_pass_the_schema_check():
    proc = _run(
        _tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *sorted(str(p) for p in WORKFLOWS.glob("*.yml")),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["ci.yml", "release.yml"]


def test_workflows_pass_zizmor():
    proc = _run(_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_schema_check_fails_on_a_bad_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_SCHEMA)
    proc = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad))
    assert proc.returncode != 0
    assert "Schema validation errors" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_zizmor_fails_on_an_unsafe_workflow(tmp_path):
    """An unpinned action and a PR title pasted into a shell under pull_request_target."""
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(UNSAFE)
    proc = _run(_tool("zizmor"), "--offline", "--no-progress", str(unsafe))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for audit in ("unpinned-uses", "template-injection", "dangerous-triggers", "excessive-permissions"):
        assert audit in out, (audit, out)


# ---- pins and permissions ----------------------------------------------------------------------

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_actions_are_pinned_by_commit_with_their_version(name):
    text = (WORKFLOWS / name).read_text()
    uses = [m for m in map(USES.match, text.splitlines()) if m]
    assert uses, "no actions found"
    for match in uses:
        ref, rest = match.group(1), match.group(2)
        assert PINNED.match(ref), f"{ref}: pin by full commit SHA"
        assert re.search(r"#\s*v\d+\.\d+\.\d+\s*$", rest), f"{ref}: say the version in a `# vX.Y.Z` comment"
        sha = ref.split("@")[1]
        # Where the SHA came from is written in the file's header comment.
        assert text.count(sha) >= 2, f"{ref}: name the source of {sha} in the header comment"


def test_each_job_has_least_permissions():
    for name in ("ci.yml", "release.yml"):
        workflow = _workflow(name)
        assert workflow["permissions"] == {}, f"{name}: nothing at the workflow level"
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_id} must say its permissions"
    ci = _workflow("ci.yml")["jobs"]
    assert {j: job["permissions"] for j, job in ci.items()} == {"test": {"contents": "read"}}
    release = _workflow("release.yml")["jobs"]
    assert {j: job["permissions"] for j, job in release.items()} == {
        "build": {"contents": "read"},
        "publish-pypi": {"id-token": "write"},  # trusted publishing; no other job may mint a token
        "github-release": {"contents": "write"},
        "krew-index": {"contents": "read"},
    }


def test_release_publishes_by_trusted_publishing_without_a_token():
    text = (WORKFLOWS / "release.yml").read_text()
    assert "secrets." not in text and "password:" not in text
    publish = _workflow("release.yml")["jobs"]["publish-pypi"]
    (step,) = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert set(step.get("with", {})) == {"packages-dir"}
    # The PyPI artifact holds only the wheel and sdist (release_check.py refuses anything else there).
    assert [s["with"]["name"] for s in publish["steps"] if "download-artifact" in s.get("uses", "")] == ["pypi"]


def test_release_runs_on_v_tags_and_uses_the_krew_template():
    workflow = _workflow("release.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert triggers == {"push": {"tags": ["v*"]}}
    jobs = workflow["jobs"]
    assert jobs["publish-pypi"]["needs"] == "build"
    assert jobs["krew-index"]["needs"] == ["build", "github-release"]  # the bot downloads the published archive
    assert jobs["krew-index"]["if"] == "${{ needs.build.outputs.prerelease == 'false' }}"
    (bot,) = [s for s in jobs["krew-index"]["steps"] if "krew-release-bot" in s.get("uses", "")]
    assert bot["with"]["krew_template_file"] == ".krew.yaml"
    assert (ROOT / ".krew.yaml").is_file()


def test_ci_runs_ci_run_on_linux_and_macos_python_310_to_313():
    workflow = _workflow("ci.yml")
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"] == {
        "os": ["ubuntu-latest", "macos-latest"],
        "python": ["3.10", "3.11", "3.12", "3.13"],
    }
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == ["bash .ci/run"]
    assert job["timeout-minutes"] <= 30


def test_ci_run_checks_the_workflows_before_the_tests_and_ends_with_the_readme_command():
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    schema = next(i for i, line in enumerate(lines) if line.startswith("check-jsonschema "))
    audit = next(i for i, line in enumerate(lines) if line.startswith("zizmor "))
    assert "--offline" in lines[audit]
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"&& (python -m pytest[^\n`]*)", readme)
    assert found, "the README has no test command"
    command = found.group(1).strip()
    assert lines[-1] == command
    assert schema < audit < len(lines) - 1
    assert any("pip install" in line and "-e '.[test]' -e ./sim" in line for line in lines[:schema])


def test_pre_commit_runs_ruff_and_mypy_from_local_hooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]  # nothing downloaded at install time
    entries = {h["id"]: h["entry"] for h in config["repos"][0]["hooks"]}
    assert entries["ruff-check"].startswith("ruff check")
    assert entries["ruff-format"].startswith("ruff format --check")
    assert entries["mypy"] == "mypy"
    assert {h["language"] for h in config["repos"][0]["hooks"]} == {"system"}


# ---- the version: one source, checked against the tag ------------------------------------------


def test_version_is_read_from_the_one_source():
    release_check = _script("release_check")
    assert release_check.version() == VERSION
    build_release = _script("build_release")
    assert build_release.version() == VERSION
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "kubectl_kaito.__version__"' in pyproject


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        (f"v{VERSION}", None),
        (VERSION, "does not match the package version"),
        ("v9.9.9", "does not match the package version"),
        (f"v{VERSION}-rc.1", "does not match the package version"),
        (f"refs/tags/v{VERSION}", "is a ref, not a tag name"),
        (f"V{VERSION}", "does not match the package version"),
    ],
)
def test_tag_check(tag, problem):
    errors = _script("release_check").tag_errors(tag, VERSION)
    if problem is None:
        assert errors == []
    else:
        assert len(errors) == 1 and problem in errors[0], errors


def test_tag_check_command_prints_one_error_line():
    ok = _run(sys.executable, "scripts/release_check.py", "tag", f"v{VERSION}")
    assert ok.returncode == 0 and ok.stdout == "", ok.stderr
    bad = _run(sys.executable, "scripts/release_check.py", "tag", "v9.9.9")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"error: tag 'v9.9.9' does not match the package version '{VERSION}' (kubectl_kaito/__init__.py); "
        f"tag v{VERSION}, or change __version__ first"
    ]


# ---- the outputs check, on small stand-ins (the real build is in the dry run below) ------------


def _fake_dist(tmp_path: Path, ver: str = VERSION) -> tuple[Path, Path, Path]:
    pypi, krew = tmp_path / "pypi", tmp_path / "krew"
    pypi.mkdir()
    krew.mkdir()
    with zipfile.ZipFile(pypi / f"kubectl_kaito-{ver}-py3-none-any.whl", "w") as zf:
        zf.writestr(
            f"kubectl_kaito-{ver}.dist-info/METADATA", f"Metadata-Version: 2.4\nName: kubectl-kaito\nVersion: {ver}\n"
        )
    with tarfile.open(pypi / f"kubectl_kaito-{ver}.tar.gz", "w:gz") as tar:
        data = f"Metadata-Version: 2.4\nName: kubectl-kaito\nVersion: {ver}\n".encode()
        info = tarfile.TarInfo(f"kubectl_kaito-{ver}/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = krew / f"kubectl-kaito_v{ver}.tar.gz"
    archive.write_bytes(b"an archive")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    manifest = _script("build_release").render_manifest(ver, archive.name, digest)
    (krew / "krew-manifest.yaml").write_text(manifest)
    return pypi, krew, archive


def test_sums_are_sha256sum_lines(tmp_path):
    _, krew, archive = _fake_dist(tmp_path)
    proc = _run(sys.executable, "scripts/release_check.py", "sums", str(krew))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{hashlib.sha256(b'an archive').hexdigest()}  {archive.name}\n"
    empty = _run(sys.executable, "scripts/release_check.py", "sums", str(tmp_path))
    assert empty.returncode == 1 and empty.stdout == "" and empty.stderr.startswith("error: no kubectl-kaito_v")


def test_dist_check_accepts_agreeing_outputs(tmp_path):
    pypi, krew, _ = _fake_dist(tmp_path)
    assert _script("release_check").dist_errors(pypi, krew, VERSION) == []


def test_dist_check_catches_a_stale_sha256(tmp_path):
    pypi, krew, archive = _fake_dist(tmp_path)
    archive.write_bytes(b"rebuilt after the manifest was rendered")
    errors = _script("release_check").dist_errors(pypi, krew, VERSION)
    assert len(errors) == 4 and all("sha256" in e and "the archive's is" in e for e in errors), errors


def test_dist_check_catches_a_wrong_version_and_extra_files(tmp_path):
    pypi, krew, _ = _fake_dist(tmp_path, "9.9.9")
    (pypi / "kubectl-kaito").write_bytes(b"zipapp")  # would be uploaded to PyPI
    errors = _script("release_check").dist_errors(pypi, krew, VERSION)
    assert any("holds more than the wheel and sdist" in e for e in errors), errors
    assert any(f"want one wheel kubectl_kaito-{VERSION}-py3-none-any.whl" in e for e in errors), errors
    assert any(f"krew archive kubectl-kaito_v{VERSION}.tar.gz missing" in e for e in errors), errors


# ---- .krew.yaml: rendered as krew-release-bot renders it, it is krew-manifest.yaml -------------


def test_krew_template_renders_to_the_manifest_build_release_writes():
    dry_run = _script("release_dry_run")
    build_release = _script("build_release")
    sha = "ab" * 32
    url = _script("release_check").DOWNLOAD.format(v=VERSION)
    rendered = dry_run.render_krew_template((ROOT / ".krew.yaml").read_text(), f"v{VERSION}", {url: sha})
    manifest = build_release.render_manifest(VERSION, f"kubectl-kaito_v{VERSION}.tar.gz", sha)
    assert dry_run._without_leading_comments(rendered) == manifest


def test_krew_template_renderer_refuses_an_unpublished_url():
    dry_run = _script("release_dry_run")
    template = '    {{addURIAndSha "https://example.invalid/{{ .TagName }}/other.tar.gz" .TagName }}\n'
    with pytest.raises(ValueError, match="which the release does not publish"):
        dry_run.render_krew_template(template, "v1.0.0", {})
    with pytest.raises(ValueError, match="template syntax"):
        dry_run.render_krew_template("version: {{ .Version }}\n", "v1.0.0", {})


# ---- the release workflow's build job, run here ------------------------------------------------


@pytest.mark.slow
def test_release_dry_run_builds_and_checks_everything():
    """Runs the build job's steps in a clean copy (about 15 s: two builds of the plugin, one archive)."""
    proc = _run(sys.executable, "scripts/release_dry_run.py", timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout == ""
    (summary,) = [line for line in proc.stderr.splitlines() if line.startswith("release dry run for ")]
    assert summary.startswith(
        f"release dry run for v{VERSION}: 4 steps ran (outputs: prerelease=false); "
        "files SHA256SUMS, krew-manifest.yaml, "
        f"kubectl-kaito_v{VERSION}.tar.gz, kubectl_kaito-{VERSION}-py3-none-any.whl, "
        f"kubectl_kaito-{VERSION}.tar.gz;"
    ), summary
    assert summary.endswith("= krew-manifest.yaml = .krew.yaml rendered; krew's rules pass"), summary
    for step in (
        "Check the tag against the version",
        "Build the wheel and sdist",
        "Build the krew archive",
        "Check the outputs against each other",
    ):
        assert f"--- {step}" in proc.stderr
    assert "--- Install the build tools" not in proc.stderr


def test_release_dry_run_stops_at_a_tag_that_is_not_the_version():
    proc = _run(sys.executable, "scripts/release_dry_run.py", "--tag", "v9.9.9", timeout=120)
    assert proc.returncode == 1
    assert f"error: tag 'v9.9.9' does not match the package version '{VERSION}'" in proc.stderr
    assert "error: release step 'Check the tag against the version' failed (exit 1)" in proc.stderr
    assert "--- Build the wheel" not in proc.stderr  # nothing is built for a wrong tag
