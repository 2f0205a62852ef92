"""extract_failed_batch of a million failed rows: from ranges (an Arrow index
array, what TransmissionResult does) vs from a Python list of row indices
(what it did before), interleaved in one run.

Reports, per way and input (pyarrow Table, pandas DataFrame): best and median
wall time of the whole extraction and the peak of Python allocations
(tracemalloc, a separate run: tracing slows the list way down). Run:
``.venv/bin/python bench/bench_extract.py [--rows N] [--ranges K] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from zerobus_py import TransmissionResult
from zerobus_py._arrow import take_rows


def _result(rows: int, ranges: int) -> TransmissionResult:
    """A result of rows + 1000 rows whose failed rows are `ranges` runs
    totalling `rows`, separated by one successful row."""
    per = rows // ranges
    runs = [[k * (per + 1), k * (per + 1) + per] for k in range(ranges)]
    runs[-1][1] += rows - per * ranges
    total = runs[-1][1] + 1000
    native = {
        "success": False,
        "attempts": 1,
        "latency_ms": 0.0,
        "batch_size_bytes": 0,
        "total_rows": total,
        "successful_count": total - rows,
        "failed_count": rows,
        "not_written_count": rows,
        "unknown_count": 0,
        "error_kind": "connection",
        "error_message": "lost",
        "failed": [{"kind": "connection", "message": "lost", "state": "not_written", "ranges": runs}],
    }
    return TransmissionResult._from_native(native)


def _from_list(res: TransmissionResult, data: Any) -> Any:
    """The extraction as it was: a Python list of every failed row's index."""
    indices = res.get_failed_row_indices()
    return take_rows(data, pa.array(indices, type=pa.int64()), res.total_rows)


def _peak(f: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000, help="failed rows")
    ap.add_argument("--ranges", type=int, default=4, help="runs they form")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    res = _result(args.rows, args.ranges)
    table = pa.table({"id": pa.array(range(res.total_rows), pa.int64()), "v": pa.array([1.5] * res.total_rows)})
    inputs: dict[str, Any] = {"table": table}
    with contextlib.suppress(ImportError):
        inputs["pandas"] = table.to_pandas()
    ways: dict[str, Callable[[Any], Any]] = {
        "ranges": res.extract_failed_batch,
        "list": lambda d: _from_list(res, d),
    }
    print(f"{args.rows} failed rows in {args.ranges} ranges of a {res.total_rows}-row batch")
    for name, data in inputs.items():
        assert len(ways["ranges"](data)) == len(ways["list"](data)) == args.rows
        times: dict[str, list[float]] = {w: [] for w in ways}
        for _ in range(args.repeat):
            for w, f in ways.items():  # interleaved
                t = time.perf_counter()
                f(data)
                times[w].append(time.perf_counter() - t)
        peaks = {w: _peak(lambda f=f, d=data: f(d)) for w, f in ways.items()}
        for w in ways:
            best, median = min(times[w]) * 1e3, statistics.median(times[w]) * 1e3
            print(
                f"  {name:7s} {w:7s} best {best:7.1f} ms  median {median:7.1f} ms"
                f"  peak Python allocations {peaks[w] / 1e6:7.2f} MB"
            )
        ratio = statistics.median(times["list"]) / statistics.median(times["ranges"])
        print(f"  {name:7s} list/ranges median time {ratio:.2f}x")


if __name__ == "__main__":
    main()
