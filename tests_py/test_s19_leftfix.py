"""Session 19 leftovers fixed by ``leftfix``: each test failed before its fix."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FAST, id_batch, stored_ids

from zerobus_py import AsyncZerobusWrapper, ConfigurationError, ZerobusWrapper
from zerobus_py.local import LocalServer


def _refuses_negative(call: Callable[[], Any], shown: str = "timeout=-1") -> None:
    with pytest.raises(ValueError) as ei:
        call()
    err = ei.value
    assert isinstance(err, ConfigurationError) and err.kind == "configuration", repr(err)
    msg = str(err)
    assert f"{shown} is negative" in msg and "give 0 or more seconds" in msg, msg
    assert "(None) for the call's default bound" in msg and "0.001 s" not in msg, msg


def test_negative_timeout_is_refused_on_every_call(server: LocalServer, table_name: str) -> None:
    """timeout=-1 was taken as 1 ms: the send failed with "timeout=0.001 s passed", a value never given. Now every
    call refuses it before doing anything (no row sent, the wrapper not shut down) with the rule Go states."""
    w = ZerobusWrapper(server.config(table_name, **FAST))
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-1))
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-0.25), "timeout=-0.25")
    _refuses_negative(lambda: w.send_batch(id_batch(0, 3), timeout=-(10**400)), "timeout=-Inf")
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
    with pytest.raises(ValueError, match="timeout=NaN is not a number"):
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
