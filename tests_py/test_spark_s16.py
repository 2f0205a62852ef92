"""The `zerobus` PySpark data source: session 16's fixes (a named streaming query, option errors, duplicates of a
re-run micro-batch and of a recovery inside a task, a stop while a micro-batch sends, a session-level checkpoint).
The Spark tests share test_spark.py's fixtures (one local session, one local server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StructField, StructType
from test_spark import jvm_log, options, server, spark, stored_ids, summaries

from zerobus_py import ConfigurationError
from zerobus_py import spark as zspark
from zerobus_py.local import LocalServer

__all__ = ["jvm_log", "server", "spark"]  # fixtures, used by name


def _parquet_stream(spark: SparkSession, src: Path, files: int, per_file: int) -> Any:
    src.mkdir()
    for i in range(files):
        ids = pa.array(np.arange(i * per_file, (i + 1) * per_file, dtype=np.int64))
        pq.write_table(pa.table({"id": ids}), src / f"part-{i}.parquet")
    return spark.readStream.schema("id bigint").option("maxFilesPerTrigger", 1).parquet(str(src))


def test_a_named_streaming_query(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    """writeStream.queryName(...) puts queryName among the sink's options: the query used to die at its first
    micro-batch with "queryname: unknown setting"."""
    table = "main.s16.named"
    stream = _parquet_stream(spark, tmp_path / "in", 2, 1_000)
    query = (
        stream.writeStream.format("zerobus")
        .queryName("zerobus_s16_named")
        .options(**options(server, table))
        .option("checkpointLocation", str(tmp_path / "chk"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination(120)
    assert query.exception() is None
    np.testing.assert_array_equal(stored_ids(server, table), np.arange(2_000))


def test_spark_options_are_not_settings() -> None:
    given = {
        "table_name": "a.b.c",
        "endpoint": "https://1.zerobus.example.com",
        "queryName": "q",
        "checkpointLocation": "/c",
        "__partition_columns": "[]",
    }
    assert zspark._config_from_options(given).table_name == "a.b.c"


def test_a_bad_proxy_url_is_an_options_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy_url with a bad scheme (checked with the values together, not by the settings loader) was reported
    without "in the zerobus data source options" and named ZEROBUS_PROXY_URL; the password stays redacted. A value
    from the environment is still named by its variable."""
    monkeypatch.setenv("ZEROBUS_MAX_MESSAGE_BYTES", "5")
    given = {
        "table_name": "a.b.c",
        "endpoint": "https://1.zerobus.example.com",
        "proxy_url": "ftp://user:hunter2-pw@proxy.example.com:3128",
    }
    with pytest.raises(ConfigurationError) as info:  # the driver's check, before any task starts
        zspark._Job(given, StructType([StructField("id", LongType())]))
    text = str(info.value)
    assert text.startswith("zerobus: in the zerobus data source options: invalid configuration")
    assert "proxy_url: " in text and '"ftp' in text and "ZEROBUS_PROXY_URL" not in text
    assert "max_message_bytes (env ZEROBUS_MAX_MESSAGE_BYTES): " in text
    assert "hunter2-pw" not in text and "hunter2-pw" not in json.dumps(info.value.details)
    assert {"proxy_url", "max_message_bytes"} <= set(info.value.keys)


def test_summarize_counts_attempts_that_recovered_inside_the_task() -> None:
    ok = zspark.TaskCommitMessage(partition=0, total_rows=10, durable_rows=10, stream_attempts=1)
    recovered = zspark.TaskCommitMessage(partition=1, total_rows=10, durable_rows=10, stream_attempts=3)
    failed = zspark.TaskCommitMessage(partition=2, durable_rows=4, failed=True, stream_attempts=2)
    s = zspark.summarize("j", [ok, recovered, None], failed_reports=[failed])
    assert (s.recovered_attempts, s.max_stream_attempts) == (2, 3)
    assert "2 task attempt(s) recovered inside the task" in s.line() and "stored twice" in s.line()
    assert zspark.summarize("j", [ok]).recovered_attempts == 0


def test_a_recovery_inside_a_task_is_reported(
    spark: SparkSession, server: LocalServer, tmp_path: Path, jvm_log: Path
) -> None:
    """A connection dropped mid-send: the engine re-opens the stream and re-sends the requests without an
    acknowledgement (result.attempts 2), which may store rows twice. The summary used to say all durable, 0 failed
    attempts, at INFO; it now counts the attempt and warns."""
    table = "main.s16.recovered"
    n = 10_000
    df = spark.range(0, n, numPartitions=2).select("id", F.concat(F.lit("row-"), F.col("id")).alias("name"))
    server.inject_fault(table, "drop_connection", after_messages=3)
    o = options(server, table, report_path=tmp_path, max_message_bytes=20_000)
    df.write.format("zerobus").mode("append").options(**o).save()

    assert set(np.unique(stored_ids(server, table))) == set(range(n))
    assert server.stats()["faults_fired"] >= 1
    [s] = summaries(tmp_path)
    assert (s["durable_rows"], s["failed_attempts"]) == (n, 0)
    assert s["recovered_attempts"] == 1 and s["max_stream_attempts"] >= 2, s
    lines = [x for x in jvm_log.read_text(errors="replace").splitlines() if f"job {s['job_id']} committed" in x]
    assert len(lines) == 1 and "WARNING" in lines[0] and "recovered inside the task" in lines[0]
