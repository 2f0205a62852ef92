"""The Arrow C stream hand-over: Go reads the caller's data in place while the
send runs, so these tests drop, rebuild and scribble over the caller's objects
during sends, send from 16 threads and from asyncio, exit the interpreter with
sends pending and interrupt blocking sends (Ctrl-C) with acks stalled, and
compare the rows the local server stored with what was sent."""

from __future__ import annotations

import asyncio
import gc
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import AsyncZerobusWrapper, CancelledError, ZerobusWrapper
from zerobus_py.local import LocalServer


def _scribble() -> None:
    """Reuse freed memory: allocate and fill many buffers of assorted sizes."""
    junk = [pa.py_buffer(bytes([0xEE]) * n) for n in (64, 4096, 65536, 1 << 20) for _ in range(16)]
    del junk
    gc.collect()


def _stored(server: LocalServer, table: str) -> pa.Table:
    return server.table(table).sort_by("id")


def _expected(*ranges: tuple[int, int]) -> pa.Table:
    return pa.Table.from_batches([id_batch(lo, n) for lo, n in ranges]).sort_by("id")


def test_async_send_survives_the_caller_dropping_its_data(table_name: str) -> None:
    async def main(server: LocalServer) -> list[Any]:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            table = pa.Table.from_batches([id_batch(i * 10_000, 10_000) for i in range(5)])
            task1 = asyncio.create_task(w.send_batch(table))
            df = id_batch(50_000, 5_000).to_pandas()
            task2 = asyncio.create_task(w.send_batch(df))
            await asyncio.sleep(0.15)  # both in flight: acks are 3 s late (300 ms was not enough under load)
            assert not task1.done() and not task2.done()
            del table
            df["name"] = "overwritten"  # strings were copied into Arrow by from_pandas
            df["id"] = -1  # NumPy ints may be shared: replace the column, do not write into it
            del df
            _scribble()
            return list(await asyncio.gather(task1, task2))

    with LocalServer(ack_delay_ms=3000) as server:
        results = asyncio.run(main(server))
        assert [r.successful_count for r in results] == [50_000, 5_000]
        assert _stored(server, table_name).equals(_expected((0, 50_000), (50_000, 5_000)))


def test_sync_send_from_a_thread_while_the_caller_rebuilds(table_name: str) -> None:
    with LocalServer(ack_delay_ms=200) as server, ZerobusWrapper(server.config(table_name)) as w:
        holder: dict[str, Any] = {"t": pa.Table.from_batches([id_batch(0, 20_000)])}
        out: list[Any] = []
        th = threading.Thread(target=lambda: out.append(w.send_batch(holder.pop("t"))))
        th.start()
        time.sleep(0.1)
        holder["t"] = pa.Table.from_batches([id_batch(99_000, 20_000, tag="other")])  # new data, old freed
        _scribble()
        th.join(30)
        assert out and out[0].success
        assert _stored(server, table_name).equals(_expected((0, 20_000)))


def _reader(lo: int, batches: int, size: int) -> pa.RecordBatchReader:
    """A reader pulled from a Python generator: Go's threads take the GIL to read it."""

    def gen() -> Iterator[pa.RecordBatch]:
        for k in range(batches):
            yield id_batch(lo + k * size, size)

    return pa.RecordBatchReader.from_batches(id_batch(0, 1).schema, gen())


def test_sixteen_threads_on_one_wrapper(server: LocalServer, wrapper: ZerobusWrapper, table_name: str) -> None:
    kinds = ["table", "reader", "pandas", "batch"]
    results: list[Any] = [None] * 16
    errors: list[BaseException] = []

    def send(i: int) -> None:
        lo = i * 4_000
        try:
            kind = kinds[i % 4]
            if kind == "table":
                data: Any = pa.Table.from_batches([id_batch(lo, 2_000), id_batch(lo + 2_000, 2_000)])
            elif kind == "reader":
                data = _reader(lo, 8, 500)
            elif kind == "pandas":
                data = id_batch(lo, 4_000).to_pandas()
            else:
                data = id_batch(lo, 4_000)
            for _ in range(2):
                _scribble()
            results[i] = wrapper.send_batch(data, progress=lambda d, t: None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert all(r is not None and r.success and r.total_rows == 4_000 for r in results), results
    assert _stored(server, table_name).equals(_expected(*[(i * 4_000, 4_000) for i in range(16)]))


_EXIT_CHILD = textwrap.dedent(
    """
    import sys, threading, time
    import pyarrow as pa
    from zerobus_py import WrapperConfiguration, ZerobusWrapper

    endpoint, workspace, client_id, secret, table = sys.argv[1:6]

    def batch(lo, n):
        ids = list(range(lo, lo + n))
        return pa.record_batch({"id": pa.array(ids, pa.int64()), "name": [f"x-{i}" for i in ids],
                                "score": pa.array([i * 0.5 for i in ids], pa.float64())})

    def gen():
        for k in range(40):
            yield batch(k * 500, 500)

    cfg = WrapperConfiguration(endpoint, table, client_id=client_id, client_secret=secret,
                               unity_catalog_url=workspace)
    w = ZerobusWrapper(cfg)
    reader = pa.RecordBatchReader.from_batches(batch(0, 1).schema, gen())
    threading.Thread(target=w.send_batch, args=(reader,), daemon=True).start()
    threading.Thread(target=w.send_batch, args=(pa.Table.from_batches([batch(20_000, 5_000)]),), daemon=True).start()
    time.sleep(0.5)
    print("exiting with sends pending", flush=True)
    """
)


def test_interpreter_exit_with_sends_pending(server: LocalServer, table_name: str) -> None:
    # Acks never come: the sends are still waiting when the interpreter exits.
    # Exit cancels them and releases the callers' data while Python still
    # runs (the reader is a Python generator Go reads under the GIL).
    server.inject_fault(table_name, "stall_acks", persistent=True)
    args = [server.endpoint, server.workspace_url, server.client_id, server.client_secret, table_name]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _EXIT_CHILD, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "exiting with sends pending" in proc.stdout
    assert "Fatal Python error" not in proc.stderr and "panic" not in proc.stderr
    assert time.monotonic() - started < 20
    stored = _stored(server, table_name)
    sent = _expected((0, 25_000))
    assert stored.num_rows > 0
    # what arrived is exactly what was sent, row for row
    ids = stored.column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert stored.equals(sent.take(pa.array(ids, pa.int64())))


# -- interrupts -------------------------------------------------------------------

pytestmark_posix = pytest.mark.skipif(sys.platform == "win32", reason="delivers SIGINT to this process: POSIX only")


class _Interrupt:
    """Deliver SIGINT to the main thread after ``delay`` seconds; ``at`` is when."""

    def __init__(self, delay: float) -> None:
        self.at = 0.0
        self._timer = threading.Timer(delay, self._fire)

    def _fire(self) -> None:
        self.at = time.monotonic()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    def __enter__(self) -> _Interrupt:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


# "Promptly" below: the acks never come (stall_acks), so a send or shutdown that did not stop
# would wait for the ack timeout (60 s by default) or flush_timeout_ms (300 s); the interrupt
# grace is 0.2 s. The bounds were 0.5-3 s, which a loaded machine can take for the return
# alone; this one still fails any wait for the acks.
_PROMPT = 10.0


@pytest.fixture
def stalled(server: LocalServer, table_name: str) -> Iterator[LocalServer]:
    server.inject_fault(table_name, "stall_acks", persistent=True)
    yield server
    server.clear_faults(table_name)


def _check_partial(result: Any, rows: int) -> None:
    assert result is not None and result.total_rows == rows and result.successful_count == 0
    assert all(isinstance(e, CancelledError) for _, e in result.failed_row_errors)


@pytestmark_posix
def test_ctrl_c_interrupts_a_blocking_send(stalled: LocalServer, table_name: str) -> None:
    # the interrupt leaves the with block too (a short grace for acks, not minutes)
    with (
        pytest.raises(KeyboardInterrupt) as info,
        _Interrupt(0.3) as intr,
        ZerobusWrapper(stalled.config(table_name)) as w,
    ):
        w.send_batch(id_batch(0, 1_000))
    took = time.monotonic() - intr.at
    assert took < _PROMPT, f"KeyboardInterrupt came {took:.2f} s after SIGINT"
    _check_partial(info.value.result, 1_000)  # type: ignore[attr-defined]


@pytestmark_posix
def test_ctrl_c_with_sends_in_other_threads(stalled: LocalServer, table_name: str) -> None:
    w = ZerobusWrapper(stalled.config(table_name))
    others: list[Any] = []

    def other(i: int) -> None:
        try:
            others.append(w.send_batch(id_batch(10_000 * (i + 1), 500)))
        except Exception as exc:
            others.append(getattr(exc, "result", exc))

    threads = [threading.Thread(target=other, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    with pytest.raises(KeyboardInterrupt) as info, _Interrupt(0.3) as intr:
        w.send_batch(_reader(0, 4, 250))
    took = time.monotonic() - intr.at
    assert took < _PROMPT, f"KeyboardInterrupt came {took:.2f} s after SIGINT"
    _check_partial(info.value.result, 1_000)  # type: ignore[attr-defined]
    # the other threads' sends end when the wrapper is shut down with a short timeout
    t0 = time.monotonic()
    with pytest.raises(CancelledError, match="aborted the streams"):
        w.shutdown(timeout=0.3)
    for t in threads:
        t.join(5)
    assert time.monotonic() - t0 < _PROMPT
    assert len(others) == 4 and all(r.successful_count == 0 and r.failed_count == 500 for r in others), others


@pytestmark_posix
def test_ctrl_c_interrupts_asyncio(stalled: LocalServer, table_name: str) -> None:
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with AsyncZerobusWrapper(stalled.config(table_name)) as w:
            try:
                await w.send_batch(id_batch(0, 800))
            except asyncio.CancelledError as exc:
                seen["result"] = getattr(exc, "result", None)
                raise

    with pytest.raises(KeyboardInterrupt), _Interrupt(0.3) as intr:
        asyncio.run(main())
    took = time.monotonic() - intr.at
    assert took < _PROMPT, f"KeyboardInterrupt came {took:.2f} s after SIGINT"
    _check_partial(seen["result"], 800)


def test_timeout_reports_cancelled_rows(stalled: LocalServer, table_name: str) -> None:
    w = ZerobusWrapper(stalled.config(table_name))
    t0 = time.monotonic()
    with pytest.raises(CancelledError) as info:
        w.send_batch(id_batch(0, 100), timeout=0.3)
    assert time.monotonic() - t0 < _PROMPT
    _check_partial(info.value.result, 100)
    with pytest.raises(CancelledError):  # the acks never come
        w.shutdown(timeout=0.2)


# -- an interrupt as the send starts -------------------------------------------------


def _truthful(result: Any, stored: int, rows: int) -> None:
    """``result`` of a cancelled send of ``rows`` rows, ``stored`` of which the server holds: no row it calls
    acknowledged is missing, no row it calls not written is stored (the unknown ones may be either)."""
    assert result is not None, "the send started as the cancellation came has no result: nothing waited for it"
    assert result.total_rows in (0, rows), result
    assert result.successful_count <= stored <= result.successful_count + result.unknown_count, (result, stored)
    assert result.not_written_count + stored <= rows, (result, stored)


def _settled_count(server: LocalServer, table: str) -> int:
    """Rows stored once nothing more arrives (0.5 s without a change)."""
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 0.5:
        n = server.record_count(table)
        if n != last:
            last, quiet_since = n, time.monotonic()
        time.sleep(0.05)
    return last


class _SlowStream:
    """An input whose export takes ``delay`` seconds (a query run at ``__arrow_c_stream__``)."""

    def __init__(self, table: pa.Table, delay: float) -> None:
        self._table, self._delay = table, delay

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        time.sleep(self._delay)
        return self._table.__arrow_c_stream__(requested_schema)


def test_cancelling_an_async_send_while_it_starts_cancels_the_go_send(server: LocalServer, table_name: str) -> None:
    """The task was cancelled while its worker thread exported the input: CancelledError came at once with no
    ``result``, and the worker then started the Go send with nothing waiting for or cancelling it (all 5 rows
    were stored after the caller was told the send was cancelled). Now the start is waited for, the send it
    started is cancelled, and its partial result is on the CancelledError."""
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            send = asyncio.create_task(w.send_batch(_SlowStream(pa.table({"id": pa.array(range(5), pa.int64())}), 1.0)))
            await asyncio.sleep(0.3)  # the worker is in __arrow_c_stream__
            send.cancel()
            try:
                await send
            except asyncio.CancelledError as exc:
                seen["result"] = getattr(exc, "result", None)
            seen["at"] = time.monotonic()

    t0 = time.monotonic()
    asyncio.run(main())
    assert "result" in seen, "the cancelled send did not raise CancelledError"
    assert seen["at"] - t0 < _PROMPT
    _truthful(seen["result"], _settled_count(server, table_name), 5)


@pytestmark_posix
def test_ctrl_c_as_the_go_send_starts_cancels_it(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGINT just after SendStream returned (Python runs the handler before the call's result is stored)
    raised KeyboardInterrupt with no ``result`` while the Go send went on and stored every row. The interrupt
    is now held until the send is stored, then cancels it as any Ctrl-C during a send does."""
    from zerobus_py import _bridge, _wrapper

    started: list[Any] = []
    real = _bridge.call

    def call(fn: Any, *args: Any) -> Any:
        out = real(fn, *args)
        if getattr(fn, "__name__", "") == "SendStream":
            started.append(out)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # handled before `return`
        return out

    w = ZerobusWrapper(server.config(table_name))
    monkeypatch.setattr(_bridge, "call", call)
    with pytest.raises(KeyboardInterrupt) as info:
        w.send_batch(id_batch(0, 5))
    monkeypatch.undo()
    assert len(started) == 1
    assert started[0].Ready(), "the Go send started as the interrupt came is still running"
    assert all(s.pending is not started[0] for s in _wrapper._live)
    _truthful(getattr(info.value, "result", None), _settled_count(server, table_name), 5)
    w.shutdown()
