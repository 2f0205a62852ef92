"""send_batch(progress=...): rows resolved so far, per part of a large batch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, WrapperConfiguration, ZerobusWrapper, _arrow
from zerobus_py.local import LocalServer


def test_small_batch_reports_once(wrapper: ZerobusWrapper) -> None:
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(id_batch(0, 10), progress=lambda done, total: calls.append((done, total)))
    assert res.success
    assert calls == [(10, 10)]


def test_large_table_reports_each_part(
    monkeypatch: pytest.MonkeyPatch, wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    monkeypatch.setattr(_arrow, "MAX_PAYLOAD_BYTES", 16 << 10)
    table = pa.Table.from_batches([id_batch(0, 3000), id_batch(3000, 2000)])
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(table, progress=lambda done, total: calls.append((done, total)))
    assert res.success and res.total_rows == 5000
    assert len(calls) > 3, calls
    assert all(total == 5000 for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and done[-1] == 5000
    assert stored_ids(server, table_name) == list(range(5000))


def test_stream_has_no_total(monkeypatch: pytest.MonkeyPatch, wrapper: ZerobusWrapper) -> None:
    # one part per 100-row batch
    monkeypatch.setattr(_arrow, "MAX_PAYLOAD_BYTES", id_batch(0, 100).get_total_buffer_size() * 3 // 2)

    def gen() -> Iterator[pa.RecordBatch]:
        for i in range(4):
            yield id_batch(i * 100, 100)

    calls: list[tuple[int, int | None]] = []
    reader = pa.RecordBatchReader.from_batches(id_batch(0, 1).schema, gen())
    assert wrapper.send_batch(reader, progress=lambda d, t: calls.append((d, t))).success
    assert calls == [(100, None), (200, None), (300, None), (400, None)]


def test_failing_callback_waits_for_parts_in_flight(monkeypatch: pytest.MonkeyPatch, table_name: str) -> None:
    # Part 1's rows all fail conversion (uint64 over the int64 maximum), so it
    # resolves at once; parts 2 and 3, handed to Go right behind it, wait for
    # acks the server delays by a second.
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
    monkeypatch.setattr(_arrow, "MAX_PAYLOAD_BYTES", parts[0].get_total_buffer_size() * 3 // 2)
    assert len(list(_arrow.payloads(_arrow.normalize(table)))) == 6

    def stop(done: int, total: int | None) -> None:
        raise KeyError("stop here")

    with LocalServer(ack_delay_ms=1000) as server, ZerobusWrapper(server.config(table_name)) as w:
        with pytest.raises(KeyError, match="stop here"):
            w.send_batch(table, progress=stop)
        # The exception propagated only once parts 2 and 3 were resolved:
        # nothing of the call is still waiting for acks (a short flush finds
        # nothing pending), and part 4 was never sent.
        w.flush(timeout=0.1)
        assert stored_ids(server, table_name) == list(range(100, 300))


def test_async_progress(config: WrapperConfiguration) -> None:
    calls: list[tuple[int, int | None]] = []

    async def main() -> None:
        async with AsyncZerobusWrapper(config) as w:
            res = await w.send_batch(id_batch(0, 7), progress=lambda d, t: calls.append((d, t)))
            assert res.success

    asyncio.run(main())
    assert calls == [(7, 7)]
