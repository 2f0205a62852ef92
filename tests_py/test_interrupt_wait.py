"""Ctrl-C while waiting for acknowledgements outside a send: ``flush()``, ``shutdown()``, leaving a ``with`` block,
``check_schema()``, and their asyncio forms. Each was one blocking call into Go, so KeyboardInterrupt waited until
Go returned: until the acknowledgements came or ``flush_timeout_ms`` (300 s by default) ran out. Now Go is waited
for in short slices and an interrupt cancels the wait; nothing keeps running in Go afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import AsyncZerobusWrapper, CancelledError, ConversionError, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to the main thread: POSIX")

#: The acks never come (stall_acks) and flush_timeout_ms is 20 s: a wait that is not interrupted takes 20 s.
_PROMPT = 8.0


@pytest.fixture
def stalled(server: LocalServer, table_name: str) -> Iterator[LocalServer]:
    # the first message (a warm-up send that opens the stream) is acknowledged, later ones never are
    server.inject_fault(table_name, "stall_acks", after_messages=1, persistent=True)
    yield server
    server.clear_faults(table_name)


_timers: list[threading.Timer] = []


@pytest.fixture(autouse=True)
def _no_stray_interrupt() -> Iterator[None]:
    """A test that fails before its SIGINT fired must not deliver it to the next test."""
    yield
    while _timers:
        _timers.pop().cancel()


def _interrupt_after(delay: float, at: list[float] | None = None) -> list[float]:
    """SIGINT to the main thread after ``delay`` s; the list (``at``, or a new one) gets the time it was sent."""
    at = [] if at is None else at

    def fire() -> None:
        at.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    timer = threading.Timer(delay, fire)
    _timers.append(timer)
    timer.start()
    return at


def _in_flight(w: ZerobusWrapper) -> threading.Thread:
    """A send in another thread whose acknowledgements never come."""
    assert w.send_batch(id_batch(1000, 1)).success  # the warm-up send

    def send() -> None:
        with contextlib.suppress(Exception):  # ended by the interrupted close below
            w.send_batch(id_batch(0, 50))

    t = threading.Thread(target=send, daemon=True)
    t.start()
    time.sleep(0.5)  # its request is out
    return t


def _settle(baseline: int) -> int:
    """Goroutines once the cancelled call has returned (at most 5 s)."""
    deadline = time.monotonic() + 5
    while _bridge.native.Goroutines() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(_bridge.native.Goroutines())


def _config(server: LocalServer, table_name: str) -> Any:
    return server.config(table_name, flush_timeout_ms=20_000, ack_timeout_ms=60_000)


@pytest.mark.parametrize("how", ["flush", "shutdown", "with"])
def test_ctrl_c_interrupts_waiting_for_acknowledgements(stalled: LocalServer, table_name: str, how: str) -> None:
    w = ZerobusWrapper(_config(stalled, table_name))
    sender = _in_flight(w)
    baseline = _bridge.native.Goroutines()
    at = _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        if how == "flush":
            w.flush()
        elif how == "shutdown":
            w.shutdown()
        else:
            with w:
                pass
    took = time.monotonic() - at[0]
    assert took < _PROMPT, f"{how}: KeyboardInterrupt came {took:.2f} s after SIGINT"
    assert _settle(baseline) <= baseline, "the cancelled Go call is still running"
    assert w.is_closed == (how != "flush")
    if how == "flush":  # the wrapper is still usable: a short shutdown ends the stalled send
        with pytest.raises(Exception, match=r"(aborted|gave up)"):
            w.shutdown(timeout=0.3)
    sender.join(_PROMPT)
    assert not sender.is_alive()


@pytest.mark.parametrize("how", ["flush", "shutdown"])
def test_ctrl_c_as_the_go_call_starts_cancels_it(
    stalled: LocalServer, table_name: str, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGINT that lands just after FlushAsync / CloseAsync returned, before the wait began (Python runs the
    handler at the next bytecode boundary, before the call's result is stored), left the Go call running with
    nothing waiting for it or cancelling it: up to flush_timeout_ms (20 s here). The interrupt is now held until
    the call is known, then cancels it."""
    w = ZerobusWrapper(_config(stalled, table_name))
    sender = _in_flight(w)
    started: list[Any] = []
    real = _bridge.call

    def call(fn: Any, *args: Any) -> Any:
        out = real(fn, *args)
        if getattr(fn, "__name__", "") in ("FlushAsync", "CloseAsync"):
            started.append(out)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)  # handled before `return`
        return out

    monkeypatch.setattr(_bridge, "call", call)
    with pytest.raises(KeyboardInterrupt):
        w.flush() if how == "flush" else w.shutdown()
    monkeypatch.undo()
    assert len(started) == 1
    assert started[0].Wait(1), f"{how}: the Go call started as the interrupt came is still running"  # 1 ms
    if how == "flush":
        with pytest.raises(Exception, match=r"(aborted|gave up)"):
            w.shutdown(timeout=0.3)
    sender.join(_PROMPT)
    assert not sender.is_alive()


@pytest.mark.parametrize("how", ["flush", "shutdown", "async with"])
def test_ctrl_c_interrupts_asyncio_waiting_for_acknowledgements(
    stalled: LocalServer, table_name: str, how: str
) -> None:
    """``asyncio.run`` cancels the task on Ctrl-C, then waits for its worker threads: one blocked in Go held the
    program until the flush timeout."""

    at: list[float] = []

    async def main() -> None:
        w = AsyncZerobusWrapper(_config(stalled, table_name))
        assert (await w.send_batch(id_batch(1000, 1))).success  # the warm-up send
        send = asyncio.create_task(w.send_batch(id_batch(0, 50)))
        await asyncio.sleep(0.5)
        _interrupt_after(0.3, at)  # once the send is in flight
        try:
            if how == "flush":
                await w.flush()
            elif how == "shutdown":
                await w.shutdown()
            else:
                async with w:
                    pass
        finally:
            send.cancel()

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    assert at, f"{how}: asyncio.run ended before the interrupt ({time.monotonic() - t0:.2f} s)"
    took = time.monotonic() - at[0]
    assert took < _PROMPT, f"{how}: KeyboardInterrupt came {took:.2f} s after SIGINT"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_interrupts_check_schema(server: LocalServer, table_name: str) -> None:
    """check_schema opens a stream: a server holding the create back (20 s here) held the interrupt too. The
    SIGINT handler is a Python one, as Jupyter kernels and CLI frameworks install: it runs only when the main
    thread runs Python (Python's default handler happened to end this blocking call early)."""
    server.inject_fault(table_name, "create_delay", latency_ms=20_000, persistent=True)
    previous = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        w = ZerobusWrapper(server.config(table_name, create_timeout_ms=30_000))
        at = _interrupt_after(0.3)
        with pytest.raises(KeyboardInterrupt):
            w.check_schema(pa.schema({"id": pa.int64()}))
        took = time.monotonic() - at[0]
        assert took < _PROMPT, f"KeyboardInterrupt came {took:.2f} s after SIGINT"
    finally:
        signal.signal(signal.SIGINT, previous)
        server.clear_faults(table_name)
    with contextlib.suppress(CancelledError):  # the stream being opened is still held back by the server
        w.shutdown(timeout=0.5)


def test_async_wrapper_checks_schemas_and_gives_debug_stats(server: LocalServer, table_name: str) -> None:
    """AsyncZerobusWrapper had no check_schema / debug_stats (users reached for .sync, blocking the loop)."""

    async def main() -> None:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            schema = id_batch(0, 1).schema
            await w.check_schema(schema)
            with pytest.raises(ConversionError, match=r'column "n" \(null\)'):
                await w.check_schema(schema.append(pa.field("n", pa.null())))
            assert (await w.send_batch(id_batch(0, 3))).successful_count == 3
            assert w.debug_stats()["arrow"]["writes"] == 0

    asyncio.run(main())
    assert server.record_count(table_name) == 3
