"""Damage in an Arrow debug file's first batch raises DamagedDebugFileError too, as the docs (CHANGELOG,
docs/debug-files.md) say read_file does for a damaged or cut-short file: ``intact`` is then an empty table of the
file's schema. It raised a plain ZerobusError, which ``except DamagedDebugFileError`` missed (s14 review-docs L8).
A file whose schema cannot be read is not a damaged debug file with an intact part: still a plain ZerobusError."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import ZerobusError
from zerobus_py.debug import DamagedDebugFileError, read_file

_SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _one_batch_stream() -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, _SCHEMA) as w:
        w.write_batch(pa.record_batch({"id": [1, 2], "name": ["a", "b"]}, schema=_SCHEMA))
    return bytes(sink.getvalue())


def test_cut_inside_the_first_batch(tmp_path: Path) -> None:
    path = tmp_path / "t-20261206T170000.000Z-0000.arrow"  # a rotated file's name: complete, not being written
    path.write_bytes(_one_batch_stream()[:-20])
    with pytest.raises(DamagedDebugFileError) as ei:
        read_file(path)
    msg = str(ei.value)
    assert str(path) in msg and "batch 0:" in msg, msg
    assert ei.value.intact.schema == _SCHEMA and ei.value.intact.num_rows == 0


def test_damaged_body_of_the_first_batch(tmp_path: Path) -> None:
    offsets = pa.array([0, 2, 1], pa.int32()).buffers()[1]
    names = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(b"ddee")])
    path = tmp_path / "t.arrow"
    with pa.ipc.new_stream(str(path), _SCHEMA) as w:
        w.write_batch(pa.record_batch([pa.array([1, 2], pa.int64()), names], schema=_SCHEMA))
    with pytest.raises(DamagedDebugFileError) as ei:
        read_file(path)
    assert "batch 0: corrupt Arrow data: column name, row 1" in str(ei.value), str(ei.value)
    assert ei.value.intact.schema == _SCHEMA and ei.value.intact.num_rows == 0


def test_unreadable_schema_is_not_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "t-20261206T170000.000Z-0000.arrow"
    path.write_bytes(b"\xff\xff\xff\xff\x10\x00\x00\x00" + b"not a flatbuffer" + b"\x00" * 8)
    with pytest.raises(ZerobusError) as ei:
        read_file(path)
    assert not isinstance(ei.value, DamagedDebugFileError), repr(ei.value)
