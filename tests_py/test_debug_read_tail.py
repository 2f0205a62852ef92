"""zerobus_py.debug.read_file_tail says whether a debug file is still being
written (the Go core's DebugTail), and read_file of an active Arrow file with
no schema yet returns a table of no columns and no rows instead of raising
"holds no record batch" (s13 nits 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import hold_writer_lock, id_batch

from zerobus_py import ZerobusError, ZerobusWrapper
from zerobus_py.debug import read_file, read_file_tail
from zerobus_py.local import LocalServer

TABLE = "main.default.debug_tail"


def _write(tmp_path: Path, **kinds: bool) -> Path:
    with LocalServer() as server:
        cfg = server.config(TABLE, debug_output_dir=str(tmp_path), **kinds)
        with ZerobusWrapper(cfg) as w:
            for k in range(3):
                w.send_batch(id_batch(3 * k, 3))
    return tmp_path / "zerobus"


def test_arrow_active_file_tail(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    active = _write(tmp_path, debug_arrow_enabled=True) / "arrow" / f"{TABLE}.arrow"
    hold_writer_lock(request, active)  # as its writer, still writing it
    whole = active.read_bytes()
    table, still = read_file_tail(active)
    assert table.column("id").to_pylist() == list(range(9)) and still is None

    active.write_bytes(whole[: len(whole) - 8 - 20])  # no end-of-stream marker, 20 bytes into batch 2
    table, still = read_file_tail(active)
    assert table.column("id").to_pylist() == list(range(6))
    assert still is not None and still.startswith("still being written: it ends inside a message at byte offset")
    assert read_file(active).column("id").to_pylist() == list(range(6))  # read_file: the same table


def test_arrow_empty_active_file(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    active = _write(tmp_path, debug_arrow_enabled=True) / "arrow" / f"{TABLE}.arrow"
    hold_writer_lock(request, active)  # as its writer, still writing it
    active.write_bytes(b"")  # just created: no schema yet
    table = read_file(active)
    assert (table.num_columns, table.num_rows) == (0, 0)
    table, still = read_file_tail(active)
    assert (table.num_columns, table.num_rows) == (0, 0)
    assert still == "empty: still being written (nothing written yet)"

    rotated = active.with_name(f"{TABLE}-20261206T170000.000Z-0000.arrow")  # complete, of no byte: no rows (s15)
    shutil.copyfile(active, rotated)
    table, still = read_file_tail(rotated)
    assert (table.num_columns, table.num_rows, still) == (0, 0, None)
    rotated.write_bytes(b"\xff\xff\xff\xff\x08")  # complete and cut inside its schema: an error
    with pytest.raises(ZerobusError, match="not a readable Arrow IPC stream"):
        read_file_tail(rotated)


def test_proto_active_file_tail(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    active = _write(tmp_path, debug_protobuf_enabled=True) / "proto" / f"{TABLE}.proto"
    hold_writer_lock(request, active)  # as its writer, still writing it
    whole = active.read_bytes()
    table, still = read_file_tail(active)
    assert table.column("id").to_pylist() == list(range(9)) and still is None

    active.write_bytes(whole[:-2])  # inside the last record
    table, still = read_file_tail(active)
    assert table.column("id").to_pylist() == list(range(8))
    assert still is not None and still.startswith("still being written: it ends inside a message at byte offset")
