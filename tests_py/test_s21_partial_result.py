"""zerobus_py.partial_result: the partial result a send left on an exception it does not own, read typed."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pytest
from conftest import id_batch

import arrow_zerobus_sdk_wrapper
from zerobus_py import AsyncZerobusWrapper, CancelledError, TransmissionResult, ZerobusWrapper, partial_result
from zerobus_py.local import LocalServer


def _rows(result: TransmissionResult | None) -> tuple[int, int, int]:
    assert result is not None
    return result.total_rows, result.successful_count, result.failed_count


def test_keyboard_interrupt_from_progress_carries_it(table_name: str) -> None:
    """A KeyboardInterrupt raised in the send (here by the progress callback, as Ctrl-C would be between two
    waits) cancels it: partial_result reads the result it carries, every row of the table in it."""
    parts = [
        pa.record_batch({"id": pa.array(range(k * 100, k * 100 + 100), pa.int64()), "v": pa.array(v, pa.uint64())})
        for k, v in enumerate([[2**64 - 1] * 100, list(range(100)), list(range(100))])
    ]
    table = pa.Table.from_batches(parts)

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    # part 1 fails conversion at once (uint64 over int64's maximum) and reports progress; the acks of the others
    # come too late to be waited for
    with LocalServer(ack_delay_ms=5000) as server, ZerobusWrapper(server.config(table_name)) as w:
        with pytest.raises(KeyboardInterrupt) as info:
            w.send_batch(table, progress=interrupt)
        result = partial_result(info.value)
        assert result is info.value.result  # type: ignore[attr-defined]
        assert _rows(result) == (300, 0, 300)
        assert result is not None and result.get_failed_row_indices_by_error_type("ConversionError") == list(range(100))
        w.flush(timeout=30)


def test_timeout_error_cause_and_zerobus_error_carry_it(server: LocalServer, table_name: str) -> None:
    """Under asyncio.wait_for the result is on the TimeoutError's __cause__ (the task's CancelledError); with
    timeout= on the raised zerobus CancelledError itself. partial_result reads both."""
    server.create_table(table_name, "id BIGINT")
    server.inject_fault(table_name, "stall_acks", persistent=True)
    batch = id_batch(0, 2).select(["id"])

    async def main() -> None:
        w = AsyncZerobusWrapper(server.config(table_name))
        try:
            with pytest.raises(TimeoutError) as timed_out:
                await asyncio.wait_for(w.send_batch(batch), 0.2)
            assert isinstance(timed_out.value.__cause__, asyncio.CancelledError)
            assert getattr(timed_out.value, "result", None) is None  # only on the cause
            result = partial_result(timed_out.value)
            assert result is timed_out.value.__cause__.result  # type: ignore[attr-defined]
            assert _rows(result) == (2, 0, 2)
            with pytest.raises(CancelledError) as bounded:
                await w.send_batch(batch, timeout=0.2)
            assert partial_result(bounded.value) is bounded.value.result
            assert _rows(partial_result(bounded.value)) == (2, 0, 2)
        finally:
            with pytest.raises(CancelledError):  # the acknowledgements never come
                await w.shutdown(timeout=0.2)

    asyncio.run(main())


def test_none_without_a_result() -> None:
    """No result, or a ``result`` that is not a TransmissionResult (another library's attribute): None."""
    assert partial_result(KeyboardInterrupt()) is None
    err = ValueError("x")
    err.result = "not ours"  # type: ignore[attr-defined]
    assert partial_result(err) is None
    try:
        raise TimeoutError from ValueError("cause without a result")
    except TimeoutError as e:
        assert partial_result(e) is None
    assert arrow_zerobus_sdk_wrapper.partial_result is partial_result
