"""Reading the debug files a wrapper writes when ``debug_enabled`` (or
``debug_arrow_enabled`` / ``debug_protobuf_enabled``) is set.

Arrow debug files (``*.arrow``) are Arrow IPC streams of the batches as they
were passed to ``send_batch``; protobuf debug files (``*.proto``, with a
``*.descriptor.pb`` sidecar) hold the encoded records exactly as sent.
Writes dropped because the disk fell behind are listed by :func:`read_drops`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _bridge
from ._errors import ZerobusError

__all__ = ["list_files", "read_drops", "read_file"]


def read_file(path: str | os.PathLike[str]) -> pa.Table:
    """Read a debug file into a pyarrow Table.

    An Arrow file returns its batches as written (a file cut short by a crash
    returns the complete batches before the cut); each batch is validated in
    full (offsets, indices, lengths, UTF-8), so a damaged one raises
    :class:`~zerobus_py.ZerobusError` naming the file and batch instead of
    handing on data that reads as garbage or crashes. A protobuf file is decoded
    with its descriptor sidecar by the Go core: columns have the protobuf
    types (timestamps as int64 microseconds, dates as int32 days, decimals as
    strings).

    Raises ``FileNotFoundError`` for a missing file and
    :class:`~zerobus_py.ZerobusError` for a file that cannot be decoded.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no debug file at {p}")
    if p.suffix == ".proto":
        raw = bytes(_bridge.call(_bridge.native.ReadDebugFile, os.fspath(p)))
        return pa.ipc.open_stream(raw).read_all()
    return _read_arrow(p)


def _read_arrow(p: Path) -> pa.Table:
    try:
        reader = pa.ipc.open_stream(pa.memory_map(os.fspath(p)))
    except pa.ArrowInvalid as exc:
        raise ZerobusError(f"zerobus: {p} is not an Arrow IPC stream debug file: {exc}") from None
    batches: list[pa.RecordBatch] = []
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError):
            break  # a file cut short: keep the complete batches
        # pyarrow, like arrow-go, trusts the offsets and lengths in a body.
        try:
            batch.validate(full=True)
        except pa.ArrowInvalid as exc:
            raise ZerobusError(
                f"zerobus: {p}: batch {len(batches)}: {exc} (the file is damaged from this batch on)"
            ) from None
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def list_files(debug_output_dir: str | os.PathLike[str]) -> list[Path]:
    """Every debug file (``*.arrow`` and ``*.proto``) under
    ``debug_output_dir``, sorted by path."""
    root = Path(debug_output_dir)
    return sorted(p for p in root.rglob("*") if p.suffix in (".arrow", ".proto") and p.is_file())


def read_drops(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The gaps recorded for debug file ``path`` (``.arrow`` or ``.proto``):
    one dict per point where writes were dropped because the disk fell behind
    (or a file failed), with ``before_write`` and ``before_row`` (where in the
    file), ``dropped_writes``, ``dropped_rows``, ``dropped_bytes`` and
    ``reason``. Read from the sidecar ``<stem>.drops.jsonl``; an empty list
    when nothing is missing from the file."""
    p = Path(path)
    side = p.with_name(p.stem + ".drops.jsonl")
    try:
        text = side.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
