"""Inputs as data engineers hold them: Series, LazyFrames, generators, readers whose batches drift from their
schema, producers of other libraries (DuckDB) and broken ``__arrow_c_stream__`` implementations, each checked
against the rows the local server stored.

The producers that crashed the whole process (a Go panic in the Arrow C stream import) run in a child process, so
that a regression fails one test instead of ending the test session.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


class StreamOf:
    """Another library's object: its ``__arrow_c_stream__`` is whatever ``make`` returns."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __arrow_c_stream__(self, requested_schema: object = None) -> Any:
        return self._make()


# Each case sends one input in a child process and prints {"raised": class, "message": ..., "stored": ids}.
_CHILD = textwrap.dedent(
    """
    import json, sys
    import pandas as pd, polars as pl, pyarrow as pa
    from zerobus_py import ZerobusWrapper
    from zerobus_py.local import LocalServer

    class StreamOf:
        def __init__(self, make): self._make = make
        def __arrow_c_stream__(self, requested_schema=None): return self._make()

    def drifting():
        # a producer whose second batch has a column more than its schema (pyarrow exports it as it is)
        batches = [pa.record_batch({"id": [1, 2]}), pa.record_batch({"id": [3], "extra": ["x"]})]
        return pa.RecordBatchReader.from_batches(pa.schema({"id": pa.int64()}), iter(batches)).__arrow_c_stream__()

    cases = {
        "polars_series": lambda: pl.Series("id", [1, 2, 3]),
        "pandas_series": lambda: pd.Series([1, 2, 3], name="id"),
        "one_column_stream": lambda: StreamOf(lambda: pa.chunked_array([[1, 2, 3]]).__arrow_c_stream__()),
        "column_added_mid_stream": lambda: StreamOf(drifting),
    }
    name = sys.argv[1]
    with LocalServer() as server:
        table = "main.inputs." + name
        out = {"raised": None, "message": None, "stored": []}
        with ZerobusWrapper(server.config(table)) as w:
            try:
                r = w.send_batch(cases[name]())
                out["message"] = str(r.error)
                out["success"], out["successful_count"] = r.success, r.successful_count
            except Exception as e:
                out["raised"], out["message"] = type(e).__name__, str(e)
        if server.record_count(table):
            out["stored"] = server.table(table).column("id").to_pylist()
        print(json.dumps(out))
    """
)


def _send_in_child(case: str) -> dict[str, Any]:
    # -I: the installed package, not the source tree of the current directory
    proc = subprocess.run([sys.executable, "-I", "-c", _CHILD, case], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"the process died sending {case}:\n{proc.stderr[-3000:]}"
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("case", ["polars_series", "pandas_series"])
def test_a_series_is_a_conversion_error_not_a_crash(case: str) -> None:
    """A polars / pandas Series has ``__arrow_c_stream__`` (one column): the process died with a Go panic
    ("interface conversion: arrow.DataType is *arrow.Int64Type, not *arrow.StructType"). The error class is Go's
    for any one-column stream (test_inputs.py test_one_column_is_one_error_class)."""
    out = _send_in_child(case)
    assert out["raised"] == "ConversionError", out
    # Go's refusal of a one-column stream, the Series handed to it as one (one check, in Go)
    assert "the Arrow stream is one column (int64), not a table of columns" in out["message"], out
    assert "to_frame()" in out["message"], out
    assert out["stored"] == []


def test_a_one_column_stream_of_another_library_is_a_conversion_error() -> None:
    """Any object whose ``__arrow_c_stream__`` is one column (not a struct): Go names the column type and what
    to send instead (was the same panic)."""
    out = _send_in_child("one_column_stream")
    assert out["raised"] == "ConversionError", out
    assert "the Arrow stream is one column (int64), not a table of columns" in out["message"], out
    assert out["stored"] == []


def test_a_column_added_mid_stream_ends_the_send_with_an_error() -> None:
    """A producer's batch with a column more than its stream's schema: the first batch is stored and the send
    reports where it stopped and why (was a panic: index out of range in arrow-go's import)."""
    out = _send_in_child("column_added_mid_stream")
    assert out["raised"] is None and out["success"] is False and out["successful_count"] == 2, out
    assert "after row 2" in out["message"], out
    assert "it has 2 columns where the stream's schema has 1 (id)" in out["message"], out
    assert out["stored"] == [1, 2]


def test_a_reader_whose_batch_changes_a_column_type_is_not_stored_as_garbage(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    """``RecordBatchReader.from_batches(schema, generator)`` does not check the batches: a float64 batch under an
    int64 schema was stored as the float's bit pattern (2.5 -> 4612811918334230528) and reported a success."""
    schema = pa.schema({"id": pa.int64(), "v": pa.int64()})

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"id": [0, 1], "v": [10, 11]}, schema=schema)
        yield pa.record_batch({"id": [2.0], "v": [2.5]})
        yield pa.record_batch({"id": [3], "v": [13]}, schema=schema)

    res = wrapper.send_batch(pa.RecordBatchReader.from_batches(schema, batches()))
    assert not res.success and res.successful_count == 2 and res.failed_count == 0, res
    message = str(res.error)
    assert "after row 2" in message, message
    assert "batch 1 of the RecordBatchReader (from row 2) has columns (id: double, v: double)" in message, message
    assert "where the reader's schema has (id: int64, v: int64)" in message, message
    assert server.table(table_name).to_pylist() == [{"id": 0, "v": 10}, {"id": 1, "v": 11}]


def test_a_reader_whose_batches_keep_the_schema_is_sent_whole(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    """The check lets through batches whose schema differs only in metadata or nullability."""
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False)], metadata={b"k": b"v"})
    batches = [pa.record_batch({"id": [i]}) for i in range(5)]
    res = wrapper.send_batch(pa.RecordBatchReader.from_batches(schema, iter(batches)))
    assert res.success and res.successful_count == 5, res
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 1, 2, 3, 4]


def test_a_broken_arrow_c_stream_names_the_object(wrapper: ZerobusWrapper) -> None:
    """``__arrow_c_stream__`` returning something else than a stream capsule: ctypes said only
    "PyCapsule_GetPointer called with invalid PyCapsule object" (a ValueError)."""
    with pytest.raises(TypeError, match=r"StreamOf: its __arrow_c_stream__\(\) returned NoneType, not an "):
        wrapper.send_batch(StreamOf(lambda: None))
    schema_capsule = pa.schema({"id": pa.int64()}).__arrow_c_schema__
    with pytest.raises(TypeError, match=r"returned PyCapsule 'arrow_schema', not an 'arrow_array_stream' PyCapsule"):
        wrapper.send_batch(StreamOf(schema_capsule))


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (pl.LazyFrame({"id": [1]}), r"collect it first \(lazy_frame.collect\(\)\)"),
        ((pa.record_batch({"id": [i]}) for i in range(2)), r"RecordBatchReader.from_batches\(schema, batches\)"),
        ([pa.record_batch({"id": [1]})], r"RecordBatchReader.from_batches\(schema, batches\)"),
    ],
    ids=["LazyFrame", "generator", "list"],
)
def test_inputs_users_hold_get_a_hint(wrapper: ZerobusWrapper, value: object, hint: str) -> None:
    with pytest.raises(TypeError, match=hint):
        wrapper.send_batch(value)


def test_pandas_nullable_pyarrow_backed_and_object_columns(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    """pandas' nullable dtypes, pyarrow-backed dtypes, object columns of dicts and lists, tz-aware datetimes:
    the nulls stay nulls and the values are stored as given."""
    paris = dt.timezone(dt.timedelta(hours=1))
    df = pd.DataFrame(
        {
            "id": pd.array([0, 1, 2], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "name": pd.array(["a", None, "c"], dtype="string[pyarrow]"),
            "score": pd.array([1.5, None, 2.5], dtype="Float64"),
            "tags": pd.Series([[1, 2], [3], None], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
            "attrs": [{"k": 1, "v": "x"}, None, {"k": 2, "v": None}],
            "at": pd.to_datetime(["2024-01-01T01:00", None, "2024-06-01T12:00"]).tz_localize(paris),
        }
    )
    res = wrapper.send_batch(df)
    assert res.success and res.successful_count == 3, res
    got = sorted(server.table(table_name).to_pylist(), key=lambda r: r["id"])
    at0 = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
    assert got[0] == {
        "id": 0,
        "flag": True,
        "name": "a",
        "score": 1.5,
        "tags": [1, 2],
        "attrs": {"k": 1, "v": "x"},
        "at": at0,
    }
    # a null list is stored as an empty repeated field (protobuf has no null list)
    assert got[1] == {"id": 1, "flag": None, "name": None, "score": None, "tags": [3], "attrs": None, "at": None}
    assert got[2]["tags"] == [] and got[2]["attrs"] == {"k": 2, "v": None}


def test_duckdb_relation(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    """A DuckDB relation (``__arrow_c_stream__``) with list, struct and timestamptz columns."""
    import duckdb

    con = duckdb.connect()
    rel = con.sql(
        "select range as id, 'x' || range as s, [range, range + 1] as l, {'k': range} as st, "
        "timestamptz '2024-01-01 00:00:00+00' + to_seconds(range) as ts from range(1000)"
    )
    res = wrapper.send_batch(rel)
    assert res.success and res.successful_count == 1000, res
    got = sorted(server.table(table_name).to_pylist(), key=lambda r: r["id"])
    base = 1704067200 * 1_000_000
    assert got[7] == {"id": 7, "s": "x7", "l": [7, 8], "st": {"k": 7}, "ts": base + 7_000_000}
    assert [r["id"] for r in got] == list(range(1000))


@pytest.mark.parametrize("kind", ["table", "reader", "pandas", "polars"])
def test_row_indices_across_chunks_match_the_stored_rows(server: LocalServer, table_name: str, kind: str) -> None:
    """Rows that fail conversion in several chunks, sent in many small requests: every row reported durable is
    stored exactly once, every failed row is absent, and the indices are the user's rows across chunks."""
    n = 6000
    ids = list(range(n))
    values = [2**63 + 1 if i % 997 == 3 else i for i in ids]  # over int64: fails conversion
    table = pa.table({"id": pa.array(ids, pa.int64()), "v": pa.array(values, pa.uint64()), "pad": ["x" * 40] * n})
    table = pa.Table.from_batches([b for i in range(0, n, 857) for b in table.slice(i, 857).to_batches()])
    data: Any = {
        "table": table,
        "reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
        "pandas": table.to_pandas(),
        "polars": pl.from_arrow(table),
    }[kind]
    with ZerobusWrapper(server.config(table_name, max_message_bytes=16_000)) as w:
        res = w.send_batch(data)
    bad = [i for i in ids if i % 997 == 3]
    assert res.get_failed_row_indices() == bad and res.get_not_written_row_indices() == bad, res
    stored = collections.Counter(server.table(table_name).column("id").to_pylist())
    assert stored == collections.Counter(res.get_successful_row_indices())
    assert all(stored[i] == 0 for i in bad)


def test_a_polars_object_column_is_refused_not_stored_as_addresses(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    """polars exports dtype Object as each object's 8-byte memory address (fixed_size_binary[8]): those bytes were
    stored as the column's values and the send reported a success."""
    df = pl.DataFrame({"id": [1, 2], "payload": pl.Series([object(), {"a": 1}], dtype=pl.Object)})
    with pytest.raises(TypeError, match=r"polars column\(s\) 'payload' of dtype Object .* memory addresses"):
        wrapper.send_batch(df)
    assert server.record_count(table_name) == 0


@pytest.mark.parametrize("kind", ["ParquetFile", "Dataset", "Scanner"])
def test_rows_are_extracted_from_every_kind_of_input_sent(
    tmp_path: Any, server: LocalServer, table_name: str, kind: str
) -> None:
    """Quarantine after sending a Parquet file, dataset or scanner raised "cannot extract rows from ParquetFile"."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    ids = pa.array([1, 2**63 + 5, 3, 2**63 + 7, 5], pa.uint64())  # rows 1 and 3 are over int64: they fail
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ids}), path, row_group_size=2)
    make: Any = {
        "ParquetFile": lambda: pq.ParquetFile(path),
        "Dataset": lambda: ds.dataset(path),
        "Scanner": lambda: ds.dataset(path).scanner(),
    }[kind]
    data = make()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(data)
    assert res.get_failed_row_indices() == [1, 3], res
    failed = res.extract_failed_batch(data)
    assert isinstance(failed, pa.Table) and failed.column("id").to_pylist() == [2**63 + 5, 2**63 + 7]
    assert res.extract_successful_batch(make()).column("id").to_pylist() == [1, 3, 5]
    assert res.extract_not_written_batch(make()).num_rows == 2


@pytest.mark.parametrize("kind", ["duckdb", "c_stream"])
def test_extracting_rows_from_a_query_that_runs_again_is_refused(
    server: LocalServer, table_name: str, kind: str
) -> None:
    """Rows are selected by position. A DuckDB relation (or another ``__arrow_c_stream__`` object) runs its query
    again to be read again: ``ORDER BY random()`` gave back 10 rows, 6 of them stored ones, as "the failed rows",
    with no error. Now refused, saying to materialise the data; the materialised table extracts the right rows."""
    import duckdb

    server.create_table(table_name, "id BIGINT NOT NULL, k BIGINT")
    sql = "SELECT CASE WHEN i % 4 = 0 THEN NULL ELSE i END AS id, i AS k FROM range(40) t(i) ORDER BY random()"
    make: Any = {
        "duckdb": lambda: duckdb.connect().sql(sql),
        "c_stream": lambda: StreamOf(lambda: duckdb.connect().sql(sql).to_arrow_table().__arrow_c_stream__()),
    }[kind]
    data = make()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(data)
        assert res.failed_count == 10 and res.successful_count == 30, res
        refused = r"cannot extract rows from a \w+: .* need not give the same rows in the same order.* materialise"
        for extract in (res.extract_failed_batch, res.extract_successful_batch, res.extract_not_written_batch):
            with pytest.raises(TypeError, match=refused):
                extract(data)
        table = make().to_arrow_table() if kind == "duckdb" else pa.table(make())  # what the message says to do
        res = w.send_batch(table)
    assert res.extract_failed_batch(table).column("id").to_pylist() == [None] * 10
    assert sorted(res.extract_successful_batch(table).column("k").to_pylist()) == [k for k in range(40) if k % 4]


class _UserFrame(pd.DataFrame):
    """A user's pandas subclass, as GeoDataFrame is one: its module is not pandas."""

    @property
    def _constructor(self) -> type[_UserFrame]:
        return _UserFrame


class _UserPolarsFrame(pl.DataFrame):
    pass


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_rows_are_extracted_from_a_dataframe_subclass(server: LocalServer, table_name: str, kind: str) -> None:
    """A DataFrame subclass was told "cannot extract rows from a _UserFrame: it is read through __arrow_c_stream__,
    and a second read (a query run again) need not give the same rows" (the check was on the class name and
    module): an in-memory frame gives the same rows again. It extracts as its base class does, as that class."""
    server.create_table(table_name, "id BIGINT NOT NULL, k BIGINT")
    ids = [None if k % 4 == 0 else k for k in range(12)]
    data: Any = (
        _UserFrame({"id": pd.array(ids, "Int64"), "k": range(12)})
        if kind == "pandas"
        else _UserPolarsFrame({"id": ids, "k": list(range(12))})
    )
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(data)
    assert res.failed_count == 3 and res.successful_count == 9, res
    failed = res.extract_failed_batch(data)
    ok = res.extract_successful_batch(data)
    assert isinstance(failed, type(data).__mro__[1]) and isinstance(ok, type(data).__mro__[1])
    assert list(failed["k"]) == [0, 4, 8]
    assert list(ok["k"]) == [k for k in range(12) if k % 4]
    assert sorted(server.table(table_name).column("k").to_pylist()) == [k for k in range(12) if k % 4]


def test_no_failed_row_counts_a_parquet_file_from_its_footer(
    tmp_path: Any, server: LocalServer, table_name: str
) -> None:
    """With no row to select, extraction checks the row count only: from the footer, not by reading the file."""
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": pa.array(range(100), pa.int64())}), path, row_group_size=10)
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(pq.ParquetFile(path))
    assert res.success and res.total_rows == 100

    class Counted(pq.ParquetFile):
        reads = 0

        def iter_batches(self, *args: Any, **kwargs: Any) -> Any:
            Counted.reads += 1
            return super().iter_batches(*args, **kwargs)

        def read(self, *args: Any, **kwargs: Any) -> Any:
            Counted.reads += 1
            return super().read(*args, **kwargs)

    assert res.extract_failed_batch(Counted(path)) is None
    assert Counted.reads == 0
    assert res.extract_successful_batch(Counted(path)).column("id").to_pylist() == list(range(100))
    assert Counted.reads == 1


def test_rows_are_extracted_from_a_stream_with_the_wrong_row_count_as_an_error(
    tmp_path: Any, server: LocalServer, table_name: str
) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2**63 + 5, 3], pa.uint64())}), path)
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(pq.ParquetFile(path))
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2], pa.uint64())}), other)
    with pytest.raises(
        ValueError, match="the batch has 2 rows but the result describes 3; pass the batch that was sent"
    ):
        res.extract_failed_batch(pq.ParquetFile(other))
