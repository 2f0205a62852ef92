"""s17 M1: a batch refused before conversion (a column the table lacks) is in
the Arrow debug file too, on both transports; it was left out."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import ZerobusError, ZerobusWrapper
from zerobus_py import debug as zd
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_refused_batch_in_arrow_debug_file(
    server: LocalServer, table_name: str, tmp_path: Path, transport: str
) -> None:
    cfg = server.config(table_name, transport=transport, debug_arrow_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        w.send_batch(pa.record_batch({"id": pa.array([1], pa.int64())}))
        with pytest.raises(ZerobusError, match="extra"):
            w.send_batch(pa.record_batch({"id": pa.array([2], pa.int64()), "extra": pa.array(["x"])}))
    rows = [r for f in zd.list_files(tmp_path) for r in zd.read_file(f).to_pylist()]
    assert sorted(rows, key=lambda r: r["id"]) == [{"id": 1}, {"id": 2, "extra": "x"}]
    assert server.table(table_name).column("id").to_pylist() == [1]
