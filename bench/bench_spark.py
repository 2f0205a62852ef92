"""Rows/s of a Spark write through the `zerobus` data source (local[1], local[2]) vs one Python send of the same rows.

Every run sends the same Parquet files (8, so Spark has 8 partitions) to the in-process local server and checks
that every row was stored. Spark is timed after a warm-up write (JVM and Python workers started), so the numbers
compare the steady state; the warm-up time is printed too. Run with `make spark-bench` (BENCH_ROWS=...).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

FILES = 8


def make_data(directory: Path, rows: int) -> None:
    per = rows // FILES
    for i in range(FILES):
        ids = np.arange(i * per, (i + 1) * per, dtype=np.int64)
        t = pa.table(
            {
                "id": ids,
                "name": pa.array([f"user-{j % 10_000}" for j in ids]),
                "value": ids.astype(np.float64) * 0.5,
                "ok": ids % 3 == 0,
            }
        )
        pq.write_table(t, directory / f"part-{i}.parquet")


def python_send(server: LocalServer, data: Path, rows: int) -> float:
    table = "main.bench.python"
    with ZerobusWrapper(server.config(table)) as w:
        start = time.perf_counter()
        result = w.send_batch(ds.dataset(data, format="parquet"))
        elapsed = time.perf_counter() - start
    assert result.successful_count == rows and server.record_count(table) == rows, result
    return elapsed


def spark_send(server: LocalServer, data: Path, rows: int, cores: int, workdir: Path) -> tuple[float, float]:
    from pyspark.sql import SparkSession

    from zerobus_py.spark import ZerobusDataSource

    cwd = os.getcwd()
    os.chdir(workdir)  # the Python workers import the installed zerobus_py, not a source tree in the cwd
    try:
        t0 = time.perf_counter()
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName(f"zerobus-bench-{cores}")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
    finally:
        os.chdir(cwd)
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(ZerobusDataSource)
    opts = {
        "endpoint": server.endpoint,
        "unity_catalog_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }
    try:
        warm = f"main.bench.warm{cores}"
        spark.range(10_000, numPartitions=cores).write.format("zerobus").mode("append").options(
            table_name=warm, **opts
        ).save()
        warmup = time.perf_counter() - t0
        table = f"main.bench.spark{cores}"
        df = spark.read.parquet(str(data))
        start = time.perf_counter()
        df.write.format("zerobus").mode("append").options(table_name=table, **opts).save()
        elapsed = time.perf_counter() - start
    finally:
        spark.stop()
    assert server.record_count(table) == rows, (server.record_count(table), rows)
    return elapsed, warmup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    rows = args.rows // FILES * FILES
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory(prefix="zerobus-spark-bench-") as tmp, LocalServer() as server:
        data = Path(tmp) / "data"
        data.mkdir()
        make_data(data, rows)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{rows:,} rows in {FILES} Parquet files; {os.cpu_count()} CPUs, load average {load:.1f} at start")
        py = python_send(server, data, rows)
        results = [("Python send_batch, one process", py, None)]
        for cores in (1, 2):
            elapsed, warmup = spark_send(server, data, rows, cores, Path(tmp))
            results.append((f"Spark local[{cores}], zerobus data source", elapsed, warmup))
        print(f"{'what':<42} {'seconds':>8} {'rows/s':>12} {'vs Python':>10}")
        for what, secs, warmup in results:
            extra = "" if warmup is None else f"   (session start + warm-up write {warmup:.1f} s)"
            print(f"{what:<42} {secs:8.2f} {rows / secs:12,.0f} {py / secs:9.2f}x{extra}")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average {load:.1f} at the end (the machine is shared: compare the ratios of one run)")


if __name__ == "__main__":
    main()
