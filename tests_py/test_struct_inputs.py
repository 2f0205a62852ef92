"""Struct arrays as tables, and tables without columns, on both transports.

* A stream of struct arrays with null rows at the top level (a ``ChunkedArray`` of structs, another library's
  ``__arrow_c_stream__``) was sent with the values hidden under each null row, as if they were data (arrow-go's
  import ignores a struct's validity; pyarrow refuses such a stream as a table). Go refuses the batch now, naming
  it and the row, and saying what to send instead.
* A sliced ``StructArray`` (a non-zero offset) was refused ("ArrowArray struct has non-zero offset") though the
  same rows in a ``ChunkedArray`` were sent: it is sent now. One with null rows is still refused, saying what to do.
* A batch with rows and no columns was stored over Arrow Flight as rows of nulls of the table's columns while
  protobuf refused it: both refuse it now with the same ConversionError.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

TRANSPORTS = ["protobuf", "arrow_flight"]

_TYPE = pa.struct([("id", pa.int64()), ("s", pa.string())])


def _structs(ids: list[int], null_rows: tuple[int, ...] = ()) -> pa.StructArray:
    """Rows {id, s="v<id>"}; the rows at null_rows are null, with their child values still set underneath."""
    mask = pa.array([i in null_rows for i in range(len(ids))])
    return pa.StructArray.from_arrays(
        [pa.array(ids, pa.int64()), pa.array([f"v{i}" for i in ids])], fields=list(_TYPE), mask=mask
    )


class _Producer:
    """Another library's object: only ``__arrow_c_stream__``."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._data.__arrow_c_stream__(requested_schema)


class _ArrayOnly:
    """Another library's object: only ``__arrow_c_array__``."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self._data.__arrow_c_array__(requested_schema)


def _stored(server: LocalServer, table: str) -> list[dict[str, Any]]:
    if server.record_count(table) == 0:
        return []
    return sorted(server.table(table).to_pylist(), key=lambda r: r["id"])


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", ["ChunkedArray", "__arrow_c_stream__"])
def test_a_stream_of_structs_with_null_rows_is_refused(
    server: LocalServer, table_name: str, transport: str, kind: str
) -> None:
    chunks = pa.chunked_array([_structs([1, 2, 3], null_rows=(1,))])
    data = chunks if kind == "ChunkedArray" else _Producer(chunks)
    with (
        ZerobusWrapper(server.config(table_name, transport=transport)) as w,
        pytest.raises(ConversionError) as err,
    ):
        w.send_batch(data)
    message = str(err.value)
    for said in (
        "batch 0 of the Arrow stream (rows 0 to 2) is a struct array with 1 null rows, the first at row 1",
        "pa.Table.from_struct_array(arr.filter(arr.is_valid()))",
    ):
        assert said in message, message
    # a ChunkedArray's length is known, as a Table's: every row not written; a foreign stream's is not
    assert err.value.result is not None and err.value.result.total_rows == (3 if kind == "ChunkedArray" else 0)
    assert _stored(server, table_name) == []  # the hidden values {id: 2, s: "v2"} were stored


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_null_rows_in_a_later_batch_end_the_stream_there(server: LocalServer, table_name: str, transport: str) -> None:
    """As for any stream failing part-way: the rows before the batch are sent and reported, and the error names
    the batch and the row (counted across the stream)."""
    chunks = pa.chunked_array([_structs([1, 2]), _structs([3, 4, 5], null_rows=(2,))])
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(chunks)
    # the ChunkedArray's length is known (as a Table's): the rows from the refused batch on are not written
    assert not res.success and res.total_rows == 5 and res.successful_rows == [0, 1], res
    assert res.get_not_written_row_indices() == [2, 3, 4]
    assert "batch 1 of the Arrow stream (rows 2 to 4) is a struct array with 1 null rows, the first at row 4" in str(
        res.error
    )
    assert _stored(server, table_name) == [{"id": 1, "s": "v1"}, {"id": 2, "s": "v2"}]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", ["StructArray", "__arrow_c_array__"])
def test_a_sliced_struct_array_is_sent(server: LocalServer, table_name: str, transport: str, kind: str) -> None:
    whole = _structs([1, 2, 3, 4, 5], null_rows=(0,))  # the null row is outside the slice
    part = whole.slice(2, 2)
    assert part.offset == 2
    data = part if kind == "StructArray" else _ArrayOnly(part)
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(data)
    assert res.success and res.total_rows == 2, res
    assert _stored(server, table_name) == part.to_pylist() == [{"id": 3, "s": "v3"}, {"id": 4, "s": "v4"}]
    assert res.extract_successful_batch(data).to_pylist() == part.to_pylist()


@pytest.mark.parametrize("offset", [0, 1])
def test_a_struct_array_with_null_rows_is_refused_saying_what_to_do(
    server: LocalServer, table_name: str, offset: int
) -> None:
    arr = _structs([1, 2, 3, 4], null_rows=(2,)).slice(offset)
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ConversionError) as err:
        w.send_batch(arr)
    message = str(err.value)  # Go's refusal, as in a stream (the one place it is checked)
    assert "is a struct array with 1 null rows, the first at row" in message
    assert "pa.Table.from_struct_array(arr.filter(arr.is_valid()))" in message
    assert _stored(server, table_name) == []
    # what the message says to send is sent: the valid rows
    with ZerobusWrapper(server.config(table_name)) as w:
        assert w.send_batch(pa.Table.from_struct_array(arr.filter(arr.is_valid()))).success
    assert [r["id"] for r in _stored(server, table_name)] == [i for i in [1, 2, 4] if i > offset]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_table_without_columns_is_refused_on_both_transports(
    server: LocalServer, table_name: str, transport: str
) -> None:
    server.create_table(table_name, "id BIGINT, s STRING")
    table = pa.table({"x": [1, 2]}).drop_columns(["x"])
    assert table.num_rows == 2 and table.num_columns == 0
    with (
        ZerobusWrapper(server.config(table_name, transport=transport)) as w,
        pytest.raises(ConversionError, match="the schema has no columns; Zerobus needs at least one") as err,
    ):
        w.send_batch(table)
    assert err.value.result is not None and err.value.result.total_rows == 2
    assert err.value.result.failed_count == 2
    assert server.record_count(table_name) == 0  # Arrow Flight stored [{id: None, s: None}] * 2


def test_rows_are_extracted_from_a_chunked_array_of_structs(server: LocalServer, table_name: str) -> None:
    """A ``ChunkedArray`` of structs (``Table.to_struct_array()``) is sent as the table of its fields; its failed
    and successful rows are extracted from it as from that table (a pyarrow Table of the rows, in order, across
    chunks and slices). It was refused as a stream that a second read might not give again in the same order."""
    ids = pa.array([1, 2**63, 3, 2**63 + 1, 5], pa.uint64())  # uint64 over int64: those rows fail alone
    names = pa.array([f"v{i}" for i in range(5)])
    table = pa.table({"id": ids, "s": names})
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)]).to_struct_array()
    assert isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks == 2
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(chunked)
    assert (res.total_rows, res.successful_count) == (5, 3) and res.get_failed_row_indices() == [1, 3]
    failed = res.extract_failed_batch(chunked)
    assert isinstance(failed, pa.Table) and failed.to_pydict() == {"id": [2**63, 2**63 + 1], "s": ["v1", "v3"]}
    assert res.extract_successful_batch(chunked).to_pydict() == {"id": [1, 3, 5], "s": ["v0", "v2", "v4"]}
    assert res.extract_not_written_batch(chunked).num_rows == 2 and res.extract_unknown_batch(chunked) is None
    with pytest.raises(ValueError, match="pass the batch that was sent"):
        res.extract_failed_batch(chunked.slice(1))
