"""The Python half of `make demo`: Arrow data from Python through the Go core
to the embedded local Zerobus server, with one row that fails conversion.

Run it after `make py-build` with `.venv/bin/python examples/demo.py`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import tempfile
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from zerobus_py import ObservabilityConfig, TransmissionResult, ZerobusWrapper
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


def summary(result: TransmissionResult) -> str:
    """One line per batch: rows acknowledged, failures by kind, size, latency (each failed row gets its own line)."""
    line = f"{result.successful_count}/{result.total_rows} rows acknowledged"
    if result.failed_count:
        kinds = ", ".join(f"{k}: {len(v)}" for k, v in sorted(result.group_errors_by_type().items()))
        line += f", {result.failed_count} failed ({kinds})"
    return line + f", {result.batch_size_bytes} bytes in {result.latency_ms:.1f} ms, {result.attempts} attempt(s)"


def metric_lines(path: Path) -> list[str]:
    """The zerobus.* metrics of an OTLP JSON metrics file (one export request a line): name and total, sums as the
    sum of their data points, histograms as their count and sum."""
    totals: dict[str, str] = {}
    for line in path.read_text().splitlines():
        for rm in json.loads(line).get("resourceMetrics", []) if line.strip() else []:
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    if "sum" in m:  # OTLP/JSON writes 64-bit integers as decimal strings
                        points = m["sum"].get("dataPoints", [])
                        total = sum(float(p.get("asInt", p.get("asDouble", 0))) for p in points)
                        totals[m["name"]] = f"{total:g}"
                    elif "histogram" in m:
                        points = m["histogram"].get("dataPoints", [])
                        count = sum(int(p.get("count", 0)) for p in points)
                        total = sum(float(p.get("sum", 0)) for p in points)
                        totals[m["name"]] = f"{count} recorded, sum {total:g} {m.get('unit', '')}".rstrip()
    return [f"  {name:<40} {totals[name]}" for name in sorted(totals) if name.startswith("zerobus.")]


def error_text(error: Exception) -> str:
    """The error's message without the "zerobus: " prefix the library's errors start with."""
    return str(error).removeprefix("zerobus: ")


def main() -> None:
    """Send three batches from Python and show what happened."""
    t0 = time.perf_counter()
    # The debug files live in a temporary directory, removed at the end.
    with tempfile.TemporaryDirectory(prefix="zerobus-py-demo-") as tmp, LocalServer() as server:
        debug_dir = Path(tmp)
        print("\n== Python: local Zerobus server")
        print(f"gRPC endpoint  {server.endpoint}")
        print(f"workspace URL  {server.workspace_url}")
        # Both kinds of debug file, named one by one so the configuration shows exactly what is on; the metrics go
        # to OTLP JSON files in the temporary directory (written when the wrapper shuts down).
        otel_dir = debug_dir / "otel"
        config = server.config(
            TABLE,
            debug_arrow_enabled=True,
            debug_protobuf_enabled=True,
            debug_output_dir=str(debug_dir),
            observability_enabled=True,
            observability_config=ObservabilityConfig(output_dir=otel_dir, interval_secs=3600),
        )
        shown = textwrap.fill(
            repr(config),
            width=116,
            initial_indent="config         ",
            subsequent_indent=" " * 15,
            break_long_words=False,
            break_on_hyphens=False,
        )
        print(shown)

        print("\n== Python: sending 3 batches of 4 rows (row 1 of batch 2 holds a uint64 over int64)")
        with ZerobusWrapper(config) as wrapper:
            for n, batch in enumerate(
                [make_batch(100, 4), make_batch(104, 4, bad_row=1), make_batch(108, 4)],
                start=1,
            ):
                result = wrapper.send_batch(batch)
                print(f"batch {n}: {summary(result)}")
                if result.has_failed_rows():
                    quarantine = result.extract_failed_batch(batch)
                    for index, error in result.failed_row_errors:
                        print(f"  failed row {index}: {error_text(error)}")
                    print(f"  quarantined rows (ids): {quarantine.column('id').to_pylist()}")

        stored = server.table(TABLE)
        # The server stores the protobuf types: timestamps as int64 microseconds since the epoch.
        at = pc.cast(stored.column("at"), pa.timestamp("us", tz="UTC"))
        stored = stored.set_column(stored.schema.get_field_index("at"), "at", at)
        print(f"\n== Python: the server stored {stored.num_rows} rows in {TABLE}")
        cols = ["id", "event", "at", "views", "price", "tags"]
        width = {"at": 20, "tags": 12}
        print("  " + "  ".join(f"{c:<{width.get(c, 8)}}" for c in cols).rstrip())
        for row in stored.select(cols).to_pylist():
            row["at"] = row["at"].strftime("%Y-%m-%d %H:%M:%SZ")
            print("  " + "  ".join(f"{row[c]!s:<{width.get(c, 8)}}" for c in cols).rstrip())

        print("\n== Python: debug files (in a temporary directory, removed at exit)")
        for path in sorted(debug_dir.rglob("*")):
            if path.is_file() and path.suffix in (".arrow", ".proto"):
                table = read_file(str(path))
                print(f"{path.relative_to(debug_dir).as_posix()}: {table.num_rows} rows")

        print("\n== Python: metrics recorded (zerobus.*, from otel/metrics.jsonl)")
        for line in metric_lines(otel_dir / "metrics.jsonl"):
            print(line)
    print(f"\npython demo done in {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
