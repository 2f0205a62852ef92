"""Reading the debug files a wrapper writes when ``debug_enabled`` (or
``debug_arrow_enabled`` / ``debug_protobuf_enabled``) is set.

Arrow debug files (``*.arrow``) are Arrow IPC streams of the batches as they
were passed to ``send_batch``; protobuf debug files (``*.proto``, with a
``*.descriptor.pb`` sidecar) hold the encoded records exactly as sent.
Writes dropped because the disk fell behind are listed by :func:`read_drops`.
"""

from __future__ import annotations

import ctypes
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _bridge
from ._errors import ZerobusError, from_native

__all__ = [
    "DamagedDebugFileError",
    "DamagedDropsWarning",
    "list_files",
    "read_batches",
    "read_drops",
    "read_file",
    "read_file_tail",
]


class DamagedDebugFileError(ZerobusError):
    """A debug file damaged (or cut short: a crash, a full disk) at a batch
    or record (raised by :func:`read_file`). The message is the Go reader's:
    for an Arrow file it names the file, the batch and, for a damaged body,
    the column and row; for a protobuf file the file, the record and the
    byte offset where the damage starts.

    Attributes:
        intact: what comes before the damage, as a pyarrow Table: the
            batches of an Arrow file (what ``core.ReadDebugArrowFile``
            returns with its error), the complete records of a protobuf file
            (``core.ReadDebugProtoFileArrow``); what ``zerobus debug read``
            prints before failing. Damage in the first batch or record gives
            an empty table of the file's schema.
    """

    def __init__(self, message: str, *, details: dict[str, Any], intact: pa.Table) -> None:
        super().__init__(message, details=details)
        self.intact: pa.Table = intact


class DamagedDropsWarning(UserWarning):
    """A drops sidecar (``<stem>.drops.jsonl``) with damaged lines: one cut
    short by a full disk or a crash, or garbage (warned by
    :func:`read_drops`, which returns the gaps of the other lines all the
    same). The message is the Go reader's (``core.ReadDebugDrops``), naming
    the sidecar and each damaged line, as ``zerobus debug read`` notes it.

    Attributes:
        sidecar: the sidecar's path.
        lines: the damaged lines' numbers (1-based).
    """

    def __init__(self, message: str, *, sidecar: str = "", lines: list[int] | None = None) -> None:
        # defaults: pickle and copy rebuild it from its message, then restore the attributes
        super().__init__(message)
        self.sidecar: str = sidecar
        self.lines: list[int] = list(lines or ())


def read_file(path: str | os.PathLike[str]) -> pa.Table:
    """Read a debug file into a pyarrow Table, with the Go core's reader.

    An Arrow file returns its batches as written; each batch's metadata and
    body are checked (offsets, indices, lengths, UTF-8), so a damaged file (also
    a rotated one, or an active one whose writer closed it, cut short by a
    crash or a full disk; the active file, while its writer still writes it,
    reads up to its last complete batch) raises :class:`DamagedDebugFileError`,
    a :class:`~zerobus_py.ZerobusError` naming the file, batch, column and row,
    whose ``intact`` attribute holds the batches before the damage (none, an
    empty table of the file's schema, when the first batch is damaged). A
    protobuf file is decoded with its descriptor sidecar: columns have the
    protobuf types (timestamps as int64 microseconds, dates as int32 days,
    decimals as strings); one damaged or cut short likewise raises
    :class:`DamagedDebugFileError` naming the record and the byte offset where
    the damage starts, with the complete records before it in ``intact``.

    An Arrow file holding its schema and no batch (a rotated file closed
    before its first batch, or the active file while its first batch is
    being written) reads as a table of no rows with the file's columns. The
    active Arrow file with no schema yet (just created) reads as a table of
    no columns and no rows (``pa.table({})``): the file has no schema to give
    yet. A debug file of no byte (a crash right after a rotation can leave one; the
    next wrapper writing that table removes it) holds no rows: an Arrow file
    reads as that empty table, a protobuf file as no rows of its descriptor's
    columns.
    :func:`read_file_tail` also says whether the file is still being written.

    Raises ``FileNotFoundError`` for a missing file and
    :class:`~zerobus_py.ZerobusError` for a file that cannot be decoded (its
    schema unreadable).
    """
    return read_file_tail(path)[0]


def read_file_tail(path: str | os.PathLike[str]) -> tuple[pa.Table, str | None]:
    """:func:`read_file`, and whether the file is still being written.

    Returns ``(table, still_writing)``: ``table`` as :func:`read_file` returns
    it (and the same errors), ``still_writing`` ``None`` when the file is
    complete (a rotated file, or the active one ending after a whole batch or
    record), else the Go core's description of how it ends
    (``core.DebugTail``): ``"empty: still being written (nothing written
    yet)"`` for an Arrow file with no schema yet, or ``"still being written:
    it ends inside a message at byte offset N (M bytes of it so far); ..."``
    for an active file whose writer is mid-write (the table then holds the
    batches or records before that offset). The CLI prints the same text as
    ``note: FILE is ...`` on stderr (``zerobus debug read``).
    """
    reader, found = _export(path)
    with reader:
        table = reader.read_all()
    damage = found.Damage()
    if damage:
        raise _damaged(damage, table)
    return table, (str(found.Tail()) if found.StillWriting() else None)


def read_batches(path: str | os.PathLike[str]) -> pa.RecordBatchReader:
    """Read a debug file a batch at a time, for a file larger than memory.

    Returns a ``pyarrow.RecordBatchReader`` of the batches :func:`read_file`
    returns (the same schema, the same checks; iterate it, or pass it to a
    library that reads Arrow streams): an Arrow debug file is read from disk
    one batch at a time as the reader is iterated, so only the batches kept
    by the caller stay in memory; a protobuf debug file's records are decoded
    with its descriptor into batches of 65536 records as they are read (a
    record past the first 65536 that does not decode with the descriptor
    ends the batches like damage). Damage ends the batches
    with :class:`DamagedDebugFileError` raised by the reader (by
    ``read_next_batch``, the iteration, or ``read_all``) after the intact
    batches before it were given; its ``intact`` is then an empty table of
    the file's schema (the intact batches were already returned). Whether
    the file is still being written is not reported: see
    :func:`read_file_tail`. The file is closed when the reader reaches its
    end (also when damage ends it) or is garbage-collected (``del reader``);
    ``close()`` and leaving a ``with`` block do not close it before then.
    Read a reader from one thread at a time.

    Raises ``FileNotFoundError`` for a missing file and
    :class:`~zerobus_py.ZerobusError` for a file that cannot be decoded (its
    schema unreadable), as :func:`read_file` does.
    """
    reader, found = _export(path)

    def batches() -> Iterator[pa.RecordBatch]:
        with reader:
            yield from reader
        damage = found.Damage()
        if damage:
            raise _damaged(damage, reader.schema.empty_table())

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


class _ArrowArrayStream(ctypes.Structure):
    """The Arrow C stream interface's ``struct ArrowArrayStream``, which Go
    fills and pyarrow takes over (both move it: it is left released)."""

    _fields_ = [
        ("get_schema", ctypes.c_void_p),
        ("get_next", ctypes.c_void_p),
        ("get_last_error", ctypes.c_void_p),
        ("release", ctypes.c_void_p),
        ("private_data", ctypes.c_void_p),
    ]


_release_stream = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _export(path: str | os.PathLike[str]) -> tuple[pa.RecordBatchReader, Any]:
    """The debug file at ``path`` as a pyarrow reader of its intact batches,
    read by the Go core as pyarrow asks for them (an Arrow C stream: the
    batches stay in the memory Go read them into, no copy), and the Go
    object saying, once the reader has ended, whether damage ended it and
    how the file ends."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no debug file at {p}")
    stream = _ArrowArrayStream()
    address = ctypes.addressof(stream)
    found = _bridge.call(_bridge.native.ExportDebugFile, os.fspath(p), address)
    try:
        reader = pa.RecordBatchReader._import_from_c(address)
    except BaseException:
        if stream.release:  # not taken over: release it here, so that Go closes the file
            _release_stream(stream.release)(address)
        raise
    return reader, found


def _damaged(damage: str, intact: pa.Table) -> DamagedDebugFileError:
    err = from_native(RuntimeError(damage))
    return DamagedDebugFileError(err.message, details=err.details, intact=intact)


def list_files(debug_output_dir: str | os.PathLike[str]) -> list[Path]:
    """Every debug file (``*.arrow`` and ``*.proto``) under
    ``debug_output_dir``, sorted by path (the Go core's rule,
    ``core.ListDebugFiles``; sidecars are left out)."""
    paths: list[str] = json.loads(_bridge.call(_bridge.native.ListDebugFiles, os.fspath(debug_output_dir))) or []
    return sorted(Path(p) for p in paths)


def read_drops(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The gaps recorded for debug file ``path`` (``.arrow`` or ``.proto``):
    one dict per point where writes were dropped because the disk fell behind
    (or a file failed), with ``before_write`` and ``before_row`` (where in the
    file), ``dropped_writes``, ``dropped_rows``, ``dropped_bytes`` and
    ``reason``. Read from the sidecar ``<stem>.drops.jsonl`` by the Go core
    (``core.ReadDebugDrops``); an empty list when no drop was recorded for the
    file. A damaged line (one cut short by a full disk or a crash, or
    garbage) does not stop the reading: the gaps of every other line are
    returned (and a gap appended after half a line, as the Go core keeps it),
    and one :class:`DamagedDropsWarning` names the sidecar and each damaged
    line (a gap it recorded may be missing from the list), as ``zerobus debug
    read`` notes it on stderr. To fail on one instead, turn the warning into
    an error (``warnings.simplefilter("error", DamagedDropsWarning)``). A
    sidecar that cannot be read raises :class:`~zerobus_py.ZerobusError`.

    An empty list means nothing is missing, except when the disk failed: a
    write that fails (a full disk, an I/O error) loses what was buffered for
    the file, and the sidecar recording it usually cannot be written either.
    Such losses are counted by ``ZerobusWrapper.debug_stats()``
    (``failures``, and the lost writes in ``dropped_writes`` /
    ``dropped_rows``), the ``zerobus.debug.failures`` and
    ``zerobus.debug.dropped`` metrics, and logged (``zerobus debug file: I/O
    failed``); a failure while the wrapper closes is in the metrics and the
    log only."""
    got = json.loads(_bridge.call(_bridge.native.ReadDebugDrops, os.fspath(path)))
    gaps: list[dict[str, Any]] = got["gaps"] or []
    damaged: list[dict[str, Any]] = got["damaged"] or []
    if damaged:
        message = "; ".join(d["message"] for d in damaged) + "; a gap recorded there may be missing from the list"
        warnings.warn(
            DamagedDropsWarning(message, sidecar=damaged[0]["sidecar"], lines=[d["line"] for d in damaged]),
            stacklevel=2,
        )
    return gaps
