"""examples/demo.py (the Python half of `make demo`) runs and its output is clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_output_is_clean_and_leaves_no_temp_dirs(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), TEMP=str(temp), TMP=str(temp))
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert proc.stderr == ""
    assert "batch 1: 4/4 rows acknowledged, " in out
    assert "batch 2: 3/4 rows acknowledged, 1 failed (ConversionError: 1), " in out
    # One clean line per error: printed once, without "zerobus: " prefixes.
    assert out.count("is over the int64 maximum") == 1
    assert re.search(r'^  failed row 1: conversion failed at row 1, column "views": ', out, re.MULTILINE), out
    assert "zerobus: " not in out
    assert "quarantined rows (ids): [105]" in out
    # Stored timestamps shown as times, not microseconds.
    assert re.search(r"^  100 +signup +2026-11-23 09:00:00Z ", out, re.MULTILINE), out
    assert "1795424400000000" not in out
    # The configuration shows the debug files that are on, and nothing contradicts it.
    config = " ".join(out.split("config", 1)[1].split("\n\n", 1)[0].split())
    assert "debug_arrow_enabled=True" in config and "debug_protobuf_enabled=True" in config
    assert "client_secret='<redacted>'" in config
    assert "zerobus/arrow/main.demo.py_events.arrow: 12 rows" in out
    assert "zerobus/proto/main.demo.py_events.proto: 11 rows" in out
    # The metrics recorded, as the Go demo prints them (issue #10: from Python and from Go).
    assert re.search(r"^  zerobus\.rows\.sent +11$", out, re.MULTILINE), out
    assert re.search(r"^  zerobus\.rows\.failed +1$", out, re.MULTILINE), out
    assert re.search(r"^  zerobus\.send\.duration +3 recorded, sum ", out, re.MULTILINE), out
    assert list(temp.iterdir()) == []  # the debug files' temporary directory is gone
