"""Session 19 (resent): rows re-sent after a stream recovery (possible duplicates: delivery is at-least-once) are
counted in ``TransmissionResult.recoveries`` and ``resent_rows``, as the Go core counts them."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import TransmissionResult, ZerobusWrapper
from zerobus_py.local import LocalServer

ROWS = 20_000


def _batch() -> pa.RecordBatch:
    ids = list(range(ROWS))
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "s": pa.array([f"row {i} with some text to make it a few dozen bytes" for i in ids]),
        }
    )


def _send(
    server: LocalServer, table: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[TransmissionResult, Mapping[str, Any]]:
    """Send the batch through one stream with at most 3 requests in flight; also return the result as Go encoded
    it (the dict pybind hands to ``_from_native``)."""
    seen: list[Mapping[str, Any]] = []
    orig = TransmissionResult._from_native.__func__  # type: ignore[attr-defined]

    def spy(cls: type[TransmissionResult], d: Mapping[str, Any]) -> TransmissionResult:
        seen.append(d)
        res: TransmissionResult = orig(cls, d)
        return res

    monkeypatch.setattr(TransmissionResult, "_from_native", classmethod(spy))
    cfg = server.config(
        table,
        streams_per_schema=1,
        max_inflight_requests=3,
        max_message_bytes=64 << 10,
        retry_base_delay_ms=1,
        retry_max_delay_ms=10,
    )
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(_batch())
    assert len(seen) == 1
    return res, seen[0]


def test_no_fault_nothing_resent(server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    res, native = _send(server, table_name, monkeypatch)
    assert res.successful_count == ROWS
    assert (res.recoveries, res.resent_rows) == (0, 0) == (native["recoveries"], native["resent_rows"])
    assert "recoveries" not in repr(res) and "resent" not in repr(res)
    assert "re-sent" not in res._repr_html_()


def test_drop_after_stalled_acks_counts_the_duplicates(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Acks stop after the 3rd request and the connection drops at the 6th, with at most 3 requests in flight:
    # requests 4-6 are stored and unacknowledged, nothing after them is written, and the one recovery writes
    # exactly them again. So the rows re-sent are exactly the rows stored twice.
    server.inject_fault(table_name, "stall_acks", after_messages=3)
    server.inject_fault(table_name, "drop_connection", after_messages=6)
    res, native = _send(server, table_name, monkeypatch)
    assert res.successful_count == ROWS and res.failed_count == 0
    ids = server.table(table_name).column("id").to_pylist()
    dups = len(ids) - ROWS
    assert dups > 0, "the fault made no duplicates"
    assert set(ids) == set(range(ROWS))
    assert res.recoveries == 1 == native["recoveries"]
    assert res.resent_rows == dups == native["resent_rows"]
    assert res.attempts == 2
    r = repr(res)
    assert f"attempts=2, recoveries=1, resent_rows={dups}, latency_ms=" in r, r
    html = res._repr_html_()
    assert f"up to {dups:,} rows after 1 stream recovery (possible duplicates)" in html, html

    # pickling and copying keep both
    for back in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res), copy.copy(res)):
        assert (back.recoveries, back.resent_rows) == (1, dups)
        assert repr(back) == r


def test_state_pickled_without_the_fields_reads_as_zero() -> None:
    # A result pickled by 0.8.1 has no _recoveries / _resent_rows in its state: they read as 0.
    res = TransmissionResult(True, total_rows=3, successful_count=3)
    state = res.__getstate__()
    assert state["_recoveries"] == 0 and state["_resent_rows"] == 0
    old = {k: v for k, v in state.items() if k not in ("_recoveries", "_resent_rows")}
    back = TransmissionResult.__new__(TransmissionResult)
    back.__setstate__(old)
    assert (back.recoveries, back.resent_rows) == (0, 0)
    assert repr(back) == repr(res)


def test_from_native_passes_both_through() -> None:
    native = {
        "success": True,
        "attempts": 3,
        "recoveries": 2,
        "resent_rows": 1500,
        "latency_ms": 1.0,
        "batch_size_bytes": 10,
        "total_rows": 6,
        "successful_count": 6,
        "failed_count": 0,
        "not_written_count": 0,
        "unknown_count": 0,
        "failed": [],
    }
    res = TransmissionResult._from_native(native)
    assert (res.recoveries, res.resent_rows) == (2, 1500)
    assert "recoveries=2, resent_rows=1500" in repr(res)
    assert "up to 1,500 rows after 2 stream recoveries (possible duplicates)" in res._repr_html_()
    # an older native module (no keys) gives 0
    old = {k: v for k, v in native.items() if k not in ("recoveries", "resent_rows")}
    assert (TransmissionResult._from_native(old).recoveries, TransmissionResult._from_native(old).resent_rows) == (0, 0)
