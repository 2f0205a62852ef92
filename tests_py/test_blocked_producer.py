"""A producer that blocks between batches (a RecordBatchReader over a queue, a live source): Ctrl-C, ``timeout=``
and a cancelled asyncio task waited for its next batch (Go read the reader in the send's own goroutine and saw the
cancel only between batches), up to forever for a producer that never yields. Now each returns within a second
with the rows read so far as its result; the blocked producer call finishes in Go once the producer yields, its
batch is not sent, and Go then releases the stream.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, TransmissionResult, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

#: The promise: a cancelled send returns within this many seconds of the cancel.
_BOUND = 1.0
#: A producer left blocked is unblocked after this long (without the fix, the send returned only then).
_SAFETY = 5.0
_WARM_UP_ID = 1000


class _Feed:
    """A RecordBatchReader over a queue: its first batch (ids 0..2) is there at once, the next only when the test
    puts one."""

    def __init__(self) -> None:
        self.queue: queue.Queue[pa.RecordBatch | None] = queue.Queue()
        self.queue.put(id_batch(0, 3))
        self._safety = threading.Timer(_SAFETY, self.end)
        self._safety.start()

    def reader(self) -> pa.RecordBatchReader:
        def batches() -> Iterator[pa.RecordBatch]:
            while (item := self.queue.get()) is not None:
                yield item

        return pa.RecordBatchReader.from_batches(id_batch(0, 1).schema, batches())

    def end(self) -> None:
        """The producer yields one more batch (ids 3..4, never sent: the send has ended), then ends."""
        self.queue.put(id_batch(3, 2))
        self.queue.put(None)

    def stop(self) -> None:
        self._safety.cancel()


@pytest.fixture
def feed() -> Iterator[_Feed]:
    f = _Feed()
    yield f
    f.stop()
    f.end()  # a test that failed early leaves no producer blocked


def _await_stored(server: LocalServer, table: str, n: int) -> None:
    """Until the server has stored n rows of table (the first batch, acknowledged: its rows are durable)."""
    deadline = time.monotonic() + _SAFETY
    while server.record_count(table) < n and time.monotonic() < deadline:
        time.sleep(0.01)


def _check_outcome(
    server: LocalServer, table: str, result: TransmissionResult | None, took: float, feed: _Feed, streams: int
) -> None:
    assert took < _BOUND, f"the send returned {took:.2f} s after the cancel, want < {_BOUND} s"
    assert result is not None
    # the rows read (the first batch) are the result, all durable; the batch the blocked call gets is not in it
    assert result.total_rows == 3 and result.successful_rows == [0, 1, 2], result
    assert not result.success and result.not_written_count == 0 and result.unknown_count == 0, result
    assert "stopped after reading 3 rows" in str(result.error)
    assert _bridge.native.OpenStreams() == streams + 1, "the stream was released while the producer's call runs"
    feed.stop()
    feed.end()  # the blocked call gets a batch: Go drops it and releases the stream
    deadline = time.monotonic() + _SAFETY
    while _bridge.native.OpenStreams() > streams and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _bridge.native.OpenStreams() == streams, "Go did not release the stream once the producer returned"
    assert stored_ids(server, table) == [0, 1, 2, _WARM_UP_ID], "rows stored are not the rows reported durable"


def _warm_up(w: ZerobusWrapper) -> int:
    """Open the stream; the Arrow C streams Go holds before the send."""
    assert w.send_batch(id_batch(_WARM_UP_ID, 1)).success
    return int(_bridge.native.OpenStreams())


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_timeout_while_the_producer_blocks(server: LocalServer, table_name: str, feed: _Feed, transport: str) -> None:
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        streams = _warm_up(w)
        t0 = time.monotonic()
        res = w.send_batch(feed.reader(), timeout=0.5)
        took = time.monotonic() - t0 - 0.5
        _check_outcome(server, table_name, res, took, feed, streams)
        assert "timeout=0.5 s passed" in str(res.error)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to the main thread: POSIX")
@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_ctrl_c_while_the_producer_blocks(server: LocalServer, table_name: str, feed: _Feed, transport: str) -> None:
    at: list[float] = []

    def interrupt() -> None:
        _await_stored(server, table_name, 4)  # the warm-up row and the first batch
        time.sleep(0.2)  # the send is in the producer's blocked call
        at.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        streams = _warm_up(w)
        timer = threading.Thread(target=interrupt)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt) as err:
                w.send_batch(feed.reader())
            took = time.monotonic() - at[0]
        finally:
            timer.join()
        _check_outcome(server, table_name, getattr(err.value, "result", None), took, feed, streams)


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_task_cancel_while_the_producer_blocks(
    server: LocalServer, table_name: str, feed: _Feed, transport: str
) -> None:
    async def main() -> None:
        async with AsyncZerobusWrapper(server.config(table_name, transport=transport)) as w:
            assert (await w.send_batch(id_batch(_WARM_UP_ID, 1))).success
            streams = int(_bridge.native.OpenStreams())
            task = asyncio.create_task(w.send_batch(feed.reader()))
            await asyncio.to_thread(_await_stored, server, table_name, 4)
            await asyncio.sleep(0.2)  # the send is in the producer's blocked call
            t0 = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as err:
                await task
            took = time.monotonic() - t0
            result = getattr(err.value, "result", None)
            await asyncio.to_thread(_check_outcome, server, table_name, result, took, feed, streams)

    asyncio.run(main())
