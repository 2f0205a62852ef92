"""Session 19 leftovers fixed by ``leftfix``: each test failed before its fix."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FAST, id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, CancelledError, ConfigurationError, WrapperClosedError, ZerobusWrapper
from zerobus_py.local import LocalServer


def _refuses_negative(call: Callable[[], Any], shown: str = "timeout=-1") -> None:
    with pytest.raises(ValueError) as ei:
        call()
    err = ei.value
    assert isinstance(err, ConfigurationError) and err.kind == "configuration", repr(err)
    msg = str(err)
    assert f"{shown} is negative" in msg and "give 0 or more seconds" in msg, msg
    assert "no timeout for the call's default bound" in msg and "0.001 s" not in msg, msg


def test_negative_timeout_is_refused_on_every_call(server: LocalServer, table_name: str) -> None:
    """timeout=-1 was taken as 1 ms: the send failed with "timeout=0.001 s passed", a value never given. Now every
    call refuses it before doing anything (no row sent, the wrapper not shut down) with the rule Go states."""
    w = ZerobusWrapper(server.config(table_name, **FAST))
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-1))
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-0.25), "timeout=-0.25")
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-(10**400)), "timeout=-inf")
    _refuses_negative(lambda: w.check_schema(id_batch(0, 1).schema, timeout=-1))
    assert table_name not in server.tables()  # nothing was sent
    w.send_batch(id_batch(0, 3))
    _refuses_negative(lambda: w.flush(timeout=-1))
    _refuses_negative(lambda: w.shutdown(timeout=-1))
    _refuses_negative(lambda: w.close(timeout=-1))
    assert not w.is_closed
    w.send_batch(id_batch(3, 2))  # still open: neither shutdown nor close went ahead
    w.close()
    assert sorted(stored_ids(server, table_name)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="timeout=nan is not a number"):
        ZerobusWrapper(server.config(table_name, **FAST)).flush(timeout=float("nan"))


def test_negative_timeout_is_refused_async(server: LocalServer, table_name: str) -> None:
    async def main() -> None:
        async with AsyncZerobusWrapper(server.config(table_name, **FAST)) as w:
            for call in (
                lambda: w.send_batch(id_batch(0, 3), timeout=-1),
                lambda: w.flush(timeout=-1),
                lambda: w.shutdown(timeout=-1),
                lambda: w.close(timeout=-1),
            ):
                with pytest.raises(ConfigurationError, match=r"timeout=-1 is negative: give 0 or more seconds"):
                    await call()
            await w.send_batch(id_batch(0, 2))

    asyncio.run(main())
    assert sorted(stored_ids(server, table_name)) == [0, 1]


def test_send_cut_by_shutdown_says_send_again(server: LocalServer, table_name: str) -> None:
    """A send still in flight when ``shutdown(timeout=...)`` gave up raised ``WrapperClosedError`` reading only
    "wrapper closed" (Go's ``ErrClosed`` then said nothing to do; "create a new wrapper" would be wrong: the next
    send opens it again). Now its message says the rows not written can be sent again, and they can."""
    server.inject_fault(table_name, "stall_acks", persistent=True)
    w = ZerobusWrapper(server.config(table_name, **FAST))
    caught: list[BaseException] = []
    before = server.stats()["messages_received"]  # the server is shared with other tests

    def send() -> None:
        try:
            w.send_batch(id_batch(0, 4))
        except BaseException as exc:  # handed to the test
            caught.append(exc)

    t = threading.Thread(target=send)
    t.start()
    while server.stats()["messages_received"] < before + 2:  # the batch is on the wire, its acks held back
        time.sleep(0.005)
    with pytest.raises(CancelledError):
        w.shutdown(timeout=0.3)
    t.join(30)
    assert len(caught) == 1 and isinstance(caught[0], WrapperClosedError), caught
    err = caught[0]
    msg = str(err)
    assert "its rows not written can be sent again" in msg and "create a new" not in msg, msg
    assert err.result is not None and err.result.total_rows == 4 and err.result.successful_count == 0
    server.clear_faults(table_name)
    w.send_batch(id_batch(10, 2))  # the wrapper opens again
    w.close()
    assert {10, 11} <= set(stored_ids(server, table_name))
