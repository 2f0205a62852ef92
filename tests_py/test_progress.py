"""send_batch(progress=...): rows resolved so far, per part of a large batch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_small_batch_reports_once(wrapper: ZerobusWrapper) -> None:
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(id_batch(0, 10), progress=lambda done, total: calls.append((done, total)))
    assert res.success
    assert calls == [(10, 10)]


def test_large_table_reports_each_part(
    monkeypatch: pytest.MonkeyPatch, wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    table = pa.Table.from_batches([id_batch(0, 3000), id_batch(3000, 2000)])
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(table, progress=lambda done, total: calls.append((done, total)))
    assert res.success and res.total_rows == 5000
    assert len(calls) >= 16, calls  # at least one per 1/16 of the input
    assert all(total == 5000 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and done[-1] == 5000
    assert stored_ids(server, table_name) == list(range(5000))


def test_stream_has_no_total(wrapper: ZerobusWrapper) -> None:
    # one part per 100-row batch

    def gen() -> Iterator[pa.RecordBatch]:
        for i in range(4):
            yield id_batch(i * 100, 100)

    calls: list[tuple[int, int | None]] = []
    reader = pa.RecordBatchReader.from_batches(id_batch(0, 1).schema, gen())
    assert wrapper.send_batch(reader, progress=lambda d, t: calls.append((d, t))).success
    assert calls == [(100, None), (200, None), (300, None), (400, None)]


def test_failing_callback_cancels_the_send(table_name: str) -> None:
    # Part 1's rows all fail conversion (uint64 over the int64 maximum), so it
    # resolves at once; the other parts wait for acks the server delays by
    # five seconds. The callback's exception cancels them and propagates at once.
    parts = [
        pa.record_batch(
            {
                "id": pa.array(range(k * 100, k * 100 + 100), pa.int64()),
                "v": pa.array([2**64 - 1 if k == 0 else i for i in range(100)], pa.uint64()),
            }
        )
        for k in range(6)
    ]
    table = pa.Table.from_batches(parts)

    def stop(done: int, total: int | None) -> None:
        raise KeyError("stop here")

    # Acks come 5 s late: the raise ends the send before them (the bound was 0.9 s with 1 s late
    # acks, which a loaded machine can take for the return alone).
    with LocalServer(ack_delay_ms=5000) as server, ZerobusWrapper(server.config(table_name)) as w:
        started = time.monotonic()
        with pytest.raises(KeyError, match="stop here") as info:
            w.send_batch(table, progress=stop)
        assert time.monotonic() - started < 4.5
        res = info.value.result  # type: ignore[attr-defined]
        assert res.total_rows == 600 and res.successful_count == 0
        assert res.get_failed_row_indices_by_error_type("ConversionError") == list(range(100))
        assert res.get_failed_row_indices_by_error_type("CancelledError") == list(range(100, 600))
        # the cancelled requests are still acknowledged later (at-least-once)
        w.flush(timeout=30)
        # (no table at all when the cancel came before the stream was opened)
        stored = stored_ids(server, table_name) if table_name in server.tables() else []
        assert set(stored) <= set(range(100, 600))
        assert set(stored) <= set(res.get_unknown_row_indices())  # never a not-written row stored


def test_async_progress(config: WrapperConfiguration) -> None:
    calls: list[tuple[int, int | None]] = []

    async def main() -> None:
        async with AsyncZerobusWrapper(config) as w:
            res = await w.send_batch(id_batch(0, 7), progress=lambda d, t: calls.append((d, t)))
            assert res.success

    asyncio.run(main())
    assert calls == [(7, 7)]
