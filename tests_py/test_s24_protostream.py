"""s24 protostream: a protobuf debug file is read a batch at a time, not held whole.

``debug.read_file`` / ``read_batches`` read a protobuf debug file by reading all of it, splitting every record out
and decoding them (about 4.2x the file at the peak). The Go core now walks the records' length prefixes through a
buffered reader and decodes 65536 records per batch as they are read, with the same rows and damage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from test_s24_readmem import peak_growth

from zerobus_py import debug

CHUNK = 65536


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _name(i: int) -> str:
    return f"row {i:08d} of a protobuf debug file"


def _write_proto(path: Path, rows: int) -> list[int]:
    """A protobuf debug file of ``rows`` Row records (id, name) and its descriptor sidecar; where each record
    starts."""
    desc = descriptor_pb2.DescriptorProto(name="Row")
    desc.field.add(name="id", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64)
    desc.field.add(name="name", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING)
    path.with_name(path.name.removesuffix(".proto") + ".descriptor.pb").write_bytes(desc.SerializeToString())
    starts, out, at = [], bytearray(), 0
    for i in range(rows):
        name = _name(i).encode()
        rec = b"\x08" + _varint(i) + b"\x12" + _varint(len(name)) + name
        framed = _varint(len(rec)) + rec
        starts.append(at)
        at += len(framed)
        out += framed
    path.write_bytes(bytes(out))
    return starts


def test_batches_of_65536_records_with_their_values(tmp_path: Path) -> None:
    path = tmp_path / "main.default.t-20261207T000000.000Z-0000.proto"
    n = 2 * CHUNK + 5
    _write_proto(path, n)
    with debug.read_batches(path) as reader:
        batches = list(reader)
    assert [b.num_rows for b in batches] == [CHUNK, CHUNK, 5]
    ids = [i for b in batches for i in b.column("id").to_pylist()]
    assert ids == list(range(n))
    assert batches[2].column("name").to_pylist() == [_name(i) for i in range(2 * CHUNK, n)]
    table = debug.read_file(path)
    assert table.column("id").to_pylist() == ids


def test_a_file_cut_in_a_later_batch_keeps_the_records_before(tmp_path: Path) -> None:
    path = tmp_path / "main.default.t-20261207T000000.000Z-0000.proto"
    n = 2 * CHUNK + 5
    starts = _write_proto(path, n)
    cut_record = CHUNK + 100
    data = path.read_bytes()
    path.write_bytes(data[: starts[cut_record] + 3])  # a rotated file ending inside a record: damage
    with pytest.raises(debug.DamagedDebugFileError) as e:
        debug.read_file(path)
    assert f"record {cut_record} at byte offset {starts[cut_record]}" in str(e.value)
    assert e.value.intact.column("id").to_pylist() == list(range(cut_record))
    rows = 0
    with pytest.raises(debug.DamagedDebugFileError) as e2:
        for b in debug.read_batches(path):
            rows += b.num_rows
    assert rows == cut_record
    assert f"record {cut_record} at byte offset {starts[cut_record]}" in str(e2.value)


@pytest.mark.skipif(sys.platform != "linux", reason="the peak RSS read from /proc/self/status: Linux")
def test_peak_memory_of_reading_a_large_protobuf_file(tmp_path: Path) -> None:
    """Reading a ~130 MB protobuf debug file batch by batch grows the peak RSS by less than the file (the
    whole-file reader: about 4.4x); read_file by less than 3x (the table is about 1.1x the file, and Go lets its heap
    grow to about twice what it holds). Measured in a fresh child process."""
    path = tmp_path / "main.default.t-20261207T000000.000Z-0000.proto"
    rows = 3_000_000
    _write_proto(path, rows)
    small = tmp_path / "main.default.s-20261207T000000.000Z-0000.proto"
    _write_proto(small, 3)
    size = path.stat().st_size

    def measure(how: str) -> float:
        got = peak_growth(path, how, small)
        assert got["rows"] == rows
        ratio = got["growth"] / size
        print(f"{how}: peak RSS growth {got['growth'] / 1e6:.0f} MB for a {size / 1e6:.0f} MB file: {ratio:.2f}x")
        return float(ratio)

    batches, whole = measure("read_batches"), measure("read_file")
    assert batches < 0.6
    assert whole < 3.0
