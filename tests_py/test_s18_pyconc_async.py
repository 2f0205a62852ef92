"""s18 review pyconc L1 and L2: the asyncio send's waiting and cancel paths."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import id_batch, stored_ids

import zerobus_py
from zerobus_py import AsyncZerobusWrapper, CancelledError, _wrapper
from zerobus_py.local import LocalServer


class _CountingPool(concurrent.futures.ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(8, thread_name_prefix="zerobus_py-test-wait")
        self.jobs: list[str] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        partial_args = getattr(fn, "args", None)  # functools.partial(ctx.run, f, ...)
        inner = partial_args[0] if partial_args else fn
        self.jobs.append(getattr(inner, "__name__", repr(inner)))
        return super().submit(fn, *args, **kwargs)


def test_awaited_sends_submit_no_wait_per_slice(monkeypatch: pytest.MonkeyPatch, table_name: str) -> None:
    """L2: each pending send re-submitted a 50 ms wait to the pool from the event loop (whose thread then queued on
    the pool's lock: 0.1-0.6 s stalls with a few hundred sends). The loop now submits only each send's start."""
    pool = _CountingPool()
    monkeypatch.setattr(_wrapper, "_waiters", pool)
    sends = 20

    async def main(server: LocalServer) -> list[Any]:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            return await asyncio.gather(*(w.send_batch(id_batch(k * 10, 10)) for k in range(sends)))

    try:
        with LocalServer(ack_delay_ms=500) as server:  # each send pending for ten 50 ms slices or more
            results = asyncio.run(main(server))
            assert stored_ids(server, table_name) == list(range(sends * 10))
    finally:
        pool.shutdown()
    assert all(r.all_succeeded and r.successful_count == 10 for r in results)
    waits = [job for job in pool.jobs if job == "step"]
    assert waits == [], f"{len(waits)} waits submitted for {sends} sends"
    # the starts are queued and taken by at most _START_THREADS start threads (s23 pyasync), not a job per send
    assert 1 <= pool.jobs.count("_drain") <= sends


def test_async_progress_still_reported_in_order(server: LocalServer, table_name: str) -> None:
    seen: list[tuple[int, int | None]] = []

    async def main() -> Any:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            return await w.send_batch(id_batch(0, 4000), progress=lambda done, total: seen.append((done, total)))

    res = asyncio.run(main())
    assert res.all_succeeded
    assert seen and seen[-1] == (4000, 4000)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_async_progress_raising_cancels_with_the_result(table_name: str) -> None:
    class Stop(Exception):
        pass

    def progress(done: int, total: int | None) -> None:
        raise Stop

    async def main(server: LocalServer) -> BaseException:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            try:
                await w.send_batch(id_batch(0, 50_000), progress=progress)
            except Stop as exc:
                return exc
        raise AssertionError("the progress callback's exception did not propagate")

    with LocalServer(ack_delay_ms=200) as server:
        exc = asyncio.run(main(server))
        res = exc.result  # type: ignore[attr-defined]
        assert res.total_rows == 50_000
        assert res.successful_count + res.not_written_count + res.unknown_count == 50_000
        stored = set(stored_ids(server, table_name))
        assert set(res.get_successful_row_indices()) <= stored
        assert not set(res.get_not_written_row_indices()) & stored


def test_a_loop_closed_with_a_send_pending_cancels_the_go_send(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """L1: the coroutine's GeneratorExit awaited with no running loop ("Exception ignored ... no running event
    loop") and the Go send ran on unobserved (here: for ever, its acks withheld)."""
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with LocalServer() as server:
        # the first message is acknowledged, then none on that stream
        server.inject_fault(table_name, "stall_acks", after_messages=1)
        aw = AsyncZerobusWrapper(server.config(table_name, ack_timeout_ms=600_000))
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(aw.send_batch(id_batch(0, 10))).all_succeeded

        async def start() -> asyncio.Task[Any]:
            task = asyncio.create_task(aw.send_batch(id_batch(10, 100)))
            while server.record_count(table_name) < 110:
                await asyncio.sleep(0.01)
            return task

        task = loop.run_until_complete(start())
        (send,) = list(_wrapper._live)
        pending = send.pending  # the send releases it once resolved (a kept exception must not hold Go memory)
        loop.close()  # the task still pending: a user error Python warns about
        del task
        gc.collect()
        while not pending.Ready():  # acks are withheld: only a cancel resolves it
            time.sleep(0.05)
            gc.collect()
        with pytest.raises(CancelledError):  # the stalled stream: its requests are never acknowledged
            aw.sync.close(timeout=1)
    ignored = [u for u in unraisable if "send_batch" in repr(u.object) or isinstance(u.exc_value, RuntimeError)]
    assert ignored == [], [(u.err_msg, u.exc_value) for u in ignored]


_EXIT_SCRIPT = """
import asyncio, sys, threading, time
import pyarrow as pa
from zerobus_py import AsyncZerobusWrapper
from zerobus_py.local import LocalServer

T = "main.default.s18exit"
server = LocalServer()
cfg = server.config(T)
server.inject_fault(T, "stall_acks", after_messages=1)
aw = AsyncZerobusWrapper(cfg)
asyncio.run(aw.send_batch(pa.table({"id": pa.array([0], pa.int64())})))
started = threading.Event()

def run():
    async def go():
        started.set()
        await asyncio.gather(*[aw.send_batch(pa.table({"id": pa.array(range(k * 100, k * 100 + 100), pa.int64())}))
                               for k in range(1, 11)])
    asyncio.run(go())

threading.Thread(target=run, daemon=True).start()
started.wait()
while server.record_count(T) < 1001:
    time.sleep(0.01)
print("main exiting", flush=True)
"""


def test_exit_with_a_daemon_threads_loop_sending_prints_no_traceback(tmp_path: Any) -> None:
    """L1: at interpreter exit the waiter pool refused the cancel path's work: "Task exception was never retrieved"
    and the thread's own traceback, from the package's internals."""
    script = tmp_path / "exit_daemon_async.py"
    script.write_text(textwrap.dedent(_EXIT_SCRIPT))
    # the package this test imports (the worktree's source, not an installed copy of an older one)
    root = str(Path(zerobus_py.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "main exiting" in proc.stdout
    assert "Traceback" not in proc.stderr and "never retrieved" not in proc.stderr, proc.stderr
