"""s17 (review M3, L5): a result's repr / str / HTML say what is true of the rows not acknowledged: not written
(certainly not stored) or unknown (sent, may be stored), never "not sent" or "failed" for rows that may have
landed; a hand-built result's repr and HTML status agree; counts have thousands separators."""

from __future__ import annotations

import time

import pyarrow as pa

from zerobus_py import RetryExhausted, TransmissionResult, ZerobusWrapper
from zerobus_py._errors import error_for
from zerobus_py._result import NOT_WRITTEN, UNKNOWN, _FailedGroup
from zerobus_py.local import LocalServer


def _cells(h: str) -> dict[str, str]:
    """The HTML table's rows as {label: value} (the last of a repeated label)."""
    out = {}
    for row in h.split("<tr>")[1:]:
        label = row.split("<th style='text-align:left'>", 1)[1].split("</th>", 1)[0]
        out[label] = row.split("<td>", 1)[1].split("</td>", 1)[0]
    return out


def test_unacknowledged_rows_that_were_stored_are_shown_unknown_not_failed(
    server: LocalServer, table_name: str
) -> None:
    cfg = server.config(
        table_name, retry_base_delay_ms=5, retry_max_delay_ms=50, retry_max_attempts=2, ack_timeout_ms=300
    )
    with ZerobusWrapper(cfg) as w:
        server.inject_fault(table_name, "stall_acks", after_messages=0, persistent=True)
        try:
            w.send_batch(pa.record_batch({"id": pa.array(range(100), pa.int64())}))
        except RetryExhausted as e:
            assert e.result is not None
            res = e.result
        else:
            raise AssertionError("the send did not raise")
        server.clear_faults()
    deadline = time.monotonic() + 5
    while server.record_count(table_name) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.record_count(table_name) >= 100  # the rows were sent and stored: the result must not deny it
    assert (res.unknown_count, res.not_written_count, res.successful_count) == (100, 0, 0)
    r = repr(res)
    assert "0/100 rows acknowledged (100 not acknowledged: RetryExhausted=100; 100 unknown (may be stored))" in r, r
    assert "sent" not in r.split(", attempts=")[0] and "failed" not in r.split(", attempts=")[0], r
    assert str(res) == r
    cells = _cells(res._repr_html_())
    assert cells["status"].startswith("❓ unknown") and "failed" not in cells["status"], cells
    assert cells["unknown (may be stored)"] == "100 rows: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 …", cells
    assert "not written" not in cells
    assert cells["RetryExhausted, unknown (may be stored)"] == "100 rows: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 …", cells


def test_html_splits_one_error_type_by_row_state() -> None:
    err = error_for("canceled", "zerobus: the send was canceled")
    res = TransmissionResult._create(
        success=False,
        all_succeeded=False,
        error=err,
        failure=err,
        attempts=1,
        latency_ms=1.0,
        batch_size_bytes=10,
        total_rows=10,
        successful_count=2,
        failed_count=8,
        groups=[_FailedGroup(err, ((2, 7),), NOT_WRITTEN), _FailedGroup(err, ((7, 10),), UNKNOWN)],
    )
    name = res._groups[0].type_name()
    cells = _cells(res._repr_html_())
    assert cells["not written"] == "5 rows: 2, 3, 4, 5, 6", cells
    assert cells["unknown (may be stored)"] == "3 rows: 7, 8, 9", cells
    assert cells["acknowledged"] == "2 rows: " or cells["acknowledged"].startswith("2 rows"), cells
    assert cells[f"{name}, not written"] == "5 rows: 2, 3, 4, 5, 6", cells
    assert cells[f"{name}, unknown (may be stored)"] == "3 rows: 7, 8, 9", cells
    assert "may be stored" in cells["status"] and "not written" not in cells["status"], cells
    assert f"2/10 rows acknowledged (8 not acknowledged: {name}=8; 5 not written, 3 unknown (may be stored))" in repr(
        res
    )


def test_a_built_result_repr_and_html_status_agree() -> None:
    res = TransmissionResult(True, failed_rows=[(1, "ConversionError: x")], total_rows=3)
    assert repr(res).startswith("<TransmissionResult success=True:")
    status = _cells(res._repr_html_())["status"]
    assert status == "⚠️ partial", status
    failed = TransmissionResult(False, failed_rows=[(0, "ConversionError: x")], total_rows=1)
    assert repr(failed).startswith("<TransmissionResult success=False:")
    assert not _cells(failed._repr_html_())["status"].startswith(("✅", "⚠️ partial"))


def test_repr_counts_have_thousands_separators() -> None:
    res = TransmissionResult(
        True,
        successful_count=1_234_567,
        failed_count=2_345,
        total_rows=1_236_912,
        failed_rows=[(i, "ConversionError: bad") for i in range(2_345)],
    )
    r = repr(res)
    assert "1,234,567/1,236,912 rows acknowledged (2,345 not acknowledged: ConversionError=2,345;" in r, r
    assert "1,234,567/1,236,912 rows acknowledged" in res._repr_html_()
