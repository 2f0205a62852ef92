"""Partial failures, quarantine (extract_failed_batch) and TransmissionResult helpers."""

from __future__ import annotations

import pyarrow as pa
import pytest

from zerobus_py import ConversionError, TransmissionResult, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

BAD = [1, 4, 5, 9]  # rows whose uint64 value does not fit the int64 column


def _mixed_batch(n: int = 12) -> pa.RecordBatch:
    vals = [2**63 + i if i in BAD else i for i in range(n)]
    return pa.record_batch(
        {
            "id": pa.array(range(n), pa.int64()),
            "big": pa.array(vals, pa.uint64()),
            "label": pa.array([f"row-{i}" for i in range(n)]),
        }
    )


@pytest.fixture
def partial(server: LocalServer, table_name: str) -> tuple[TransmissionResult, pa.RecordBatch]:
    batch = _mixed_batch()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)  # row failures are reported, not raised
    return res, batch


def test_partial_failure_counts(partial: tuple[TransmissionResult, pa.RecordBatch]) -> None:
    res, _ = partial
    assert res.success and not res.all_succeeded and res.error is None  # the original's meaning: some rows stored
    assert res.is_partial_success() and res.has_failed_rows() and res.has_successful_rows()
    assert (res.total_rows, res.successful_count, res.failed_count) == (12, 8, 4)
    assert res.get_failed_row_indices() == BAD
    assert res.get_successful_row_indices() == [i for i in range(12) if i not in BAD]
    assert res.successful_rows == res.get_successful_row_indices()
    assert [i for i, _ in res.failed_rows] == BAD
    for i, err in res.failed_row_errors:
        assert isinstance(err, ConversionError) and isinstance(err, ValueError)
        assert f"row {i}" in str(err) and '"big"' in str(err)
    assert res.error is None  # rows failed one by one: no batch-level error, as in the original
    assert res.attempts >= 1 and res.latency_ms > 0 and res.batch_size_bytes > 0


def test_extract_failed_batch_is_exactly_the_bad_rows(
    partial: tuple[TransmissionResult, pa.RecordBatch], server: LocalServer, table_name: str
) -> None:
    res, batch = partial
    failed = res.extract_failed_batch(batch)
    assert isinstance(failed, pa.RecordBatch)
    assert failed.equals(batch.take(pa.array(BAD)))
    assert failed.column("id").to_pylist() == BAD
    ok = res.extract_successful_batch(batch)
    assert ok.column("id").to_pylist() == [i for i in range(12) if i not in BAD]
    # the server holds exactly the successful rows
    stored = server.table(table_name).sort_by("id")
    assert stored.column("id").to_pylist() == ok.column("id").to_pylist()
    assert stored.column("label").to_pylist() == ok.column("label").to_pylist()
    # a Table comes back as a Table
    t = pa.Table.from_batches([batch.slice(0, 6), batch.slice(6)])
    assert res.extract_failed_batch(t).column("id").to_pylist() == BAD
    with pytest.raises(ValueError, match="12"):
        res.extract_failed_batch(batch.slice(0, 5))


def test_error_grouping_helpers(partial: tuple[TransmissionResult, pa.RecordBatch]) -> None:
    res, _ = partial
    assert res.group_errors_by_type() == {"ConversionError": BAD}
    assert res.get_failed_row_indices_by_error_type("ConversionError") == BAD
    assert res.get_failed_row_indices_by_error_type(ConversionError) == BAD
    assert res.get_failed_row_indices_by_error_type("conversion") == BAD
    assert res.get_failed_row_indices_by_error_type(ZerobusError) == BAD
    assert res.get_failed_row_indices_by_error_type("TransmissionError") == []
    with pytest.raises(ValueError, match="unknown error type"):
        res.get_failed_row_indices_by_error_type("NoSuchError")
    stats = res.get_error_statistics()
    assert stats == {
        "total_rows": 12,
        "successful_count": 8,
        "failed_count": 4,
        "success_rate": 8 / 12,
        "failure_rate": 4 / 12,
        "error_type_counts": {"ConversionError": 4},
    }
    msgs = res.get_error_messages()
    assert len(msgs) == 4 and all('"big"' in m for m in msgs)
    assert "row 1" in msgs[0]


def test_repr_and_html(partial: tuple[TransmissionResult, pa.RecordBatch]) -> None:
    res, _ = partial
    r = repr(res)
    shown = "8/12 rows acknowledged (4 not acknowledged: ConversionError=4; 4 not written)"
    assert r.startswith(f"<TransmissionResult success=True: {shown}")
    assert "attempts=" in r and "failure=ConversionError(" in r
    h = res._repr_html_()
    assert "<table>" in h and "8/12 rows acknowledged" in h and "ConversionError" in h and "1, 4, 5, 9" in h


def test_success_result(wrapper: ZerobusWrapper) -> None:
    batch = _mixed_batch(3)  # rows 0..2: only row 1 is bad
    res = wrapper.send_batch(batch.slice(2, 1))
    assert res.success and res.error is None
    assert res.failed_rows == [] and res.successful_rows == [0]
    assert res.group_errors_by_type() == {} and res.get_error_messages() == []
    assert res.get_error_statistics()["success_rate"] == 1.0
    assert res.extract_failed_batch(batch.slice(2, 1)) is None
    assert "success=True" in repr(res)


def test_partial_failure_across_payloads(monkeypatch: pytest.MonkeyPatch, server: LocalServer, table_name: str) -> None:
    from zerobus_py import _wrapper

    monkeypatch.setattr(_wrapper, "_SEND_WINDOW", (12, 0))  # parts of 3 rows
    table = pa.Table.from_batches([_mixed_batch().slice(0, 6), _mixed_batch().slice(6)])
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(table)
    assert res.get_failed_row_indices() == BAD
    assert res.total_rows == 12 and res.successful_count == 8
    assert res.extract_failed_batch(table).column("id").to_pylist() == BAD
    assert sorted(server.table(table_name).column("id").to_pylist()) == [i for i in range(12) if i not in BAD]


def test_oversized_rows_fail_individually(server: LocalServer, table_name: str) -> None:
    text = ["short", "x" * 5000, "fine", "y" * 5000]
    batch = pa.record_batch({"id": pa.array(range(4), pa.int64()), "text": pa.array(text)})
    with ZerobusWrapper(server.config(table_name, max_record_bytes=1024)) as w:
        res = w.send_batch(batch)
    assert res.get_failed_row_indices() == [1, 3]
    assert all(isinstance(e, ConversionError) for _, e in res.failed_row_errors)
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 2]


def test_large_result_keeps_ranges_not_rows() -> None:
    """A result of a million rows holds ranges: building it (the native JSON,
    the result object) allocates no per-row Python objects; lists are built
    only when asked for, with the same values as before."""
    import tracemalloc

    from zerobus_py import WrapperConfiguration

    n = 1_000_000
    bad = {7, 500_000, 999_999}
    vals = pa.array([2**63 if i in bad else i for i in range(n)], pa.uint64())
    batch = pa.record_batch({"id": pa.array(range(n), pa.int64()), "big": vals})
    cfg = WrapperConfiguration(None, "main.pytest.ranges", zerobus_writer_disabled=True)
    with ZerobusWrapper(cfg) as w:
        reader = pa.RecordBatchReader.from_batches(batch.schema, [batch.slice(0, n // 2), batch.slice(n // 2)])
        tracemalloc.start()
        try:
            res = w.send_batch(reader)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 1 << 20, f"building the result allocated {peak} bytes of Python objects"  # a row list: ~36 MB
    assert res.total_rows == n and res.successful_count == n - 3 and res.failed_count == 3
    assert res.get_error_statistics()["error_type_counts"] == {"ConversionError": 3}
    assert "999,997/1,000,000 rows converted" in repr(res)
    assert res.get_failed_row_indices() == sorted(bad)
    ok = res.get_successful_row_indices()
    assert len(ok) == n - 3 and ok[:8] == [0, 1, 2, 3, 4, 5, 6, 8] and ok[-1] == 999_998
    assert ok == [i for i in range(n) if i not in bad]
