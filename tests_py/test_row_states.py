"""The three per-row outcomes: durable, not written (safe to re-send) and unknown (may be stored)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConversionError, TransmissionResult, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

BAD = [1, 4, 5]  # rows whose uint64 value does not fit the int64 column


def test_conversion_failures_are_not_written(server: LocalServer, table_name: str) -> None:
    vals = [2**63 + i if i in BAD else i for i in range(8)]
    batch = pa.record_batch({"id": pa.array(range(8), pa.int64()), "big": pa.array(vals, pa.uint64())})
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert (res.successful_count, res.failed_count, res.not_written_count, res.unknown_count) == (5, 3, 3, 0)
    assert res.get_not_written_row_indices() == BAD == res.get_failed_row_indices()
    assert res.get_unknown_row_indices() == []
    assert res.extract_not_written_batch(batch).column("id").to_pylist() == BAD
    assert res.extract_unknown_batch(batch) is None
    assert all(isinstance(err, ConversionError) for _, err in res.failed_row_errors)
    # not written means not stored
    assert stored_ids(server, table_name) == [i for i in range(8) if i not in BAD]


def test_sent_without_ack_is_unknown_and_may_be_stored(server: LocalServer, table_name: str) -> None:
    # The server stores every message but never acknowledges: the client
    # gives up after one recovery. Its rows are unknown, not "not written",
    # and indeed the server has them (twice: once per RPC).
    server.inject_fault(table_name, "stall_acks", persistent=True)
    cfg = server.config(table_name, ack_timeout_ms=150, retry_max_attempts=1, retry_base_delay_ms=1)
    batch = id_batch(0, 6)
    with ZerobusWrapper(cfg) as w, pytest.raises(ZerobusError) as ei:
        w.send_batch(batch)
    res = ei.value.result
    assert res is not None
    assert (res.successful_count, res.not_written_count, res.unknown_count, res.failed_count) == (0, 0, 6, 6)
    assert res.get_unknown_row_indices() == list(range(6)) and res.get_not_written_row_indices() == []
    assert res.extract_unknown_batch(batch).equals(batch)
    assert "6 unknown (may be stored)" in repr(res)
    assert set(stored_ids(server, table_name)) == set(range(6))


def test_states_from_native_json() -> None:
    native = {
        "success": False,
        "attempts": 2,
        "latency_ms": 1.0,
        "batch_size_bytes": 10,
        "total_rows": 6,
        "successful_count": 1,
        "failed_count": 5,
        "not_written_count": 2,
        "unknown_count": 3,
        "error_kind": "connection",
        "error_message": "lost",
        "failed": [
            {"kind": "connection", "message": "lost", "state": "unknown", "ranges": [[0, 3]]},
            {"kind": "connection", "message": "lost", "state": "not_written", "ranges": [[4, 6]]},
        ],
    }
    res = TransmissionResult._from_native(native)
    assert (res.not_written_count, res.unknown_count) == (2, 3)
    assert res.get_unknown_row_indices() == [0, 1, 2] and res.get_not_written_row_indices() == [4, 5]
