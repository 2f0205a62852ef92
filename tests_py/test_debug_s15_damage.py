"""s15 debug files review: a protobuf debug file cut short gives its complete
records (DamagedDebugFileError.intact, as an Arrow file does), and a 0-byte
debug file (a crash right after a rotation) holds no rows and is removed by
the next wrapper writing the table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import ZerobusWrapper
from zerobus_py.debug import DamagedDebugFileError, list_files, read_file, read_file_tail
from zerobus_py.local import LocalServer

TABLE = "main.default.debug_s15"


def _batch(start: int, n: int) -> pa.RecordBatch:
    ids = list(range(start, start + n))
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([f"zoë-{i}-{'ü' * (i % 5)}" for i in ids]),
            "v": pa.array([i * 0.25 for i in ids], pa.float64()),
        }
    )


def _rows(t: pa.Table) -> list[tuple[int, str, float]]:
    return list(zip(t.column("id").to_pylist(), t.column("name").to_pylist(), t.column("v").to_pylist(), strict=True))


def test_proto_file_cut_short_gives_intact_records(tmp_path: Path) -> None:
    sent: list[tuple[int, str, float]] = []
    with LocalServer() as server:
        cfg = server.config(TABLE, debug_output_dir=str(tmp_path), debug_protobuf_enabled=True)
        with ZerobusWrapper(cfg) as w:
            for k in range(4):
                b = _batch(10 * k, 10)
                assert w.send_batch(b).success
                sent += _rows(pa.Table.from_batches([b]))
    p = tmp_path / "zerobus" / "proto" / f"{TABLE}.proto"
    assert _rows(read_file(p)) == sent  # whole: every record, as sent
    data = p.read_bytes()
    p.write_bytes(data[:-3])  # a full disk or a crash: cut inside the last record

    with pytest.raises(DamagedDebugFileError) as e:
        read_file(p)
    assert _rows(e.value.intact) == sent[:-1]  # the complete records, with their values
    msg = str(e.value)
    assert str(p) in msg and f"record {len(sent) - 1} at byte offset " in msg and "truncated" in msg

    p.write_bytes(data[:1])  # inside the first record: no rows, the file's columns
    with pytest.raises(DamagedDebugFileError) as e:
        read_file(p)
    assert e.value.intact.num_rows == 0 and e.value.intact.column_names == ["id", "name", "v"]


def test_zero_byte_file_holds_no_rows_and_restart_removes_it(tmp_path: Path) -> None:
    with LocalServer() as server:
        cfg = server.config(TABLE, debug_output_dir=str(tmp_path), debug_enabled=True)
        with ZerobusWrapper(cfg) as w:
            assert w.send_batch(_batch(0, 5)).success
        adir, pdir = tmp_path / "zerobus" / "arrow", tmp_path / "zerobus" / "proto"
        # as a kill -9 right after a rotation leaves them: the previous file
        # rotated, the new active one created with nothing in it yet
        for d, ext in ((adir, "arrow"), (pdir, "proto")):
            active = d / f"{TABLE}.{ext}"
            active.rename(d / f"{TABLE}-20261206T170000.000Z-0000.{ext}")
            active.write_bytes(b"")
        for sc in ("descriptor.pb", "descriptor.textproto"):
            (pdir / f"{TABLE}.{sc}").rename(pdir / f"{TABLE}-20261206T170000.000Z-0000.{sc}")
            (pdir / f"{TABLE}.{sc}").write_bytes((pdir / f"{TABLE}-20261206T170000.000Z-0000.{sc}").read_bytes())

        empty = adir / f"{TABLE}.arrow"
        t, still = read_file_tail(empty)
        assert (t.num_columns, t.num_rows, still) == (0, 0, None)  # no rows, complete, no error
        assert read_file(pdir / f"{TABLE}.proto").num_rows == 0

        with ZerobusWrapper(cfg) as w:  # the restart
            names = sorted(p.name for p in list_files(tmp_path))
            assert names == sorted(
                [f"{TABLE}-20261206T170000.000Z-0000.arrow", f"{TABLE}-20261206T170000.000Z-0000.proto"]
            ), "the empty active files were moved aside, not removed"
            assert sorted(p.name for p in pdir.iterdir() if not p.name.endswith(".lock")) == sorted(
                f"{TABLE}-20261206T170000.000Z-0000.{x}" for x in ("proto", "descriptor.pb", "descriptor.textproto")
            )
            assert w.send_batch(_batch(5, 3)).success
        # the on-call loop reads every file
        arrow_files = [f for f in list_files(tmp_path) if f.suffix == ".arrow"]
        got = sorted(i for f in arrow_files for i in read_file(f).column("id").to_pylist())
        assert got == list(range(8))
