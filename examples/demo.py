"""The Python half of `make demo`: Arrow data from Python through the Go core
to the embedded local Zerobus server, with one row that fails conversion.

Run it after `make py-build` with `.venv/bin/python examples/demo.py`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from zerobus_py import ZerobusWrapper
from zerobus_py.debug import read_file
from zerobus_py.local import LocalServer

TABLE = "main.demo.py_events"


def make_batch(start: int, rows: int, *, bad_row: int | None = None) -> pa.RecordBatch:
    """A batch of mixed types; `bad_row` gets a uint64 over the int64 range."""
    base = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    views = [i * 3 for i in range(rows)]
    if bad_row is not None:
        views[bad_row] = 2**64 - 1
    return pa.record_batch(
        {
            "id": pa.array(range(start, start + rows), pa.int64()),
            "event": pa.array([("signup", "login", "purchase")[i % 3] for i in range(rows)]),
            "at": pa.array([base + dt.timedelta(minutes=i) for i in range(rows)], pa.timestamp("us", tz="UTC")),
            "amount": pa.array([None if i % 4 == 2 else i * 9.5 for i in range(rows)], pa.float64()),
            "views": pa.array(views, pa.uint64()),
            "price": pa.array([decimal.Decimal(f"{10 + i}.25") for i in range(rows)], pa.decimal128(9, 2)),
            "tags": pa.array([[f"t{j}" for j in range(i % 3)] for i in range(rows)], pa.list_(pa.string())),
        }
    )


def main() -> None:
    """Send three batches from Python and show what happened."""
    t0 = time.perf_counter()
    debug_dir = Path(tempfile.mkdtemp(prefix="zerobus-py-demo-"))
    with LocalServer() as server:
        print("\n== Python: local Zerobus server")
        print(f"gRPC endpoint  {server.endpoint}")
        print(f"workspace URL  {server.workspace_url}")
        config = server.config(TABLE, debug_enabled=True, debug_output_dir=str(debug_dir))
        print(f"config         {config!r}")

        print("\n== Python: sending 3 batches of 4 rows (row 1 of batch 2 holds a uint64 over int64)")
        with ZerobusWrapper(config) as wrapper:
            for n, batch in enumerate(
                [make_batch(100, 4), make_batch(104, 4, bad_row=1), make_batch(108, 4)],
                start=1,
            ):
                result = wrapper.send_batch(batch)
                print(f"batch {n}: {result!r}")
                if result.has_failed_rows():
                    quarantine = result.extract_failed_batch(batch)
                    for index, error in result.failed_rows:
                        print(f"  failed row {index}: {error}")
                    print(f"  quarantined rows (ids): {quarantine.column('id').to_pylist()}")

        stored = server.table(TABLE)
        print(f"\n== Python: the server stored {stored.num_rows} rows in {TABLE}")
        cols = ["id", "event", "views", "price", "tags"]
        print("  " + "  ".join(f"{c:<10}" for c in cols))
        for row in stored.select(cols).to_pylist():
            print("  " + "  ".join(f"{row[c]!s:<10}" for c in cols))

    print("\n== Python: debug files")
    for path in sorted(debug_dir.rglob("*")):
        if path.is_file() and path.suffix in (".arrow", ".proto"):
            table = read_file(str(path))
            print(f"{path.relative_to(debug_dir)}: {table.num_rows} rows")
    print(f"\npython demo done in {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
