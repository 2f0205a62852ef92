"""Issue 9 must-show: every Arrow type the Go engine supports, sent from pyarrow and read back from the server equal.

test_types.py covers most of the engine's types; these are the ones it left out (list views, time32[s], time64[ns],
durations in s/us/ns, a timestamp in a zone other than UTC, decimal32/64, a map of structs, a dictionary of integers, a
run-end encoded column with nulls), and a batch sliced at a non-zero offset (only its rows, each with its own values).
Values read back are written from what the Arrow value means (µs since the epoch or midnight, floored; decimal text at
the column's scale), not from the code under test.
"""

from __future__ import annotations

import decimal
from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

D = decimal.Decimal
ST = pa.struct([("a", pa.int32()), ("b", pa.string())])

# name -> (input array of 3 rows, type the server stores, values read back)
CASES: dict[str, tuple[pa.Array, pa.DataType, list[Any]]] = {
    "time32_s": (pa.array([3600, None, 0], pa.time32("s")), pa.int64(), [3_600_000_000, None, 0]),
    "time64_ns": (
        pa.array([1999, None, 86_399_999_999_999], pa.time64("ns")),
        pa.int64(),
        [1, None, 86_399_999_999],
    ),
    "duration_s": (pa.array([-2, None, 7], pa.duration("s")), pa.int64(), [-2_000_000, None, 7_000_000]),
    "duration_us": (pa.array([-7, None, 5], pa.duration("us")), pa.int64(), [-7, None, 5]),
    "duration_ns": (pa.array([-1, None, 1001], pa.duration("ns")), pa.int64(), [-1, None, 1]),
    "timestamp_ms_new_york": (
        pa.array([1500, None, -1], pa.timestamp("ms", tz="America/New_York")),
        pa.int64(),
        [1_500_000, None, -1_000],
    ),
    "timestamp_ns_floors": (pa.array([-1, None, 1999], pa.timestamp("ns")), pa.int64(), [-1, None, 1]),
    "list_view": (pa.array([[1, 2], None, []], pa.list_view(pa.int32())), pa.list_(pa.int32()), [[1, 2], [], []]),
    "large_list_view": (
        pa.array([[True], None, [False, True]], pa.large_list_view(pa.bool_())),
        pa.list_(pa.bool_()),
        [[True], [], [False, True]],
    ),
    "map_of_structs": (
        pa.array([[(7, {"a": 1, "b": "q"})], None, [(8, {"a": None, "b": ""})]], pa.map_(pa.int32(), ST)),
        pa.map_(pa.int32(), ST),
        [[(7, {"a": 1, "b": "q"})], [], [(8, {"a": None, "b": ""})]],
    ),
    "dictionary_int64": (pa.array([5, None, -1], pa.int64()).dictionary_encode(), pa.int64(), [5, None, -1]),
    "run_end_encoded_strings": (
        pa.RunEndEncodedArray.from_arrays([2, 3], pa.array(["x", None])),
        pa.string(),
        ["x", "x", None],
    ),
}
if hasattr(pa, "decimal32"):  # pyarrow >= 18 (the oldest supported pyarrow has neither)
    CASES["decimal32"] = (
        pa.array([D("123.45"), None, D("-0.01")], pa.decimal32(5, 2)),
        pa.string(),
        ["123.45", None, "-0.01"],
    )
    CASES["decimal64"] = (
        pa.array([D("-12345678901234.5678"), None, D("0")], pa.decimal64(18, 4)),
        pa.string(),
        ["-12345678901234.5678", None, "0.0000"],
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_more_types_round_trip(server: LocalServer, table_name: str, name: str) -> None:
    arr, want_type, want = CASES[name]
    col = f"c_{name}"
    batch = pa.record_batch({"id": pa.array([0, 1, 2], pa.int64()), col: arr})
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert res.success, res
    assert (res.total_rows, res.successful_count, res.failed_count) == (3, 3, 0)
    got = server.table(table_name).sort_by("id")
    assert got.column("id").to_pylist() == [0, 1, 2]
    assert got.schema.field(col).type == want_type
    assert got.column(col).to_pylist() == want


def test_sliced_batch_reads_each_column_from_its_offset(server: LocalServer, table_name: str) -> None:
    """A batch sliced at offset 2 (every column, nested ones too): only rows 2..4 are sent, each with its own values."""
    full = pa.record_batch(
        {
            "id": pa.array([0, 1, 2, 3, 4], pa.int64()),
            "s": pa.array(["a", "b", None, "dd", "ü"]),
            "l": pa.array([[0], [1, 1], [], None, [4, 5, 6]], pa.list_(pa.int64())),
            "st": pa.array(
                [{"a": 0, "b": "0"}, {"a": 1, "b": "1"}, None, {"a": None, "b": "3"}, {"a": 4, "b": None}], ST
            ),
            "m": pa.array(
                [[("k0", 0)], [], [("k2", 2), ("k2b", 3)], None, [("k4", 4)]], pa.map_(pa.string(), pa.int64())
            ),
            "dec": pa.array([D("0.1"), D("1.1"), D("2.2"), None, D("-4.4")], pa.decimal128(5, 1)),
        }
    )
    batch = full.slice(2, 3)
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert res.success, res
    assert (res.total_rows, res.successful_count) == (3, 3)
    got = server.table(table_name).sort_by("id")
    assert got.column("id").to_pylist() == [2, 3, 4]
    assert got.column("s").to_pylist() == [None, "dd", "ü"]
    assert got.column("l").to_pylist() == [[], [], [4, 5, 6]]
    assert got.column("st").to_pylist() == [None, {"a": None, "b": "3"}, {"a": 4, "b": None}]
    assert got.column("m").to_pylist() == [[("k2", 2), ("k2b", 3)], [], [("k4", 4)]]
    assert got.column("dec").to_pylist() == ["2.2", None, "-4.4"]
