"""s24 readmem: reading a debug file holds it about once, not four times.

``debug.read_file`` had Go decode the whole file, encode it again as IPC bytes, Python copy those and pyarrow
decode them a second time: about 4x the file at the peak (1.9 GB for a 400 MB file). The batches now cross as an
Arrow C stream read from the file a batch at a time (Go's memory, handed to pyarrow without a copy), and
``debug.read_batches`` reads a file larger than memory without holding it. Zeros where a batch starts (read by
arrow-go as the end of the stream: the batches after them were dropped without an error) are damage.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import id_batch

from zerobus_py import ZerobusWrapper, _bridge, debug
from zerobus_py.local import LocalServer

BATCHES = [(0, 1000), (1000, 1), (1001, 2500), (3501, 499)]  # (first id, rows) of each batch sent


def _sent_ids() -> list[int]:
    return [i for start, n in BATCHES for i in range(start, start + n)]


def _write_arrow(tmp_path: Path, server: LocalServer, table_name: str) -> Path:
    """The Arrow debug file a wrapper wrote (and closed) sending BATCHES, one debug batch each."""
    cfg = server.config(table_name, debug_arrow_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        for start, n in BATCHES:
            assert w.send_batch(id_batch(start, n)).success
    (f,) = [f for f in debug.list_files(tmp_path) if f.suffix == ".arrow"]
    return f


def _check_rows(table: pa.Table, ids: list[int]) -> None:
    assert table.num_rows == len(ids)
    assert table.column("id").to_pylist() == ids
    assert table.column("name").to_pylist() == [f"x-{i}" for i in ids]
    assert table.column("score").to_pylist() == [i * 0.5 for i in ids]


def _message_offsets(data: bytes) -> list[int]:
    """Where each IPC message (the schema, then each batch) starts in the stream ``data``."""
    offsets, at = [], 0
    reader = pa.ipc.MessageReader.open_stream(pa.py_buffer(data))
    for msg in reader:
        offsets.append(at)
        at += len(msg.serialize())
    return offsets


def _go_objects_settle() -> tuple[int, int, int]:
    gc.collect()
    return _bridge.num_handles(), _bridge.native.DebugReadersOpen(), _bridge.native.DebugReadBytes()


def test_read_file_and_read_batches_give_what_was_sent(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    path = _write_arrow(tmp_path, server, table_name)
    table, still_writing = debug.read_file_tail(path)
    assert still_writing is None
    _check_rows(table, _sent_ids())
    assert [b.num_rows for b in table.to_batches()] == [n for _, n in BATCHES]  # the batches as written
    assert sorted(server.table(table_name).column("id").to_pylist()) == _sent_ids()

    with debug.read_batches(path) as reader:
        assert reader.schema == table.schema
        batches = list(reader)
    assert [b.num_rows for b in batches] == [n for _, n in BATCHES]
    _check_rows(pa.Table.from_batches(batches), _sent_ids())


def test_protobuf_debug_file_reads_its_records(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, debug_protobuf_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        for start, n in BATCHES:
            assert w.send_batch(id_batch(start, n)).success
    (path,) = [f for f in debug.list_files(tmp_path) if f.suffix == ".proto"]
    _check_rows(debug.read_file(path), _sent_ids())
    _check_rows(debug.read_batches(path).read_all(), _sent_ids())


def test_damage_in_the_middle_keeps_the_intact_batches(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    path = _write_arrow(tmp_path, server, table_name)
    data = bytearray(path.read_bytes())
    offsets = _message_offsets(bytes(data))
    assert len(offsets) == 1 + len(BATCHES)
    at = offsets[3]  # batch 2's message: its metadata length damaged, batch 3 after it sound
    data[at + 4 : at + 8] = (7).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    intact_ids = _sent_ids()[: BATCHES[2][0]]

    with pytest.raises(debug.DamagedDebugFileError) as caught:
        debug.read_file(path)
    err = caught.value
    assert str(path) in str(err) and "batch 2" in str(err), str(err)
    assert err.details["kind"] == "unknown"
    _check_rows(err.intact, intact_ids)
    assert [b.num_rows for b in err.intact.to_batches()] == [BATCHES[0][1], BATCHES[1][1]]

    # read_batches gives the intact batches, then raises the same error
    got: list[pa.RecordBatch] = []
    with pytest.raises(debug.DamagedDebugFileError) as caught_stream:
        for batch in debug.read_batches(path):
            got.append(batch)
    _check_rows(pa.Table.from_batches(got), intact_ids)
    assert str(caught_stream.value) == str(err)
    assert caught_stream.value.intact.num_rows == 0
    assert caught_stream.value.intact.schema == err.intact.schema

    # damage in the first batch: an empty table of the file's schema
    data = bytearray(path.read_bytes())
    data[offsets[1] + 4 : offsets[1] + 8] = (7).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(debug.DamagedDebugFileError) as caught:
        debug.read_file(path)
    assert caught.value.intact.num_rows == 0
    assert caught.value.intact.schema.names == ["id", "name", "score"]


def test_zeros_where_a_batch_starts_are_damage(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    """Zeros where a message starts (a damaged disk block) read as an end-of-stream marker: the batches after it
    were dropped without an error. Now they are damage, with the batches before it intact."""
    path = _write_arrow(tmp_path, server, table_name)
    data = bytearray(path.read_bytes())
    at = _message_offsets(bytes(data))[3]  # batch 2
    data[at : at + 8] = bytes(8)
    path.write_bytes(bytes(data))
    with pytest.raises(debug.DamagedDebugFileError) as caught:
        debug.read_file(path)
    assert "batch 2: an end-of-stream marker ends the stream" in str(caught.value), str(caught.value)
    assert f"but {len(data) - at - 4} more bytes follow it" in str(caught.value)
    _check_rows(caught.value.intact, _sent_ids()[: BATCHES[2][0]])
    got: list[pa.RecordBatch] = []
    with pytest.raises(debug.DamagedDebugFileError):
        for batch in debug.read_batches(path):
            got.append(batch)
    _check_rows(pa.Table.from_batches(got), _sent_ids()[: BATCHES[2][0]])


def test_reading_releases_every_go_object(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    path = _write_arrow(tmp_path, server, table_name)
    damaged = tmp_path / "damaged" / path.name
    damaged.parent.mkdir()
    data = bytearray(path.read_bytes())
    at = _message_offsets(bytes(data))[3]
    data[at + 4 : at + 8] = (7).to_bytes(4, "little")
    damaged.write_bytes(bytes(data))
    debug.read_file(path)  # warm up
    handles, readers, held = _go_objects_settle()
    assert (readers, held) == (0, 0)

    table = debug.read_file(path)
    reader = debug.read_batches(path)
    first = reader.read_next_batch()
    assert _bridge.native.DebugReadersOpen() == 1  # the reader still reading the file
    assert _bridge.native.DebugReadBytes() > 0  # the batches Go read, held by pyarrow
    del table, reader, first
    assert _go_objects_settle() == (handles, 0, 0)

    for _ in range(200):
        _check_rows(debug.read_file(path), _sent_ids())
        assert sum(b.num_rows for b in debug.read_batches(path)) == len(_sent_ids())
        with pytest.raises(debug.DamagedDebugFileError):
            debug.read_file(damaged)
        reader = debug.read_batches(path)
        reader.read_next_batch()
        reader.close()  # closed before the end: the file is closed, the stream released
        del reader
    handles_after, readers_after, _ = _go_objects_settle()
    assert (handles_after, readers_after) == (handles, 0)


_MEASURE = textwrap.dedent(
    """
    import gc, json, sys
    from zerobus_py import debug

    path, how, small = sys.argv[1], sys.argv[2], sys.argv[3]
    debug.read_file(small)  # the Go runtime and pyarrow loaded, as in a process that read before
    gc.collect()

    def status(key: str) -> int:
        # this process's own memory (VmHWM: its peak RSS; getrusage's ru_maxrss also counts the
        # parent's RSS at the fork)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024  # kB
        raise AssertionError(key)

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak RSS reset to the current RSS: the idle process
    before = status("VmRSS")
    if how == "read_file":
        t = debug.read_file(path)
        rows, nbytes = t.num_rows, t.nbytes
    else:
        rows = nbytes = 0
        for b in debug.read_batches(path):
            rows += b.num_rows
            nbytes += b.nbytes
    print(json.dumps({"growth": status("VmHWM") - before, "rows": rows, "nbytes": nbytes}))
    """
)


def peak_growth(path: Path, how: str, small: Path) -> dict[str, Any]:
    """_MEASURE run in a fresh child process (the peak RSS of this one is unrelated): reading the debug file at
    ``path`` with ``how`` (``read_file`` or ``read_batches``, ``small`` read first to load everything), its rows,
    bytes and peak RSS growth."""
    out = subprocess.run(
        [sys.executable, "-I", "-c", _MEASURE, str(path), how, str(small)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        env={**os.environ, "GOGC": "100"},
    )
    got: dict[str, Any] = json.loads(out.stdout)
    return got


@pytest.mark.skipif(sys.platform != "linux", reason="the peak RSS read from /proc/self/status: Linux")
def test_peak_memory_of_reading_a_large_file(tmp_path: Path) -> None:
    """Reading a ~100 MB Arrow debug file grows the peak RSS by about the file (the old code: about 4.7x); reading
    it batch by batch by far less. Measured in a fresh child process (the peak RSS of this one is unrelated)."""
    schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64())])
    path = tmp_path / "main.default.t-20261207T000000.000Z-0000.arrow"  # a rotated (complete) debug file
    rows, batch_rows = 0, 65536
    with pa.ipc.new_stream(str(path), schema) as w:
        while path.stat().st_size < 100_000_000:
            ids = pa.array(range(rows, rows + batch_rows), pa.int64())
            names = pa.array([f"name-{i}" for i in range(rows, rows + batch_rows)])
            w.write_batch(pa.record_batch([ids, names, pc.multiply(ids, 0.5)], schema=schema))
            rows += batch_rows
    small = tmp_path / "small.arrow"
    with pa.ipc.new_stream(str(small), schema) as w:
        w.write_batch(id_batch(0, 3))
    size = path.stat().st_size

    def measure(how: str) -> float:
        got = peak_growth(path, how, small)
        assert got["rows"] == rows
        assert got["nbytes"] >= size * 0.9  # the data read is about the file
        ratio = got["growth"] / size
        print(f"{how}: peak RSS growth {got['growth'] / 1e6:.0f} MB for a {size / 1e6:.0f} MB file: {ratio:.2f}x")
        return float(ratio)

    assert measure("read_file") < 2.5
    assert measure("read_batches") < 0.5
