"""Every accepted input kind: pyarrow batch/table/reader, pandas, polars, PyCapsule objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConversionError, ZerobusWrapper, _wrapper
from zerobus_py.local import LocalServer


def test_record_batch(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    res = wrapper.send_batch(id_batch(0, 10))
    assert res.success and res.total_rows == 10 and res.successful_rows == list(range(10))
    got = server.table(table_name).sort_by("id")
    assert got.equals(pa.Table.from_batches([id_batch(0, 10)]))


def test_table_with_many_chunks(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    table = pa.Table.from_batches([id_batch(i * 7, 7) for i in range(5)])
    assert table.column("id").num_chunks == 5
    res = wrapper.send_batch(table)
    assert res.success and res.total_rows == 35 and res.successful_count == 35
    assert stored_ids(server, table_name) == list(range(35))


def test_empty_inputs(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    empty = id_batch(0, 0)
    res = wrapper.send_batch(empty)
    assert res.success and res.total_rows == 0 and res.failed_rows == [] and res.successful_rows == []
    res = wrapper.send_batch(pa.RecordBatchReader.from_batches(empty.schema, []))
    assert res.success and res.total_rows == 0
    assert server.record_count(table_name) == 0


def test_reader_is_streamed_not_materialised(
    monkeypatch: pytest.MonkeyPatch, wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    # Go's window holds 3 batches: it reads the next only when one is resolved.
    monkeypatch.setattr(_wrapper, "_SEND_WINDOW", (300, 0))
    seen_stored: list[int] = []

    def gen() -> Iterator[pa.RecordBatch]:
        for i in range(12):
            seen_stored.append(server.record_count(table_name))
            yield id_batch(i * 100, 100)

    schema = id_batch(0, 1).schema
    res = wrapper.send_batch(pa.RecordBatchReader.from_batches(schema, gen()))
    assert res.success and res.total_rows == 1200
    assert stored_ids(server, table_name) == list(range(1200))
    # When the last batches were produced, earlier ones had already been stored:
    # the reader is consumed while sending, never read whole up front.
    assert seen_stored[0] == 0
    assert seen_stored[-1] >= 600, seen_stored


def test_large_batch_split_into_parts(
    monkeypatch: pytest.MonkeyPatch, wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    monkeypatch.setattr(_wrapper, "_SEND_WINDOW", (1000, 0))  # parts of 250 rows
    batch = id_batch(0, 5000)
    parts: list[int] = []
    res = wrapper.send_batch(batch, progress=lambda done, total: parts.append(done))
    assert len(parts) >= 20, parts
    assert res.success and res.total_rows == 5000 and res.successful_count == 5000
    assert stored_ids(server, table_name) == list(range(5000))


def test_pandas_dataframe(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    df = pd.DataFrame(
        {
            "id": [3, 1, 2],
            "name": ["c", "a", None],
            "score": [1.5, float("nan"), 2.5],
            "ts": pd.to_datetime(["2024-01-01 00:00:01", "2024-01-01 00:00:00", None]),
            "cat": pd.Categorical(["x", "y", "x"]),
        },
        index=[10, 20, 30],  # the index is not sent
    )
    res = wrapper.send_batch(df)
    assert res.success and res.total_rows == 3
    got = server.table(table_name).sort_by("id")
    assert got.column_names == ["id", "name", "score", "ts", "cat"]
    assert got.column("id").to_pylist() == [1, 2, 3]
    assert got.column("name").to_pylist() == ["a", None, "c"]
    assert got.column("ts").to_pylist() == [1_704_067_200_000_000, None, 1_704_067_201_000_000]
    assert got.column("cat").to_pylist() == ["y", "x", "x"]
    # extract returns pandas rows by position
    assert res.extract_successful_batch(df).equals(df)
    assert res.extract_failed_batch(df) is None  # no failed rows: None, as the original API


def test_polars_dataframe(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    df = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", None, "c"],
            "tags": [["x"], [], ["y", "z"]],
            "point": [{"x": 1.0, "y": 2.0}, None, {"x": 3.0, "y": None}],
        }
    )
    res = wrapper.send_batch(df)
    assert res.success and res.total_rows == 3
    got = server.table(table_name).sort_by("id")
    assert got.column("name").to_pylist() == ["a", None, "c"]
    assert got.column("tags").to_pylist() == [["x"], [], ["y", "z"]]
    # polars < 1.0 (the extra's floor is 0.20) has no null structs: row 1 is a struct of nulls there.
    null_point = None if df["point"].to_arrow().is_null()[1].as_py() else {"x": None, "y": None}
    assert got.column("point").to_pylist() == [{"x": 1.0, "y": 2.0}, null_point, {"x": 3.0, "y": None}]
    out = res.extract_successful_batch(df)
    assert isinstance(out, pl.DataFrame) and out.equals(df)


class StreamOnly:
    """Exposes only the Arrow PyCapsule stream protocol."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


class ArrayOnly:
    """Exposes only the Arrow PyCapsule array protocol (a struct array = a batch)."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self._batch = batch

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self._batch.__arrow_c_array__(requested_schema)


def test_pycapsule_stream(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    table = pa.Table.from_batches([id_batch(0, 4), id_batch(4, 4)])
    res = wrapper.send_batch(StreamOnly(table))
    assert res.success and res.total_rows == 8
    assert stored_ids(server, table_name) == list(range(8))
    with pytest.raises(TypeError, match="cannot extract rows from a StreamOnly: it is read through __arrow_c_stream__"):
        res.extract_successful_batch(StreamOnly(table))  # read again it need not give the same rows in the same order
    assert res.extract_successful_batch(table).equals(table)


def test_pycapsule_array(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    res = wrapper.send_batch(ArrayOnly(id_batch(0, 5)))
    assert res.success and res.total_rows == 5
    assert stored_ids(server, table_name) == list(range(5))


@pytest.mark.parametrize("bad", [None, 42, [1, 2, 3], {"id": [1]}, "text"])
def test_unsupported_input_is_type_error(wrapper: ZerobusWrapper, bad: object) -> None:
    with pytest.raises(TypeError, match="pyarrow RecordBatch"):
        wrapper.send_batch(bad)


class OneColumnStream:
    """Another library's one-column object: its ``__arrow_c_stream__`` is not a struct."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return pa.chunked_array([[1, 2, 3]]).__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize(
    "kind", ["Array", "ChunkedArray", "ArrayOnly", "OneColumnStream", "pandas.Series", "polars.Series"]
)
def test_one_column_is_one_error_class(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str, kind: str
) -> None:
    """One column is the same mistake whatever holds it: it was a TypeError from Python for a pyarrow Array,
    ChunkedArray or Series and a ConversionError from Go for another library's one-column stream, with the "send a
    table" hint written in both. Now all are ConversionError: Go's refusal of a one-column stream (naming its type
    and what to send, ``series.to_frame()`` included) for every one of them."""
    column: Any = {
        "Array": lambda: pa.array([1, 2, 3]),
        "ChunkedArray": lambda: pa.chunked_array([[1, 2], [3]]),
        "ArrayOnly": lambda: ArrayOnly(pa.array([1, 2, 3])),
        "OneColumnStream": OneColumnStream,
        "pandas.Series": lambda: pd.Series([1, 2, 3], name="id"),
        "polars.Series": lambda: pl.Series("id", [1, 2, 3]),
    }[kind]()
    with pytest.raises(ConversionError) as err:
        wrapper.send_batch(column)
    assert "the Arrow stream is one column (int64), not a table of columns: send a table" in str(err.value)
    assert server.record_count(table_name) == 0


def test_struct_array_refused_by_pyarrow_keeps_its_reason(wrapper: ZerobusWrapper) -> None:
    # table-shaped, but pyarrow cannot import a struct array with top-level nulls as a batch: Go refuses it for
    # its null rows (as in a stream), not as "one column"
    struct = pa.array([{"id": 1}, None], pa.struct([("id", pa.int64())]))
    with pytest.raises(ConversionError, match=r"is a struct array with 1 null rows.*non-zero null count") as err:
        wrapper.send_batch(ArrayOnly(struct))
    assert "one column" not in str(err.value)


def test_pandas_named_index_is_a_column(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    df = pd.DataFrame({"id": [1, 2, 3]}, index=pd.Index(["a", "b", "c"], name="key"))
    res = wrapper.send_batch(df)
    assert res.success and res.total_rows == 3
    got = server.table(table_name).sort_by("id")
    assert got.column_names == ["id", "key"]
    assert got.column("key").to_pylist() == ["a", "b", "c"]


def test_parquet_file_and_dataset(tmp_path: Any, wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    path = tmp_path / "ids.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 3000)]), path, row_group_size=500)
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(pq.ParquetFile(path), progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 3000
    assert len(calls) >= 6 and {t for _, t in calls} == {3000} and calls[-1][0] == 3000
    dataset = ds.dataset(path)
    calls.clear()
    res = wrapper.send_batch(dataset, progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 3000 and calls[-1] == (3000, 3000)
    calls.clear()
    scanner = dataset.scanner(filter=ds.field("id") < 1000)
    res = wrapper.send_batch(scanner, progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 1000 and calls[-1] == (1000, 1000)
    assert stored_ids(server, table_name) == sorted([*range(3000), *range(3000), *range(1000)])


def test_reader_failing_midway(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    """A reader whose source raises after two batches: the rows read are stored, the result is not a success,
    and its error names how far the input was read and the source's own message."""

    def batches() -> Iterator[pa.RecordBatch]:
        yield id_batch(0, 10)
        yield id_batch(10, 5)
        raise ValueError("the source broke")

    res = wrapper.send_batch(pa.RecordBatchReader.from_batches(id_batch(0, 10).schema, batches()))
    assert not res.success and res.total_rows == 15 and res.successful_count == 15 and res.failed_count == 0
    assert "after row 15" in str(res.error) and "the source broke" in str(res.error)
    assert stored_ids(server, table_name) == list(range(15))


class _UpstreamMissing(KeyError):
    """The user's own exception, raised by the generator behind a reader."""


@pytest.mark.parametrize("fail_at", [0, 2])
def test_reader_producer_exception_is_the_cause(server: LocalServer, table_name: str, fail_at: int) -> None:
    """The generator behind a RecordBatchReader raises (a bug or a failure in the user's code): the error that
    reports it (raised before the first batch, ``result.error`` after) has that very exception as ``__cause__``
    and says in one line which batch raised what. pyarrow passed the exception to Go as text only, its whole
    traceback (ten lines) included, and the exception itself was lost (``__cause__`` None)."""
    schema = id_batch(0, 1).schema
    raised = _UpstreamMissing("upstream row missing")

    def batches() -> Iterator[pa.RecordBatch]:
        for k in range(3):
            if k == fail_at:
                raise raised
            yield id_batch(k * 2, 2)

    want = f"batch {fail_at} of the RecordBatchReader (from row {fail_at * 2}) raised _UpstreamMissing: "
    want += "'upstream row missing'"
    with ZerobusWrapper(server.config(table_name)) as w:
        reader = pa.RecordBatchReader.from_batches(schema, batches())
        if fail_at == 0:
            with pytest.raises(ConversionError) as ei:
                w.send_batch(reader)
            err = ei.value
            assert err.result is not None and err.result.error is err and err.result.total_rows == 0
        else:
            res = w.send_batch(reader)
            assert (res.success, res.total_rows, res.successful_count) == (False, 4, 4)
            assert res.error is not None
            err = res.error
    assert err.__cause__ is raised
    assert str(err).endswith(want) and "\n" not in str(err) and "Traceback" not in str(err), str(err)
    assert err.details["message"] == err.message
    if fail_at:
        assert stored_ids(server, table_name) == list(range(fail_at * 2))


def test_reader_producer_exception_is_the_cause_async(server: LocalServer, table_name: str) -> None:
    """The same through ``send_batch_async``."""
    import asyncio

    raised = _UpstreamMissing("upstream row missing")

    def batches() -> Iterator[pa.RecordBatch]:
        yield id_batch(0, 2)
        raise raised

    async def send() -> Any:
        with ZerobusWrapper(server.config(table_name)) as w:
            return await w.send_batch_async(pa.RecordBatchReader.from_batches(id_batch(0, 1).schema, batches()))

    res = asyncio.run(send())
    assert res.error is not None and res.error.__cause__ is raised
    assert "batch 1 of the RecordBatchReader (from row 2) raised _UpstreamMissing" in str(res.error)
    assert "Traceback" not in str(res.error)


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_reader_failing_midway_after_a_row_failed(server: LocalServer, table_name: str, transport: str) -> None:
    """A reader whose first batch has a row that fails (a null in a NOT NULL column) and whose source then raises:
    the read failure is the batch-level error (the input was not read to its end), not lost behind the row's, and
    the result is not a success even though rows were stored."""
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string(), nullable=False)])
    names = pa.array([None if i == 3 else f"n-{i}" for i in range(10)], pa.string())
    first = pa.RecordBatch.from_arrays([pa.array(range(10), pa.int64()), names], schema=schema)

    def batches() -> Iterator[pa.RecordBatch]:
        yield first
        raise ValueError("the source broke")

    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(pa.RecordBatchReader.from_batches(schema, batches()))
    assert (res.total_rows, res.successful_count, res.failed_count) == (10, 9, 1)
    assert not res.success and not res.all_succeeded and not res.is_partial_success()
    assert isinstance(res.error, ConversionError), res.error
    assert "after row 10" in str(res.error) and "the source broke" in str(res.error), res.error
    assert res.failure is res.error
    assert [row for row, _ in res.failed_row_errors] == [3]
    assert stored_ids(server, table_name) == [i for i in range(10) if i != 3]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_reader_error_names_the_row_across_its_batches(server: LocalServer, table_name: str, transport: str) -> None:
    """A null in a non-nullable column at row 5 of a reader's 3rd batch (of 10 rows each): the failed row, its
    error's row and the row in the messages are all row 25 of the input (the error said row 5)."""
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string(), nullable=False)])

    def batch(b: int) -> pa.RecordBatch:
        ids = list(range(b * 10, b * 10 + 10))
        names = pa.array([None if i == 25 else f"n-{i}" for i in ids], pa.string())
        return pa.RecordBatch.from_arrays([pa.array(ids, pa.int64()), names], schema=schema)

    rdr = pa.RecordBatchReader.from_batches(schema, [batch(b) for b in range(3)])
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(rdr)
    assert (res.total_rows, res.successful_count, res.failed_count) == (30, 29, 1)
    ((row, err),) = res.failed_row_errors
    assert row == 25 and isinstance(err, ConversionError) and err.row == 25 and err.column == "name", err
    assert "at row 25" in str(err) and "row 5," not in str(err), err
    assert isinstance(res.failure, ConversionError) and res.failure.row == 25, res.failure
    assert "first, row 25: " in str(res.failure) and "at row 25" in str(res.failure), res.failure
    assert stored_ids(server, table_name) == [i for i in range(30) if i != 25]
