"""The installed distribution's metadata (what `pip show zerobus-wrapper` and PyPI display) and the one
version source shared by Go and Python."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import zerobus_py

ROOT = Path(__file__).resolve().parent.parent
RELEASE_NOTES = ROOT / ".github" / "scripts" / "release_notes.py"


def core_version() -> str:
    text = (ROOT / "core" / "version.go").read_text(encoding="utf-8")
    m = re.search(r'^const Version = "([^"]+)"$', text, re.MULTILINE)
    assert m, "core/version.go lacks its Version constant"
    return m.group(1)


@pytest.fixture(scope="module")
def meta() -> metadata.PackageMetadata:
    return metadata.metadata("zerobus-wrapper")


def test_one_version_for_go_and_python() -> None:
    want = core_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+([-.]?(a|b|rc)\d+)?", want), want
    assert metadata.version("zerobus-wrapper") == want
    assert zerobus_py.__version__ == want
    assert zerobus_py.native_version() == want


def test_license(meta: metadata.PackageMetadata) -> None:
    assert meta["License-Expression"] == "Apache-2.0"
    assert "LICENSE" in (meta.get_all("License-File") or [])
    files = metadata.files("zerobus-wrapper") or []
    licenses = [f for f in files if f.name == "LICENSE"]
    assert licenses, "LICENSE is not installed with the distribution"
    assert "Apache License" in licenses[0].read_text()
    assert "Version 2.0, January 2004" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_urls_authors_keywords(meta: metadata.PackageMetadata) -> None:
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    repo = "https://github.com/zerobus-wrapper/zerobus-wrapper"
    assert urls["Source"] == repo
    assert urls["Issues"] == repo + "/issues"
    assert urls["Changelog"].endswith("/CHANGELOG.md")
    assert meta["Author"] == "zerobus-wrapper contributors"
    keywords = meta["Keywords"].split(",")
    assert {"arrow", "databricks", "zerobus"} <= set(keywords)
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Summary"].startswith("Stream Apache Arrow data into Databricks Zerobus")


def test_classifiers(meta: metadata.PackageMetadata) -> None:
    classifiers = set(meta.get_all("Classifier") or [])
    for minor in range(10, 15):  # the CPython versions wheels are built for (pyproject [tool.cibuildwheel])
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    for os_name in ("POSIX :: Linux", "MacOS", "Microsoft :: Windows"):
        assert f"Operating System :: {os_name}" in classifiers
    assert "Typing :: Typed" in classifiers


def test_extras(meta: metadata.PackageMetadata) -> None:
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"pandas", "polars", "notebook"} <= extras
    requires = meta.get_all("Requires-Dist") or []
    assert any(r.startswith("matplotlib") and 'extra == "notebook"' in r for r in requires), requires


def test_wheel_build_matrix_matches_classifiers() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    build = re.search(r'^build = "([^"]+)"$', text, re.MULTILINE)
    assert build, "pyproject.toml [tool.cibuildwheel] has no build line"
    assert build.group(1).split() == [f"cp3{m}-*" for m in range(10, 15)]


def test_release_notes_for_this_version() -> None:
    version = core_version()
    out = subprocess.run(
        [sys.executable, str(RELEASE_NOTES), "--draft", f"v{version}"], capture_output=True, text=True, check=True
    ).stdout
    assert "### Added" in out
    assert not out.startswith("## ")  # only the body of the section
    bad = subprocess.run([sys.executable, str(RELEASE_NOTES), "v0.0.0-not-this"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"does not match core.Version {version}" in bad.stderr
    # The release itself (no --draft) needs the section's date: a release cut while the heading still said
    # "unreleased" was published as is.
    heading = next(
        line
        for line in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
        if line.startswith(f"## [{version}]")
    )
    release = subprocess.run([sys.executable, str(RELEASE_NOTES), f"v{version}"], capture_output=True, text=True)
    if re.fullmatch(rf"## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}", heading):
        assert release.returncode == 0, release.stderr
    else:
        assert release.returncode == 1 and "has no release date" in release.stderr, release.stderr


def test_release_date_is_required(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("release_notes", RELEASE_NOTES)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [1.2.3] - unreleased\n\n### Added\n- x\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="has no release date"):
        mod.release_date("1.2.3", tmp_path)
    changelog.write_text("# Changelog\n\n## [1.2.3] - 2026-12-24\n\n### Added\n- x\n", encoding="utf-8")
    assert mod.release_date("1.2.3", tmp_path) == "2026-12-24"
