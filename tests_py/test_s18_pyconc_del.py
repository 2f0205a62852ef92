"""s18 review pyconc M1: collecting an unclosed wrapper must not wait (in whichever thread the collection runs: an
event loop's, any thread at an allocation, losing a Ctrl-C that comes meanwhile)."""

from __future__ import annotations

import gc
import time
from typing import Any

import pytest
from conftest import id_batch

from zerobus_py import CancelledError, ZerobusWrapper, _wrapper
from zerobus_py.local import LocalServer


def test_collecting_an_unclosed_wrapper_does_not_wait_for_withheld_acks(
    table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalServer() as server:
        # the first message is acknowledged, then none on that stream
        server.inject_fault(table_name, "stall_acks", after_messages=1)
        w = ZerobusWrapper(server.config(table_name, ack_timeout_ms=600_000))
        assert w.send_batch(id_batch(0, 10)).all_succeeded
        with pytest.raises(CancelledError) as info:
            w.send_batch(id_batch(10, 100), timeout=0.2)
        # every row's result was returned already: nothing a wait in the finalizer could change
        assert info.value.result.unknown_count == 100  # type: ignore[attr-defined]
        del info  # its traceback's frames hold the wrapper
        waits: list[Any] = []
        real_wait = _wrapper._wait_for

        def recording_wait(start: Any) -> None:
            waits.append(start)
            real_wait(start)

        monkeypatch.setattr(_wrapper, "_wait_for", recording_wait)
        ended = server.stats()["streams_ended"]
        w.cycle = w  # type: ignore[attr-defined]  # collected by the gc, as a callback holding it would be
        del w
        with pytest.warns(ResourceWarning, match="unclosed"):
            gc.collect()
        assert waits == [], "the finalizer waited for the close"  # it called shutdown(timeout=5): a 5 s wait
        # gc returned while Go's close still waits for the withheld acknowledgements ...
        assert server.stats()["streams_ended"] == ended
        # ... and that close ends by itself (it aborts the stream when its time runs out)
        while server.stats()["streams_ended"] == ended:
            time.sleep(0.05)
