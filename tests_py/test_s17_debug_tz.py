"""s17 H2: a timestamp column with a fixed-offset time zone (``+05:30``,
``-03:45``) sent from Python is recorded in the Arrow debug file with that
zone; arrow-go's C data import cut it at the second colon (``+05``), and
``zerobus debug read`` then refused to print the file."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from zerobus_py import ZerobusWrapper
from zerobus_py.debug import read_file
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_fixed_offset_zones_recorded_whole(
    server: LocalServer, table_name: str, tmp_path: Path, zerobus_cli: Path, transport: str
) -> None:
    t0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    batch = pa.record_batch(
        {
            "id": pa.array([1, 2], pa.int64()),
            "a": pa.array([t0, None], pa.timestamp("us", tz="+05:30")),
            "b": pa.array([t0, t0], pa.timestamp("us", tz="-03:45")),
            "l": pa.array([[t0], []], pa.list_(pa.timestamp("us", tz="+09:30"))),
            "s": pa.array([{"x": t0}, None], pa.struct([pa.field("x", pa.timestamp("us", tz="-09:30"))])),
        }
    )
    cfg = server.config(table_name, transport=transport, debug_arrow_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        w.send_batch(batch)
    assert server.table(table_name).num_rows == 2
    f = tmp_path / "zerobus" / "arrow" / f"{table_name}.arrow"
    with ipc.open_stream(f) as r:
        got = r.read_all()
    assert got.schema == batch.schema, got.schema
    assert got.to_pylist() == pa.Table.from_batches([batch]).to_pylist()
    assert read_file(f).schema == batch.schema
    for cmd in ([str(zerobus_cli)], [sys.executable, "-m", "zerobus_py"]):
        p = subprocess.run([*cmd, "debug", "read", str(f)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (cmd, p.stderr)
        rows = [json.loads(line) for line in p.stdout.splitlines()]
        assert [r["id"] for r in rows] == [1, 2], p.stdout
        assert rows[0]["a"] == "2026-03-01T17:30:00+05:30", rows[0]
        assert rows[0]["b"] == "2026-03-01T08:15:00-03:45", rows[0]
