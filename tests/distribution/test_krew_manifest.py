"""krew-manifest.yaml passes krew's structural rules, and says the package's version.

krew's own checker (`validate-krew-manifest`, run by krew-index's CI) downloads every platform's
`uri`, which cannot work before the release exists or offline. Its structural part is small, so
`validate()` re-implements it with PyYAML (kubernetes-sigs/krew: pkg/index/validation/validate.go
and cmd/validate-krew-manifest/main.go), plus this project's own rules (marked "ours"). The
seeded-bad manifests below prove the validator rejects what krew rejects.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import kubectl_kaito

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "krew-manifest.yaml"

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
SAFE_NAME = re.compile(r"^[\w-]+$", re.ASCII)  # Go's \w is ASCII-only
WINDOWS_FORBIDDEN = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
SHA256 = re.compile(r"^[a-f0-9]{64}$")
# krew's semver.Parse: a "v" prefix, then semver 2.0.0 (blang/semver).
SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# validate-krew-manifest's allPlatforms(): every platform must match one, and none two platforms.
SUPPORTED = [
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("linux", "s390x"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
]
SHORT_DESCRIPTION_MAX = 50  # ours (krew-index's review guideline); krew only warns past 70
# Field names krew's types know (ours: krew ignores a misspelt field, which then silently does nothing).
SPEC_FIELDS = {"version", "homepage", "shortDescription", "description", "caveats", "platforms"}
PLATFORM_FIELDS = {"selector", "uri", "sha256", "files", "bin"}


def selector_matches(selector: dict[str, Any], os_: str, arch: str) -> bool:
    """metav1.LabelSelector semantics against the labels {os, arch}: matchLabels AND matchExpressions."""
    labels = {"os": os_, "arch": arch}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _selector_errors(sel: Any) -> list[str]:
    if not isinstance(sel, dict):
        return ["nil selector is not supported"]
    labels, exprs = sel.get("matchLabels"), sel.get("matchExpressions")
    if labels is None and not exprs:
        return ["empty selector is not supported"]
    errors = [f"selector field {k!r} unknown" for k in sel if k not in ("matchLabels", "matchExpressions")]
    keys = list(labels or {}) + [e.get("key") for e in exprs or [] if isinstance(e, dict)]
    errors += [f"selector key {k!r} not supported (only os, arch)" for k in keys if k not in ("os", "arch")]
    if labels is not None and not labels:
        errors.append("matchLabels specified but empty")
    if exprs is not None and not exprs:
        errors.append("matchExpressions specified but empty")
    for e in exprs or []:
        if not isinstance(e, dict) or e.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errors.append(f"matchExpressions entry {e!r} has no valid operator")
    return errors


def validate(manifest: Any, file_name: str, package_version: str | None = None) -> list[str]:
    """Every problem krew (and this project) would have with `manifest` read from `file_name`; [] if none.

    krew infers the plugin name from the file name (krew-index holds `plugins/<name>.yaml`).
    With `package_version`, spec.version must be `v<package_version>` and every uri must name it.
    """
    if not isinstance(manifest, dict):
        return ["not a YAML mapping"]
    errors: list[str] = []
    if manifest.get("apiVersion") != API_VERSION:
        errors.append(f"apiVersion={manifest.get('apiVersion')!r}, want {API_VERSION!r}")
    if manifest.get("kind") != "Plugin":
        errors.append(f"kind={manifest.get('kind')!r}, want 'Plugin'")
    stem, ext = Path(file_name).stem, Path(file_name).suffix
    if ext != ".yaml":
        errors.append(f"manifest extension {ext!r}, want '.yaml'")
    if not SAFE_NAME.match(stem) or stem.lower() in WINDOWS_FORBIDDEN:
        errors.append(f"plugin name {stem!r} is not allowed, must match {SAFE_NAME.pattern}")
    name = (manifest.get("metadata") or {}).get("name")
    if name != stem:
        errors.append(f"plugin should be named {stem!r} (its file name), not {name!r}")

    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return [*errors, "spec missing"]
    errors += [f"spec.{k} unknown" for k in spec if k not in SPEC_FIELDS]
    short = spec.get("shortDescription")
    if not short or not isinstance(short, str):
        errors.append("should have a short description")
    else:
        if "\n" in short or "\r" in short:
            errors.append("should not have line breaks in short description")
        if len(short) > SHORT_DESCRIPTION_MAX:
            errors.append(f"shortDescription is {len(short)} characters, at most {SHORT_DESCRIPTION_MAX}")
    for field in ("homepage", "description", "caveats"):  # ours: krew-index reviewers ask for all three
        if not isinstance(spec.get(field), str) or not spec[field].strip():
            errors.append(f"spec.{field} missing")
    version = spec.get("version")
    if not version:
        errors.append("should have a version specified")
    elif not isinstance(version, str) or not SEMVER.match(version):
        errors.append(f"spec.version {version!r} is not v-prefixed semver")
    elif package_version is not None and version != f"v{package_version}":
        errors.append(f"spec.version {version!r} != package version v{package_version}")

    platforms = spec.get("platforms")
    if not isinstance(platforms, list) or not platforms:
        return [*errors, "should have a platform specified"]
    for i, p in enumerate(platforms):
        where = f"platforms[{i}]"
        if not isinstance(p, dict):
            errors.append(f"{where} is not a mapping")
            continue
        errors += [f"{where}.{k} unknown" for k in p if k not in PLATFORM_FIELDS]
        if not p.get("uri"):
            errors.append(f"{where}.uri has to be set")
        elif version and package_version is not None and f"/{version}/" not in p["uri"]:
            errors.append(f"{where}.uri {p['uri']!r} does not name the release {version}")  # ours
        if not p.get("sha256"):
            errors.append(f"{where}.sha256 has to be set")
        elif not isinstance(p["sha256"], str) or not SHA256.match(p["sha256"]):
            errors.append(f"{where}.sha256 invalid, must match {SHA256.pattern}")
        if not p.get("bin"):
            errors.append(f"{where}.bin has to be set")
        files = p.get("files")
        if not isinstance(files, list) or not files:
            errors.append(f"{where}.files: can't have a plugin without file operations")
        else:
            for j, op in enumerate(files):
                if not isinstance(op, dict) or not op.get("from") or not op.get("to"):
                    errors.append(f"{where}.files[{j}] needs both from and to")
                elif set(op) - {"from", "to"}:
                    errors.append(f"{where}.files[{j}] has unknown fields {sorted(set(op) - {'from', 'to'})}")
        sel_errors = _selector_errors(p.get("selector"))
        errors += [f"{where}.selector: {e}" for e in sel_errors]
        if not sel_errors and not any(selector_matches(p["selector"], o, a) for o, a in SUPPORTED):
            errors.append(f"{where}.selector matches no supported platform")
    for os_, arch in SUPPORTED:
        hits = [
            i
            for i, p in enumerate(platforms)
            if isinstance(p, dict)
            and isinstance(p.get("selector"), dict)
            and not _selector_errors(p["selector"])
            and selector_matches(p["selector"], os_, arch)
        ]
        if len(hits) > 1:
            errors.append(f"platforms {hits} overlap on {os_}/{arch}")
    return errors


def load() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


# ---- the real manifest ------------------------------------------------------------------------


def test_manifest_passes_krew_rules_as_plugins_kaito_yaml(tmp_path):
    """Copied into krew-index as plugins/kaito.yaml (the name krew infers from), it is valid."""
    target = tmp_path / "plugins" / "kaito.yaml"
    target.parent.mkdir()
    shutil.copy(MANIFEST, target)
    manifest = yaml.safe_load(target.read_text())
    assert validate(manifest, target.name, kubectl_kaito.__version__) == []
    assert manifest["metadata"]["name"] == "kaito"


def test_manifest_version_is_the_package_version():
    manifest = load()
    assert manifest["spec"]["version"] == f"v{kubectl_kaito.__version__}"
    for p in manifest["spec"]["platforms"]:
        assert p["uri"].endswith(
            f"/releases/download/v{kubectl_kaito.__version__}/kubectl-kaito_v{kubectl_kaito.__version__}.tar.gz"
        )


def test_manifest_platforms_are_the_four_unix_ones_with_one_archive():
    """linux and darwin on amd64 and arm64; no Windows (krew wants a .exe there: docs/distribution.md)."""
    platforms = load()["spec"]["platforms"]
    covered = sorted((o, a) for o, a in SUPPORTED if any(selector_matches(p["selector"], o, a) for p in platforms))
    assert covered == [("darwin", "amd64"), ("darwin", "arm64"), ("linux", "amd64"), ("linux", "arm64")]
    assert len({p["sha256"] for p in platforms}) == 1  # one pure-Python archive serves them all
    for p in platforms:
        assert p["bin"] == "kubectl-kaito"
        assert {"from": "kubectl-kaito", "to": "."} in p["files"]


def test_manifest_is_what_the_release_script_renders():
    """The text is build_release.render_manifest's, so regenerating it changes nothing but the sha256."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_release", ROOT / "scripts" / "build_release.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manifest = load()
    sha = manifest["spec"]["platforms"][0]["sha256"]
    ver = kubectl_kaito.__version__
    assert MANIFEST.read_text() == module.render_manifest(ver, f"kubectl-kaito_v{ver}.tar.gz", sha)


# ---- the validator rejects seeded-bad manifests ------------------------------------------------


def _good() -> dict[str, Any]:
    return copy.deepcopy(load())


def _bad_sha(m):
    m["spec"]["platforms"][1]["sha256"] = "ABC123"


def _uppercase_sha(m):
    m["spec"]["platforms"][0]["sha256"] = m["spec"]["platforms"][0]["sha256"].upper()


def _overlap(m):
    m["spec"]["platforms"][1]["selector"] = {"matchLabels": {"os": "linux"}}  # also selects linux/amd64


def _overlap_by_expression(m):
    m["spec"]["platforms"].append(
        {
            **m["spec"]["platforms"][0],
            "selector": {"matchExpressions": [{"key": "os", "operator": "In", "values": ["darwin"]}]},
        }
    )


def _long_short_description(m):
    m["spec"]["shortDescription"] = "Deploy, inspect, and chat with KAITO model workspaces"  # 53


def _multiline_short_description(m):
    m["spec"]["shortDescription"] = "Deploy KAITO\nworkspaces"


def _version_mismatch(m):
    m["spec"]["version"] = "v9.9.9"
    for p in m["spec"]["platforms"]:
        p["uri"] = p["uri"].replace(f"v{kubectl_kaito.__version__}", "v9.9.9")


def _version_without_v(m):
    m["spec"]["version"] = kubectl_kaito.__version__


def _uri_of_another_release(m):
    m["spec"]["platforms"][2]["uri"] = m["spec"]["platforms"][2]["uri"].replace("/v0.", "/v1.")


def _unknown_selector_key(m):
    m["spec"]["platforms"][0]["selector"]["matchLabels"]["distro"] = "debian"


def _unsupported_platform(m):
    m["spec"]["platforms"][0]["selector"]["matchLabels"] = {"os": "plan9", "arch": "amd64"}


def _no_selector(m):
    del m["spec"]["platforms"][0]["selector"]


def _empty_match_labels(m):
    m["spec"]["platforms"][0]["selector"] = {"matchLabels": {}}


def _empty_selector(m):
    m["spec"]["platforms"][0]["selector"] = {}


def _no_bin(m):
    del m["spec"]["platforms"][3]["bin"]


def _no_files(m):
    m["spec"]["platforms"][0]["files"] = []


def _file_without_to(m):
    m["spec"]["platforms"][0]["files"][0] = {"from": "kubectl-kaito"}


def _no_uri(m):
    m["spec"]["platforms"][0]["uri"] = ""


def _wrong_api_version(m):
    m["apiVersion"] = "krew.googlecontainertools.github.com/v1alpha1"


def _wrong_kind(m):
    m["kind"] = "Receipt"


def _wrong_name(m):
    m["metadata"]["name"] = "kubectl-kaito"


def _no_caveats(m):
    del m["spec"]["caveats"]


def _no_homepage(m):
    m["spec"]["homepage"] = ""


def _misspelt_field(m):
    m["spec"]["platforms"][0]["sha265"] = m["spec"]["platforms"][0].pop("sha256")


def _no_platforms(m):
    m["spec"]["platforms"] = []


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        (_bad_sha, r"platforms\[1\]\.sha256 invalid"),
        (_uppercase_sha, r"platforms\[0\]\.sha256 invalid"),
        (_overlap, r"platforms \[0, 1\] overlap on linux/amd64"),
        (_overlap_by_expression, r"platforms \[2, 4\] overlap on darwin/amd64"),
        (_long_short_description, r"shortDescription is 53 characters"),
        (_multiline_short_description, r"line breaks in short description"),
        (_version_mismatch, r"spec.version 'v9.9.9' != package version"),
        (_version_without_v, r"not v-prefixed semver"),
        (_uri_of_another_release, r"platforms\[2\]\.uri .* does not name the release"),
        (_unknown_selector_key, r"selector key 'distro' not supported"),
        (_unsupported_platform, r"platforms\[0\]\.selector matches no supported platform"),
        (_no_selector, r"nil selector"),
        (_empty_match_labels, r"matchLabels specified but empty"),
        (_empty_selector, r"empty selector is not supported"),
        (_no_bin, r"platforms\[3\]\.bin has to be set"),
        (_no_files, r"without file operations"),
        (_file_without_to, r"files\[0\] needs both from and to"),
        (_no_uri, r"platforms\[0\]\.uri has to be set"),
        (_wrong_api_version, r"apiVersion="),
        (_wrong_kind, r"kind='Receipt'"),
        (_wrong_name, r"should be named 'kaito'"),
        (_no_caveats, r"spec.caveats missing"),
        (_no_homepage, r"spec.homepage missing"),
        (_misspelt_field, r"platforms\[0\]\.sha265 unknown"),
        (_no_platforms, r"should have a platform"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_validator_rejects_seeded_bad_manifest(seed, expected):
    manifest = _good()
    seed(manifest)
    errors = validate(manifest, "kaito.yaml", kubectl_kaito.__version__)
    assert any(re.search(expected, e) for e in errors), errors


def test_validator_takes_the_name_from_the_file_name():
    """krew-index holds plugins/<name>.yaml: our top-level file name is not a plugin name."""
    manifest = _good()
    assert validate(manifest, "kaito.yaml") == []
    assert any("should be named 'krew-manifest'" in e for e in validate(manifest, "krew-manifest.yaml"))
    assert any("extension" in e for e in validate(manifest, "kaito.yml"))
    con = _good()
    con["metadata"]["name"] = "con"
    assert any("not allowed" in e for e in validate(con, "con.yaml"))  # a Windows device name


def test_validator_accepts_match_expressions_that_do_not_overlap():
    manifest = _good()
    platforms = manifest["spec"]["platforms"]
    template = platforms[0]
    platforms[:] = [
        {**template, "selector": {"matchExpressions": [{"key": "os", "operator": "In", "values": ["linux"]}]}},
        {**template, "selector": {"matchExpressions": [{"key": "os", "operator": "NotIn", "values": ["linux"]}]}},
    ]
    assert validate(manifest, "kaito.yaml", kubectl_kaito.__version__) == []
