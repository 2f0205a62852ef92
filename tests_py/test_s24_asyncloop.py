"""s24 asyncloop: the start queue of asyncio sends, and a send whose hand-over to the waiter failed.

1. The start threads (``_START_THREADS`` at most) were shared by every event loop of the process: a few slow
   starts of one loop (an input whose export blocks: a lazy frame, a dataset, a reader waiting on its source) held
   every other loop's sends until one of them ended. Each loop now has its own queue and up to
   ``_START_THREADS`` starts running at once; the loops share a bound of ``_START_THREADS_TOTAL`` threads, and a
   thread that frees serves the loop with the fewest starts running first.
2. ``_AsyncWaiter.adopt`` failing after Go had the batch (a thread that cannot be started) gave the caller the
   bare error, no ``.result``, although rows may have been sent; with the event loop closed the send was reported
   twice (once as "not written", wrongly, once by the waiter). The send is cancelled, the exception carries its
   partial result (written / not written / unknown, as Go classifies them), and it is reported once. A failed
   start whose error was posted to a loop then closed without running it was never reported: it is logged once;
   a task cancelled while its start fails gets the start's result on its CancelledError.

The tests compare results with the rows the server stored, and assert orderings, never durations.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from conftest import SendReports, id_batch, stored_ids

import zerobus_py
from zerobus_py import AsyncZerobusWrapper, TransmissionResult, _wrapper
from zerobus_py.local import LocalServer

#: how long a test waits at most for something that must happen (a guard against a hang, not a time bound)
PATIENCE = 60


class _Gates:
    """Holds the starts of chosen batches in the input's export, each until its own gate is opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._gates: dict[int, threading.Event] = {}
        self.entered: list[int] = []  # the first id of each gated batch whose start reached its gate, in order
        self.started: list[int] = []  # the first id of every batch whose export began, in order
        self._cond = threading.Condition()
        export = _wrapper.export

        def gated(batch: Any, *args: Any, **kwargs: Any) -> Any:
            first = batch.column(0)[0].as_py() if isinstance(batch, pa.RecordBatch) and batch.num_rows else None
            gate = self._gates.get(first) if isinstance(first, int) else None
            with self._cond:
                self.started.append(first)
                if gate is not None:
                    self.entered.append(first)
                self._cond.notify_all()
            if gate is not None:
                assert gate.wait(PATIENCE), "the gate was never opened"
            return export(batch, *args, **kwargs)

        monkeypatch.setattr(_wrapper, "export", gated)

    def hold(self, first_id: int) -> None:
        self._gates[first_id] = threading.Event()

    def open(self, first_id: int) -> None:
        self._gates[first_id].set()

    def open_all(self) -> None:
        for gate in self._gates.values():
            gate.set()

    def closed(self) -> list[int]:
        return [k for k, gate in self._gates.items() if not gate.is_set()]

    def wait_entered(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.entered) >= n, PATIENCE), self.entered


class _LoopThread:
    """An event loop running in its own thread, for coroutines submitted from the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(PATIENCE)
        self.loop.close()


def _check_stored(server: LocalServer, table: str, expected: set[int]) -> None:
    assert set(stored_ids(server, table)) == expected
    assert len(stored_ids(server, table)) == len(expected)  # each row once


def test_slow_starts_of_one_loop_do_not_hold_up_another_loops_send(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loop A's starts, more than ``_START_THREADS``, all blocked in their export; loop B's send (in another thread)
    is started, sent and acknowledged while they are still blocked."""
    gates = _Gates(monkeypatch)
    slow = [10_000 + 100 * k for k in range(_wrapper._START_THREADS + 2)]
    for first in slow:
        gates.hold(first)
    a, b = _LoopThread(), _LoopThread()
    try:
        with LocalServer() as server:
            wa = AsyncZerobusWrapper(server.config(table_name))
            wb = AsyncZerobusWrapper(server.config(table_name))
            assert a.run(wa.send_batch(id_batch(0, 5))).result(PATIENCE).all_succeeded
            sends_a = [a.run(wa.send_batch(id_batch(first, 10))) for first in slow]
            gates.wait_entered(_wrapper._START_THREADS)  # every start thread loop A may use is blocked
            b_send = b.run(wb.send_batch(id_batch(500, 7)))
            try:
                result_b = b_send.result(PATIENCE)
            finally:
                blocked, entered = gates.closed(), list(gates.entered)
                gates.open_all()
            assert blocked == slow, "loop B's send completed only once loop A's starts went on"
            assert result_b.all_succeeded and result_b.successful_count == 7
            # loop A ran no more than _START_THREADS starts at once: its first ones, the later ones still queued
            assert sorted(entered) == slow[: _wrapper._START_THREADS]
            results_a = [f.result(PATIENCE) for f in sends_a]
            assert all(r.all_succeeded and r.successful_count == 10 for r in results_a)
            a.run(wa.close(timeout=10)).result(PATIENCE)
            b.run(wb.close(timeout=10)).result(PATIENCE)
            expected = set(range(5)) | set(range(500, 507)) | {i for f in slow for i in range(f, f + 10)}
            _check_stored(server, table_name, expected)
    finally:
        gates.open_all()
        a.stop()
        b.stop()


def test_a_freed_start_thread_serves_the_loop_with_fewest_starts_first(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every start thread of the process busy (the total bound, made 2 here), loop A queued a third start
    before loop B queued its one: the first thread to free takes B's (no start running) before A's third."""
    monkeypatch.setattr(_wrapper, "_START_THREADS_TOTAL", 2, raising=False)  # main had no such bound
    gates = _Gates(monkeypatch)
    a1, a2, a3, b1 = 20_000, 20_100, 20_200, 30_000
    for first in (a1, a2, a3):
        gates.hold(first)
    a, b = _LoopThread(), _LoopThread()
    try:
        with LocalServer() as server:
            wa = AsyncZerobusWrapper(server.config(table_name))
            wb = AsyncZerobusWrapper(server.config(table_name))
            assert a.run(wa.send_batch(id_batch(0, 5))).result(PATIENCE).all_succeeded
            sa1 = a.run(wa.send_batch(id_batch(a1, 10)))
            sa2 = a.run(wa.send_batch(id_batch(a2, 10)))
            gates.wait_entered(2)  # both threads of the process blocked
            sa3 = a.run(wa.send_batch(id_batch(a3, 10)))
            # sa3 queued in loop A (its coroutine ran up to the queue) before B's send is submitted
            a.run(asyncio.sleep(0)).result(PATIENCE)
            sb1 = b.run(wb.send_batch(id_batch(b1, 3)))
            b.run(asyncio.sleep(0)).result(PATIENCE)
            assert a3 not in gates.started and b1 not in gates.started  # both wait for a thread
            gates.open(a1)
            result_b = sb1.result(PATIENCE)
            assert result_b.all_succeeded and result_b.successful_count == 3
            order = list(gates.started)
            gates.open_all()
            assert b1 in order and (a3 not in order or order.index(b1) < order.index(a3)), order
            for f in (sa1, sa2, sa3):
                assert f.result(PATIENCE).all_succeeded
            a.run(wa.close(timeout=10)).result(PATIENCE)
            b.run(wb.close(timeout=10)).result(PATIENCE)
            expected = set(range(5)) | set(range(b1, b1 + 3)) | {i for f in (a1, a2, a3) for i in range(f, f + 10)}
            _check_stored(server, table_name, expected)
    finally:
        gates.open_all()
        a.stop()
        b.stop()


class _AdoptFails:
    """Makes the next ``_AsyncWaiter.adopt`` (once armed) fail after it watched the send, as a thread that cannot
    be started does: Go has the batch then. It fails once ``stored()`` (if given) is true: the rows reached the
    server (which holds their acknowledgements back)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stored: Callable[[], bool] | None = None) -> None:
        self.armed = False
        self.failed = 0
        adopt = _wrapper._AsyncWaiter.adopt

        def failing(waiter: Any, send: Any, loop: Any) -> None:
            adopt(waiter, send, loop)
            if self.armed:
                self.armed = False
                deadline = time.monotonic() + PATIENCE
                while stored is not None and not stored() and time.monotonic() < deadline:
                    time.sleep(0.01)
                self.failed += 1
                raise RuntimeError("can't start new thread")

        monkeypatch.setattr(_wrapper._AsyncWaiter, "adopt", failing)


def _check_result(server: LocalServer, table: str, res: object, ids: range, others: set[int]) -> None:
    """``res`` is the send of ``ids``'s honest result: each row written (stored), not written (not stored) or
    unknown; nothing stored but ``others`` and rows of the send written or unknown."""
    assert isinstance(res, TransmissionResult), res
    assert res.total_rows == len(ids)
    stored = stored_ids(server, table)
    assert len(stored) == len(set(stored))
    ok = {ids[i] for i in res.get_successful_row_indices()}
    not_written = {ids[i] for i in res.get_not_written_row_indices()}
    unknown = {ids[i] for i in res.get_unknown_row_indices()}
    assert ok | not_written | unknown == set(ids)
    assert ok <= set(stored)
    assert not not_written & set(stored), sorted(not_written & set(stored))
    assert set(stored) - others <= ok | unknown


def _sweeps(n: int) -> None:
    """Wait until the asyncio waiter thread began ``n`` more sweeps of sends whose loop was closed."""
    waiter = _wrapper._async_waiter
    assert waiter is not None
    for _ in range(n):
        since = time.monotonic()
        deadline = since + PATIENCE
        while waiter._swept <= since and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiter._swept > since


def test_an_adopt_failing_after_go_has_the_batch_raises_with_the_sends_result(
    table_name: str, monkeypatch: pytest.MonkeyPatch, reports: SendReports
) -> None:
    """The caller gets the error with the cancelled send's partial result as ``.result`` (rows acknowledged,
    not sent, sent and not acknowledged: compared with the rows stored); nothing else reports the send, even once
    its loop is closed."""
    ids = range(100, 160)
    with LocalServer(ack_delay_ms=3000) as server:
        fails = _AdoptFails(monkeypatch, lambda: set(ids) <= set(stored_ids(server, table_name)))
        aw = AsyncZerobusWrapper(server.config(table_name))
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(aw.send_batch(id_batch(0, 5))).all_succeeded
        fails.armed = True

        async def failing_send() -> BaseException:
            with pytest.raises(RuntimeError, match="can't start new thread") as info:
                await aw.send_batch(id_batch(ids.start, len(ids)))
            return info.value

        err = loop.run_until_complete(failing_send())
        assert fails.failed == 1
        assert zerobus_py.partial_result(err) is err.result  # type: ignore[attr-defined]
        loop.close()
        _sweeps(2)  # the waiter would have reported a send still watched whose loop is closed by now
        assert reports.records == []
        aw.sync.close(timeout=10)
        _check_result(server, table_name, err.result, ids, set(range(5)))  # type: ignore[attr-defined]


def test_an_adopt_failing_after_its_loop_was_closed_reports_the_send_once(
    table_name: str, monkeypatch: pytest.MonkeyPatch, reports: SendReports
) -> None:
    """The loop is closed while the send starts; the hand-over to the waiter then fails: one WARNING, whose
    result agrees with the rows stored (it said every row "not written", and the waiter reported it again)."""
    gates = _Gates(monkeypatch)
    ids = range(200, 260)
    gates.hold(ids.start)
    with LocalServer(ack_delay_ms=3000) as server:
        fails = _AdoptFails(monkeypatch, lambda: set(ids) <= set(stored_ids(server, table_name)))
        aw = AsyncZerobusWrapper(server.config(table_name))
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(aw.send_batch(id_batch(0, 5))).all_succeeded
        fails.armed = True
        task = loop.create_task(aw.send_batch(id_batch(ids.start, len(ids))))
        loop.run_until_complete(asyncio.sleep(0))  # its start queued
        gates.wait_entered(1)  # a start thread took it, and is in the export
        loop.close()
        gates.open_all()
        deadline = time.monotonic() + PATIENCE
        while not reports.records and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fails.failed == 1
        _sweeps(2)  # a second report (the waiter's, of the send it watched) would be made by now
        del task
        gc.collect()
        assert len(reports.records) == 1, [r.getMessage() for r in reports.records]
        record = reports.records[0]
        assert "can't start new thread" in record.getMessage()
        aw.sync.close(timeout=10)
        _check_result(server, table_name, record.zerobus_result, ids, set(range(5)))


def test_a_failed_start_posted_to_an_idle_loop_then_closed_is_reported_once(
    table_name: str, monkeypatch: pytest.MonkeyPatch, reports: SendReports
) -> None:
    """The event loop is not running when the start fails (after Go had the batch): the error is posted to it,
    and the loop is closed without running again. Nothing can raise into the task: the send is logged, once,
    with its rows as Go classified them (it was never reported)."""
    ids = range(300, 360)
    with LocalServer(ack_delay_ms=3000) as server:
        fails = _AdoptFails(monkeypatch, lambda: set(ids) <= set(stored_ids(server, table_name)))
        aw = AsyncZerobusWrapper(server.config(table_name))
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(aw.send_batch(id_batch(0, 5))).all_succeeded
        posted = threading.Event()
        post = loop.call_soon_threadsafe

        def recording(callback: Any, *args: Any, **kwargs: Any) -> Any:
            handle = post(callback, *args, **kwargs)
            if getattr(callback, "__name__", "") == "_settle_start":
                posted.set()
            return handle

        monkeypatch.setattr(loop, "call_soon_threadsafe", recording)
        fails.armed = True
        task = loop.create_task(aw.send_batch(id_batch(ids.start, len(ids))))
        loop.run_until_complete(asyncio.sleep(0))  # its start queued; the loop then stops running
        assert posted.wait(PATIENCE)  # the start failed, its error handed to the idle loop
        assert fails.failed == 1
        loop.close()  # the hand-over never runs
        del task
        gc.collect()
        deadline = time.monotonic() + PATIENCE
        while not reports.records and time.monotonic() < deadline:
            time.sleep(0.05)
        _sweeps(2)
        assert len(reports.records) == 1, [r.getMessage() for r in reports.records]
        record = reports.records[0]
        assert "can't start new thread" in record.getMessage()
        aw.sync.close(timeout=10)
        _check_result(server, table_name, record.zerobus_result, ids, set(range(5)))


def test_a_task_cancelled_while_its_start_fails_gets_the_sends_result(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task is cancelled while a start thread runs its start, which then fails after Go had the batch: the
    CancelledError carries the send's result (it had none)."""
    gates = _Gates(monkeypatch)
    ids = range(400, 460)
    gates.hold(ids.start)
    with LocalServer(ack_delay_ms=3000) as server:
        fails = _AdoptFails(monkeypatch, lambda: set(ids) <= set(stored_ids(server, table_name)))

        async def main() -> BaseException:
            async with AsyncZerobusWrapper(server.config(table_name)) as w:
                assert (await w.send_batch(id_batch(0, 5))).all_succeeded
                fails.armed = True
                task = asyncio.create_task(w.send_batch(id_batch(ids.start, len(ids))))
                while not gates.entered:
                    await asyncio.sleep(0.01)
                task.cancel()  # the start runs: it is waited for
                await asyncio.sleep(0)
                gates.open_all()
                with pytest.raises(asyncio.CancelledError) as info:
                    await task
                return info.value

        err = asyncio.run(main())
        assert fails.failed == 1
        _check_result(server, table_name, getattr(err, "result", None), ids, set(range(5)))
