"""Regressions found by the randomized round trip of Python inputs (tests_py/test_random_inputs.py) and the probes
written beside it: pandas and polars frames whose conversion to Arrow failed with an error naming no column, or
whose rows or index were sent as something else than the frame holds."""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


@pytest.mark.parametrize(
    ("values", "cause"),
    [
        # pyarrow raised UnicodeEncodeError "'utf-8' codec can't encode character '\ud800'", naming no column
        (["ok", "bad \ud800 surrogate", None], UnicodeEncodeError),
        # OverflowError "Python int too large to convert to C long"
        ([1, 2**70, None], OverflowError),
        # TypeError "'str' object cannot be interpreted as an integer"
        ([decimal.Decimal("1.5"), decimal.Decimal("Infinity"), None], TypeError),
    ],
    ids=["lone_surrogate", "int_over_64_bits", "decimal_infinity"],
)
def test_a_pandas_value_pyarrow_cannot_convert_is_a_conversion_error_naming_the_column(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str, values: list[object], cause: type[BaseException]
) -> None:
    df = pd.DataFrame({"rid": np.arange(3, dtype="int64"), "payload": pd.Series(values, dtype=object)})
    with pytest.raises(ConversionError, match=r"pandas column 'payload' \(dtype object\)") as err:
        wrapper.send_batch(df)
    assert err.value.column == "payload"
    assert err.value.__cause__ is not None  # pyarrow's own error (its class varies across pyarrow releases)
    assert isinstance(err.value.__cause__, cause) or pa.__version__ < "18"
    assert server.record_count(table_name) == 0


@pytest.mark.skipif(not hasattr(pl, "Int128"), reason="this polars has no Int128 (polars >= 1.18)")
def test_a_polars_int128_column_is_a_conversion_error_naming_it(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    """pyarrow cannot import polars' Int128 (its C format "_pli128"): the ArrowInvalid named no column."""
    df = pl.DataFrame({"rid": [0, 1], "big": pl.Series([1, 2**100], dtype=pl.Int128)})
    with pytest.raises(ConversionError, match=r"polars column 'big' \(dtype Int128\).*pl\.Decimal\(38, 0\)") as err:
        wrapper.send_batch(df)
    assert err.value.column == "big"
    assert server.record_count(table_name) == 0


def test_an_unnamed_level_of_a_partly_named_multiindex_is_not_sent(
    server: LocalServer, table_name: str, transport: str
) -> None:
    """A named index level is sent as a column, an unnamed one is not: the unnamed level of a MultiIndex whose
    other level is named was sent as a column "__index_level_1__" (the table has none, so the batch failed)."""
    server.create_table(table_name, "name STRING, rid BIGINT NOT NULL")  # index columns come last
    index = pd.MultiIndex.from_tuples([(10, "x"), (11, "y")], names=["rid", None])
    df = pd.DataFrame({"name": ["a", "b"]}, index=index)
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.success and res.successful_count == 2, res
    got = sorted(server.table(table_name).to_pylist(), key=lambda r: r["rid"])
    assert got == [{"rid": 10, "name": "a"}, {"rid": 11, "name": "b"}]


def test_an_index_named_as_a_column_is_refused_naming_it(wrapper: ZerobusWrapper, server: LocalServer) -> None:
    """pyarrow renames such an index "__index_level_0__" and sends it as a column the user never named."""
    df = pd.DataFrame({"rid": [1, 2]}, index=pd.Index([5, 6], name="rid"))
    with pytest.raises(ConversionError, match="index level 'rid' has the name of a column") as err:
        wrapper.send_batch(df)
    assert err.value.column == "rid"


def test_a_pandas_frame_without_columns_keeps_its_rows(server: LocalServer, table_name: str) -> None:
    """pyarrow converts a frame with rows and no columns to a table of no rows: the send reported 0 rows of 3, all
    successful, and nothing was sent. Its rows are counted now, and both transports refuse a batch without columns
    (Arrow Flight stored them as rows of nulls of the table's nullable columns)."""
    server.create_table(table_name, "rid BIGINT")
    df = pd.DataFrame(index=range(3))
    for transport in ("arrow_flight", "protobuf"):
        with (
            ZerobusWrapper(server.config(table_name, transport=transport)) as w,
            pytest.raises(ConversionError, match="no columns") as err,
        ):
            w.send_batch(df)
        assert err.value.result is not None and err.value.result.total_rows == 3, transport
    assert server.record_count(table_name) == 0


class _StreamOnly:
    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("kind", ["polars_array", "pyarrow_table", "c_stream"])
def test_a_column_arrow_go_cannot_import_is_named(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str, kind: str
) -> None:
    """A fixed-size list of size 0 (a polars Array of width 0: lists that are all empty) cannot be imported by
    arrow-go: the ConversionError said only "importing the Arrow schema: malformed ArrowSchema: arrow: invalid
    size". It names the column now."""
    table = pa.table({"rid": pa.array([1, 2], pa.int64()), "empty": pa.array([[], None], pa.list_(pa.int32(), 0))})
    if kind == "polars_array":
        if int(pl.__version__.split(".")[0]) < 1:
            pytest.skip("polars < 1.0 spells pl.Array(width, inner)")
        data: object = pl.DataFrame({"rid": [1, 2], "empty": pl.Series([[], None], dtype=pl.Array(pl.Int32, 0))})
    else:
        data = table if kind == "pyarrow_table" else _StreamOnly(table)
    with pytest.raises(ConversionError, match=r'column "empty": importing the Arrow schema: .*invalid size') as err:
        wrapper.send_batch(data)
    assert err.value.column == "empty"
    assert server.record_count(table_name) == 0


class _ArrayOnly:
    def __init__(self, batch: pa.RecordBatch) -> None:
        self._batch = batch

    def __arrow_c_array__(self, requested_schema: object = None) -> object:
        return self._batch.__arrow_c_array__(requested_schema)


@pytest.mark.parametrize("kind", ["table", "batch", "c_array", "pandas"])
def test_rows_are_extracted_from_string_and_binary_views(server: LocalServer, table_name: str, kind: str) -> None:
    """pyarrow has no take kernel for string and binary views: extract_failed_batch / extract_successful_batch of
    a Table or RecordBatch holding one raised "ArrowNotImplementedError: Function 'array_take' has no kernel
    matching input types (string_view, int64)"."""
    batch = pa.record_batch(
        {
            "rid": pa.array([0, 1, 2, 3, 4], pa.int64()),
            "v": pa.array([1, 2**63, 3, 2**64 - 1, 5], pa.uint64()),  # rows 1 and 3 fail: over BIGINT
            "s": pa.array(["a", "b", None, "d" * 20, "e"], pa.string_view()),
            "l": pa.array([[b"x"], [], None, [b"y" * 20], [b""]], pa.list_(pa.binary_view())),
        }
    )
    data: object = {
        "table": pa.Table.from_batches([batch]),
        "batch": batch,
        "c_array": _ArrayOnly(batch),
        "pandas": batch.to_pandas(types_mapper=pd.ArrowDtype),  # pd.ArrowDtype columns: pandas' own iloc fails too
    }[kind]
    with ZerobusWrapper(server.config(table_name, transport="arrow_flight")) as w:
        res = w.send_batch(data)
    assert res.get_failed_row_indices() == [1, 3], res
    ok, failed = res.extract_successful_batch(data), res.extract_failed_batch(data)
    if kind == "pandas":
        assert isinstance(ok, pd.DataFrame) and isinstance(failed, pd.DataFrame)
        assert list(ok.index) == [0, 2, 4] and list(failed.index) == [1, 3]
        ok, failed = pa.Table.from_pandas(ok, preserve_index=False), pa.Table.from_pandas(failed, preserve_index=False)
    else:
        assert isinstance(ok, pa.Table if kind == "table" else pa.RecordBatch)
    assert ok.to_pydict() == {
        "rid": [0, 2, 4],
        "v": [1, 3, 5],
        "s": ["a", None, "e"],
        "l": [[b"x"], None, [b""]],
    }
    assert failed.to_pydict() == {"rid": [1, 3], "v": [2**63, 2**64 - 1], "s": ["b", "d" * 20], "l": [[], [b"y" * 20]]}


def test_a_parquet_file_with_a_nested_dictionary_column_is_read_across_row_groups(
    server: LocalServer, table_name: str, tmp_path: Path
) -> None:
    """pyarrow writes a MAP of dictionary-encoded strings as such; ParquetFile.iter_batches() over the whole file
    raised "Nested data conversions not implemented for chunked array outputs" where a batch spans row groups, so
    the send failed after row 0. The file is read row group by row group now (for extraction too)."""
    import pyarrow.parquet as pq

    n = 17
    tags = pa.array([[(True, f"v{i}")] for i in range(n)], pa.map_(pa.bool_(), pa.dictionary(pa.int32(), pa.string())))
    values = pa.array([i if i % 5 != 3 else 2**63 + i for i in range(n)], pa.uint64())  # rows 3, 8, 13 fail
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"rid": pa.array(range(n), pa.int64()), "v": values, "tags": tags}), path, row_group_size=7)
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(pq.ParquetFile(path))
    assert res.total_rows == n and res.get_failed_row_indices() == [3, 8, 13], res
    got = sorted(server.table(table_name).to_pylist(), key=lambda r: r["rid"])
    assert [r["rid"] for r in got] == [i for i in range(n) if i % 5 != 3]
    assert got[0]["tags"] == [(True, "v0")] and got[-1]["tags"] == [(True, "v16")]
    assert res.extract_failed_batch(pq.ParquetFile(path)).column("rid").to_pylist() == [3, 8, 13]


_EMPTY_CHILD = textwrap.dedent(
    """
    import json, sys
    import pandas as pd, polars as pl, pyarrow as pa
    from zerobus_py import ZerobusWrapper
    from zerobus_py.local import LocalServer

    frames = {
        "pandas_categorical": pd.DataFrame({"rid": pd.Series([], dtype="int64"), "c": pd.Categorical([], ["x"])}),
        "polars_categorical": pl.DataFrame({"rid": [], "c": []}, schema={"rid": pl.Int64, "c": pl.Categorical}),
        "filtered_pandas": pd.DataFrame({"rid": [1, 2], "c": pd.Categorical(["x", "y"])}).iloc[0:0],
        "nested_dictionary": pa.table({"rid": pa.array([], pa.int64()),
                                       "c": pa.array([], pa.list_(pa.dictionary(pa.int8(), pa.large_string())))}),
        "pandas_bool_categorical": pd.DataFrame({"rid": pd.Series([], dtype="int64"),
                                                 "c": pd.Categorical([], [True, False])}),
        # readers: their length is not known before Go reads them
        "reader_dictionary": pa.RecordBatchReader.from_batches(
            pa.schema([("rid", pa.int64()), ("c", pa.dictionary(pa.int16(), pa.large_string()))]), []),
        "reader_list_view": pa.RecordBatchReader.from_batches(
            pa.schema([("rid", pa.int64()), ("c", pa.list_view(pa.dictionary(pa.int8(), pa.large_string())))]), []),
    }
    kinds = {"nested_dictionary": "ARRAY<STRING>", "pandas_bool_categorical": "BOOLEAN",
             "reader_list_view": "ARRAY<STRING>"}
    out = {}
    with LocalServer() as server:
        for transport in ("protobuf", "arrow_flight"):
            for name, frame in frames.items():
                table = f"main.empty.{name}_{transport}"
                kind = kinds.get(name, "STRING")
                server.create_table(table, f"rid BIGINT NOT NULL, c {kind}")
                if isinstance(frame, pa.RecordBatchReader):  # read once: a fresh one per transport
                    frame = pa.RecordBatchReader.from_batches(frame.schema, [])
                    frames[name] = frame
                with ZerobusWrapper(server.config(table, transport=transport)) as w:
                    r = w.send_batch(frame)
                out[f"{name}/{transport}"] = [r.success, r.total_rows, server.record_count(table)]
    print(json.dumps(out))
    """
)


def test_an_empty_frame_with_a_categorical_column_is_sent_not_a_crash(tmp_path: Path) -> None:
    """An input without rows whose schema holds a dictionary of large strings or booleans (pandas' categorical of
    ``str`` or ``bool``, polars' Categorical, what filtering every row out leaves) ended the process: Go builds an
    empty batch of the schema to check it, and arrow-go's builder panics for such a dictionary. Run in a child
    process, so that a regression fails this test instead of ending the test session."""
    # run outside the source tree: its zerobus_py would be imported instead of the installed package
    proc = subprocess.run(
        [sys.executable, "-c", _EMPTY_CHILD], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got and all(v == [True, 0, 0] for v in got.values()), got


@pytest.fixture(params=["protobuf", "arrow_flight"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_taking_no_rows_of_view_columns() -> None:
    """Taking no rows (the runs fallback for string views, which pyarrow cannot take) gives an empty input of the
    same kind; it raised IndexError."""
    from zerobus_py import _arrow

    t = pa.table({"id": pa.array([1, 2], pa.int64()), "s": pa.array(["a", "b"], pa.string_view())})
    none = pa.array([], pa.int64())
    for data in (t, t.to_batches()[0], t.to_pandas(types_mapper=pd.ArrowDtype)):
        got = _arrow.take_rows(data, none, 2)
        assert type(got) is type(data) and len(got) == 0
        assert len(_arrow.take_rows(data, pa.array([0, 1], pa.int64()), 2)) == 2


def test_an_all_none_pandas_column_into_a_struct_holding_a_variant_is_stored_null(
    server: LocalServer, table_name: str, transport: str
) -> None:
    """A pandas object column of None only (pyarrow's null type) into a STRUCT, ARRAY or MAP holding a VARIANT: the
    protobuf descriptor described the VARIANT as its binary encoding's struct and the service refused the whole
    batch (TYPE_INCOMPATIBLE: field "s.x" has type struct, the table column needs string). Found by the Go round
    trip (tests_go, seed 1796544938935388793)."""
    server.create_table(
        table_name,
        "rid BIGINT NOT NULL, s STRUCT<a: INT, x: VARIANT>, l ARRAY<STRUCT<v: VARIANT>>, m MAP<STRING, VARIANT>",
    )
    none = pd.Series([None, None], dtype=object)
    df = pd.DataFrame({"rid": np.arange(2, dtype="int64"), "s": none, "l": none, "m": none})
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.success and res.successful_count == 2, res
    rows = sorted(server.table(table_name).to_pylist(), key=lambda r: r["rid"])
    assert [r["rid"] for r in rows] == [0, 1]
    assert all(r["s"] is None and not r["l"] and not r["m"] for r in rows), rows


_EMPTY_NESTED_CHILD = textwrap.dedent(
    """
    import json
    import pyarrow as pa
    from zerobus_py import ZerobusWrapper
    from zerobus_py.local import LocalServer

    st = pa.struct([("f3", pa.int32())])  # the table's f2 left out
    data = pa.table({"rid": pa.array([0, 1], pa.int64()),
                     "m": pa.array([[], None], pa.map_(pa.bool_(), st)),
                     "l": pa.array([[], []], pa.list_(st))})
    out = {}
    with LocalServer() as server:
        for transport in ("protobuf", "arrow_flight"):
            table = f"main.empty.nested_{transport}"
            server.create_table(table, "rid BIGINT NOT NULL, m MAP<BOOLEAN, STRUCT<f2: MAP<STRING, BINARY>, f3: INT>>, "
                                       "l ARRAY<STRUCT<f2: ARRAY<STRING>, f3: INT>>")
            with ZerobusWrapper(server.config(table, transport=transport)) as w:
                r = w.send_batch(data)
            out[transport] = [r.success, r.successful_count, server.record_count(table)]
    print(json.dumps(out))
    """
)


def test_a_field_left_out_of_empty_lists_and_maps_is_sent_not_a_crash(tmp_path: Path) -> None:
    """A STRUCT field the input leaves out, inside ARRAY elements or MAP values, whose table type is an ARRAY or MAP
    of STRING or BINARY, in an input whose lists and maps are all empty or null: over Flight arrow-go's null array
    of that type had a short offsets buffer and the IPC writer panicked, ending the process. Found by the Go round
    trip (tests_go, seed 1796565302455463390). Run in a child process, so that a regression fails this test instead
    of ending the test session."""
    proc = subprocess.run(
        [sys.executable, "-c", _EMPTY_NESTED_CHILD], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"protobuf": [True, 2, 2], "arrow_flight": [True, 2, 2]}, got
