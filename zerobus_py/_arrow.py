"""Input normalisation: every supported kind of tabular data becomes an Arrow C
stream (``ArrowArrayStream``) that the Go core imports and reads in place.

Nothing is serialised or copied on the Python side: the caller's object is
exported through the Arrow PyCapsule interface and Go takes the stream over
(pybind ``SendStream``). Accepted inputs:

* ``pyarrow.RecordBatch``, ``pyarrow.Table`` (length known);
* ``pyarrow.RecordBatchReader``: consumed as Go reads it, never materialised;
* ``pyarrow.parquet.ParquetFile`` (read batch by batch; length from the file's
  metadata) and ``pyarrow.dataset.Dataset`` / ``Scanner`` (scanned as Go reads;
  length counted only when a progress callback wants it);
* ``pandas.DataFrame`` (through ``pyarrow.Table.from_pandas``: a named index
  level is kept as a column, named as the level; an unnamed index or level is
  not sent) and ``polars.DataFrame``; a column pyarrow cannot convert is a
  ``ConversionError`` naming it;
* any object implementing the Arrow PyCapsule interface: ``__arrow_c_stream__``
  (streamed, length unknown) or ``__arrow_c_array__`` (one struct array = one
  batch; a slice of one too).

A struct array's rows are a table's rows: one with null rows at the top level
is refused by Go (a ``ConversionError`` naming the batch and the row), in a
stream or as a ``__arrow_c_array__`` (handed to Go as a stream of one batch):
the values under a null row are not data.

A ``RecordBatchReader`` is read through a check that each batch has the
reader's column names and types (pyarrow's ``from_batches`` does not check).
A stream reached through another object's ``__arrow_c_stream__`` (a pyarrow
reader wrapped in it included) cannot be checked: the C stream carries its
schema once and each batch without one, so Go imports a batch as the stream's
schema says, and its producer is trusted to keep to it.

Lifetime: the exported stream holds its own references to the data (pyarrow's
C++ objects, or the Python reader it pulls from), so the caller may drop the
object once the send has started. Data is read in place: a pandas/NumPy
buffer modified in place while a send is in flight is read as modified.
"""

from __future__ import annotations

import ctypes
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ._errors import ConversionError

__all__ = ["Exported", "export", "repeat_runs", "row_indices", "take_rows"]

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _module_name(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _instance(obj: object, library: str, name: str) -> bool:
    """``obj`` is a ``library.name`` or of a subclass of it (a user's DataFrame subclass, a GeoDataFrame). The
    library is never imported here: an object of it means it is loaded."""
    module = sys.modules.get(library)
    cls = getattr(module, name, None) if module is not None else None
    return isinstance(cls, type) and isinstance(obj, cls)


def _is_pandas(obj: object) -> bool:
    return _instance(obj, "pandas", "DataFrame")


def _is_polars(obj: object) -> bool:
    return _instance(obj, "polars", "DataFrame")


def _is_series(obj: object) -> bool:
    """A pandas or polars Series: one column (its ``__arrow_c_stream__`` is not a table's)."""
    return _instance(obj, "pandas", "Series") or _instance(obj, "polars", "Series")


@dataclass
class Exported:
    """An ``ArrowArrayStream`` PyCapsule ready for Go, with the input's length
    (``None`` when unknown).

    ``address`` is valid while ``capsule`` is referenced; Go moves the stream
    out of it during ``SendStream``, after which the capsule holds a released
    stream and frees nothing.
    """

    capsule: Any
    total: int | None
    #: How the input's producer failed while Go read it (a RecordBatchReader's: see :func:`_checked_reader`),
    #: filled during the send; empty while it has not.
    read_failures: list[ReadFailure] = field(default_factory=list)

    @property
    def address(self) -> int:
        addr = _get_pointer(self.capsule, b"arrow_array_stream")
        if not addr:  # pragma: no cover - PyCapsule_GetPointer raised already
            raise ValueError("not an arrow_array_stream capsule")
        return int(addr)


@dataclass(frozen=True)
class ReadFailure:
    """Why a RecordBatchReader ended its stream with an error: ``text``, the one line it was ended with, and
    ``error``, what the user's reader raised (``None`` for a batch of another schema)."""

    text: str
    error: BaseException | None

    def cleaned(self, message: str) -> str:
        """``message`` (the error Go reported) cut after :attr:`text`: pyarrow ends the stream's error text with
        the status code before it (``"Invalid: "``) and the formatted Python traceback after it."""
        at = message.find(self.text)
        if at < 0:
            return message
        head = message[:at]
        for code in ("Invalid: ", "Type error: "):
            head = head.removesuffix(code)
        return head + self.text


def _stream_of(data: Any) -> Exported:
    """``data.__arrow_c_stream__()`` of an object of another library, checked
    to be the capsule the Arrow PyCapsule interface promises (ctypes would
    say only "PyCapsule_GetPointer called with invalid PyCapsule object")."""
    capsule = data.__arrow_c_stream__()
    try:
        _get_pointer(capsule, b"arrow_array_stream")
    except ValueError:
        raise TypeError(
            f"cannot send a {type(data).__qualname__}: its __arrow_c_stream__() returned "
            f"{_capsule_shown(capsule)}, not an 'arrow_array_stream' PyCapsule"
        ) from None
    # the length when it is known without reading (a pyarrow ChunkedArray's), as for a Table
    return Exported(capsule, known_rows(data, count=False))


def _capsule_shown(obj: Any) -> str:
    """``obj``'s type, with its name for a capsule: ``PyCapsule 'arrow_schema'``, ``NoneType``."""
    if type(obj).__name__ != "PyCapsule":
        return type(obj).__qualname__
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    name = get_name(obj)
    return f"PyCapsule {name.decode() if name else None!r}"


def _checked_reader(reader: pa.RecordBatchReader, failures: list[ReadFailure] | None = None) -> pa.RecordBatchReader:
    """``reader`` with each batch's columns checked against its schema.

    ``pyarrow.RecordBatchReader.from_batches(schema, batches)``, the usual way
    to stream a generator, exports batches of another schema as they are: Go
    would read a float64 column declared int64 as its bit patterns (stored
    silently as huge integers) or meet other columns. A batch whose column
    names or types differ from the reader's schema ends the stream with an
    error naming the batch and both schemas (the send reports the rows read
    before it, as for any reader failing part-way).

    An exception raised by ``reader`` (the user's generator behind it), ``KeyboardInterrupt`` and ``SystemExit``
    included (it runs on a Go thread, where neither can stop the program), ends the stream with one line naming the
    batch and the exception (pyarrow would pass on its whole traceback as text). Each way the stream ends with an
    error is appended to ``failures``, with the exception, for the send's error: its message is cut to that line
    and the user's exception is its ``__cause__`` (:class:`ReadFailure`)."""
    schema = reader.schema

    def failed(text: str, error: BaseException | None) -> str:
        if failures is not None:
            failures.append(ReadFailure(text, error))
        return text

    def batches() -> Any:
        rows = 0
        batch_iter = iter(reader)
        for k in itertools.count():
            try:
                batch = next(batch_iter)
            except StopIteration:
                return
            except GeneratorExit:  # the stream is being closed: not the producer's failure
                raise
            except BaseException as exc:  # also KeyboardInterrupt / SystemExit raised by the producer
                lines = str(exc).strip().splitlines() or [""]
                shown = lines[0] + (" (...)" if len(lines) > 1 else "")
                text = f"batch {k} of the RecordBatchReader (from row {rows}) raised {type(exc).__name__}: {shown}"
                raise ValueError(failed(text, exc)) from None
            if batch.schema.names != schema.names or batch.schema.types != schema.types:
                raise TypeError(
                    failed(
                        f"batch {k} of the RecordBatchReader (from row {rows}) has columns "
                        f"{_columns(batch.schema)} where the reader's schema has {_columns(schema)}: "
                        "every batch of one send must have the reader's schema; cast the batch, "
                        "or send batches of another schema in a call of their own",
                        None,
                    )
                )
            rows += batch.num_rows
            yield batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _columns(schema: pa.Schema) -> str:
    return "(" + ", ".join(f"{f.name}: {f.type}" for f in schema) + ")"


_ACCEPTED = (
    "pass a pyarrow RecordBatch, Table or RecordBatchReader, a pyarrow.parquet.ParquetFile, a "
    "pyarrow.dataset.Dataset or Scanner, a pandas or polars DataFrame, or an object with "
    "__arrow_c_stream__ / __arrow_c_array__"
)


def export(data: Any, want_total: bool = False) -> Exported:
    """Export supported input as an Arrow C stream.

    ``want_total`` asks for the length of inputs whose length costs a count
    (a dataset or scanner); tables and Parquet files always report theirs.

    Raises ``TypeError`` naming the accepted kinds for anything else. One
    column (a pandas/polars Series, a lone ``pyarrow.Array`` /
    ``ChunkedArray``, another library's one-column stream or array) is a
    ``ConversionError``: each is handed to Go as a stream of one column, which
    Go refuses, naming its type and what to send instead.
    """
    if isinstance(data, pa.Table):
        return _exported_table(data)
    if isinstance(data, pa.RecordBatch):
        return _exported_table(pa.Table.from_batches([data]))
    if isinstance(data, pa.RecordBatchReader):
        failures: list[ReadFailure] = []
        return Exported(_checked_reader(data, failures).__arrow_c_stream__(), None, failures)
    if _is_series(data):
        # one column: a stream of it, which Go refuses (ConversionError) naming its type and what to send, as for
        # any one-column stream
        return _column_stream(_series_column(data))
    if _is_pandas(data):
        return _exported_table(_pandas_table(data))
    if _is_polars(data):
        _refuse_polars_objects(data)
        return _exported_table(_polars_table(data))
    if "pyarrow.parquet" in sys.modules:
        import pyarrow.parquet as pq

        if isinstance(data, pq.ParquetFile):
            return Exported(_parquet_reader(data).__arrow_c_stream__(), int(data.metadata.num_rows))
    if "pyarrow.dataset" in sys.modules:
        import pyarrow.dataset as ds

        if isinstance(data, ds.Dataset):
            total = int(data.count_rows()) if want_total else None
            return Exported(data.scanner().to_reader().__arrow_c_stream__(), total)
        if isinstance(data, ds.Scanner):
            total = int(data.count_rows()) if want_total else None
            return Exported(data.to_reader().__arrow_c_stream__(), total)
    if hasattr(data, "__arrow_c_stream__"):
        return _stream_of(data)
    if hasattr(data, "__arrow_c_array__"):  # a pyarrow Array too
        if not isinstance(data, pa.Array):
            _check_array_capsules(data)
        try:
            batch = pa.record_batch(data)
        except pa.ArrowInvalid:
            column = pa.array(data)
            if pa.types.is_struct(column.type) and column.null_count == 0:  # a slice (offset): read in place
                return _exported_table(pa.Table.from_batches([pa.RecordBatch.from_struct_array(column)]))
            # one column, or a struct array with null rows: a stream of it as one batch, which Go refuses
            # (ConversionError), naming what it is and what to send instead, as in any stream
            return _column_stream(column)
        return _exported_table(pa.Table.from_batches([batch]))
    raise TypeError(f"cannot send {type(data).__module__}.{type(data).__qualname__}: {_hint(data)}{_ACCEPTED}")


def _column_stream(column: pa.Array | pa.ChunkedArray) -> Exported:
    """``column`` as a stream of known length, for Go to read or refuse: a stream of one column that is not a
    struct, or of struct batches with null rows, is refused by Go's checks (the one place they are made)."""
    chunked = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    return Exported(chunked.__arrow_c_stream__(), len(chunked))


def _series_column(data: Any) -> pa.Array | pa.ChunkedArray:
    """A pandas or polars Series as the pyarrow column it exports; what pyarrow cannot convert is a
    :class:`ConversionError` saying why, as for a DataFrame's column."""
    library = "pandas" if _instance(data, "pandas", "Series") else "polars"
    try:
        column: pa.Array | pa.ChunkedArray = pa.array(data) if library == "pandas" else data.to_arrow()
    except Exception as err:
        raise ConversionError(
            f"cannot send the {library} Series {getattr(data, 'name', None)!r} (dtype {data.dtype}): "
            f"{type(err).__name__}: {err}"
        ) from err
    return column


def _check_array_capsules(data: Any) -> None:
    """``data.__arrow_c_array__()`` of an object of another library, checked to be the pair of capsules the Arrow
    PyCapsule interface promises (ctypes would say only "PyCapsule_GetPointer called with invalid PyCapsule
    object"), as :func:`_stream_of` checks a stream's."""
    got = data.__arrow_c_array__(None)  # positionally, as pyarrow calls it
    names = (b"arrow_schema", b"arrow_array")
    if isinstance(got, tuple) and len(got) == 2:
        try:
            for capsule, name in zip(got, names, strict=True):
                _get_pointer(capsule, name)
        except ValueError:
            pass
        else:
            return
    shown = f"({', '.join(_capsule_shown(c) for c in got)})" if isinstance(got, tuple) else _capsule_shown(got)
    raise TypeError(
        f"cannot send a {type(data).__qualname__}: its __arrow_c_array__() returned {shown}, not a pair of "
        "'arrow_schema' and 'arrow_array' PyCapsules"
    )


def _is_struct_chunks(data: Any) -> bool:
    """A ``pyarrow.ChunkedArray`` of structs (``Table.to_struct_array()``): sent as the table of its fields."""
    return isinstance(data, pa.ChunkedArray) and pa.types.is_struct(data.type)


def _struct_chunks_reader(data: pa.ChunkedArray) -> pa.RecordBatchReader:
    """The struct chunks of ``data`` as batches, for extraction: the rows the send read, in its order."""
    schema = pa.schema(list(data.type))
    return pa.RecordBatchReader.from_batches(schema, (pa.RecordBatch.from_struct_array(c) for c in data.chunks))


def _array_batch(data: Any) -> pa.RecordBatch:
    """``data`` (an object with ``__arrow_c_array__``: a struct array) as the batch :func:`export` sends."""
    try:
        return pa.record_batch(data)
    except pa.ArrowInvalid:
        column = pa.array(data)
        if not pa.types.is_struct(column.type):
            raise
        # a slice (offset), or null rows (refused when sent): its rows, as a ChunkedArray of structs gives them
        return pa.RecordBatch.from_struct_array(column)


def _parquet_reader(f: Any) -> pa.RecordBatchReader:
    """The batches of Parquet file ``f``. A file with a dictionary inside a nested column (a MAP or STRUCT of
    dictionary-encoded strings, as pyarrow writes them) is read row group by row group: ``iter_batches()`` over
    the whole file raises "Nested data conversions not implemented for chunked array outputs" where a batch would
    span row groups."""
    schema = f.schema_arrow
    if any(_nested_dictionary(field.type, False) for field in schema):
        return pa.RecordBatchReader.from_batches(
            schema, (b for k in range(f.num_row_groups) for b in f.iter_batches(row_groups=[k]))
        )
    return pa.RecordBatchReader.from_batches(schema, f.iter_batches())


def _nested_dictionary(t: pa.DataType, inside: bool) -> bool:
    """``t`` holds a dictionary type inside a nested type (``inside``: t is itself inside one)."""
    if pa.types.is_dictionary(t):
        return inside
    if pa.types.is_struct(t):
        return any(_nested_dictionary(t.field(k).type, True) for k in range(t.num_fields))
    if pa.types.is_map(t):
        return _nested_dictionary(t.key_type, True) or _nested_dictionary(t.item_type, True)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _nested_dictionary(t.value_type, True)
    return False


def _exported_table(table: pa.Table) -> Exported:
    """``table`` as a stream of known length."""
    return Exported(table.__arrow_c_stream__(), table.num_rows)


def _pandas_table(df: Any) -> pa.Table:
    """``df`` as a pyarrow Table. Each named level of the index is data, kept as a column named as the level; an
    unnamed index or level (a RangeIndex, what filtering left) is not sent. Whatever pyarrow cannot convert is a
    :class:`ConversionError` naming the column (pyarrow's own ``UnicodeEncodeError``, ``OverflowError`` or
    ``TypeError`` for a lone surrogate, an int over 64 bits or ``Decimal('Infinity')`` name none)."""
    names = list(df.index.names)
    keep_index = any(name is not None for name in names)
    if keep_index:
        columns = {str(c) for c in df.columns}
        clash = [str(n) for n in names if n is not None and str(n) in columns]
        if clash:
            # pyarrow would send the level as a column named "__index_level_0__"
            raise ConversionError(
                f"cannot send the pandas DataFrame: its index level {clash[0]!r} has the name of a column, and a "
                "named index is sent as a column; drop the index (df.reset_index(drop=True)) or rename it",
                details={"column": clash[0]},
            )
        unnamed = [k for k, name in enumerate(names) if name is None]
        if unnamed:  # pyarrow would send them as "__index_level_<k>__"
            df = df.reset_index(level=unnamed, drop=True)
    try:
        table = pa.Table.from_pandas(df, preserve_index=keep_index)
    except Exception as err:
        one = lambda k: pa.Table.from_pandas(df.iloc[:, [k]], preserve_index=False)  # noqa: E731
        message, column, cause = _column_error("pandas", df, err, one)
        raise ConversionError(message, details=column) from cause
    if table.num_columns == 0 and len(df):
        # pyarrow gives no rows for a frame without columns: keep its rows, so that the send counts them (and Go
        # says what a batch without columns meets)
        table = pa.table([pa.nulls(len(df))], names=["_"]).drop_columns(["_"])
    return table


def _polars_table(df: Any) -> pa.Table:
    """``df.to_arrow()``; a column pyarrow cannot import (``Int128``, ``UInt128``: "unsupported format string
    '_pli128'") is a :class:`ConversionError` naming it."""
    try:
        return df.to_arrow()
    except Exception as err:
        message, column, cause = _column_error("polars", df, err, lambda k: df.select(df.columns[k]).to_arrow())
        raise ConversionError(message, details=column) from cause


def _column_error(
    library: str, df: Any, err: Exception, convert_column: Any
) -> tuple[str, dict[str, str], BaseException]:
    """Why a DataFrame did not convert as a whole, for a :class:`ConversionError`: its message, details and cause.
    Each column is converted alone (only on this error path) to name the first one that fails, with its dtype
    and pyarrow's reason."""
    for k, (name, dtype) in enumerate(zip(df.columns, df.dtypes, strict=True)):
        try:
            convert_column(k)
        except Exception as col_err:
            hint = ""
            if library == "polars" and str(dtype) in ("Int128", "UInt128"):
                hint = "; cast it to pl.Int64 or pl.Decimal(38, 0) first"
            message = f"cannot send {library} column {str(name)!r} (dtype {dtype}): {type(col_err).__name__}: {col_err}"
            return message + hint, {"column": str(name)}, col_err
    return f"cannot send the {library} DataFrame: {type(err).__name__}: {err}", {}, err


def _refuse_polars_objects(df: Any) -> None:
    """polars exports a column of dtype Object (Python objects) as each
    object's 8-byte memory address (``fixed_size_binary[8]``): sent, it would
    store addresses as data. Refused naming the columns."""
    import polars as pl

    names = [name for name, dtype in df.schema.items() if dtype == pl.Object]
    if names:
        raise TypeError(
            f"cannot send polars column(s) {', '.join(repr(n) for n in names)} of dtype Object (Python objects): "
            "polars exports them as memory addresses, not values; convert them to a typed column first, e.g. "
            "df.with_columns(pl.col(name).map_elements(str, return_dtype=pl.String))"
        )


def _hint(data: Any) -> str:
    """What to do with a kind of input that users hold but is not accepted as such."""
    if _module_name(data) == "polars" and type(data).__name__ == "LazyFrame":
        return "collect it first (lazy_frame.collect()); "
    if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
        return ""
    return (
        "for an iterable of batches (a list, a generator), pass "
        "pyarrow.RecordBatchReader.from_batches(schema, batches); "
    )


def row_indices(ranges: Sequence[tuple[int, int]]) -> pa.Array:
    """The rows of the half-open ranges ``[lo, hi)``, in order (sorted when
    ranges overlap), as an int64 array built by Arrow compute: memory in
    Python objects grows with the number of ranges, not of rows.

    Row ``j`` of the output is ``j + shift`` where ``shift`` is constant
    along a range (its ``lo`` minus the output position it starts at): a
    running count plus the run-end-decoded shifts."""
    runs = [(lo, hi) for lo, hi in ranges if hi > lo]
    if not runs:
        return pa.array([], type=pa.int64())
    ends = list(itertools.accumulate(hi - lo for lo, hi in runs))
    count = pc.cumulative_sum(pa.repeat(pa.scalar(1, type=pa.int64()), ends[-1]))  # 1, 2, ..., rows
    if len(runs) == 1:
        return pc.add(count, runs[0][0] - 1)
    shifts = [lo - (end - (hi - lo)) - 1 for (lo, hi), end in zip(runs, ends, strict=True)]
    # run ends as a list: pyarrow 16 rejects an int64 Array there
    shift = pc.run_end_decode(pa.RunEndEncodedArray.from_arrays(ends, pa.array(shifts, type=pa.int64())))
    out = pc.add(count, shift)
    if any(lo < prev_hi for (_, prev_hi), (lo, _) in itertools.pairwise(runs)):
        out = out.take(pc.sort_indices(out))
    return out


def repeat_runs(values: Sequence[Any], lengths: Sequence[int], dtype: pa.DataType) -> pa.Array:
    """``values[k]`` repeated ``lengths[k]`` times, in order, built by Arrow
    (run-end decoding): no Python object per row."""
    runs = [(v, n) for v, n in zip(values, lengths, strict=True) if n > 0]
    if not runs:
        return pa.array([], type=dtype)
    ends = list(itertools.accumulate(n for _, n in runs))
    return pc.run_end_decode(pa.RunEndEncodedArray.from_arrays(ends, pa.array([v for v, _ in runs], type=dtype)))


def take_rows(data: Any, indices: pa.Array, total_rows: int) -> Any:
    """Select rows by index (an int64 array, ascending, see
    :func:`row_indices`) from the kind of object that was sent, returning the
    same kind (pyarrow RecordBatch/Table, pandas/polars DataFrame) or a
    pyarrow Table for a Parquet file, dataset or scanner, read again once in
    file order, batch by batch, keeping only the selected rows. Another
    ``__arrow_c_stream__`` object (a DuckDB relation, ...) is refused (see
    :func:`_refuse_rerun`)."""
    _refuse_rerun(data)
    batches = _batches_of(data)
    if batches is not None:
        return _take_streamed(batches, indices, total_rows)
    n = _num_rows(data)
    if n != total_rows:
        raise ValueError(f"the batch has {n} rows but the result describes {total_rows}; pass the batch that was sent")
    if isinstance(data, (pa.RecordBatch, pa.Table)):
        return _take_arrow(data, indices)
    if _is_pandas(data):
        try:
            return data.iloc[indices.to_numpy()]
        except pa.ArrowNotImplementedError:  # a pd.ArrowDtype column of views: see _take_arrow
            import pandas as pd

            runs = _runs(indices)
            return pd.concat([data.iloc[lo:hi] for lo, hi in runs]) if runs else data.iloc[0:0]
    if _is_polars(data) or _instance(data, "polars", "Series"):
        import polars as pl

        return data[pl.from_arrow(indices)]
    # One column (refused when sent, every row not written): its rows, as the same kind (a pyarrow array for an
    # other library's array).
    if _instance(data, "pandas", "Series"):
        return data.iloc[indices.to_numpy()]
    if isinstance(data, pa.ChunkedArray):
        return data.take(indices)
    if hasattr(data, "__arrow_c_array__"):
        column = data if isinstance(data, pa.Array) else pa.array(data)
        if not pa.types.is_struct(column.type):
            return column.take(indices)
        return _take_arrow(_array_batch(data), indices)
    raise TypeError(f"cannot extract rows from {type(data).__qualname__}")


def _runs(indices: pa.Array) -> list[tuple[int, int]]:
    """The runs of consecutive rows of ``indices`` (ascending) as half-open ranges ``[lo, hi)``."""
    import numpy as np

    rows = indices.to_numpy()
    if len(rows) == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts, ends = rows[np.r_[0, breaks]], rows[np.r_[breaks - 1, len(rows) - 1]] + 1
    return [(int(lo), int(hi)) for lo, hi in zip(starts, ends, strict=True)]


def _take_arrow(data: Any, indices: pa.Array) -> Any:
    """``data.take(indices)`` of a pyarrow Table or RecordBatch (indices ascending). pyarrow has no take kernel for
    string and binary views (at any depth: "Function 'array_take' has no kernel matching input types
    (string_view, int64)"): such data is cut into the runs of consecutive indices and the slices joined."""
    try:
        return data.take(indices)
    except pa.ArrowNotImplementedError:
        parts = [data.slice(lo, hi - lo) for lo, hi in _runs(indices)]
        if not parts:
            return data.slice(0, 0)
        if isinstance(data, pa.Table):
            return pa.concat_tables(parts)
        concat = getattr(pa, "concat_batches", None)  # pyarrow >= 19
        if concat is not None:
            return concat(parts)
        return pa.Table.from_batches(parts, schema=data.schema).combine_chunks().to_batches()[0]


def _batches_of(data: Any) -> pa.RecordBatchReader | None:
    """The inputs read as a stream to extract rows: a reader over them, or None for the others."""
    if _is_struct_chunks(data):
        return _struct_chunks_reader(data)
    if isinstance(data, (pa.RecordBatch, pa.Table)) or _is_pandas(data) or _is_polars(data):
        return None
    if "pyarrow.parquet" in sys.modules:
        import pyarrow.parquet as pq

        if isinstance(data, pq.ParquetFile):
            return _parquet_reader(data)
    if "pyarrow.dataset" in sys.modules:
        import pyarrow.dataset as ds

        if isinstance(data, ds.Dataset):
            return data.scanner().to_reader()
        if isinstance(data, ds.Scanner):
            return data.to_reader()
    return None


def _is_file_read(data: Any) -> bool:
    """A Parquet file, dataset or scanner: read again in file order, it gives the same rows in the same order."""
    if "pyarrow.parquet" in sys.modules:
        import pyarrow.parquet as pq

        if isinstance(data, pq.ParquetFile):
            return True
    if "pyarrow.dataset" in sys.modules:
        import pyarrow.dataset as ds

        if isinstance(data, (ds.Dataset, ds.Scanner)):
            return True
    return False


def _refuse_rerun(data: Any) -> None:
    """Rows are selected by their position in what was sent. An object read through ``__arrow_c_stream__`` (a DuckDB
    relation, a lazy query, a foreign library's stream) produces its rows again when read again, with no promise of
    the same rows in the same order: a query without a fixed order (``ORDER BY random()``, a parallel aggregate, a
    sample) would give back other rows than the ones selected, silently. Refused, saying what to pass instead."""
    if isinstance(data, (pa.RecordBatch, pa.Table)) or _is_pandas(data) or _is_polars(data) or _is_file_read(data):
        return
    if isinstance(data, pa.ChunkedArray) or _is_series(data):  # in memory and immutable, as a table
        return
    if isinstance(data, pa.RecordBatchReader):
        raise TypeError(
            "a RecordBatchReader is consumed by send_batch; pass the data it came from "
            "(or read it into a Table first) to extract rows"
        )
    if hasattr(data, "__arrow_c_stream__"):
        raise TypeError(
            f"cannot extract rows from a {type(data).__qualname__}: it is read through __arrow_c_stream__, and a "
            "second read (a query run again) need not give the same rows in the same order, so the rows selected "
            "could be other rows than the ones sent; materialise the data first (e.g. table = "
            "relation.to_arrow_table() for a DuckDB relation, or pyarrow.table(obj)), send that table and extract "
            "from it"
        )


def _take_streamed(reader: pa.RecordBatchReader, indices: pa.Array, total_rows: int) -> pa.Table:
    """The rows at ``indices`` (ascending) of the stream, read once: memory
    grows with the rows kept, not with the input."""
    import numpy as np

    wanted = indices.to_numpy()
    parts: list[pa.RecordBatch] = []
    offset = 0
    for batch in reader:
        lo, hi = np.searchsorted(wanted, [offset, offset + batch.num_rows])
        if hi > lo:
            parts.append(_take_arrow(batch, pa.array(wanted[lo:hi] - offset)))
        offset += batch.num_rows
    if offset != total_rows:
        raise ValueError(
            f"the batch has {offset} rows but the result describes {total_rows}; pass the batch that was sent"
        )
    return pa.Table.from_batches(parts, schema=reader.schema)


def _num_rows(data: Any) -> int:
    """The input's row count for extraction (:func:`known_rows`, a dataset counted); ``TypeError`` for an input
    whose rows cannot be selected again (see :func:`_refuse_rerun`) or that is not data."""
    _refuse_rerun(data)
    n = known_rows(data, count=True)
    if n is None:
        raise TypeError(f"cannot extract rows from {type(data).__qualname__}")
    return n


def known_rows(data: Any, *, count: bool) -> int | None:
    """The rows of ``data`` as a send counts them, known without reading its data: a pyarrow Table, RecordBatch,
    Array or ChunkedArray, a pandas or polars DataFrame or Series, a Parquet file (its footer), an object with
    ``__arrow_c_array__`` only, and with ``count`` a dataset or scanner (counted from its files' metadata). None
    for the others: a reader or an ``__arrow_c_stream__`` object (read once, by the send), anything that is not
    data. One helper for a failed send's result (``_all_not_written``) and for extraction (:func:`_num_rows`), so
    both say the same inputs have a length."""
    if isinstance(data, (pa.RecordBatch, pa.Table)):
        return int(data.num_rows)
    if isinstance(data, (pa.Array, pa.ChunkedArray)) or _is_pandas(data) or _is_polars(data) or _is_series(data):
        return len(data)
    parquet = sys.modules.get("pyarrow.parquet")
    if parquet is not None and isinstance(data, parquet.ParquetFile):
        return int(data.metadata.num_rows)
    dataset = sys.modules.get("pyarrow.dataset")
    if dataset is not None and isinstance(data, (dataset.Dataset, dataset.Scanner)):
        return int(data.count_rows()) if count else None
    if hasattr(data, "__arrow_c_array__") and not hasattr(data, "__arrow_c_stream__"):
        try:
            return len(pa.array(data))
        except Exception:  # not an array after all: no count
            return None
    return None
