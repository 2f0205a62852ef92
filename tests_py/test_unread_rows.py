"""A send that stops before reading its whole input (a timeout, a cancelled asyncio task, a progress callback that
raises) of an input whose length is known (a pyarrow Table, a pandas DataFrame, a Parquet file): the result covers
every row of the input, the rows never read as not written (they were never sent), so the extraction helpers take
the batch that was sent and give every row the server did not store. Compared with the rows the server stored."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import id_batch

from zerobus_py import AsyncZerobusWrapper, ZerobusError, ZerobusWrapper, _wrapper
from zerobus_py.local import LocalServer

ROWS = 20_000


@pytest.fixture
def stalled(server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """The session server for ``table_name``: the first messages are acknowledged, then acks stop (the messages
    are still stored); sends read at most 1,000 rows ahead of the acknowledgements (parts of 250 rows), so a send
    of ``ROWS`` rows waits with most of its input unread."""
    monkeypatch.setattr(_wrapper, "_SEND_WINDOW", (1000, 0))
    server.inject_fault(table_name, "stall_acks", after_messages=2, persistent=True)
    yield server
    server.clear_faults(table_name)


def _input(kind: str, tmp_path: Path) -> Any:
    """``ROWS`` rows, ids 0.. in row order, as ``kind``."""
    table = pa.Table.from_batches([id_batch(0, ROWS)])
    if kind == "pandas":
        return table.to_pandas()
    if kind == "parquet":
        pq.write_table(table, tmp_path / "in.parquet", row_group_size=2_000)
        return pq.ParquetFile(tmp_path / "in.parquet")
    return table


def _ids(extracted: Any) -> list[int]:
    """The ids of an extraction helper's rows (None: no rows)."""
    if extracted is None:
        return []
    if isinstance(extracted, pa.Table):
        return [int(i) for i in extracted.column("id").to_pylist()]
    return [int(i) for i in extracted["id"].tolist()]  # pandas


def _settled_ids(server: LocalServer, table: str) -> set[int]:
    """The ids stored once nothing more arrives (0.5 s without a change)."""
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 0.5:
        n = server.record_count(table) if table in server.tables() else 0
        if n != last:
            last, quiet_since = n, time.monotonic()
        time.sleep(0.05)
    return set(server.table(table).column("id").to_pylist()) if last > 0 else set()


def _check_covers_input(server: LocalServer, table: str, result: Any, sent: Any) -> None:
    """``result`` of a send of ``sent`` stopped part-way: every row of the input in exactly one outcome, the rows
    never read not written, the extraction helpers take ``sent``, and they give exactly the rows not stored."""
    assert result is not None, "the stopped send has no result"
    assert result.total_rows == ROWS, result
    durable = set(result.get_successful_row_indices())
    not_written = set(result.get_not_written_row_indices())
    unknown = set(result.get_unknown_row_indices())
    assert len(durable) + len(not_written) + len(unknown) == ROWS, result
    assert durable | not_written | unknown == set(range(ROWS)), result
    assert (result.successful_count, result.not_written_count, result.unknown_count) == (
        len(durable),
        len(not_written),
        len(unknown),
    )
    assert result.failed_count == len(not_written) + len(unknown)
    # At most 1,000 rows are read ahead of the acknowledgements (a part of 250 more may wait to be sent): the
    # rest were never read, and are not written.
    read_at_most = len(durable) + 1000 + 250
    assert set(range(read_at_most, ROWS)) <= not_written, result
    assert result.error is not None and result.has_failed_rows()

    failed_ids = _ids(result.extract_failed_batch(sent))
    not_written_ids = _ids(result.extract_not_written_batch(sent))
    unknown_ids = _ids(result.extract_unknown_batch(sent))
    assert failed_ids == sorted(not_written | unknown)
    assert not_written_ids == sorted(not_written)
    assert unknown_ids == sorted(unknown)
    assert _ids(result.extract_successful_batch(sent)) == sorted(durable)

    stored = _settled_ids(server, table)
    assert durable <= stored, "a row reported durable is not stored"
    assert not (stored & not_written), f"{len(stored & not_written)} rows reported not written are stored"
    assert stored <= durable | unknown
    # The rows the server does not hold: the not-written ones, and the unknown ones that did not land.
    assert set(range(ROWS)) - stored == set(not_written_ids) | (set(unknown_ids) - stored)


@pytest.mark.parametrize("kind", ["table", "pandas", "parquet"])
def test_timeout_covers_the_rows_never_read(stalled: LocalServer, table_name: str, tmp_path: Path, kind: str) -> None:
    sent = _input(kind, tmp_path)
    w = ZerobusWrapper(stalled.config(table_name))
    try:
        result: Any
        try:
            result = w.send_batch(sent, timeout=1.0)
        except ZerobusError as err:  # nothing acknowledged before the timeout: the batch failed as a whole
            result = err.result
        _check_covers_input(stalled, table_name, result, sent)
    finally:
        with contextlib.suppress(ZerobusError):  # the stalled acks never come
            w.shutdown(timeout=0.2)


def test_failing_progress_callback_covers_the_rows_never_read(stalled: LocalServer, table_name: str) -> None:
    sent = _input("table", Path())

    def stop(done: int, total: int | None) -> None:
        raise KeyError("stop here")

    w = ZerobusWrapper(stalled.config(table_name))
    try:
        with pytest.raises(KeyError, match="stop here") as info:
            w.send_batch(sent, progress=stop)
        _check_covers_input(stalled, table_name, info.value.result, sent)  # type: ignore[attr-defined]
    finally:
        with contextlib.suppress(ZerobusError):
            w.shutdown(timeout=0.2)


def test_cancelled_async_send_covers_the_rows_never_read(stalled: LocalServer, table_name: str) -> None:
    sent = _input("table", Path())
    seen: dict[str, Any] = {}

    async def main() -> None:
        w = AsyncZerobusWrapper(stalled.config(table_name))
        try:
            task = asyncio.create_task(w.send_batch(sent))
            # Cancel once the server holds rows: the send is under way (a guard, not a bound, on the wait).
            deadline = time.monotonic() + 120
            while not (table_name in stalled.tables() and stalled.record_count(table_name) > 0):
                assert time.monotonic() < deadline and not task.done(), "the send stored nothing"
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            seen["result"] = getattr(info.value, "result", None)
        finally:
            with contextlib.suppress(ZerobusError):
                await w.shutdown(timeout=0.2)

    asyncio.run(main())
    _check_covers_input(stalled, table_name, seen["result"], sent)
