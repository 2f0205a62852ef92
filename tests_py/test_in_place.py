"""Go reads a send in place from Python memory (an Arrow C stream, pybind
cStream): what Go keeps after the call (the debug file's IPC writer remembers
dictionaries) holds the exporter's buffers by reference count. These tests
free and overwrite the Python buffers after each send and check what Go kept:
the stored rows and the debug file's batches."""

from __future__ import annotations

import gc
from pathlib import Path

import pyarrow as pa

from zerobus_py import WrapperConfiguration, ZerobusWrapper
from zerobus_py.debug import read_file
from zerobus_py.local import LocalServer


def _scribble() -> None:
    """Reuse freed memory: allocate and fill many buffers of assorted sizes."""
    junk = [pa.py_buffer(bytes([0xEE]) * n) for n in (64, 512, 4096, 65536) for _ in range(64)]
    del junk
    gc.collect()


def test_dictionary_batches_survive_freed_python_memory(
    server: LocalServer, config: WrapperConfiguration, table_name: str, tmp_path: Path
) -> None:
    cfg = config.copy(debug_enabled=True, debug_arrow_enabled=True, debug_output_dir=str(tmp_path))
    sent = []
    with ZerobusWrapper(cfg) as w:
        for i in range(6):
            # a fresh dictionary per batch, in memory freed right after the send
            words = [f"w{i}-{k}" for k in range(50)]
            batch = pa.record_batch(
                {
                    "id": pa.array(range(i * 50, i * 50 + 50), pa.int64()),
                    "word": pa.array(words).dictionary_encode(),
                    "tag": pa.array([f"t{k % 3}" for k in range(50)]),
                }
            )
            res = w.send_batch(batch)
            assert res.success, res
            sent.append(batch.cast(pa.schema([("id", pa.int64()), ("word", pa.string()), ("tag", pa.string())])))
            del batch, words
            _scribble()
    stored = server.table(table_name).sort_by("id")
    want = pa.Table.from_batches(sent)
    assert stored.column("id").to_pylist() == want.column("id").to_pylist()
    assert stored.column("word").to_pylist() == want.column("word").to_pylist()
    debug_files = sorted((tmp_path / "zerobus" / "arrow").glob("*.arrow"))
    assert debug_files, list(tmp_path.rglob("*"))
    written = pa.concat_tables([read_file(f) for f in debug_files])
    assert written.num_rows == 300
    assert [str(v) for v in written.column("word").to_pylist()] == want.column("word").to_pylist()


def test_plain_batches_survive_freed_python_memory(
    server: LocalServer, wrapper: ZerobusWrapper, table_name: str
) -> None:
    want = []
    for i in range(20):
        batch = pa.record_batch(
            {"id": pa.array(range(i * 100, i * 100 + 100), pa.int64()), "s": pa.array([f"v{i}"] * 100)}
        )
        assert wrapper.send_batch(batch).success
        want += batch.column("id").to_pylist()
        del batch
        _scribble()
    wrapper.flush()
    stored = server.table(table_name)
    assert sorted(stored.column("id").to_pylist()) == want
    assert {s for s in stored.column("s").to_pylist()} == {f"v{i}" for i in range(20)}
