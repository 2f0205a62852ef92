"""extract_*_batch selects rows from the result's ranges (an Arrow index
array), never from a Python list of row indices: the same rows as a list
would select, without a Python int per row."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zerobus_py import TransmissionResult, WrapperConfiguration, ZerobusError, ZerobusWrapper
from zerobus_py._arrow import row_indices

N = 1_000_000
#: Python objects a list of N row indices costs (28-byte ints + 8-byte slots).
_LIST_BYTES = N * 36


def _native(total: int, groups: list[tuple[str, list[tuple[int, int]]]]) -> dict[str, Any]:
    """A result as pybind returns it: failed groups as ranges, per state."""
    failed = sum(hi - lo for _, rs in groups for lo, hi in rs)
    not_written = sum(hi - lo for st, rs in groups if st == "not_written" for lo, hi in rs)
    return {
        "success": not failed,
        "attempts": 1,
        "latency_ms": 1.0,
        "batch_size_bytes": 0,
        "total_rows": total,
        "successful_count": total - failed,
        "failed_count": failed,
        "not_written_count": not_written,
        "unknown_count": failed - not_written,
        "error_kind": "connection" if failed else "",
        "error_message": "lost" if failed else "",
        "failed": [
            {"kind": "connection", "message": f"lost {i}", "state": st, "ranges": [list(r) for r in rs]}
            for i, (st, rs) in enumerate(groups)
        ],
    }


def _traced(f: Callable[[], Any]) -> tuple[Any, int]:
    """f's value and the peak of Python allocations while it ran."""
    tracemalloc.start()
    try:
        out = f()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


def test_row_indices_from_ranges() -> None:
    assert row_indices([]).to_pylist() == []
    assert row_indices([(3, 3)]).to_pylist() == []
    assert row_indices([(7, 10)]).to_pylist() == [7, 8, 9]
    assert row_indices([(0, 2), (5, 6), (10, 13)]).to_pylist() == [0, 1, 5, 10, 11, 12]
    assert row_indices([(0, 0), (2, 4), (4, 4), (4, 5)]).to_pylist() == [2, 3, 4]
    # overlapping ranges (a hand-built result listing a row twice): sorted, duplicates kept
    assert row_indices([(1, 4), (2, 3), (2, 3)]).to_pylist() == [1, 2, 2, 2, 3]
    assert row_indices([(0, 3)]).type == pa.int64()
    rng = random.Random(22)
    for _ in range(50):
        ranges: list[tuple[int, int]] = []
        lo = 0
        for _ in range(rng.randint(1, 30)):
            lo += rng.randint(0, 5)
            hi = lo + rng.randint(0, 7)
            ranges.append((lo, hi))
            lo = hi
        assert row_indices(ranges).to_pylist() == [i for lo, hi in ranges for i in range(lo, hi)]


def _million_failed() -> tuple[int, TransmissionResult]:
    """A result of N + 1000 rows, N of them failed in four ranges: two
    states, three errors; the other 1000 were acknowledged."""
    total = N + 1000
    groups = [
        ("unknown", [(0, 300_000), (700_500, 900_000)]),
        ("not_written", [(300_500, 700_500)]),
        ("unknown", [(900_000, 1_000_500)]),
    ]
    return total, TransmissionResult._from_native(_native(total, groups))


def test_million_failed_rows_in_ranges_extract_without_python_ints() -> None:
    """1 M failed rows in a few ranges, both states: each extraction selects
    exactly the rows a list of indices selects, and allocates far less than
    one Python int per row."""
    total, res = _million_failed()
    assert res.failed_count == N and res.successful_count == 1000
    batch = pa.record_batch({"id": pa.array(range(total), pa.int64())})
    table = pa.Table.from_batches([batch])
    want = {
        "failed": res.get_failed_row_indices(),
        "not_written": res.get_not_written_row_indices(),
        "unknown": res.get_unknown_row_indices(),
        "successful": res.get_successful_row_indices(),
    }
    assert len(want["failed"]) == N and len(want["not_written"]) == 400_000
    extract = {
        "failed": res.extract_failed_batch,
        "not_written": res.extract_not_written_batch,
        "unknown": res.extract_unknown_batch,
        "successful": res.extract_successful_batch,
    }
    for name, f in extract.items():
        for data in (batch, table):
            out, peak = _traced(lambda f=f, data=data: f(data))
            assert peak < 256 << 10, f"extract_{name}_batch: {peak} bytes of Python objects (a list: {_LIST_BYTES})"
            assert type(out) is type(data)
            expected = data.take(pa.array(want[name], pa.int64()))
            assert out.equals(expected), name
            assert out.num_rows == len(want[name])


def test_whole_failure_of_a_million_rows_extracts_the_batch() -> None:
    """End to end: a million-row batch that fails whole (a column with no
    protobuf equivalent) raises with its result; extracting the failed rows
    gives the batch back, without a Python int per row."""
    batch = pa.record_batch({"id": pa.array(range(N), pa.int64()), "nothing": pa.nulls(N)})
    cfg = WrapperConfiguration(None, "main.pytest.extract_ranges", zerobus_writer_disabled=True)
    with ZerobusWrapper(cfg) as w, pytest.raises(ZerobusError) as info:
        w.send_batch(batch)
    res = info.value.result
    assert res is not None and res.failed_count == N and res.not_written_count == N
    out, peak = _traced(lambda: res.extract_failed_batch(batch))
    assert peak < 256 << 10, f"{peak} bytes of Python objects (a list: {_LIST_BYTES})"
    assert out.equals(batch)
    assert res.extract_not_written_batch(batch).equals(batch)
    assert res.extract_unknown_batch(batch) is None and res.extract_successful_batch(batch) is None


def _hand_built() -> list[TransmissionResult]:
    """Results built with the original API's signature: lists, duplicates,
    several errors, unordered rows."""
    return [
        TransmissionResult(
            False,
            failed_rows=[(5, "ConversionError: a"), (1, "ConversionError: b"), (2, "ConversionError: a")],
            successful_rows=[0, 3, 4, 6, 7, 8, 9],
            total_rows=10,
        ),
        TransmissionResult(False, failed_rows=[(2, "ConversionError: x"), (2, "TransmissionError: y"), (1, "x")]),
        TransmissionResult(True, successful_rows=[4, 1, 1], total_rows=10),
        TransmissionResult(False, failed_rows=[(i, "ConversionError: e") for i in (9, 8, 7, 0, 3)], total_rows=10),
    ]


@pytest.mark.parametrize("kind", ["record_batch", "table", "pandas", "polars"])
def test_extraction_matches_index_lists(kind: str) -> None:
    """For results from sends and built by hand, every extract_*_batch gives
    what selecting its index list gives, for every kind of input."""
    ids = list(range(10))
    batch = pa.record_batch({"id": pa.array(ids, pa.int64()), "s": pa.array([f"r{i}" for i in ids])})
    data: Any = batch
    take: Callable[[Any, list[int]], Any]
    if kind == "record_batch":

        def take(d: Any, idx: list[int]) -> Any:
            return d.take(pa.array(idx, pa.int64()))
    elif kind == "table":
        data = pa.Table.from_batches([batch])

        def take(d: Any, idx: list[int]) -> Any:
            return d.take(pa.array(idx, pa.int64()))
    elif kind == "pandas":
        pytest.importorskip("pandas")
        data = batch.to_pandas()

        def take(d: Any, idx: list[int]) -> Any:
            return d.iloc[idx]
    else:
        pl = pytest.importorskip("polars")
        data = pl.from_arrow(batch)

        def take(d: Any, idx: list[int]) -> Any:
            return d[pl.Series(idx, dtype=pl.Int64)]

    native = [
        _native(10, [("unknown", [(0, 2), (5, 6)]), ("not_written", [(2, 3), (8, 10)])]),
        _native(10, [("not_written", [(0, 10)])]),
        _native(10, []),
    ]
    results = [TransmissionResult._from_native(d) for d in native] + _hand_built()
    for res in results:
        cases = [
            (res.extract_failed_batch, sorted(res.get_failed_row_indices())),  # built: indices in the order given
            (res.extract_not_written_batch, res.get_not_written_row_indices()),
            (res.extract_unknown_batch, res.get_unknown_row_indices()),
            (res.extract_successful_batch, sorted(res.get_successful_row_indices())),
        ]
        for extract, idx in cases:
            got = extract(data)
            if not idx:
                assert got is None, (res, idx)
                continue
            want = take(data, idx)
            assert type(got) is type(want)
            if kind == "pandas":
                assert got.equals(want) and list(got.index) == list(want.index), (res, idx)
            else:
                assert got.equals(want), (res, idx)


def test_hand_built_result_checks_the_rows_exist() -> None:
    res = TransmissionResult(False, failed_rows=[(12, "ConversionError: e")])
    with pytest.raises(ValueError, match="has 10 rows but this result lists row 12"):
        res.extract_failed_batch(pa.record_batch({"id": pa.array(range(10), pa.int64())}))
    assert res.extract_failed_batch(pa.record_batch({"id": pa.array(range(13), pa.int64())})).num_rows == 1


def test_spark_quarantine_from_runs(tmp_path: Path) -> None:
    """The Spark sink's quarantine file of a million failed rows (two
    states, three errors) is built from the result's runs: the rows, their
    outcome and their error as before, without a Python object per row."""
    spark = pytest.importorskip("zerobus_py.spark", reason="pyspark is not installed")
    total, res = _million_failed()
    part = pa.table({"id": pa.array(range(total), pa.int64())})
    q = spark._Quarantine(str(tmp_path / "q"), "0123456789abcdef", spark._Task(0, 0, 0, None))
    _, peak = _traced(lambda: q.write(res, part))
    name = q.close()
    assert name is not None and q.rows == N
    assert peak < 1 << 20, f"{peak} bytes of Python objects (per-row lists: > {_LIST_BYTES})"
    got = pq.read_table(tmp_path / "q")
    errors = {i: f"{type(e).__name__}: {e}" for i, e in res.failed_row_errors}
    want_ids = res.get_not_written_row_indices() + res.get_unknown_row_indices()
    assert got.column("id").to_pylist() == want_ids
    outcome_col, error_col, row_col = spark._QUARANTINE_COLUMNS
    assert got.column(row_col).to_pylist() == want_ids  # the partition's one part: its row numbers are the ids
    assert got.column(outcome_col).to_pylist() == ["not_written"] * 400_000 + ["unknown"] * 600_000
    assert got.column(error_col).to_pylist() == [errors[i] for i in want_ids]
    assert got.column(error_col)[0].as_py() == "ConnectionError: lost 1"
