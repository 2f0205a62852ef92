"""s18 review pyconc M2: a flush that a shutdown in another thread overtakes reports what that shutdown did with
the rows, not WrapperClosedError."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, CancelledError, WrapperClosedError, ZerobusWrapper
from zerobus_py.local import LocalServer


def _overtaking(w: ZerobusWrapper, monkeypatch: pytest.MonkeyPatch, shutdown: Any) -> list[BaseException]:
    """Make ``w``'s next flush be overtaken: right after it took the Go wrapper, ``shutdown()`` runs to its end
    (as another thread's would), so Go's Flush finds the wrapper closed."""
    raised: list[BaseException] = []
    real = w._open_native

    def open_then_shut_down() -> Any:
        native = real()
        try:
            shutdown()
        except BaseException as exc:
            raised.append(exc)
        return native

    monkeypatch.setattr(w, "_open_native", open_then_shut_down)
    return raised


def test_flush_overtaken_by_a_clean_shutdown_returns(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = ZerobusWrapper(server.config(table_name))
    assert w.send_batch(id_batch(0, 50)).all_succeeded
    raised = _overtaking(w, monkeypatch, w.shutdown)
    w.flush(timeout=30)  # raised WrapperClosedError('zerobus: wrapper closed')
    assert raised == [] and w.is_closed
    assert stored_ids(server, table_name) == list(range(50))
    monkeypatch.undo()
    w.flush()  # after shutdown: does nothing, as documented
    assert w.send_batch(id_batch(50, 5)).all_succeeded  # and a later send opens it again
    w.close()
    with pytest.raises(WrapperClosedError):
        w.flush()


def test_async_flush_overtaken_by_a_clean_shutdown_returns(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        aw = AsyncZerobusWrapper(server.config(table_name))
        assert (await aw.send_batch(id_batch(0, 20))).all_succeeded
        raised = _overtaking(aw.sync, monkeypatch, aw.sync.shutdown)
        await aw.flush(timeout=30)
        assert raised == []
        monkeypatch.undo()
        await aw.close()

    asyncio.run(main())
    assert stored_ids(server, table_name) == list(range(20))


def test_flush_overtaken_by_a_shutdown_that_timed_out_raises_its_error(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalServer() as server:
        # the first message is acknowledged, then none on that stream
        server.inject_fault(table_name, "stall_acks", after_messages=1)
        w = ZerobusWrapper(server.config(table_name))
        assert w.send_batch(id_batch(0, 10)).all_succeeded
        sent: dict[str, BaseException] = {}

        def send() -> None:
            try:
                w.send_batch(id_batch(10, 100))
            except BaseException as exc:
                sent["exc"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        while server.record_count(table_name) < 110:  # the stalled rows reached the server
            threading.Event().wait(0.01)
        raised = _overtaking(w, monkeypatch, lambda: w.shutdown(timeout=0.3))
        with pytest.raises(CancelledError) as info:  # was WrapperClosedError, as if the wrapper had been closed
            w.flush(timeout=30)
        assert not isinstance(info.value, WrapperClosedError)
        assert len(raised) == 1 and isinstance(raised[0], CancelledError)
        sender.join()
        res = sent["exc"].result  # type: ignore[attr-defined]
        assert res.successful_count == 0 and res.unknown_count == 100
        monkeypatch.undo()
        w.close(timeout=1)
