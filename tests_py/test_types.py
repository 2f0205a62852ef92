"""Every Arrow type the Go engine supports, sent from pyarrow and read back from the server."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

D = decimal.Decimal
EPOCH_DAY = dt.date(1970, 1, 1)


def _days(d: dt.date) -> int:
    return (d - EPOCH_DAY).days


# name -> (input array of 3 rows, type stored by the server, values read back)
# The server's schema follows from the protobuf descriptor the engine derives:
# small ints widen to int32, dates become days (int32), timestamps, times and
# durations become microseconds (int64), decimals become their text, and a
# null list or map reads back as empty (protobuf repeated fields have no null).
CASES: dict[str, tuple[pa.Array, pa.DataType, list[Any]]] = {
    "int8": (pa.array([1, -128, None], pa.int8()), pa.int32(), [1, -128, None]),
    "int16": (pa.array([1, -32768, None], pa.int16()), pa.int32(), [1, -32768, None]),
    "int32": (pa.array([1, -(2**31), None], pa.int32()), pa.int32(), [1, -(2**31), None]),
    "int64": (pa.array([1, -(2**63), None], pa.int64()), pa.int64(), [1, -(2**63), None]),
    "uint8": (pa.array([1, 255, None], pa.uint8()), pa.int32(), [1, 255, None]),
    "uint16": (pa.array([1, 65535, None], pa.uint16()), pa.int32(), [1, 65535, None]),
    "uint32": (pa.array([1, 2**32 - 1, None], pa.uint32()), pa.int64(), [1, 2**32 - 1, None]),
    "uint64": (pa.array([1, 2**63 - 1, None], pa.uint64()), pa.int64(), [1, 2**63 - 1, None]),
    "float16": (pa.array(np.array([1.5, -2.0, 0.25], dtype=np.float16)), pa.float32(), [1.5, -2.0, 0.25]),
    "float32": (pa.array([1.5, None, -0.125], pa.float32()), pa.float32(), [1.5, None, -0.125]),
    "float64": (pa.array([1.5, None, 1e300], pa.float64()), pa.float64(), [1.5, None, 1e300]),
    "bool": (pa.array([True, False, None]), pa.bool_(), [True, False, None]),
    "string": (pa.array(["a", None, "ünï😀"]), pa.string(), ["a", None, "ünï😀"]),
    "large_string": (pa.array(["a", None, ""], pa.large_string()), pa.string(), ["a", None, ""]),
    "string_view": (pa.array(["a", None, "x" * 40], pa.string_view()), pa.string(), ["a", None, "x" * 40]),
    "binary": (pa.array([b"a", None, b"\x00\xff"], pa.binary()), pa.binary(), [b"a", None, b"\x00\xff"]),
    "large_binary": (pa.array([b"a", None, b""], pa.large_binary()), pa.binary(), [b"a", None, b""]),
    "binary_view": (pa.array([b"a", None, b"c"], pa.binary_view()), pa.binary(), [b"a", None, b"c"]),
    "fixed_size_binary": (pa.array([b"ab", None, b"cd"], pa.binary(2)), pa.binary(), [b"ab", None, b"cd"]),
    "date32": (
        pa.array([dt.date(2024, 2, 29), None, dt.date(1969, 12, 31)], pa.date32()),
        pa.int32(),
        [_days(dt.date(2024, 2, 29)), None, -1],
    ),
    "date64": (pa.array([dt.date(2024, 1, 2), None, EPOCH_DAY], pa.date64()), pa.int32(), [19724, None, 0]),
    "timestamp_s": (pa.array([1, None, -1], pa.timestamp("s")), pa.int64(), [1_000_000, None, -1_000_000]),
    "timestamp_ms": (pa.array([1, None, 0], pa.timestamp("ms")), pa.int64(), [1_000, None, 0]),
    "timestamp_us_utc": (
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc), None, 0], pa.timestamp("us", tz="UTC")),
        pa.int64(),
        [1_704_164_645_000_006, None, 0],
    ),
    "timestamp_ns": (pa.array([1_000_000_123, None, 0], pa.timestamp("ns")), pa.int64(), [1_000_000, None, 0]),
    "time32_ms": (pa.array([1000, None, 0], pa.time32("ms")), pa.int64(), [1_000_000, None, 0]),
    "time64_us": (pa.array([1000, None, 86_399_999_999], pa.time64("us")), pa.int64(), [1000, None, 86_399_999_999]),
    "duration_ms": (pa.array([5, None, -3], pa.duration("ms")), pa.int64(), [5000, None, -3000]),
    "decimal128": (
        pa.array([D("1.23"), None, D("-4.50")], pa.decimal128(10, 2)),
        pa.string(),
        ["1.23", None, "-4.50"],
    ),
    "decimal256": (
        pa.array([D("1"), None, D("12345678901234567890.5")], pa.decimal256(40, 1)),
        pa.string(),
        ["1.0", None, "12345678901234567890.5"],
    ),
    "list": (pa.array([[1, 2], None, []], pa.list_(pa.int32())), pa.list_(pa.int32()), [[1, 2], [], []]),
    "large_list": (pa.array([[1], None, [2, 3]], pa.large_list(pa.int64())), pa.list_(pa.int64()), [[1], [], [2, 3]]),
    "fixed_size_list": (
        pa.array([[1, 2], None, [3, 4]], pa.list_(pa.int32(), 2)),
        pa.list_(pa.int32()),
        [[1, 2], [], [3, 4]],
    ),
    "list_of_strings": (
        pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        pa.list_(pa.string()),
        [["a", "b"], [], []],
    ),
    "struct": (
        pa.array([{"x": 1, "y": "a"}, None, {"x": None, "y": "c"}], pa.struct([("x", pa.int32()), ("y", pa.string())])),
        pa.struct([("x", pa.int32()), ("y", pa.string())]),
        [{"x": 1, "y": "a"}, None, {"x": None, "y": "c"}],
    ),
    "nested_struct": (
        pa.array([{"a": {"b": 1}}, None, {"a": None}], pa.struct([("a", pa.struct([("b", pa.int64())]))])),
        pa.struct([("a", pa.struct([("b", pa.int64())]))]),
        [{"a": {"b": 1}}, None, {"a": None}],
    ),
    "list_of_structs": (
        pa.array([[{"x": 1}, {"x": None}], None, []], pa.list_(pa.struct([("x", pa.int32())]))),
        pa.list_(pa.struct([("x", pa.int32())])),
        [[{"x": 1}, {"x": None}], [], []],
    ),
    "map_string_int": (
        pa.array([[("a", 1), ("b", 2)], None, []], pa.map_(pa.string(), pa.int64())),
        pa.map_(pa.string(), pa.int64()),
        [[("a", 1), ("b", 2)], [], []],
    ),
    "map_int_string": (
        pa.array([[(1, "a")], [], None], pa.map_(pa.int32(), pa.string())),
        pa.map_(pa.int32(), pa.string()),
        [[(1, "a")], [], []],
    ),
    "dictionary": (pa.array(["a", "b", None]).dictionary_encode(), pa.string(), ["a", "b", None]),
    "run_end_encoded": (pa.RunEndEncodedArray.from_arrays([2, 3], [7, 9]), pa.int64(), [7, 7, 9]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_type_round_trip(server: LocalServer, table_name: str, name: str) -> None:
    arr, want_type, want = CASES[name]
    col = f"c_{name}"  # "bool", "string", ... are protobuf keywords, which Zerobus refuses as names
    batch = pa.record_batch({"id": pa.array([0, 1, 2], pa.int64()), col: arr})
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert res.success, res
    assert (res.total_rows, res.successful_count, res.failed_count) == (3, 3, 0)
    got = server.table(table_name).sort_by("id")
    assert got.column("id").to_pylist() == [0, 1, 2]
    assert got.schema.field(col).type == want_type
    assert got.column(col).to_pylist() == want


def test_all_types_in_one_batch(server: LocalServer, table_name: str) -> None:
    batch = pa.record_batch({"id": pa.array([0, 1, 2], pa.int64()), **{f"c_{n}": c[0] for n, c in CASES.items()}})
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert res.success, res
    got = server.table(table_name).sort_by("id")
    assert got.num_columns == len(CASES) + 1
    for name, (_, want_type, want) in CASES.items():
        assert got.schema.field(f"c_{name}").type == want_type, name
        assert got.column(f"c_{name}").to_pylist() == want, name


@pytest.mark.parametrize(
    ("name", "arr", "fragment"),
    [
        ("nulls", pa.nulls(2), "null type"),
        ("interval", pa.array([(1, 2, 3)] * 2, pa.month_day_nano_interval()), "interval"),
        ("list_of_lists", pa.array([[[1]], []], pa.list_(pa.list_(pa.int32()))), "list of lists"),
    ],
)
def test_unsupported_types_raise_conversion_error(
    server: LocalServer, table_name: str, name: str, arr: pa.Array, fragment: str
) -> None:
    batch = pa.record_batch({"id": pa.array([0, 1], pa.int64()), name: arr})
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ConversionError) as ei:
        w.send_batch(batch)
    err = ei.value
    assert isinstance(err, ValueError) and isinstance(err, ZerobusError)
    assert name in str(err) and fragment in str(err)
    # the whole batch is listed as failed, for quarantine
    assert err.result is not None
    assert err.result.failed_count == 2 and err.result.get_failed_row_indices() == [0, 1]
    assert err.result.extract_failed_batch(batch).equals(batch)
    assert server.record_count(table_name) == 0
