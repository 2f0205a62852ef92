"""s17 H1: ``zerobus debug read -format table`` of a .proto file printed every
list and map, also empty or null ones, without panicking; from Python the
panic aborted the interpreter (SIGABRT). A list of two elements printed as
``1  lst:2``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from zerobus_py import WrapperConfiguration, ZerobusWrapper


def test_proto_table_lists_and_maps_both_clis(tmp_path: Path, zerobus_cli: Path) -> None:
    table = "main.default.s17_table_lists"
    cfg = WrapperConfiguration(
        table_name=table,
        zerobus_writer_disabled=True,
        debug_protobuf_enabled=True,
        debug_output_dir=str(tmp_path),
    )
    batch = pa.record_batch(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "lst": pa.array([[1, 2], [], None], pa.list_(pa.int64())),
            "m": pa.array([[("a", 1), ("b", 2)], [], None], pa.map_(pa.string(), pa.int64())),
        }
    )
    with ZerobusWrapper(cfg) as w:
        w.send_batch(batch)
    proto = tmp_path / "zerobus" / "proto" / f"{table}.proto"
    want = [
        ["id", "lst", "m"],
        ["1", "[1, 2]", '{"a": 1, "b": 2}'],
        ["2", "[]", "{}"],
        ["3", "[]", "{}"],
    ]
    for cmd in ([str(zerobus_cli)], [sys.executable, "-m", "zerobus_py"]):
        p = subprocess.run(
            [*cmd, "debug", "read", "-format", "table", str(proto)], capture_output=True, text=True, timeout=120
        )
        assert p.returncode == 0, (cmd, p.returncode, p.stderr)
        rows = [[c for c in line.split("  ") if c.strip()] for line in p.stdout.splitlines()]
        assert [[c.strip() for c in r] for r in rows] == want, (cmd, p.stdout)
