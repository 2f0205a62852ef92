"""Transports side by side: the reference batch from Python over protobuf and arrow_flight, and the official SDK.

One run, one in-process local server, the same 100k-row reference batch (see
bench_python.reference_batch), rounds alternating between the paths so load
changes on a shared machine hit them alike:

* ``zerobus_py protobuf``: ``ZerobusWrapper.send_batch`` with the default
  transport (every row encoded as a protobuf record);
* ``zerobus_py arrow_flight``: the same with ``transport="arrow_flight"``
  (the batch cast to the table's Arrow types and sent as Arrow IPC over
  Flight DoPut);
* ``official SDK``: databricks-zerobus-ingest-sdk's ``create_arrow_stream`` /
  ``ingest_batch`` / ``wait_for_offset`` on the batch already cast to the
  table's Arrow schema (the SDK does not cast), one stream kept open.

Each send is timed until every row is durably acknowledged. The local server
does most of the work on the Flight paths (it decodes every Arrow row into a
protobuf message to store it), so the end-to-end numbers are server-bound;
``BenchmarkTransports`` in core/flight_bench_test.go also measures the client
path alone against null servers.

Run: ``make bench-transports`` (or ``python bench/bench_transports.py [--rows N] [--rounds N]``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pyarrow as pa
from bench_python import reference_batch

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def table_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type the table made from ``t`` expects (protocol §9)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_decimal(t):
        return pa.large_utf8()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.large_binary()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(pa.field("element", table_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, table_type(f.type), f.nullable) for f in t])
    return t


def timed(send: Callable[[], None], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        send()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-round", type=int, default=2)
    ap.add_argument("--sdk-chunk-rows", type=int, default=25_000, help="rows per ingest_batch (message size limit)")
    args = ap.parse_args()

    from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
    from zerobus.sdk.sync import ZerobusSdk

    batch = reference_batch(args.rows)
    with LocalServer() as server:
        proto_w = ZerobusWrapper(server.config("main.bench.protobuf"))
        flight_w = ZerobusWrapper(server.config("main.bench.flight", transport="arrow_flight"))
        sdk_table = "main.bench.sdk"
        # The table the SDK writes is created by a first arrow_flight send; its
        # Arrow schema (large_utf8, …) is what the SDK must be given.
        with ZerobusWrapper(server.config(sdk_table, transport="arrow_flight")) as w:
            assert w.send_batch(batch.slice(0, 1)).success
        target = pa.schema([pa.field(f.name, table_type(f.type), f.nullable) for f in batch.schema])
        table = pa.Table.from_batches([batch]).cast(target).combine_chunks()
        cast = table.to_batches(max_chunksize=args.sdk_chunk_rows)
        sdk = ZerobusSdk(server.endpoint, server.workspace_url)
        opts = ArrowStreamConfigurationOptions(flush_timeout_ms=120_000, server_lack_of_ack_timeout_ms=120_000)
        stream = sdk.create_arrow_stream(sdk_table, target, server.client_id, server.client_secret, opts)

        def send_proto() -> None:
            assert proto_w.send_batch(batch).success

        def send_flight() -> None:
            assert flight_w.send_batch(batch).success

        def send_sdk() -> None:
            last = 0
            for part in cast:
                last = stream.ingest_batch(part)
            stream.wait_for_offset(last)

        paths = {
            "zerobus_py protobuf": send_proto,
            "zerobus_py arrow_flight": send_flight,
            "official SDK (Flight)": send_sdk,
        }
        times: dict[str, list[float]] = {k: [] for k in paths}
        for send in paths.values():  # warm up: plans, streams
            send()
        for _ in range(args.rounds):
            for name, send in paths.items():
                times[name] += timed(send, args.per_round)
        stream.flush()
        stream.close()
        proto_w.close()
        flight_w.close()
        sends = 1 + args.rounds * args.per_round
        counts = {
            "main.bench.protobuf": server.record_count("main.bench.protobuf"),
            "main.bench.flight": server.record_count("main.bench.flight"),
            sdk_table: server.record_count(sdk_table) - 1,
        }

    med = {k: statistics.median(v) for k, v in times.items()}
    mib = batch.nbytes / 2**20
    print(f"reference batch: {args.rows} rows, {batch.num_columns} columns, {mib:.1f} MiB of Arrow data")
    for name, m in med.items():
        low = min(times[name]) * 1e3
        print(f"  {name:26s}: median {m * 1e3:8.1f} ms  ({args.rows / m:>10,.0f} rows/s)  min {low:.1f} ms")
    proto, flight, official = med["zerobus_py protobuf"], med["zerobus_py arrow_flight"], med["official SDK (Flight)"]
    print(f"  arrow_flight vs protobuf : {proto / flight:.2f}x")
    print(f"  arrow_flight vs official SDK: {official / flight:.2f}x")
    for table, n in counts.items():
        if n != sends * args.rows:
            raise SystemExit(f"{table}: stored {n} rows, expected {sends * args.rows}")
    print(f"every table holds its {sends * args.rows} rows")


if __name__ == "__main__":
    main()
