"""The ``timeout=`` of send_batch, flush and shutdown: a very long timeout
(or ``math.inf``) waits, instead of overflowing Go's time.Duration into a
deadline in the past, and a timeout that is not a number is a TypeError
naming it, not an OverflowError from the Go call. A ``progress=`` that cannot
be called is refused before anything is sent."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import id_batch

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def test_long_and_infinite_timeouts_wait(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name)) as w:
        for i, timeout in enumerate((1e10, 1e15, math.inf)):
            # 1e10 s raised CancelledError "context deadline exceeded" after 0 rows; inf an OverflowError
            assert w.send_batch(id_batch(10 * i, 3), timeout=timeout).successful_count == 3, timeout
            w.flush(timeout=timeout)
        w.shutdown(timeout=math.inf)
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 1, 2, 10, 11, 12, 20, 21, 22]


def test_numpy_and_negative_infinite_timeouts(server: LocalServer, table_name: str) -> None:
    # np.int64(5) worked (int(t * 1000)) until the type check took only int/float; -inf raised OverflowError
    with ZerobusWrapper(server.config(table_name)) as w:
        for i, timeout in enumerate((np.int64(5), np.float32(2.5), np.float64(math.inf), Fraction(3, 2))):
            assert w.send_batch(id_batch(10 * i, 2), timeout=timeout).successful_count == 2, timeout
            w.flush(timeout=timeout)
        with pytest.raises(ValueError, match="timeout=nan is not a number"):
            w.flush(timeout=np.float64(math.nan))
        for short in (0, 0.0001):
            w.flush(timeout=short)  # the shortest bound (1 ms): nothing is pending, so it returns
        for negative, text in ((-math.inf, "timeout=-inf is negative"), (-1, "timeout=-1 is negative")):
            with pytest.raises(ValueError, match=text):  # a negative timeout has no meaning (session 19)
                w.flush(timeout=negative)
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 1, 10, 11, 20, 21, 30, 31]


def test_timeout_that_is_not_a_number(server: LocalServer, table_name: str) -> None:
    w = ZerobusWrapper(server.config(table_name))
    for bad in ("5", b"5", True):
        with pytest.raises(TypeError, match="timeout must be a number of seconds or None"):
            w.flush(timeout=bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="timeout must be a number of seconds or None"):
            w.send_batch(id_batch(0, 1), timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout=nan is not a number"):
        w.flush(timeout=math.nan)
    with pytest.raises(TypeError):
        w.shutdown(timeout="1")  # type: ignore[arg-type]
    w.shutdown()  # the bad timeout left the wrapper open: this shuts it down
    assert "closed" in repr(w)
    assert server.record_count(table_name) == 0


def test_progress_that_cannot_be_called_sends_nothing(server: LocalServer, table_name: str) -> None:
    # it was called after the rows were sent: "TypeError: 'int' object is not callable", the rows stored
    with ZerobusWrapper(server.config(table_name)) as w:
        with pytest.raises(TypeError, match="progress must be a callable"):
            w.send_batch(id_batch(0, 2), progress=5)  # type: ignore[arg-type]
        w.flush()
    assert server.record_count(table_name) == 0
