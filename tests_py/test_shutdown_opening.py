"""shutdown() after a check_schema that gave up while the server still held its stream's creation back: the
stream being opened is what shutdown aborts, and its error says so (it said "aborted the streams with
unacknowledged requests", of which there were none)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from zerobus_py import CancelledError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_shutdown_names_the_stream_still_being_opened(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "create_delay", latency_ms=20_000, persistent=True)
    try:
        w = ZerobusWrapper(server.config(table_name, create_timeout_ms=30_000))
        with pytest.raises(ZerobusError, match="the stream had not opened"):
            w.check_schema(pa.schema({"id": pa.int64()}), timeout=0.2)
        with pytest.raises(CancelledError) as info:
            w.shutdown(timeout=0.3)
    finally:
        server.clear_faults(table_name)
    message = str(info.value)
    assert "aborted a stream still being opened (nothing had been sent on it)" in message, message
    assert "unacknowledged" not in message, message
