"""A send that fails before Go has the batch gives a result listing its rows when the input's length is known, and
the result's ``extract_*`` select rows from the same inputs: one helper says which (s14 review-diff 7: the result
counted one-column inputs, whose extraction then raised ``ArrowInvalid`` or "read through __arrow_c_stream__")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from zerobus_py import WrapperClosedError, ZerobusWrapper
from zerobus_py.local import LocalServer

_TABLE = pa.table({"id": pa.array([10, 11, 12], pa.int64()), "name": ["a", "b", "c"]})


class _CArray:
    """Another library's array: ``__arrow_c_array__`` only."""

    def __init__(self, array: pa.Array) -> None:
        self._array = array

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self._array.__arrow_c_array__(requested_schema)


class _CStream:
    """Another library's stream (a query read again when read again)."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return _TABLE.__arrow_c_stream__(requested_schema)


def _inputs(tmp_path: Path) -> dict[str, Callable[[], Any]]:
    path = tmp_path / "t.parquet"
    pq.write_table(_TABLE, path)
    ids = pa.array([10, 11, 12], pa.int64())
    return {
        "Table": lambda: _TABLE,
        "RecordBatch": lambda: _TABLE.to_batches()[0],
        "struct Array": lambda: _TABLE.to_struct_array().combine_chunks(),
        "struct ChunkedArray": lambda: _TABLE.to_struct_array(),
        "pandas DataFrame": lambda: _TABLE.to_pandas(),
        "polars DataFrame": lambda: pl.from_arrow(_TABLE),
        "ParquetFile": lambda: pq.ParquetFile(path),
        "__arrow_c_array__ struct": lambda: _CArray(_TABLE.to_struct_array().combine_chunks()),
        # one column: refused when sent, every row not written; extraction gives its rows back
        "int Array": lambda: ids,
        "int ChunkedArray": lambda: pa.chunked_array([ids]),
        "pandas Series": lambda: pd.Series([10, 11, 12]),
        "polars Series": lambda: pl.Series([10, 11, 12]),
        "__arrow_c_array__ int": lambda: _CArray(ids),
        # read once, by the send: no length before, no extraction after
        "RecordBatchReader": lambda: pa.RecordBatchReader.from_batches(_TABLE.schema, _TABLE.to_batches()),
        "__arrow_c_stream__": _CStream,
    }


_NO_LENGTH = {"RecordBatchReader", "__arrow_c_stream__"}


def _ids(rows: Any) -> list[Any]:
    """The ids of extracted rows, whatever their kind."""
    if isinstance(rows, (pa.Table, pa.RecordBatch)):
        return list(rows.column("id").to_pylist())
    if isinstance(rows, pd.DataFrame):
        return [int(v) for v in rows["id"]]
    if isinstance(rows, pl.DataFrame):
        return list(rows["id"].to_list())
    if isinstance(rows, (pd.Series, pl.Series)):
        return [int(v) for v in rows.to_list()]
    if isinstance(rows, (pa.Array, pa.ChunkedArray)):
        return list(rows.to_pylist())
    raise AssertionError(f"unexpected kind {type(rows)}")


def test_failed_result_and_extraction_agree_on_lengths(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    """For every kind of input, a send refused before Go (a closed wrapper) has a result exactly when extraction
    from that result works, and then the result covers the input's rows and extraction gives them back."""
    w = ZerobusWrapper(server.config(table_name))
    w.close()
    inputs = _inputs(tmp_path)
    with pytest.raises(WrapperClosedError) as table_err:
        w.send_batch(_TABLE)
    table_result = table_err.value.result
    assert table_result is not None and table_result.total_rows == 3
    for kind, make in inputs.items():
        with pytest.raises(WrapperClosedError) as info:
            w.send_batch(make())
        result = info.value.result
        if kind in _NO_LENGTH:
            assert result is None, kind
            with pytest.raises(TypeError, match="extract rows"):  # nor from a result of the same rows
                table_result.extract_not_written_batch(make())
            continue
        assert result is not None, f"{kind}: no result, yet its length is known"
        assert (result.total_rows, result.not_written_count) == (3, 3), kind
        assert _ids(result.extract_not_written_batch(make())) == [10, 11, 12], kind
        assert _ids(result.extract_failed_batch(make())) == [10, 11, 12], kind
        assert result.extract_successful_batch(make()) is None, kind


def test_a_dataset_is_counted_for_extraction_only(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    """A dataset's (or scanner's) length costs a count of its files: a send refused before Go does not count it
    (no result), extraction does (the rows the result of a send of it describes)."""
    path = tmp_path / "t.parquet"
    pq.write_table(_TABLE, path)
    w = ZerobusWrapper(server.config(table_name))
    w.close()
    with pytest.raises(WrapperClosedError) as table_err:
        w.send_batch(_TABLE)
    for data in (ds.dataset(path), ds.dataset(path).scanner()):
        with pytest.raises(WrapperClosedError) as info:
            w.send_batch(data)
        assert info.value.result is None
        result = table_err.value.result
        assert result is not None
        assert _ids(result.extract_not_written_batch(data)) == [10, 11, 12]
