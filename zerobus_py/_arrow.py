"""Input normalisation: every supported kind of tabular data becomes a schema
and a stream of pyarrow RecordBatches, serialised to Arrow IPC for the Go core.

Accepted inputs:

* ``pyarrow.RecordBatch`` and ``pyarrow.Table`` (zero-copy views of its chunks);
* ``pyarrow.RecordBatchReader``: consumed batch by batch, never materialised;
* ``pandas.DataFrame`` (the index is dropped) and ``polars.DataFrame``;
* any object implementing the Arrow PyCapsule interface: ``__arrow_c_stream__``
  (streamed like a reader) or ``__arrow_c_array__`` (one struct array = one batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = ["Payload", "normalize", "payloads", "take_rows"]

#: Upper bound of one IPC payload handed to Go. Bigger inputs are split into
#: several payloads (zero-copy slices), so memory stays bounded.
MAX_PAYLOAD_BYTES = 64 << 20


def _module_name(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _is_pandas(obj: object) -> bool:
    return _module_name(obj) == "pandas" and type(obj).__name__ == "DataFrame"


def _is_polars(obj: object) -> bool:
    return _module_name(obj) == "polars" and type(obj).__name__ == "DataFrame"


@dataclass
class Normalized:
    """A schema and the batches of one logical batch (an iterator for streams)."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    streamed: bool


def normalize(data: Any) -> Normalized:
    """Turn supported input into a :class:`Normalized` batch stream.

    Raises ``TypeError`` naming the accepted kinds for anything else.
    """
    if isinstance(data, pa.RecordBatch):
        return Normalized(data.schema, (data,), False)
    if isinstance(data, pa.Table):
        return Normalized(data.schema, data.to_batches(), False)
    if isinstance(data, pa.RecordBatchReader):
        return Normalized(data.schema, _iter_reader(data), True)
    if _is_pandas(data):
        table = pa.Table.from_pandas(data, preserve_index=False)
        return Normalized(table.schema, table.to_batches(), False)
    if _is_polars(data):
        table = data.to_arrow()
        return Normalized(table.schema, table.to_batches(), False)
    if hasattr(data, "__arrow_c_stream__"):
        reader = pa.RecordBatchReader.from_stream(data)
        return Normalized(reader.schema, _iter_reader(reader), True)
    if hasattr(data, "__arrow_c_array__"):
        batch = pa.record_batch(data)
        return Normalized(batch.schema, (batch,), False)
    raise TypeError(
        f"cannot send {type(data).__module__}.{type(data).__qualname__}: pass a pyarrow RecordBatch, Table or "
        "RecordBatchReader, a pandas or polars DataFrame, or an object with __arrow_c_stream__ / __arrow_c_array__"
    )


def _iter_reader(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        yield batch


@dataclass
class Payload:
    """One Arrow IPC stream handed to Go, as memory segments, with its row count.

    ``segments`` is ``"addr:size,..."`` over ``buffers``, which must stay
    referenced until the native call that reads them returns.
    """

    buffers: list[pa.Buffer]
    rows: int

    @property
    def segments(self) -> str:
        return ",".join(f"{b.address}:{b.size}" for b in self.buffers)

    @property
    def nbytes(self) -> int:
        return sum(b.size for b in self.buffers)


#: The last schema encoded, whether it has dictionaries, and its IPC message
#: (most callers send one schema over and over; a tuple swap is thread-safe).
_last_schema: tuple[pa.Schema, bool, pa.Buffer] | None = None


def _schema_message(schema: pa.Schema) -> tuple[bool, pa.Buffer]:
    global _last_schema
    last = _last_schema
    if last is not None and (last[0] is schema or last[0].equals(schema, check_metadata=True)):
        return last[1], last[2]
    # str(schema) spells every dictionary type "dictionary<...>" (a field
    # named so only costs the slower path); 3x cheaper than walking the types.
    has_dict = "dictionary<" in str(schema)
    message = schema.serialize()
    _last_schema = (schema, has_dict, message)
    return has_dict, message


def _encode(schema: pa.Schema, batches: Sequence[pa.RecordBatch]) -> list[pa.Buffer]:
    """Encode as the encapsulated IPC messages of a stream: the schema, then
    each batch (one copy of the data, no concatenation; Go reads them in
    place during a synchronous send)."""
    has_dict, message = _schema_message(schema)
    if has_dict:
        # Dictionaries need dictionary messages: use the stream writer.
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, schema) as w:
            for b in batches:
                w.write_batch(b)
        return [sink.getvalue()]
    return [message, *(b.serialize() for b in batches)]


def payloads(norm: Normalized, max_bytes: int | None = None) -> Iterator[Payload]:
    """Group the batches into IPC payloads of at most about ``max_bytes``
    (default :data:`MAX_PAYLOAD_BYTES`; a larger single batch is split into
    row slices). Always yields at least one payload (an empty input gives a
    payload with the schema and no rows)."""
    if max_bytes is None:
        max_bytes = MAX_PAYLOAD_BYTES
    group: list[pa.RecordBatch] = []
    size = rows = 0
    emitted = False
    for batch in norm.batches:
        for piece in _split(batch, max_bytes):
            n = piece.get_total_buffer_size()
            if group and size + n > max_bytes:
                yield Payload(_encode(norm.schema, group), rows)
                emitted = True
                group, size, rows = [], 0, 0
            group.append(piece)
            size += n
            rows += piece.num_rows
    if group or not emitted:
        yield Payload(_encode(norm.schema, group), rows)


def _split(batch: pa.RecordBatch, max_bytes: int) -> Iterator[pa.RecordBatch]:
    size = batch.get_total_buffer_size()
    if size <= max_bytes or batch.num_rows <= 1:
        yield batch
        return
    pieces = -(-size // max_bytes)
    step = max(1, -(-batch.num_rows // pieces))
    for start in range(0, batch.num_rows, step):
        yield batch.slice(start, step)


def take_rows(data: Any, indices: list[int], total_rows: int) -> Any:
    """Select rows by index from the kind of object that was sent, returning
    the same kind (pyarrow RecordBatch/Table, pandas/polars DataFrame) or a
    pyarrow Table for other Arrow objects."""
    if isinstance(data, pa.RecordBatchReader):
        raise TypeError(
            "a RecordBatchReader is consumed by send_batch; pass the data it came from "
            "(or read it into a Table first) to extract rows"
        )
    n = _num_rows(data)
    if n != total_rows:
        raise ValueError(f"the batch has {n} rows but the result describes {total_rows}; pass the batch that was sent")
    if isinstance(data, (pa.RecordBatch, pa.Table)):
        return data.take(pa.array(indices, type=pa.int64()))
    if _is_pandas(data):
        return data.iloc[indices]
    if _is_polars(data):
        import polars as pl

        return data[pl.Series(indices, dtype=pl.Int64)]
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data).take(pa.array(indices, type=pa.int64()))
    if hasattr(data, "__arrow_c_array__"):
        return pa.record_batch(data).take(pa.array(indices, type=pa.int64()))
    raise TypeError(f"cannot extract rows from {type(data).__qualname__}")


def _num_rows(data: Any) -> int:
    if isinstance(data, (pa.RecordBatch, pa.Table)):
        return int(data.num_rows)
    if _is_pandas(data) or _is_polars(data):
        return len(data)
    if hasattr(data, "__arrow_c_stream__"):
        return int(pa.table(data).num_rows)
    if hasattr(data, "__arrow_c_array__"):
        return int(pa.record_batch(data).num_rows)
    raise TypeError(f"cannot extract rows from {type(data).__qualname__}")
