"""The asyncio forms: AsyncZerobusWrapper and ZerobusWrapper.send_batch_async."""

from __future__ import annotations

import asyncio

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, WrapperClosedError, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_async_wrapper_gather(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    async def main() -> list[int]:
        async with AsyncZerobusWrapper(config) as w:
            results = await asyncio.gather(*(w.send_batch(id_batch(i * 25, 25)) for i in range(8)))
            await w.flush()
            assert all(r.success for r in results)
            return [r.successful_count for r in results]

    assert asyncio.run(main()) == [25] * 8
    assert stored_ids(server, table_name) == list(range(200))


def test_async_does_not_block_the_loop(table_name: str) -> None:
    # Acks are held back 3 s (500 ms was tight on a loaded machine): the rows
    # are stored at once but the send only completes when they are
    # acknowledged. The event loop must observe the stored rows while the
    # send is still pending.
    async def main(server: LocalServer) -> bool:
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            task = asyncio.create_task(w.send_batch(id_batch(0, 10)))
            seen_while_pending = False
            while not task.done():
                if server.record_count(table_name) == 10:
                    seen_while_pending = True
                    break
                await asyncio.sleep(0.002)
            res = await task
            assert res.success
        return seen_while_pending

    with LocalServer(ack_delay_ms=3000) as s:
        assert asyncio.run(main(s))
        assert s.record_count(table_name) == 10


def test_send_batch_async_and_sync_context(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    async def main(w: ZerobusWrapper) -> int:
        res = await w.send_batch_async(id_batch(0, 5))
        return res.successful_count

    with ZerobusWrapper(config) as w:
        assert asyncio.run(main(w)) == 5
    assert w.is_closed
    assert stored_ids(server, table_name) == list(range(5))


def test_async_after_shutdown_opens_again(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    async def main() -> None:
        w = AsyncZerobusWrapper(config)
        await w.shutdown()
        await w.shutdown()  # idempotent
        assert w.is_closed
        await w.flush()  # nothing to flush: does nothing, as the original
        res = await w.send_batch(id_batch(0, 2))  # a new Go wrapper, as the original opened a new stream
        assert res.all_succeeded and not w.is_closed
        await w.shutdown()
        w.sync.close()  # for good
        with pytest.raises(WrapperClosedError):
            await w.send_batch(id_batch(2, 1))

    asyncio.run(main())
    assert stored_ids(server, table_name) == [0, 1]


def test_async_close_is_final(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    async def main() -> None:
        w = AsyncZerobusWrapper(config)
        res = await w.send_batch(id_batch(0, 3))
        assert res.all_succeeded
        await w.close()
        assert w.is_closed
        with pytest.raises(WrapperClosedError):
            await w.send_batch(id_batch(3, 1))
        with pytest.raises(WrapperClosedError):
            await w.flush()
        await w.close()  # idempotent

    asyncio.run(main())
    assert stored_ids(server, table_name) == [0, 1, 2]


def test_sync_wrapper_async_context(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    async def main() -> None:
        async with ZerobusWrapper(config) as w:
            await w.send_batch_async(id_batch(0, 3))

    asyncio.run(main())
    assert stored_ids(server, table_name) == [0, 1, 2]


def test_async_calls_do_not_wait_for_the_default_executor(
    config: WrapperConfiguration, server: LocalServer, table_name: str
) -> None:
    """The asyncio methods wait on Go in threads of their own: with the event loop's default executor full of the
    application's blocking jobs (``to_thread``, ``run_in_executor(None, ...)``), a send, a flush, a schema check
    and the shutdown still complete. They waited in that executor, so each waited for an application job to end
    (here: for ever, until the job gave up after 60 s)."""
    import concurrent.futures
    import threading

    import pyarrow as pa

    release = threading.Event()

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
        blocker = loop.run_in_executor(None, release.wait, 60)  # the application's job holds the one thread
        done = []
        try:
            async with AsyncZerobusWrapper(config) as w:
                res = await w.send_batch(id_batch(0, 3))
                assert res.all_succeeded
                done.append("send" if not blocker.done() else "send after the job")
                await w.check_schema(pa.schema([("id", pa.int64())]))
                await w.flush()
                res = await w.sync.send_batch_async(id_batch(3, 2))
                assert res.all_succeeded
                await w.shutdown()
                done.append("all" if not blocker.done() else "all after the job")
        finally:
            release.set()
            await blocker
        return done

    assert asyncio.run(main()) == ["send", "all"]
    assert stored_ids(server, table_name) == list(range(5))


def test_wait_for_timeout_has_the_partial_result_on_its_cause(server: LocalServer, table_name: str) -> None:
    """What the docs (send_batch_async, README) say about bounding an async send: with ``timeout=`` the partial
    result is returned or, no row acknowledged, on the raised CancelledError; ``asyncio.wait_for`` raises a
    TimeoutError whose ``__cause__`` (the task's CancelledError) has it, every row failed with CancelledError."""
    from zerobus_py import CancelledError

    server.create_table(table_name, "id BIGINT")
    server.inject_fault(table_name, "stall_acks", persistent=True)
    batch = id_batch(0, 2).select(["id"])

    async def main() -> None:
        w = AsyncZerobusWrapper(server.config(table_name))
        try:
            with pytest.raises(CancelledError) as bounded:
                await w.send_batch(batch, timeout=0.2)
            res = bounded.value.result
            assert res is not None and isinstance(bounded.value, TimeoutError)
            assert (res.successful_count, res.failed_count) == (0, 2)
            assert res.group_errors_by_type().keys() == {"CancelledError"}
            with pytest.raises(TimeoutError) as ei:
                await asyncio.wait_for(w.send_batch(batch), 0.2)
            cause = ei.value.__cause__
            assert isinstance(cause, asyncio.CancelledError) and cause is ei.value.__context__
            partial = cause.result  # type: ignore[attr-defined]
            assert (partial.total_rows, partial.successful_count, partial.failed_count) == (2, 0, 2)
            assert partial.group_errors_by_type().keys() == {"CancelledError"}
        finally:
            with pytest.raises(CancelledError):  # the acknowledgements never come
                await w.shutdown(timeout=0.2)

    asyncio.run(main())
