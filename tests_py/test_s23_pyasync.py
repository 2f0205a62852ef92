"""s23 pyasync: asyncio sends whose event loop is closed, and the event loop's own work per send.

1. A loop closed while a send's start was still queued (accepted by ``send_batch_async``, not yet handed to Go)
   left the send uncancelled: a start thread still started it afterwards, Go sent it to its end, and nobody
   learnt its outcome. A closed loop now cancels every send it started, queued (never handed to Go: its rows
   not written) or live (cancelled: its rows written, not written or unknown), and the outcome of each is logged
   (a WARNING of ``zerobus_py`` with the result as ``zerobus_result``); the tests compare those results with the
   rows the server stored.
2. 300 sends started together stalled the event loop 0.1-0.2 s: per send, the loop submitted a pool job (with a
   thread woken taking the GIL from it) and made the Go ``Notify`` call. The loop now only queues each start;
   the start threads (at most ``_START_THREADS``) take the queue and make the Go calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
import time
from typing import Any

import pyarrow as pa
import pytest
from conftest import SendReports, id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, TransmissionResult, _wrapper
from zerobus_py.local import LocalServer

#: sends per test: more than the start threads, so that some starts are still queued
SENDS = 40
WARM_UP = 10


def _ids(k: int) -> range:
    """The ids of send k: k + 1 rows, so that a result's total_rows names its send."""
    return range(1000 + k * 100, 1000 + k * 100 + k + 1)


def _batch(k: int) -> pa.RecordBatch:
    ids = _ids(k)
    return id_batch(ids.start, len(ids))


class _Gate:
    """Holds every send's start in the input's export until opened; counts the starts that reached it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._open = threading.Event()
        self._open.set()
        self.entered = threading.Event()
        self.count = 0
        self._lock = threading.Lock()
        export = _wrapper.export

        def gated(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.count += 1
            self.entered.set()
            assert self._open.wait(60), "the gate was never opened"
            return export(*args, **kwargs)

        monkeypatch.setattr(_wrapper, "export", gated)

    def close(self) -> None:
        self.entered.clear()
        self.count = 0
        self._open.clear()

    def open(self) -> None:
        self._open.set()


def _check_against_server(server: LocalServer, table: str, results: dict[int, TransmissionResult]) -> None:
    """Each send's result against the rows the server stored: written rows stored, rows not written not stored,
    stored rows written or unknown, and nothing stored that no send had."""
    assert sorted(results) == list(range(SENDS))
    stored = set(stored_ids(server, table))
    everything = set(range(WARM_UP)).union(*(_ids(k) for k in range(SENDS)))
    assert stored <= everything
    for k, res in results.items():
        ids = _ids(k)
        assert res.total_rows == len(ids)
        ok = {ids[i] for i in res.get_successful_row_indices()}
        not_written = {ids[i] for i in res.get_not_written_row_indices()}
        unknown = {ids[i] for i in res.get_unknown_row_indices()}
        assert ok | not_written | unknown == set(ids), k
        assert ok <= stored, k
        assert not not_written & stored, (k, sorted(not_written & stored))
        assert stored & set(ids) <= ok | unknown, k


def test_a_loop_closed_with_starts_queued_cancels_every_send_and_reports_its_rows(
    table_name: str, monkeypatch: pytest.MonkeyPatch, reports: SendReports
) -> None:
    gate = _Gate(monkeypatch)
    with LocalServer(ack_delay_ms=1000) as server:
        aw = AsyncZerobusWrapper(server.config(table_name))
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(aw.send_batch(id_batch(0, WARM_UP))).all_succeeded
        gate.close()
        tasks = [loop.create_task(aw.send_batch(_batch(k))) for k in range(SENDS)]
        loop.run_until_complete(asyncio.sleep(0))  # every task's first step: each start queued
        assert gate.entered.wait(30)  # a start thread is in the export
        loop.close()  # the tasks still pending: every send must be cancelled, none awaited
        del tasks
        gc.collect()
        gate.open()  # the starts held in the export go on: their loop is closed now
        deadline = time.monotonic() + 60
        while len(reports.records) < SENDS and time.monotonic() < deadline:
            time.sleep(0.05)
        results: dict[int, TransmissionResult] = {}
        for record in reports.records:
            res = record.zerobus_result
            assert isinstance(res, TransmissionResult)
            assert res.total_rows - 1 not in results, "a send reported twice"
            results[res.total_rows - 1] = res
        gc.collect()  # the tasks, left pending (their starts held them until taken)
        aw.sync.close(timeout=10)
        _check_against_server(server, table_name, results)
    assert 1 <= gate.count <= _wrapper._START_THREADS  # the starts still queued were never handed to Go
    never_sent = [k for k, res in results.items() if res.not_written_count == res.total_rows]
    assert len(never_sent) >= SENDS - gate.count
    assert all("nobody can await a send_batch_async" in r.getMessage() for r in reports.records)


def test_cancelled_tasks_give_up_queued_starts_with_every_row_not_written(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio.run cancels the tasks left pending: a start still queued is never handed to Go (its
    CancelledError's result lists every row as not written); one a start thread runs is cancelled once started,
    with Go's partial result."""
    gate = _Gate(monkeypatch)
    results: dict[int, TransmissionResult] = {}

    async def one(w: AsyncZerobusWrapper, k: int) -> Any:
        try:
            return await w.send_batch(_batch(k))
        except asyncio.CancelledError as exc:
            results[k] = exc.result  # type: ignore[attr-defined]
            raise

    async def main(w: AsyncZerobusWrapper) -> list[asyncio.Task[Any]]:
        assert (await w.send_batch(id_batch(0, WARM_UP))).all_succeeded
        gate.close()
        tasks = [asyncio.create_task(one(w, k)) for k in range(SENDS)]
        while not gate.entered.is_set():
            await asyncio.sleep(0.01)
        threading.Timer(0.2, gate.open).start()  # while asyncio.run cancels the tasks
        return tasks  # left pending: asyncio.run cancels them

    with LocalServer(ack_delay_ms=1000) as server:
        aw = AsyncZerobusWrapper(server.config(table_name))
        tasks = asyncio.run(main(aw))
        assert all(t.cancelled() for t in tasks)
        aw.sync.close(timeout=10)
        assert all(isinstance(res, TransmissionResult) for res in results.values())
        _check_against_server(server, table_name, results)
    assert 1 <= gate.count <= _wrapper._START_THREADS
    never_sent = [k for k, res in results.items() if res.not_written_count == res.total_rows]
    assert len(never_sent) >= SENDS - gate.count


class _RecordingPool(concurrent.futures.ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(16, thread_name_prefix="zerobus_py-test-wait")
        self.submitters: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        self.submitters.append(threading.get_ident())
        return super().submit(fn, *args, **kwargs)


def test_the_event_loop_only_queues_each_start(table_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Go calls of a send's start (SendStream, Notify) run in start threads, and the loop submits at most one
    pool job per start thread, not one per send."""
    from zerobus_py._native import pybind

    pool = _RecordingPool()
    monkeypatch.setattr(_wrapper, "_waiters", pool)
    notify_threads: list[int] = []
    notify = pybind.Pending.Notify

    def recording_notify(self: Any, *args: Any, **kwargs: Any) -> Any:
        notify_threads.append(threading.get_ident())
        return notify(self, *args, **kwargs)

    monkeypatch.setattr(pybind.Pending, "Notify", recording_notify)
    gate = _Gate(monkeypatch)
    sends = 100
    loop_thread = from_loop = 0

    async def main(w: AsyncZerobusWrapper) -> list[TransmissionResult]:
        nonlocal loop_thread, from_loop
        loop_thread = threading.get_ident()
        await w.send_batch(id_batch(0, WARM_UP))
        pool.submitters.clear()
        notify_threads.clear()
        gate.close()
        sent = asyncio.gather(*(w.send_batch(id_batch(100 + k * 10, 10)) for k in range(sends)))
        await asyncio.sleep(0)  # every send's first step: its start queued
        gate.open()
        results = await sent
        from_loop = pool.submitters.count(loop_thread)  # not the shutdown's waits, after
        return results

    try:
        with LocalServer() as server:

            async def run() -> list[TransmissionResult]:
                async with AsyncZerobusWrapper(server.config(table_name)) as w:
                    return await main(w)

            results = asyncio.run(run())
            assert stored_ids(server, table_name) == list(range(WARM_UP)) + list(range(100, 100 + sends * 10))
    finally:
        pool.shutdown()
    assert all(r.all_succeeded and r.successful_count == 10 for r in results)
    assert len(notify_threads) == sends
    assert loop_thread not in notify_threads
    assert 1 <= from_loop <= _wrapper._START_THREADS, f"{from_loop} pool jobs submitted by the loop for {sends} sends"
