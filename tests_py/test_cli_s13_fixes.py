"""Session 13 CLI fixes seen from Python: a header-only CSV sends 0 rows (the reader panicked: "corrupt"), and a
LocalServer data_dir that cannot be written fails at start (it failed at close, after the rows were lost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zerobus_py import ConfigurationError
from zerobus_py._cli import main
from zerobus_py.local import LocalServer


def test_send_header_only_csv(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "hdr.csv"
    csv.write_text("a,b\n")
    for mode in ("--local", "--dry-run"):
        assert main(["send", str(csv), mode, "--json"]) == 0, capfd.readouterr().err
        out = json.loads(capfd.readouterr().out)
        assert out["success"] and out["rows_read"] == 0 and out["rows_sent"] == 0 and out["rows_failed"] == 0, out


def test_local_server_data_dir_checked_at_start(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    with pytest.raises(ConfigurationError) as e:
        LocalServer(data_dir=not_a_dir)
    assert "data_dir" in str(e.value) and "not a directory" in str(e.value), e.value
    assert e.value.keys == ["data_dir"]
