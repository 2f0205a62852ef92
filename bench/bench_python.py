"""Python vs Go: the reference batch sent through zerobus_py and through the Go core directly.

Both paths use the same wrapper, the same in-process local server and the same
batch (a pyarrow copy of convert.ReferenceBatch: 12 columns typical of an event
table), in the same run:

* Go: ``Wrapper.SendRepeated`` imports the batch once (Arrow C stream) and
  calls core.Wrapper.SendReader, the engine of every Python send, in a Go loop
  (no Python in the loop);
* Python: ``ZerobusWrapper.send_batch(batch)`` per iteration (export as an
  Arrow C stream, Go reads it in place, waits in 50 ms slices, result as JSON,
  result object).

Python's extra cost = (Python time - Go time) / Go time, from the medians.
Also reports the per-call cost of a 1-row batch on both paths.

Run: ``make py-bench`` (or ``python bench/bench_python.py [--rows N] [--rounds N] [--per-round N]
[--small-iters N]``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import pyarrow as pa

from zerobus_py import ZerobusWrapper
from zerobus_py._arrow import export
from zerobus_py.local import LocalServer

T0 = 1_700_000_000_000_000  # 2023-11-14 in microseconds


def reference_batch(rows: int) -> pa.RecordBatch:
    """The same rows as Go's convert.ReferenceBatch(mem, rows)."""
    i = np.arange(rows, dtype=np.int64)
    z = pa.array((i % 1000) * 1.25, mask=(i % 97 == 0))
    samples = pa.ListArray.from_arrays(
        pa.array(np.arange(rows + 1, dtype=np.int32) * 4),
        pa.array(((i[:, None] + np.arange(4)) * 0.1).ravel()),
    )
    payload = ((i[:, None] + np.arange(16)) & 0xFF).astype(np.uint8)
    return pa.record_batch(
        {
            "id": pa.array(i),
            "ts": pa.array(T0 + i * 1000, pa.timestamp("us", tz="UTC")),
            "name": pa.array([f"user-{k % 100_000_000:08d}@example.com"[:24] for k in range(rows)]),
            "x": pa.array(i * 0.5),
            "y": pa.array(-i / 3),
            "z": z,
            "ok": pa.array(i % 3 == 0),
            "count": pa.array((i % 1_000_000).astype(np.int32)),
            "samples": samples,
            "info": pa.StructArray.from_arrays([pa.array(["label"] * rows), pa.array(i * 7)], names=["label", "n"]),
            "payload": pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(16), rows, [None, pa.py_buffer(payload.tobytes())]
            ).cast(pa.binary()),
            "day": pa.array((19_000 + i % 3650).astype(np.int32)).cast(pa.date32()),
        }
    )


def go_times(w: ZerobusWrapper, batch: pa.RecordBatch, n: int) -> list[float]:
    exported = export(batch)
    with w._calling() as native:
        out = json.loads(native.SendRepeated(exported.address, n))
    assert out["failed"] == 0, out
    return [float(s) for s in out["seconds"]]


def py_times(w: ZerobusWrapper, batch: pa.RecordBatch, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        res = w.send_batch(batch)
        times.append(time.perf_counter() - t)
        assert res.all_succeeded, res
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=10, help="alternating Go/Python rounds")
    ap.add_argument("--per-round", type=int, default=3, help="sends per path per round")
    ap.add_argument("--small-iters", type=int, default=2000)
    args = ap.parse_args()

    batch = reference_batch(args.rows)
    one = batch.slice(0, 1)
    with LocalServer() as server, ZerobusWrapper(server.config("main.bench.reference")) as w:
        # warm up both paths (stream creation, allocator pools)
        go_times(w, batch, 2)
        py_times(w, batch, 2)
        go, py = [], []
        for _ in range(args.rounds):  # alternate so load changes on the machine hit both paths alike
            go += go_times(w, batch, args.per_round)
            py += py_times(w, batch, args.per_round)
        go_med, py_med = statistics.median(go), statistics.median(py)
        extra = (py_med - go_med) / go_med

        go1 = go_times(w, one, args.small_iters)
        py1 = py_times(w, one, args.small_iters)
        go1_med, py1_med = statistics.median(go1), statistics.median(py1)
        expected = (2 + 2 + 2 * args.rounds * args.per_round) * args.rows + 2 * args.small_iters
        stored = server.record_count("main.bench.reference")

    mb = batch.nbytes / 2**20
    print(f"reference batch: {args.rows} rows, {batch.num_columns} columns, {mb:.1f} MiB of Arrow data")
    print(f"  Go     (core.SendReader loop): median {go_med * 1e3:8.1f} ms  ({args.rows / go_med:,.0f} rows/s)")
    print(f"  Python (send_batch)          : median {py_med * 1e3:8.1f} ms  ({args.rows / py_med:,.0f} rows/s)")
    print(f"  Python extra cost            : {extra * 100:+.1f}% of the Go time (target <= 5%)")
    print(f"  ({len(go)} sends per path; Go min {min(go) * 1e3:.1f} ms, Python min {min(py) * 1e3:.1f} ms)")
    print("1-row batch, per call:")
    print(f"  Go     : median {go1_med * 1e6:8.1f} us")
    print(f"  Python : median {py1_med * 1e6:8.1f} us  (extra {(py1_med - go1_med) * 1e6:.1f} us per call)")
    print(f"server stored {stored} rows (expected {expected})")
    if stored != expected:
        raise SystemExit("row count mismatch")


if __name__ == "__main__":
    main()
