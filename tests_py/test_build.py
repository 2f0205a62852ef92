"""setup.py's toolchain checks: a clear error when Go is missing or too old."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path
from types import ModuleType

import pytest

SETUP = Path(__file__).resolve().parent.parent / "setup.py"


def load_setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zerobus_setup", SETUP)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # does not call setup(): that only runs as __main__
    return mod


def fake_go(tmp_path: Path, version: str) -> str:
    go = tmp_path / "go"
    go.write_text(f"#!/bin/sh\necho {version}\n")
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    return str(go)


@pytest.mark.skipif(os.name == "nt", reason="fake go is a shell script")
@pytest.mark.parametrize(
    ("version", "fragment"),
    [("go1.22.5", "is Go 1.22, too old"), ("go1.9", "is Go 1.9, too old"), ("weird", "cannot tell the version")],
)
def test_old_or_broken_go_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, fragment: str
) -> None:
    setup = load_setup()
    monkeypatch.setenv("ZEROBUS_GO", fake_go(tmp_path, version))
    with pytest.raises(Exception) as ei:
        setup.find_go()
    msg = str(ei.value)
    assert fragment in msg and "Install Go 1.24 or newer" in msg and "https://go.dev/dl/" in msg


def test_missing_go_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    setup = load_setup()
    monkeypatch.delenv("ZEROBUS_GO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no go here
    with pytest.raises(Exception, match="needs Go, which was not found") as ei:
        setup.find_go()
    assert "Install Go 1.24 or newer" in str(ei.value)


@pytest.mark.skipif(os.name == "nt", reason="fake go is a shell script")
def test_recent_go_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = load_setup()
    go = fake_go(tmp_path, "go1.24.0")
    monkeypatch.setenv("ZEROBUS_GO", go)
    assert setup.find_go() == go
