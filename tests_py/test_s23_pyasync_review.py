"""s23 review of the asyncio start queue (test_s23_pyasync.py):

1. A coroutine left pending in a closed event loop is closed by the garbage collector, in whatever thread it runs,
   possibly one holding the asyncio waiter's lock; giving its send up took that lock, a deadlock of every asyncio
   send of the process. Giving up takes no lock now (the waiter thread records it).
2. A send whose outcome was handed to an idle loop (the callback queued, the loop not running) that was then
   closed was counted as read and never reported; it is read once the loop runs the hand-over, and the sweep
   logs it otherwise.
3. DamagedDropsWarning pickles and copies (a warning turned into an error in a worker process)."""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
import pickle
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper
from zerobus_py.debug import DamagedDropsWarning
from zerobus_py.local import LocalServer

_GC_UNDER_LOCK = textwrap.dedent(
    """
    import asyncio, gc, logging, sys, time
    from conftest import id_batch
    from zerobus_py import AsyncZerobusWrapper, _wrapper
    from zerobus_py.local import LocalServer
    logging.getLogger("zerobus_py").setLevel(logging.ERROR)
    with LocalServer(ack_delay_ms=50) as server:
        aw = AsyncZerobusWrapper(server.config("main.default.s23_gc_lock"))
        loop = asyncio.new_event_loop()
        loop.run_until_complete(aw.send_batch(id_batch(0, 5)))
        gc.disable()
        task = loop.create_task(aw.send_batch(id_batch(100, 7)))
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()
        del task, loop
        waiter = _wrapper._the_async_waiter()
        with waiter._lock:  # as when the collector fires inside _resolve, _sweep or adopt
            gc.collect()
        gc.enable()
        async def probe():
            return await aw.send_batch(id_batch(1000, 3))
        r = asyncio.run(probe())
        print("probe", r.successful_count, flush=True)
        aw.sync.close(timeout=30)
    """
)


def test_a_coroutine_collected_under_the_waiters_lock_does_not_deadlock(tmp_path: Any) -> None:
    script = tmp_path / "gc_lock.py"
    script.write_text(_GC_UNDER_LOCK)
    tests = str(__import__("pathlib").Path(__file__).resolve().parent)
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,  # a deadlock hangs for ever: this only ends the test
        env={**__import__("os").environ, "PYTHONPATH": tests},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "probe 3" in proc.stdout, proc.stdout + proc.stderr


def test_an_outcome_handed_to_an_idle_loop_then_closed_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    table = "main.default.s23_idle_loop"
    with LocalServer(ack_delay_ms=300) as server:
        aw = AsyncZerobusWrapper(server.config(table))
        try:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(aw.send_batch(id_batch(0, 5)))
            task = loop.create_task(aw.send_batch(id_batch(100, 7)))
            loop.run_until_complete(asyncio.sleep(0.1))  # started, awaiting its outcome
            deadline = time.monotonic() + 60
            while len(stored_ids(server, table)) < 12 and time.monotonic() < deadline:
                time.sleep(0.05)  # the loop idles (not running, not closed) while the send ends
            assert stored_ids(server, table) == [*range(5), *range(100, 107)]
            time.sleep(0.5)  # the outcome reaches the waiter, which queues its hand-over in the idle loop
            with caplog.at_level(logging.WARNING, logger="zerobus_py"):
                loop.close()  # the hand-over is dropped: nobody read the outcome
                del task
                gc.collect()
                reports: list[logging.LogRecord] = []
                while not reports and time.monotonic() < deadline:
                    time.sleep(0.05)
                    reports = [r for r in caplog.records if "nobody can await a send_batch_async" in r.getMessage()]
            assert len(reports) == 1, [r.getMessage() for r in caplog.records]
            result = reports[0].zerobus_result  # type: ignore[attr-defined]
            assert result is not None and result.total_rows == 7 and result.successful_count == 7
        finally:
            aw.sync.close(timeout=30)


def test_damaged_drops_warning_pickles_and_copies() -> None:
    w = DamagedDropsWarning("x.drops.jsonl line 2 is damaged", sidecar="x.drops.jsonl", lines=[2, 5])
    for back in (pickle.loads(pickle.dumps(w)), copy.copy(w)):
        assert type(back) is DamagedDropsWarning
        assert str(back) == str(w) and back.sidecar == "x.drops.jsonl" and back.lines == [2, 5]
