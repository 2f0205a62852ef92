"""Debug files are written off the send path: debug_stats() counts what was queued,
written and dropped, and debug.read_drops() reads the record of dropped writes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import ZerobusWrapper, debug
from zerobus_py.local import LocalServer


def test_debug_stats_count_what_reached_the_files(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, debug_enabled=True, debug_output_dir=str(tmp_path))
    batches = [id_batch(0, 10), id_batch(10, 5)]
    with ZerobusWrapper(cfg) as w:
        for b in batches:
            assert w.send_batch(b).success
        w.flush()
        st = w.debug_stats()
    assert set(st) == {"arrow", "protobuf"}
    for kind in ("arrow", "protobuf"):
        s = st[kind]
        assert s["rows"] == 15, st
        assert s["dropped_writes"] == s["dropped_rows"] == s["dropped_bytes"] == 0, st
        assert s["queued_writes"] == s["queued_bytes"] == s["failures"] == 0, st
        assert s["bytes_written"] > 0, st
    assert st["arrow"]["writes"] == 2
    files = debug.list_files(tmp_path)
    assert {f.suffix for f in files} == {".arrow", ".proto"}, files
    proto = next(f for f in files if f.suffix == ".proto")
    assert proto.stat().st_size == st["protobuf"]["bytes_written"]
    for f in files:
        assert debug.read_drops(f) == []
    got = pa.concat_tables([debug.read_file(f) for f in files if f.suffix == ".arrow"])
    assert got.equals(pa.Table.from_batches(batches))


def test_debug_stats_are_zero_when_debug_is_off(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name)) as w:
        assert w.send_batch(id_batch(0, 3)).success
        st = w.debug_stats()
    assert all(v == 0 for kind in st.values() for v in kind.values()), st


def test_read_drops_reads_the_sidecar_the_writer_leaves(tmp_path: Path) -> None:
    # The line format core/internal/debugfile writes (its Go tests check the
    # positions against the files); a file without drops has no sidecar.
    data = tmp_path / "main.default.t-20260101T000000.000Z-0000.arrow"
    data.write_bytes(b"")
    assert debug.read_drops(data) == []
    gaps = [
        {"before_write": 3, "before_row": 3000, "dropped_writes": 2, "dropped_rows": 2000,
         "dropped_bytes": 41000, "reason": "queue full"},
        {"before_write": 9, "before_row": 9000, "dropped_writes": 1, "dropped_rows": 1000,
         "dropped_bytes": 20500, "reason": "file failed"},
    ]  # fmt: skip
    side = tmp_path / "main.default.t-20260101T000000.000Z-0000.drops.jsonl"
    side.write_text("".join(json.dumps(g) + "\n" for g in gaps), encoding="utf-8")
    assert debug.read_drops(data) == gaps
    assert debug.read_drops(str(data)) == gaps
    # the Go core reads the sidecar (core.ReadDebugDrops; Python kept a copy of its name and format): a damaged
    # line is named by file and line in a DamagedDropsWarning (was a ZerobusError that lost the good lines, and
    # before that a bare json.JSONDecodeError); the good lines' gaps are returned
    side.write_text(json.dumps(gaps[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.warns(debug.DamagedDropsWarning, match=r"drops\.jsonl\" line 2 is damaged"):
        assert debug.read_drops(data) == gaps[:1]
    # list_files is core.ListDebugFiles: data files at any depth, no sidecar
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.proto").write_bytes(b"")
    (tmp_path / "sub" / "x.descriptor.pb").write_bytes(b"")
    assert debug.list_files(tmp_path) == [data, tmp_path / "sub" / "x.proto"]
    assert debug.list_files(tmp_path / "missing") == []
