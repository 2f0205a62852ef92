"""s23 dbgread: reading debug files a real wrapper wrote (debug_enabled, on the local server).

- read_drops on a sidecar with a damaged line raised and lost the good lines: it returns them and warns
  (DamagedDropsWarning) naming the sidecar and each damaged line, as Go's reader and `zerobus debug read` do.
- an Arrow debug file holding its schema and no batch raised "holds no record batch" (rotated) or read as a table
  of no columns (active, its first batch being written): it reads as no rows with the file's columns.
- nested decimals are read exactly (the CLI printed them as floats; Python's table holds the decimals).
"""

from __future__ import annotations

import json
import struct
import subprocess
import warnings
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import ZerobusWrapper, debug
from zerobus_py.local import LocalServer


def _gap(before: int, rows: int) -> dict[str, object]:
    return {
        "before_write": before,
        "before_row": before * 10,
        "dropped_writes": 1,
        "dropped_rows": rows,
        "dropped_bytes": rows * 8,
        "reason": "queue full",
    }


def _arrow_file(tmp_path: Path, server: LocalServer, table_name: str) -> Path:
    """The Arrow debug file of table_name, written (and closed) by a wrapper that sent ids 0..9."""
    cfg = server.config(table_name, debug_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(id_batch(0, 10)).success
    (f,) = [f for f in debug.list_files(tmp_path) if f.suffix == ".arrow"]
    return f


def test_read_drops_keeps_every_good_line_and_names_the_damaged_ones(
    tmp_path: Path, server: LocalServer, table_name: str, zerobus_cli: Path
) -> None:
    data = _arrow_file(tmp_path, server, table_name)
    side = data.with_name(data.name.removesuffix(".arrow") + ".drops.jsonl")
    g1, g3, g5 = _gap(1, 3), _gap(3, 7), _gap(5, 11)
    # a good line, a damaged one (a short write, the next gap appended after it: kept, as Go keeps it), garbage,
    # a good line, and a half-written last line (a crash)
    side.write_text(
        json.dumps(g1, separators=(",", ":"))
        + '\n{"before_write":2,"before_ro'
        + json.dumps(g3, separators=(",", ":"))
        + "\ngarbage\n"
        + json.dumps(g5, separators=(",", ":"))
        + '\n{"before_write":6,"before_row":60,"dro',
        encoding="utf-8",
    )
    with pytest.warns(debug.DamagedDropsWarning) as caught:
        gaps = debug.read_drops(data)
    assert gaps == [g1, g3, g5]
    (w,) = caught.list
    warning = w.message
    assert isinstance(warning, debug.DamagedDropsWarning)
    assert warning.sidecar == str(side)
    assert warning.lines == [2, 3, 5]
    text = str(warning)
    for n in (2, 3, 5):
        assert f'"{side}" line {n} is damaged: ' in text, text
    assert w.filename == __file__  # the warning points at the caller

    # the Go command line reads the same sidecar the same way: it notes the same lines, shows the same gaps
    got = subprocess.run(
        [str(zerobus_cli), "debug", "read", str(data)], capture_output=True, text=True, check=True, timeout=60
    )
    for n in (2, 3, 5):
        assert f'"{side}" line {n} is damaged: ' in got.stderr, got.stderr
    shown = [json.loads(line)["zerobus_gap"] for line in got.stdout.splitlines() if "zerobus_gap" in line]
    assert shown == gaps
    # the data file itself is read all the same
    assert debug.read_file(data).column("id").to_pylist() == list(range(10))

    # opting into failure: the warning as an error
    with warnings.catch_warnings():
        warnings.simplefilter("error", debug.DamagedDropsWarning)
        with pytest.raises(debug.DamagedDropsWarning, match=r"line 2 is damaged"):
            debug.read_drops(data)

    # an intact sidecar warns nothing
    side.write_text(json.dumps(g1) + "\n" + json.dumps(g3) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert debug.read_drops(data) == [g1, g3]


def test_arrow_file_with_its_schema_and_no_batch_reads_as_no_rows_of_its_columns(
    tmp_path: Path, server: LocalServer, table_name: str
) -> None:
    data = _arrow_file(tmp_path, server, table_name)
    schema = debug.read_file(data).schema
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema):
        pass  # closed before its first batch
    rotated = data.with_name(data.name.removesuffix(".arrow") + "-20261207T000000.000Z-0001.arrow")
    rotated.write_bytes(sink.getvalue().to_pybytes())
    table, still = debug.read_file_tail(rotated)
    assert (table.num_rows, table.schema, still) == (0, schema, None)

    # the active file while its writer (holding the file's lock) writes its first batch: the file ends in it
    cfg = server.config(table_name + "_w", debug_enabled=True, debug_output_dir=str(tmp_path / "active"))
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(id_batch(0, 500)).success
        w.flush()
        (active,) = [f for f in debug.list_files(tmp_path / "active") if f.suffix == ".arrow"]
        whole = active.read_bytes()
        # the schema message: the continuation marker, its metadata's length, its metadata (no body)
        marker, meta_len = struct.unpack_from("<Ii", whole)
        assert marker == 0xFFFFFFFF and len(whole) > 8 + meta_len + 100
        active.write_bytes(whole[: 8 + meta_len + 100])
        table, still = debug.read_file_tail(active)
        assert table.num_rows == 0 and table.schema == schema
        assert still is not None and "still being written" in still


def test_nested_decimals_read_exactly(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    dec = pa.decimal128(38, 2)
    values = [Decimal("12345678901234567.89"), Decimal("1.10")]
    batch = pa.record_batch(
        {
            "d": pa.array(values, dec),
            "s": pa.array([{"x": v} for v in values], pa.struct([("x", dec)])),
            "l": pa.array([[v] for v in values], pa.list_(dec)),
            "m": pa.array([[("k", v)] for v in values], pa.map_(pa.string(), dec)),
        }
    )
    cfg = server.config(table_name, debug_enabled=True, debug_output_dir=str(tmp_path))
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(batch).success
    (arrow_file,) = [f for f in debug.list_files(tmp_path) if f.suffix == ".arrow"]
    got = debug.read_file(arrow_file)
    assert got.to_pylist() == [{"d": v, "s": {"x": v}, "l": [v], "m": [("k", v)]} for v in values]
    assert got.column("s").to_pylist()[0]["x"] == Decimal("12345678901234567.89")
    # the protobuf file holds the decimals as their exact text
    (proto_file,) = [f for f in debug.list_files(tmp_path) if f.suffix == ".proto"]
    rows = debug.read_file(proto_file).to_pylist()
    assert [r["s"]["x"] for r in rows] == ["12345678901234567.89", "1.10"]
    assert [r["l"] for r in rows] == [["12345678901234567.89"], ["1.10"]]
