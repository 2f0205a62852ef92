"""A damaged Arrow debug file (a string offset that falls inside a batch
body, which pyarrow and arrow-go read without complaint; metadata cut short)
is an error naming the file, the batch, the column and the row, from
zerobus_py.debug.read_file and from ``zerobus debug read`` (both the Go
reader), with the batches before the damage, never garbage or a crash."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import ZerobusError
from zerobus_py._cli import main
from zerobus_py.debug import DamagedDebugFileError, read_file


def _damaged_file(path: Path) -> Path:
    """An IPC stream of two batches {id, name}; batch 1's name offsets are
    [0, 2, 1, 6]: row 1 ends before it starts."""
    good = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["aa", "bb", "cc"])})
    offsets = pa.array([0, 2, 1, 6], pa.int32()).buffers()[1]
    names = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"ddeeff")])
    bad = pa.record_batch({"id": pa.array([4, 5, 6], pa.int64()), "name": names})
    with pa.ipc.new_stream(str(path), good.schema) as w:
        w.write_batch(good)
        w.write_batch(bad)
    return path


def test_read_file_refuses_a_damaged_body(tmp_path: Path) -> None:
    path = _damaged_file(tmp_path / "t.arrow")
    with pytest.raises(DamagedDebugFileError) as ei:
        read_file(path)
    msg = str(ei.value)
    want = "batch 1: corrupt Arrow data: column name, row 1: offset 2 is 1, below the offset 2 before it"
    assert str(path) in msg and want in msg and "the file is damaged from this batch on" in msg, msg
    assert isinstance(ei.value, ZerobusError)
    assert ei.value.intact.to_pydict() == {"id": [1, 2, 3], "name": ["aa", "bb", "cc"]}


def test_read_file_refuses_damaged_metadata(tmp_path: Path) -> None:
    """A rotated file cut inside batch 1's metadata is an error naming the
    batch, not a silently shorter table (the active file, still being
    written, reads up to its last complete batch: test_debug_read_live.py)."""
    whole = _damaged_file(tmp_path / "whole.arrow").read_bytes()
    good = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["aa", "bb", "cc"])})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, good.schema) as w:
        w.write_batch(good)
    batch1_at = len(sink.getvalue()) - 8  # less the end-of-stream marker
    path = tmp_path / "t-20261206T170000.000Z-0000.arrow"  # a rotated file's name
    path.write_bytes(whole[: batch1_at + 8 + 5])
    with pytest.raises(DamagedDebugFileError) as ei:
        read_file(path)
    msg = str(ei.value)
    assert str(path) in msg and "batch 1:" in msg and "message 2:" in msg, msg
    assert ei.value.intact.column("id").to_pylist() == [1, 2, 3]


def test_debug_read_names_column_and_row(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = _damaged_file(tmp_path / "t.arrow")
    assert main(["debug", "read", str(path), "--format", "json"]) == 1
    err = capfd.readouterr().err
    want = "batch 1: corrupt Arrow data: column name, row 1: offset 2 is 1, below the offset 2 before it"
    assert str(path) in err and want in err, err
