"""debug_arrow_compression: Arrow debug files written with IPC buffer
compression are smaller and read back unchanged with pyarrow and with
zerobus_py.debug.read_file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import WrapperConfiguration, ZerobusWrapper
from zerobus_py.debug import read_file
from zerobus_py.local import LocalServer


def _repetitive_batch(n: int) -> pa.RecordBatch:
    """n highly compressible rows: ids, a cycling int and two alternating strings."""
    return pa.record_batch(
        {
            "id": pa.array(range(n), pa.int64()),
            "code": pa.array([200 + i % 3 for i in range(n)], pa.int64()),
            "status": pa.array(["status-ok-accepted" if i % 2 else "status-retry-pending" for i in range(n)]),
        }
    )


def _send_and_find_debug_file(cfg: WrapperConfiguration, batch: pa.RecordBatch, out: Path) -> Path:
    """Send batch with debug Arrow output under out; return the one .arrow file."""
    cfg = cfg.copy(debug_enabled=True, debug_arrow_enabled=True, debug_output_dir=str(out))
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(batch)
        assert res.success, res
    files = sorted((out / "zerobus" / "arrow").glob("*.arrow"))
    assert len(files) == 1, list(out.rglob("*"))
    return files[0]


@pytest.mark.parametrize("codec", ["zstd", "lz4"])
def test_compressed_debug_file_reads_back(
    server: LocalServer, config: WrapperConfiguration, table_name: str, tmp_path: Path, codec: str
) -> None:
    batch = _repetitive_batch(10_000)
    packed = _send_and_find_debug_file(config.copy(debug_arrow_compression=codec), batch, tmp_path / codec)
    plain = _send_and_find_debug_file(config.copy(table_name=table_name + "_plain"), batch, tmp_path / "plain")
    assert server.table(table_name).num_rows == batch.num_rows

    want = pa.Table.from_batches([batch])
    with pa.OSFile(str(packed)) as f:
        from_pyarrow = pa.ipc.open_stream(f).read_all()
    assert from_pyarrow.equals(want)
    assert read_file(packed).equals(want)
    assert read_file(plain).equals(want)

    ratio = packed.stat().st_size / plain.stat().st_size
    assert ratio < 0.5, f"{codec} file is {packed.stat().st_size} bytes, uncompressed {plain.stat().st_size}"
