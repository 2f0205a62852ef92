"""The one thread that waits on Go for every asyncio send of the process (``_AsyncWaiter``) must not leave the
process's awaited sends hanging: a bug in one of its passes is logged and it goes on; a thread that ended is started
again by the next send; an error reading one send's news (not its progress callback) reaches that send's awaiting
coroutine, and the next sends are served (s18 review diffa M1)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pyarrow as pa
import pytest

import zerobus_py._wrapper as zw
from zerobus_py import AsyncZerobusWrapper
from zerobus_py.local import LocalServer

BATCH = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64())})
HANG_GUARD = 60  # seconds: only a hang reaches it


def _send_twice(cfg: Any, between: Any = None) -> list[Any]:
    async def main() -> list[Any]:
        out: list[Any] = []
        async with AsyncZerobusWrapper(cfg) as w:
            for i in range(2):
                try:
                    r = await asyncio.wait_for(w.send_batch(BATCH), HANG_GUARD)
                    out.append(r.successful_count)
                except (asyncio.TimeoutError, TimeoutError):
                    out.append("hang")
                except Exception as exc:  # what the send raised is the result here
                    out.append(exc)
                if i == 0 and between is not None:
                    await between()
        return out

    return asyncio.run(main())


def test_a_failing_pass_is_logged_and_the_waiter_goes_on(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = zw._AsyncWaiter._sweep
    calls = {"n": 0}

    def bad_sweep(self: zw._AsyncWaiter) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated bug in the waiter")
        real(self)

    monkeypatch.setattr(zw._AsyncWaiter, "_sweep", bad_sweep)

    async def until_swept() -> None:
        while calls["n"] < 2:  # the failing sweep, then one after it: the thread lived through it
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.ERROR, logger="zerobus_py"):
        got = _send_twice(server.config(table_name), until_swept)
    assert got == [3, 3]
    assert any("asyncio send waiter failed" in r.getMessage() and r.exc_info for r in caplog.records)
    assert server.table(table_name).num_rows == 6


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the SystemExit ending it
def test_an_ended_waiter_thread_is_started_again(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = zw._AsyncWaiter._pass
    ended = threading.Event()

    def ending_pass(self: zw._AsyncWaiter) -> None:
        if threading.current_thread() is getattr(self, "_doomed", None):
            ended.set()
            raise SystemExit  # not an Exception: the guard lets it end the thread
        real(self)

    async def end_the_thread() -> None:
        waiter = zw._the_async_waiter()
        waiter._doomed = waiter._thread  # type: ignore[attr-defined]
        while not ended.is_set() or waiter._thread is None or waiter._thread.is_alive():
            await asyncio.sleep(0.05)

    monkeypatch.setattr(zw._AsyncWaiter, "_pass", ending_pass)
    got = _send_twice(server.config(table_name), end_the_thread)
    assert got == [3, 3]
    assert server.table(table_name).num_rows == 6


def test_an_error_reading_a_sends_news_reaches_that_send(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = zw._Send.step
    failed = {"n": 0}

    def step(self: zw._Send, wait: float) -> Any:
        if threading.current_thread().name == "zerobus_py-async" and failed["n"] == 0:
            failed["n"] += 1
            raise RuntimeError("simulated failure reading the news")
        return real(self, wait)

    monkeypatch.setattr(zw._Send, "step", step)
    got = _send_twice(server.config(table_name))
    assert isinstance(got[0], RuntimeError) and "simulated failure reading the news" in str(got[0])
    assert got[1] == 3
    assert not zw._live  # the failed send is not left for the exit handler to wait for
