"""The `zerobus` PySpark data source in local Spark against the in-process local server.

One SparkSession for the module (local[2,4]: two cores, a task may fail 3 times and be retried). The JVM and the
Python workers it starts write their output to a log file that the tests read (the commit's summary line, and
the secret's absence).
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import http.server
import json
import os
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from conftest import as_stored
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.datasource import DataSourceArrowWriter
from pyspark.sql.streaming import StreamingQuery

from zerobus_py import ConfigurationError, ConversionError, WrapperConfiguration
from zerobus_py.local import LocalServer
from zerobus_py.spark import (
    STREAM_ARROW,
    TaskCommitMessage,
    ZerobusDataSource,
    ZerobusStreamWriter,
    ZerobusWriter,
    summarize,
)

SECRET = "spark-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(client_secret=SECRET) as s:
        yield s


#: The JVM's log file, one for the test process (see ``jvm_log``).
_JVM_LOG: list[Path] = []


@pytest.fixture(scope="module")
def jvm_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file the JVM writes its and its Python workers' output to. PySpark starts the JVM once per process and a
    later SparkSession (a module importing these fixtures gets its own) reuses it and the stdout/stderr it started
    with: one file for the whole process, whichever module started the JVM (with one per module, the log a later
    module read stayed empty)."""
    if not _JVM_LOG:
        _JVM_LOG.append(tmp_path_factory.mktemp("spark") / "jvm.log")
    return _JVM_LOG[0]


@pytest.fixture(scope="module")
def spark(server: LocalServer, jvm_log: Path) -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # Every Spark test module uses these fixtures: a module building its own session leaves its builder options in
    # SparkSession.builder (one per process) for every later session (a maxRecordsPerBatch of 250 gave each task
    # several Arrow batches, and two streams, in later modules' tests): a test changes a setting with spark.conf.
    # The JVM inherits file descriptors 1 and 2 when it starts: point them at the log file meanwhile. It also
    # inherits the working directory, where its Python workers would import the source tree's zerobus_py
    # (python -m puts it first on sys.path) instead of the installed one: start it elsewhere.
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(jvm_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = os.dup(1), os.dup(2)
    cwd = os.getcwd()
    os.chdir(jvm_log.parent)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        session = (
            SparkSession.builder.master("local[2,4]")
            .appName("zerobus-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.executorEnv.ZEROBUS_CLIENT_SECRET", SECRET)
            .getOrCreate()
        )
    finally:
        os.chdir(cwd)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)
    session.sparkContext.setLogLevel("WARN")
    session.dataSource.register(ZerobusDataSource)
    yield session
    session.stop()


def options(server: LocalServer, table: str, **extra: Any) -> dict[str, str]:
    """The local server's settings; the secret comes from the environment (spark.executorEnv)."""
    o = {
        "endpoint": server.endpoint,
        "table_name": table,
        "unity_catalog_url": server.workspace_url,
        "client_id": server.client_id,
    }
    o.update({k: str(v) for k, v in extra.items()})
    return o


def summaries(report_path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(Path(p).read_text()) for p in sorted(glob.glob(f"{report_path}/**/summary.json", recursive=True))
    ]


def finish(query: StreamingQuery) -> None:
    """Waits for an availableNow query to end, and stops it in any case: a query still running when its test goes on
    (awaitTermination(60) returned False on a loaded machine) sent its later micro-batches during the next tests,
    whose stream and token counts it changed. The bound only keeps a hung query from hanging the run."""
    try:
        ended = query.awaitTermination(900)
    finally:
        query.stop()
    assert ended, "the streaming query did not end"


def stored_ids(server: LocalServer, table: str) -> np.ndarray:
    return np.sort(server.table(table).column("id").to_numpy())


def test_uses_the_arrow_writers() -> None:
    assert issubclass(ZerobusWriter, DataSourceArrowWriter)
    assert STREAM_ARROW  # PySpark >= 4.1: micro-batches reach Go as Arrow too
    from pyspark.sql.datasource import DataSourceStreamArrowWriter

    assert issubclass(ZerobusStreamWriter, DataSourceStreamArrowWriter)


def test_summarize_counts_missing_messages_and_failed_attempts() -> None:
    ok = TaskCommitMessage(partition=0, total_rows=10, durable_rows=8, not_written_rows=2, bytes=100, latency_ms=5)
    failed = TaskCommitMessage(partition=1, attempt=0, total_rows=10, durable_rows=4, unknown_rows=6, failed=True)
    s = summarize("j", [ok, None], aborted=True, failed_reports=[failed])
    assert (s.tasks, s.tasks_without_message, s.total_rows, s.durable_rows, s.not_written_rows) == (1, 1, 10, 8, 2)
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.failed_attempt_unknown_rows) == (1, 4, 6)
    assert "aborted" in s.line() and "4 rows durable" in s.line()


def test_million_rows_from_eight_partitions(
    spark: SparkSession, server: LocalServer, tmp_path: Path, jvm_log: Path
) -> None:
    table = "main.spark.million"
    n = 1_000_000
    df = spark.range(0, n, numPartitions=8).select("id", F.concat(F.lit("name-"), F.col("id")).alias("name"))
    df.write.format("zerobus").mode("append").options(**options(server, table, report_path=tmp_path)).save()

    ids = stored_ids(server, table)
    assert len(ids) == n
    np.testing.assert_array_equal(ids, np.arange(n))
    assert server.table(table).slice(0, 1).column("name")[0].as_py().startswith("name-")
    [s] = summaries(tmp_path)
    assert (s["tasks"], s["total_rows"], s["durable_rows"], s["not_written_rows"], s["unknown_rows"]) == (8, n, n, 0, 0)
    assert s["bytes"] > n * 10 and s["failed_attempts"] == 0 and not s["aborted"]
    assert len(glob.glob(f"{tmp_path}/*/task-*.json")) == 8
    log = jvm_log.read_text(errors="replace")
    assert f"zerobus: job {s['job_id']} committed: 8 tasks, 1,000,000 of 1,000,000 rows durable" in log


def test_streaming_micro_batches(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.spark.stream"
    src = tmp_path / "in"
    src.mkdir()
    files, per_file = 4, 5_000
    for i in range(files):
        ids = pa.array(np.arange(i * per_file, (i + 1) * per_file, dtype=np.int64))
        pq.write_table(pa.table({"id": ids, "v": pa.compute.multiply(ids, 2)}), src / f"part-{i}.parquet")
    stream = spark.readStream.schema("id bigint, v bigint").option("maxFilesPerTrigger", 1).parquet(str(src))
    reports = tmp_path / "reports"
    query = (
        stream.writeStream.format("zerobus")
        .options(**options(server, table, report_path=reports))
        .option("checkpointLocation", str(tmp_path / "chk"))
        .trigger(availableNow=True)
        .start()
    )
    finish(query)
    assert query.exception() is None
    plan = query._jsq.explainInternal(True)

    got = server.table(table)
    np.testing.assert_array_equal(np.sort(got.column("id").to_numpy()), np.arange(files * per_file))
    assert got.column("v").to_pylist() == [2 * i for i in got.column("id").to_pylist()]
    done = summaries(reports)
    assert sorted(s["batch_id"] for s in done) == list(range(files))
    assert all(s["durable_rows"] == per_file and not s["aborted"] for s in done)
    assert sorted(int(p.name) for p in (tmp_path / "chk" / "commits").iterdir() if p.name.isdigit()) == list(
        range(files)
    )
    assert SECRET not in plan


def test_fault_mid_job_task_retried_every_row_present(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.spark.retry"
    n = 200_000
    df = spark.range(0, n, numPartitions=4).select("id", F.concat(F.lit("row-"), F.col("id")).alias("name"))
    # Small requests (20 kB), so that every part of a partition takes many messages whichever stream it goes
    # to (with 100 kB a part could take fewer than 5 and the fault sometimes never fired). The 5th message of
    # the first stream to get there fails with a code that is not retried: that task attempt fails and Spark
    # runs it again.
    server.inject_fault(table, "error", after_messages=5, code="INVALID_ARGUMENT", message="injected")
    o = options(server, table, report_path=tmp_path, max_message_bytes=20_000)
    df.write.format("zerobus").mode("append").options(**o).save()

    ids = stored_ids(server, table)
    assert set(np.unique(ids)) == set(range(n)), "every row is present"
    duplicates = len(ids) - n
    [s] = summaries(tmp_path)
    assert s["durable_rows"] == n and s["tasks"] == 4
    assert s["failed_attempts"] == 1, s
    # What the failed attempt made durable is stored twice; its unknown rows may be too.
    assert s["failed_attempt_durable_rows"] > 0
    assert (
        s["failed_attempt_durable_rows"]
        <= duplicates
        <= s["failed_attempt_durable_rows"] + s["failed_attempt_unknown_rows"]
    )
    [report] = [json.loads(p.read_text()) for p in tmp_path.glob("*/task-*.json") if '"failed": true' in p.read_text()]
    assert report["attempt"] == 0 and "injected" in report["error"]


def test_an_attempt_failing_after_its_writer_returned_is_counted_and_its_quarantine_dropped(
    spark: SparkSession, server: LocalServer, tmp_path: Path
) -> None:
    """A UDF upstream of the writer raises partway through partition 0 on attempt 0: Spark ends the writer's
    input cleanly, the writer reports success (its rows durable, its bad rows quarantined under the final name),
    then Spark fails the task and retries it. The driver's commit gets no message from that attempt: its durable
    rows are counted as duplicates (equal to what the server stored twice) and its quarantine file is deleted, so
    reading the directory gives each bad row once."""
    from pyspark.sql.types import LongType

    table = "main.spark.upstream"
    n = 100_000

    @F.udf(LongType())  # type: ignore[misc]
    def boom(i: int) -> int:
        from pyspark import TaskContext

        c = TaskContext.get()
        if c is not None and c.partitionId() == 0 and c.attemptNumber() == 0 and i == 45_000:
            raise RuntimeError("injected upstream failure")
        return i

    tag = F.when(F.col("id") % 10 == 7, F.lit(None).cast("long")).otherwise(F.col("id"))
    df = spark.range(0, n, numPartitions=2).select(
        boom("id").alias("id"), F.array(F.lit(1).cast("long"), tag).alias("tags")
    )
    quarantine, reports = tmp_path / "q", tmp_path / "r"
    o = options(server, table, quarantine_path=quarantine, report_path=reports)
    df.write.format("zerobus").mode("append").options(**o).save()

    bad = {i for i in range(n) if i % 10 == 7}
    ids = stored_ids(server, table)
    assert set(np.unique(ids).tolist()) == set(range(n)) - bad
    duplicates = len(ids) - (n - len(bad))
    assert duplicates > 0, "attempt 0 of partition 0 made rows durable before the UDF failed"
    [s] = summaries(reports)
    assert (s["failed_attempt_durable_rows"], s["failed_attempts"]) == (duplicates, 1), s
    assert s["superseded_attempts"] == 1
    assert s["durable_rows"] == n - len(bad) and s["quarantined_rows"] == len(bad)
    [dropped] = s["superseded_quarantine_files"]
    assert "-a0-" in dropped and not Path(dropped).exists()
    q = pq.read_table(quarantine).column("id").to_pylist()
    assert sorted(q) == sorted(bad), "each quarantined row once"
    assert len(list(quarantine.glob("*.parquet"))) == 2


def test_streaming_summary_counts_a_failed_attempt_and_checks_once(
    spark: SparkSession, server: LocalServer, tmp_path: Path
) -> None:
    """A server fault fails one task attempt of micro-batch 0: that micro-batch's summary (found under the same
    job directory as its tasks' reports) counts the failed attempt and its durable rows, which the server holds
    twice. The driver's schema check runs once for the query, not in every micro-batch's planning and commit."""
    table = "main.spark.streamfault"
    src = tmp_path / "in"
    src.mkdir()
    batches, per_file = 3, 20_000
    for i in range(batches):
        ids = pa.array(np.arange(i * per_file, (i + 1) * per_file, dtype=np.int64))
        pq.write_table(pa.table({"id": ids, "name": pa.compute.cast(ids, pa.string())}), src / f"part-{i}.parquet")
    server.inject_fault(table, "error", after_messages=5, code="INVALID_ARGUMENT", message="injected")
    before = server.stats()
    reports = tmp_path / "reports"
    stream = spark.readStream.schema("id bigint, name string").option("maxFilesPerTrigger", 1).parquet(str(src))
    query = (
        stream.repartition(2)
        .writeStream.format("zerobus")
        .options(**options(server, table, report_path=reports, max_message_bytes=20_000))
        .option("checkpointLocation", str(tmp_path / "chk"))
        .trigger(availableNow=True)
        .start()
    )
    finish(query)
    assert query.exception() is None
    after = server.stats()

    ids = stored_ids(server, table)
    assert set(np.unique(ids).tolist()) == set(range(batches * per_file))
    duplicates = len(ids) - batches * per_file
    [job] = [p for p in reports.iterdir()]  # one job directory for the query
    done = {s["batch_id"]: s for s in summaries(reports)}
    assert sorted(done) == list(range(batches)) and all(s["job_id"] == job.name for s in done.values())
    attempts = sorted(job.glob("batch-*/task-*.json"))
    assert len(attempts) == 2 * batches + 1
    s0 = done[0]
    assert (s0["tasks"], s0["durable_rows"], s0["failed_attempts"]) == (2, per_file, 1), s0
    assert 0 < s0["failed_attempt_durable_rows"] <= duplicates
    assert duplicates <= s0["failed_attempt_durable_rows"] + s0["failed_attempt_unknown_rows"]
    assert all(done[b]["failed_attempts"] == 0 for b in range(1, batches))
    # one stream and token per task attempt, and one for the driver's check of the query
    streams = after["streams_created"] - before["streams_created"]
    tokens = after["tokens_issued"] - before["tokens_issued"]
    assert (streams, tokens) == (len(attempts) + 1, len(attempts) + 1), (streams, tokens, len(attempts))


def bad_rows_frame(spark: SparkSession, n: int, partitions: int) -> DataFrame:
    """tags holds a null element (protobuf cannot carry it) on every row whose id ends in 7."""
    tag = F.when(F.col("id") % 10 == 7, F.lit(None).cast("long")).otherwise(F.col("id"))
    return spark.range(0, n, numPartitions=partitions).select("id", F.array(F.lit(1).cast("long"), tag).alias("tags"))


def test_conversion_failures_land_in_quarantine(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.spark.quarantine"
    n = 10_000
    quarantine = tmp_path / "quarantine"
    o = options(server, table, quarantine_path=quarantine, report_path=tmp_path / "reports")
    bad_rows_frame(spark, n, 2).write.format("zerobus").mode("append").options(**o).save()

    bad = {i for i in range(n) if i % 10 == 7}
    assert set(stored_ids(server, table).tolist()) == set(range(n)) - bad
    files = sorted(quarantine.glob("*.parquet"))
    assert len(files) == 2, "one file per task attempt"
    q = pq.read_table(quarantine)
    assert sorted(q.column("id").to_pylist()) == sorted(bad)
    assert set(q.column("_zerobus_outcome").to_pylist()) == {"not_written"}
    assert all(e.startswith("ConversionError (row ") and "tags" in e for e in q.column("_zerobus_error").to_pylist())
    assert q.column("tags")[0].as_py()[1] is None
    [s] = summaries(tmp_path / "reports")
    assert (s["durable_rows"], s["not_written_rows"], s["quarantined_rows"]) == (n - len(bad), len(bad), len(bad))
    assert sorted(Path(f).name for f in s["quarantine_files"]) == [f.name for f in files]


def test_failed_rows_without_quarantine_fail_the_job(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    o = options(server, "main.spark.noquarantine", report_path=tmp_path)
    with pytest.raises(Exception) as info:
        bad_rows_frame(spark, 100, 1).write.format("zerobus").mode("append").options(**o).save()
    text = str(info.value)
    assert "10 not written" in text and "quarantine_path" in text and "partition 0" in text
    [s] = summaries(tmp_path)
    assert s["aborted"] and s["failed_attempts"] == 4 and s["tasks_without_message"] == 1
    assert s["failed_attempt_durable_rows"] == 4 * 90  # each attempt stored the good rows again


def test_only_append(spark: SparkSession, server: LocalServer) -> None:
    df = spark.range(3)
    with pytest.raises(Exception, match="only appends"):
        df.write.format("zerobus").mode("overwrite").options(**options(server, "main.spark.modes")).save()
    for mode in ("error", "ignore"):  # Spark itself refuses the other modes for this kind of source
        with pytest.raises(Exception, match=r"(?i)append"):
            df.write.format("zerobus").mode(mode).options(**options(server, "main.spark.modes")).save()
    assert server.record_count("main.spark.modes") == 0


def test_bad_options_named_and_secret_never_shown(
    spark: SparkSession, server: LocalServer, tmp_path: Path, jvm_log: Path
) -> None:
    df = spark.range(3)
    o = options(server, "main.spark.secret", client_secret=SECRET, retry_max_attemps="3")
    with pytest.raises(Exception) as info:
        df.write.format("zerobus").mode("append").options(**o).save()
    assert "retry_max_attemps" in str(info.value) and "retry_max_attempts" in str(info.value)
    assert SECRET not in str(info.value)
    # a secret given as an option works, and is in no report, summary or log line
    o = options(server, "main.spark.secret", client_secret=SECRET, report_path=tmp_path)
    df.write.format("zerobus").mode("append").options(**o).save()
    assert server.record_count("main.spark.secret") == 3
    for p in tmp_path.rglob("*.json"):
        assert SECRET not in p.read_text()
    assert SECRET not in jvm_log.read_text(errors="replace")
    # a wrong secret fails with an authentication error that does not echo it
    wrong = "wrong-" + SECRET
    with pytest.raises(Exception) as info:
        df.write.format("zerobus").mode("append").options(**options(server, "main.spark.x", client_secret=wrong)).save()
    assert wrong not in str(info.value) and "uthenticat" in str(info.value)
    assert "checked on the driver; no task was started" in str(info.value)  # once, not in every task attempt
    assert wrong not in jvm_log.read_text(errors="replace")


def test_missing_setting_is_reported_on_the_driver(spark: SparkSession) -> None:
    with pytest.raises(Exception) as info:
        spark.range(1).write.format("zerobus").mode("append").option("table_name", "main.spark.y").save()
    assert "endpoint" in str(info.value)


def test_options_parsed_by_the_config_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from zerobus_py.spark import _config_from_options

    with pytest.raises(ConfigurationError, match="max_inflight_requests") as info:
        _config_from_options({"table_name": "a.b.c", "max_inflight_requests": "lots", "client_secret": SECRET})
    assert "line" not in str(info.value) and "data source options" in str(info.value)
    assert SECRET not in str(info.value)
    cfg = _config_from_options({"table_name": "a.b.c", "retry_max_attempts": "7", "path": "ignored"})
    assert cfg.retry_max_attempts == 7 and cfg.table_name == "a.b.c"

    # the secret reaches the configuration and no file (the options go to the loader as data); ${VAR} references
    # are expanded
    files = loader_files(monkeypatch)
    monkeypatch.setenv("MY_CLIENT_ID", "id-from-env")
    cfg = _config_from_options({"table_name": "a.b.c", "client_secret": SECRET, "client_id": "${MY_CLIENT_ID}"})
    assert cfg._client_secret == SECRET and cfg.client_id == "id-from-env"
    assert files == []
    assert not [k for k in os.environ if k.startswith("ZEROBUS_SPARK_")]
    # a key not given comes from the environment
    monkeypatch.setenv("ZEROBUS_CLIENT_SECRET", "env-" + SECRET)
    assert _config_from_options({"table_name": "a.b.c"})._client_secret == "env-" + SECRET


def loader_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the files the Go loader reads from now on (the data source's options files)."""
    import zerobus_py._bridge as bridge

    files: list[str] = []
    call = bridge.call

    def recording(fn: Any, *args: Any) -> Any:
        if args and isinstance(args[0], str) and os.path.isfile(args[0]):
            files.append(Path(args[0]).read_text())
        return call(fn, *args)

    monkeypatch.setattr(bridge, "call", recording)
    return files


def test_an_empty_option_unsets_the_environments_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """An option given as "" unsets its key: the value of the planner's environment is not used instead."""
    from zerobus_py.spark import _config_from_options

    monkeypatch.setenv("ZEROBUS_PROXY_URL", "http://envproxy:3128")
    monkeypatch.setenv("ZEROBUS_CLIENT_SECRET", "env-" + SECRET)
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "9")
    base = {"table_name": "a.b.c"}
    cfg = _config_from_options(base)
    assert (cfg.proxy_url, cfg._client_secret, cfg.retry_max_attempts) == ("http://envproxy:3128", "env-" + SECRET, 9)
    cfg = _config_from_options({**base, "proxy_url": "", "client_secret": "", "retry_max_attempts": ""})
    assert cfg.proxy_url is None and cfg._client_secret is None
    assert cfg.retry_max_attempts == WrapperConfiguration().retry_max_attempts
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "env.table.name")
    assert _config_from_options({"table_name": ""}).table_name in (None, "")


def test_secret_options_are_literal_and_never_on_disk(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client_secret / proxy_url option holding "${" is taken as it is (not expanded, not an error) and is not
    written to the options file; a secret that is wholly ${NAME} is read from the environment. The wrapper gets
    the secret as given."""
    from pyspark.sql.types import LongType, StructField, StructType

    import zerobus_py.spark as zspark
    from zerobus_py.spark import _config_from_options

    files = loader_files(monkeypatch)
    for secret in ("p${HOME}q", "abc${def", "a$${b}c"):
        cfg = _config_from_options({"table_name": "a.b.c", "client_secret": secret})
        assert cfg._client_secret == secret
        cfg = _config_from_options({"table_name": "a.b.c", "proxy_url": f"http://u:{secret}@proxy:3128"})
        assert cfg._proxy_url == f"http://u:{secret}@proxy:3128"
    assert files == []  # no options file: nothing of a secret is written anywhere
    monkeypatch.setenv("MY_SPARK_SECRET", "from-env-" + SECRET)
    assert _config_from_options({"client_secret": "${MY_SPARK_SECRET}"})._client_secret == "from-env-" + SECRET
    with pytest.raises(ConfigurationError, match=r"client_secret references \$\{NOT_SET_ANYWHERE\}"):
        _config_from_options({"client_secret": "${NOT_SET_ANYWHERE}"})

    # and the wrapper of the driver's check gets it as given (the local server cannot be the judge here: its
    # token endpoint compares HTTP Basic credentials without the form-decoding RFC 6749 asks for, so a secret
    # with "$", "{" or "}" is refused by it whatever the client does)
    schema = StructType([StructField("id", LongType())])
    seen: list[str] = []
    monkeypatch.setattr(zspark, "_check_schema", lambda w, *a: seen.append(w.config._client_secret))
    zspark._Job({**options(server, "main.spark.literal"), "client_secret": "abc${def"}, schema)
    assert seen == ["abc${def"]


def test_writer_disabled_rows_are_converted_not_durable(
    server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With zerobus_writer_disabled nothing is sent: the task's message and the summary count the rows as
    converted, none as durable, and the log line says so."""
    from pyspark.sql.types import LongType, StructField, StructType

    from zerobus_py.spark import _Job

    table = "main.spark.disabled"
    o = {**options(server, table, report_path=tmp_path, zerobus_writer_disabled="true"), "client_secret": SECRET}
    job = _Job(o, StructType([StructField("id", LongType())]))
    msg = job.write(iter([pa.record_batch({"id": pa.array(range(1000), pa.int64())})]))
    assert (msg.total_rows, msg.durable_rows, msg.failed) == (1000, 0, False)
    assert msg.converted_rows == 1000
    with caplog.at_level("INFO", logger="zerobus_py.spark"):
        s = job.finish([msg], None, aborted=False)
    assert (s.durable_rows, s.converted_rows, s.total_rows) == (0, 1000, 1000)
    assert "0 of 1,000 rows durable" in s.line() and "1,000 rows converted and not sent" in s.line()
    assert server.record_count(table) == 0
    [saved] = summaries(tmp_path)
    assert (saved["durable_rows"], saved["converted_rows"]) == (0, 1000)


def test_rows_are_batched_into_arrow_outside_spark(server: LocalServer) -> None:
    """The row writers' path (PySpark 4.0 streaming hands rows over): rows become Arrow batches for Go."""
    from pyspark.sql import Row
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from zerobus_py.spark import _Job

    schema = StructType([StructField("id", LongType(), False), StructField("name", StringType(), True)])
    job = _Job({**options(server, "main.spark.rows"), "client_secret": SECRET}, schema)
    rows = (Row(id=i, name=None if i % 7 == 0 else f"n{i}") for i in range(25_000))
    msg = job.write(rows)
    assert (msg.total_rows, msg.durable_rows, msg.partition, msg.failed) == (25_000, 25_000, 0, False)
    got = server.table("main.spark.rows").sort_by("id")
    assert got.column("id").to_pylist() == list(range(25_000))
    assert got.column("name")[7].as_py() is None and got.column("name")[8].as_py() == "n8"
    assert job.write(iter([])).total_rows == 0  # an empty partition sends nothing
    assert SECRET not in repr(job) and SECRET not in repr(msg)
    clash = StructType([StructField("_zerobus_error", StringType())])
    with pytest.raises(ConfigurationError, match="_zerobus_error"):
        _Job({**options(server, "main.spark.rows"), "client_secret": SECRET, "quarantine_path": "q"}, clash)


def test_a_partition_that_cannot_be_read_to_its_end_fails_the_task(server: LocalServer, tmp_path: Path) -> None:
    """The Spark iterator raising mid-partition (or a row that cannot become Arrow) fails the attempt: the rows
    after that point were never sent, so reporting success would lose them."""
    from pyspark.sql.types import LongType, StructField, StructType

    from zerobus_py.spark import TaskWriteError, _Job

    schema = StructType([StructField("id", LongType())])

    def partition() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"id": pa.array(range(10), pa.int64())})
        raise RuntimeError("upstream failed")

    job = _Job({**options(server, "main.spark.cut", report_path=tmp_path), "client_secret": SECRET}, schema)
    with pytest.raises(TaskWriteError, match=r"(?s)10 rows durable.*upstream failed.*could not be read to its end"):
        job.write(partition())
    [report] = [json.loads(p.read_text()) for p in tmp_path.glob("*/task-*.json")]
    assert report["failed"] and report["durable_rows"] == 10 and "upstream failed" in report["error"]
    assert server.record_count("main.spark.cut") == 10


def test_a_failed_attempt_leaves_no_quarantine_file(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task attempt that quarantined rows and then failed: Spark re-runs it and the new attempt quarantines
    them again, so the failed attempt's file must not stay where the quarantine is read (no row twice, no
    half-written file)."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    monkeypatch.setattr(zspark, "_PART_ROWS", 10)  # one part per batch below
    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])

    def batch(lo: int) -> pa.RecordBatch:
        ids = list(range(lo, lo + 10))
        tags = pa.array([[1, None] if i % 10 == 7 else [1, i] for i in ids], pa.list_(pa.int64()))
        return pa.record_batch({"id": pa.array(ids, pa.int64()), "tags": tags})

    def partition(fail: bool) -> Iterator[pa.RecordBatch]:
        yield batch(0)
        if fail:
            raise RuntimeError("executor lost")
        yield batch(10)

    quarantine = tmp_path / "q"
    o = {**options(server, "main.spark.qretry", quarantine_path=quarantine), "client_secret": SECRET}
    job = zspark._Job(o, schema)
    with pytest.raises(zspark.TaskWriteError, match="executor lost"):
        job.write(partition(fail=True))
    assert list(quarantine.iterdir()) == []  # row 7 was quarantined, then the attempt failed
    msg = job.write(partition(fail=False))  # Spark's retry
    assert msg.quarantined_rows == 2 and msg.quarantine_file
    assert [p.name for p in quarantine.iterdir()] == [Path(msg.quarantine_file).name]
    assert sorted(pq.read_table(quarantine).column("id").to_pylist()) == [7, 17]


def test_a_path_is_refused_not_ignored(spark: SparkSession, server: LocalServer) -> None:
    """save(path) sets the option path, which names nothing here: refused with a clear error, not ignored."""
    with pytest.raises(Exception, match=r"table_name and takes no path: save\('main\.spark\.path'\)"):
        spark.range(3).write.format("zerobus").mode("append").options(**options(server, "main.spark.p")).save(
            "main.spark.path"
        )
    assert server.record_count("main.spark.p") == 0 and server.record_count("main.spark.path") == 0


def test_timestamps_dates_and_decimals_are_written(spark: SparkSession, server: LocalServer) -> None:
    """A DataFrame with TimestampType (and date, decimal) columns: the driver used to fail with an
    AssertionError (PySpark's to_arrow_schema needs a time zone for TimestampType)."""
    table = "main.spark.types"
    first = 1_700_000_000
    df = spark.range(0, 5, numPartitions=2).select(
        "id",
        F.timestamp_seconds(F.col("id") + first).alias("at"),
        F.to_date(F.lit("2024-02-29")).alias("day"),
        (F.col("id") / 4).cast("decimal(10,2)").alias("amount"),
    )
    df.write.format("zerobus").mode("append").options(**options(server, table)).save()
    got = server.table(table).sort_by("id")
    assert got.column("id").to_pylist() == list(range(5))
    # timestamps are stored as microseconds since the epoch
    assert got.column("at").to_pylist() == [(first + i) * 1_000_000 for i in range(5)]
    assert got.num_rows == 5 and got.column("amount").to_pylist()[1] == "0.25"


def test_row_timestamps_are_local_time_made_utc(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The row writers' path: PySpark gives a TimestampType value as a naive datetime in the worker's local time,
    at the top level and inside structs, arrays and maps; each is stored as that instant, not shifted by the local
    zone's offset (TimestampNTZType keeps its wall time)."""
    import datetime
    import time

    from pyspark.sql import Row
    from pyspark.sql.types import (
        ArrayType,
        LongType,
        MapType,
        StringType,
        StructField,
        StructType,
        TimestampNTZType,
        TimestampType,
    )

    from zerobus_py.spark import _Job

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        event = StructType([StructField("at", TimestampType()), StructField("wall", TimestampNTZType())])
        schema = StructType(
            [
                StructField("id", LongType(), False),
                StructField("at", TimestampType()),
                StructField("wall", TimestampNTZType()),
                # nested: PySpark gives these as naive local datetimes too
                StructField("ev", event),
                StructField("ats", ArrayType(TimestampType())),
                StructField("by", MapType(StringType(), TimestampType())),
                StructField("evs", ArrayType(event)),
            ]
        )
        job = _Job({**options(server, "main.spark.rowts"), "client_secret": SECRET}, schema)
        instant = 1_700_000_000
        local = datetime.datetime.fromtimestamp(instant)  # what TimestampType.fromInternal gives
        later = datetime.datetime.fromtimestamp(instant + 3600)
        wall = datetime.datetime(2024, 1, 1, 12, 0)
        rows = [
            Row(
                id=1,
                at=local,
                wall=wall,
                ev=Row(at=later, wall=wall),
                ats=[local, later],
                by={"first": local, "second": later},
                evs=[Row(at=later, wall=wall), Row(at=None, wall=None)],
            ),
            Row(id=2, at=None, wall=None, ev=None, ats=None, by=None, evs=None),
        ]
        msg = job.write(iter(rows))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert msg.durable_rows == 2
    got = server.table("main.spark.rowts").sort_by("id")
    us, later_us = instant * 1_000_000, (instant + 3600) * 1_000_000
    wall_us = int(datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000
    assert got.column("at").to_pylist() == [us, None]
    assert got.column("wall").to_pylist()[0] == wall_us
    assert got.column("ev").to_pylist() == [{"at": later_us, "wall": wall_us}, None]
    assert got.column("ats").to_pylist()[0] == [us, later_us]
    assert sorted(got.column("by").to_pylist()[0]) == [("first", us), ("second", later_us)]
    assert got.column("evs").to_pylist()[0] == [{"at": later_us, "wall": wall_us}, {"at": None, "wall": None}]


def test_a_schema_zerobus_cannot_take_fails_once_on_the_driver(
    spark: SparkSession, server: LocalServer, tmp_path: Path
) -> None:
    """A column Zerobus cannot take (a void one from a bare lit(None), a list of lists) fails the write on the
    driver, once, naming each column, its Spark type and what to do, before any task starts: it used to fail every
    attempt of every task alike (spark.task.maxFailures times each). The fix it gives works."""
    table = "main.spark.badschema"
    base = spark.range(0, 10, numPartitions=2)
    df = base.select("id", F.lit(None).alias("gap"), F.array(F.array("id")).alias("nested"))
    with pytest.raises(Exception) as info:
        df.write.format("zerobus").mode("append").options(**options(server, table, report_path=tmp_path)).save()
    text = str(info.value)
    assert f"cannot be written to {table} (checked on the driver; no task was started)" in text
    for s in ('column "gap" (null)', 'column "nested[]"', "list of lists", "gap void", "nested array<array<bigint>>"):
        assert s in text
    assert "F.lit(None).cast('string')" in text and "TaskWriteError" not in text
    assert not list(tmp_path.rglob("task-*.json")), "a task attempt ran"
    assert server.record_count(table) == 0

    fixed = base.select("id", F.lit(None).cast("string").alias("gap"), F.array("id").alias("nested"))
    fixed.write.format("zerobus").mode("append").options(**options(server, table)).save()
    got = server.table(table).sort_by("id")
    assert got.column("id").to_pylist() == list(range(10))
    assert got.column("gap").null_count == 10 and got.column("nested").to_pylist() == [[i] for i in range(10)]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_columns_the_table_lacks_fail_on_the_driver(spark: SparkSession, server: LocalServer, transport: str) -> None:
    """A column the table does not have fails the write on the driver, named with its Spark type, before any task
    starts (protobuf: the server checks the descriptor when the driver's check opens a stream; arrow_flight: the
    table's columns from Unity Catalog); it used to fail every attempt of every task. The DataFrame that fits is
    stored."""
    table = f"main.spark.lacks_{transport}"
    server.create_table(table, "id BIGINT NOT NULL, name STRING NOT NULL")  # concat of non-null ids: not null
    df = spark.range(0, 6, numPartitions=2).select(
        "id", F.concat(F.lit("n"), "id").alias("name"), F.lit("eu").alias("region")
    )
    o = options(server, table, transport=transport)
    with pytest.raises(Exception) as info:
        df.write.format("zerobus").mode("append").options(**o).save()
    text = str(info.value)
    assert f"cannot be written to {table} (checked on the driver; no task was started)" in text
    assert '"region"' in text and "region string" in text and "TaskWriteError" not in text
    assert server.record_count(table) == 0
    df.drop("region").write.format("zerobus").mode("append").options(**o).save()
    got = server.table(table).sort_by("id")
    assert got.column("id").to_pylist() == list(range(6))
    assert got.column("name").to_pylist() == [f"n{i}" for i in range(6)]


def test_nullability_is_the_tables_when_the_catalog_is_read(spark: SparkSession, server: LocalServer) -> None:
    """Spark decides nullability (spark.range's id is not null, whatever the user writes; Parquet columns are
    nullable); with protobuf the descriptor takes the table's from Unity Catalog, so a NOT NULL id goes to a nullable
    column, and nullable data to a NOT NULL column."""
    table = "main.spark.nullability"
    server.create_table(table, "id BIGINT, name STRING NOT NULL")
    df = spark.range(0, 4, numPartitions=2).select("id", F.concat(F.lit("n"), "id").alias("name"))
    nullable = spark.createDataFrame([(10, "a"), (11, "b")], "id long, name string")  # both nullable
    for frame in (df, nullable):
        frame.write.format("zerobus").mode("append").options(**options(server, table)).save()
    got = server.table(table).sort_by("id")
    assert got.column("id").to_pylist() == [0, 1, 2, 3, 10, 11]
    assert got.column("name").to_pylist() == ["n0", "n1", "n2", "n3", "a", "b"]


@contextlib.contextmanager
def refusing_catalog(server: LocalServer) -> Iterator[str]:
    """A workspace URL whose Unity Catalog refuses every table lookup (403); the rest (the token) is the server's."""

    class Front(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.path.startswith("/api/2.1/unity-catalog/tables/"):
                body = b'{"error_code":"PERMISSION_DENIED","message":"no"}'
                self.send_response(403)
            else:
                n = int(self.headers.get("Content-Length") or 0)
                req = urllib.request.Request(
                    server.workspace_url + self.path,
                    data=self.rfile.read(n) if n else None,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")},
                )
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    t = threading.Thread(target=front.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{front.server_address[1]}"
    finally:
        front.shutdown()
        front.server_close()
        t.join()


def test_nullability_without_the_catalog_fails_on_the_driver_with_the_ways_out(
    spark: SparkSession, server: LocalServer
) -> None:
    """When the table's columns cannot be read from Unity Catalog, with protobuf a column's nullability must match
    the table's as Spark decides it: the driver says so with the ways out, and each works: all_fields_optional for a
    table without NOT NULL columns, F.coalesce for a NOT NULL one."""
    table = "main.spark.nullability_no_catalog"
    server.create_table(table, "id BIGINT, name STRING")
    df = spark.range(0, 4, numPartitions=2).select("id", F.concat(F.lit("n"), "id").alias("name"))
    with refusing_catalog(server) as workspace:
        o = options(server, table, unity_catalog_url=workspace)
        with pytest.raises(Exception) as info:
            df.write.format("zerobus").mode("append").options(**o).save()
        text = str(info.value)
        assert "checked on the driver" in text and '"id"' in text and "TYPE_INCOMPATIBLE" in text
        assert "Unity Catalog" in text and "all_fields_optional" in text and "F.coalesce" in text
        assert server.record_count(table) == 0
        df.write.format("zerobus").mode("append").options(**o, all_fields_optional="true").save()
        strict = "main.spark.nullability_no_catalog_strict"
        server.create_table(strict, "id BIGINT NOT NULL, name STRING NOT NULL")
        nullable = spark.createDataFrame([(10, "a"), (None, "b")], "id long, name string")
        fixed = nullable.select(F.coalesce("id", F.lit(-1)).alias("id"), F.coalesce("name", F.lit("")).alias("name"))
        o_strict = options(server, strict, unity_catalog_url=workspace)
        fixed.write.format("zerobus").mode("append").options(**o_strict).save()
    assert server.table(table).sort_by("id").column("id").to_pylist() == [0, 1, 2, 3]
    assert server.table(strict).sort_by("id").column("id").to_pylist() == [-1, 10]


def test_check_schema_of_the_python_wrapper(server: LocalServer) -> None:
    """ZerobusWrapper.check_schema, the check the driver runs: the typed error naming the column, nothing stored;
    a schema that fits passes; anything but a pyarrow Schema is a TypeError."""
    from zerobus_py import ZerobusWrapper

    with ZerobusWrapper(server.config("main.spark.pycheck")) as w:
        with pytest.raises(ConversionError) as info:
            w.check_schema(pa.schema([("id", pa.int64()), ("gap", pa.null())]))
        assert info.value.columns == ["gap"] and 'column "gap" (null)' in str(info.value)
        w.check_schema(pa.schema([("id", pa.int64())]))
        with pytest.raises(TypeError, match=r"pyarrow\.Schema"):
            w.check_schema(pa.table({"id": [1]}))  # type: ignore[arg-type]
    assert server.record_count("main.spark.pycheck") == 0


def test_a_type_pyspark_cannot_hand_over_is_named(server: LocalServer) -> None:
    """A column PySpark refuses to convert to Arrow (a year-month interval): the driver's error names the column
    and its Spark type (PySpark's own names neither the column nor what to do)."""
    from pyspark.sql.types import LongType, StructField, StructType, YearMonthIntervalType

    from zerobus_py.spark import _Job

    schema = StructType([StructField("id", LongType()), StructField("every", YearMonthIntervalType())])
    with pytest.raises(ConversionError) as info:
        _Job({**options(server, "main.spark.ym"), "client_secret": SECRET}, schema)
    text = str(info.value)
    assert 'column "every" (interval year to month)' in text and "no task was started" in text and "cast" in text
    assert info.value.columns == ["every"] and '"id"' not in text


def test_the_driver_check_does_not_fail_on_an_unreachable_catalog(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With arrow_flight the driver's check reads the catalog; when that fails for a reason other than the
    schema (here nothing listens at the catalog's address) the write is planned anyway, with a warning, and the
    tasks meet what they meet: the driver does not turn a passing outage into a failed job."""
    import socket

    from pyspark.sql.types import LongType, StructField, StructType

    from zerobus_py.spark import _Job

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
        o = {**options(server, "main.spark.nocatalog", transport="arrow_flight"), "client_secret": SECRET}
        schema = StructType([StructField("id", LongType())])
        with caplog.at_level("WARNING", logger="zerobus_py.spark"):
            job = _Job({**o, "unity_catalog_url": closed}, schema)
    assert job.config.table_name == "main.spark.nocatalog"
    [record] = [r for r in caplog.records if "could not be checked" in r.getMessage()]
    assert "main.spark.nocatalog" in record.getMessage() and SECRET not in record.getMessage()


def test_a_check_that_gives_up_does_not_fail_the_write(
    server: LocalServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With protobuf the driver's check opens a stream; when the server holds the stream's creation back longer
    than the check may take, the check warns and the driver's wrapper closes without waiting for that stream
    (nothing was sent): the job is planned, and its tasks store the rows. Before, closing waited for the stream up
    to flush_timeout_ms and then raised, failing a write the check had only warned about."""
    import time

    from pyspark.sql import Row
    from pyspark.sql.types import LongType, StructField, StructType

    import zerobus_py.spark as zspark

    table = "main.spark.slowcheck"
    server.create_table(table, "id BIGINT NOT NULL")
    server.inject_fault(table, "create_delay", latency_ms=20_000)  # the next stream creation only: the check's
    monkeypatch.setattr(zspark, "_CHECK_TIMEOUT", 1.0)
    schema = StructType([StructField("id", LongType(), False)])
    o = {**options(server, table), "client_secret": SECRET, "flush_timeout_ms": "2000"}
    start = time.monotonic()
    with caplog.at_level("WARNING", logger="zerobus_py.spark"):
        job = zspark._Job(o, schema)
    assert time.monotonic() - start < 1.0 + zspark._CHECK_SHUTDOWN + 5
    [record] = [r for r in caplog.records if "could not be checked" in r.getMessage()]
    assert table in record.getMessage()
    msg = job.write(Row(id=i) for i in range(5))
    assert (msg.durable_rows, msg.failed) == (5, False)
    assert sorted(server.table(table).column("id").to_pylist()) == list(range(5))


def test_row_variants_are_written(server: LocalServer) -> None:
    """The row writers' path: PySpark gives a VariantType value as a VariantVal, which pyarrow cannot convert (the
    partition failed to be read, every attempt alike); it is sent as its (value, metadata) struct, also nested."""
    from pyspark.sql import Row
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType, VariantType, VariantVal

    from zerobus_py.spark import _Job

    schema = StructType(
        [
            StructField("id", LongType(), False),
            StructField("v", VariantType()),
            StructField("s", StructType([StructField("v", VariantType())])),
            StructField("vs", ArrayType(VariantType())),
        ]
    )
    job = _Job({**options(server, "main.spark.rowvariant"), "client_secret": SECRET}, schema)
    docs = [VariantVal.parseJson(j) for j in ('{"a": 1, "b": [true, null]}', '"text"', "42")]
    msg = job.write(iter([Row(id=1, v=docs[0], s=Row(v=docs[1]), vs=docs), Row(id=2, v=None, s=None, vs=None)]))
    assert msg.durable_rows == 2

    def back(d: dict[str, bytes] | None) -> Any:
        return None if d is None else VariantVal(d["value"], d["metadata"]).toJson()

    got = server.table("main.spark.rowvariant").sort_by("id").to_pylist()
    assert back(got[0]["v"]) == '{"a":1,"b":[true,null]}' and back(got[0]["s"]["v"]) == '"text"'
    assert [back(d) for d in got[0]["vs"]] == ['{"a":1,"b":[true,null]}', '"text"', "42"]
    assert got[1]["v"] is None and got[1]["s"] is None


def test_an_interrupted_send_counts_its_partial_result(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt during a task's send (send_batch attaches the partial result to the KeyboardInterrupt): the
    failed attempt's report counts the rows it had made durable, so the summary's duplicates are right."""
    from pyspark.sql.types import LongType, StructField, StructType

    import zerobus_py.spark as zspark

    send = zspark.ZerobusWrapper.send_batch

    def interrupted(self: Any, batch: Any, **kw: Any) -> Any:
        result = send(self, batch, **kw)  # everything acknowledged, then Ctrl-C
        exc = KeyboardInterrupt()
        exc.result = result  # type: ignore[attr-defined]
        raise exc

    monkeypatch.setattr(zspark.ZerobusWrapper, "send_batch", interrupted)
    schema = StructType([StructField("id", LongType())])
    job = zspark._Job({**options(server, "main.spark.intr", report_path=tmp_path), "client_secret": SECRET}, schema)
    with pytest.raises(KeyboardInterrupt):
        job.write(iter([pa.record_batch({"id": pa.array(range(7), pa.int64())})]))
    [report] = [json.loads(p.read_text()) for p in tmp_path.glob("*/task-*.json")]
    assert report["failed"] and report["durable_rows"] == 7 and report["total_rows"] == 7
    assert server.record_count("main.spark.intr") == 7


def test_the_arrow_schema_on_pyspark_4_0_and_4_1(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """PySpark 4.0/4.1's to_arrow_schema has no timezone keyword (it maps TimestampType to UTC by default): the
    driver must not fail with a TypeError there, and timestamps are still UTC instants."""
    from pyspark.sql.types import LongType, StructField, StructType, TimestampType

    import zerobus_py.spark as zspark

    real = zspark.to_arrow_schema
    calls: list[bool] = []

    def before_4_2(
        schema: StructType,
        error_on_duplicated_field_names_in_struct: bool = False,
        timestamp_utc: bool = True,
        prefers_large_types: bool = False,
    ) -> pa.Schema:
        calls.append(timestamp_utc)
        return real(schema, timezone="UTC" if timestamp_utc else None)

    monkeypatch.setattr(zspark, "to_arrow_schema", before_4_2)
    schema = StructType([StructField("id", LongType()), StructField("at", TimestampType())])
    job = zspark._Job({**options(server, "main.spark.old"), "client_secret": SECRET}, schema)
    assert calls == [True]
    assert job.arrow_schema.field("at").type == pa.timestamp("us", tz="UTC")
    at = pa.array([1_700_000_000_000_000], pa.timestamp("us", tz="UTC"))
    msg = job.write(iter([pa.record_batch({"id": pa.array([1], pa.int64()), "at": at})]))
    assert msg.durable_rows == 1
    assert server.table("main.spark.old").column("at").to_pylist() == [1_700_000_000_000_000]


class _NoRenameHandler(pafs.FileSystemHandler):
    """The local file system without move (like Arrow's Azure file system on a flat-namespace account); with
    copy=False, without copy_file either."""

    def __init__(self, copy: bool = True) -> None:
        self.fs = pafs.LocalFileSystem()
        self.copy = copy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NoRenameHandler) and other.copy == self.copy

    def __ne__(self, other: object) -> bool:
        return not self == other

    def get_type_name(self) -> str:
        return "norename"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self.fs.get_file_info(paths)

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self.fs.get_file_info(selector)

    def create_dir(self, path: str, recursive: bool) -> None:
        self.fs.create_dir(path, recursive=recursive)

    def delete_dir(self, path: str) -> None:
        self.fs.delete_dir(path)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self) -> None:
        raise NotImplementedError("delete_root_dir_contents")

    def delete_file(self, path: str) -> None:
        self.fs.delete_file(path)

    def move(self, src: str, dest: str) -> None:
        raise NotImplementedError("Move is not supported on this account")

    def copy_file(self, src: str, dest: str) -> None:
        if not self.copy:
            with open(dest, "wb") as f:  # a copy that fails part-way
                f.write(b"PAR1")
            raise OSError("copy failed")
        self.fs.copy_file(src, dest)

    def open_input_stream(self, path: str) -> Any:
        return self.fs.open_input_stream(path)

    def open_input_file(self, path: str) -> Any:
        return self.fs.open_input_file(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        return self.fs.open_output_stream(path, metadata=metadata)

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        return self.fs.open_append_stream(path, metadata=metadata)


@pytest.mark.parametrize("copy", [True, False])
def test_a_quarantine_file_system_that_cannot_rename(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    """quarantine_path on a file system without rename: the file is copied to its final name and the hidden one
    deleted. If that fails too, the attempt fails with its report (the rows it made durable counted) and leaves
    no file behind."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    monkeypatch.setattr(zspark, "_path_fs", lambda p: (pafs.PyFileSystem(_NoRenameHandler(copy)), os.path.abspath(p)))
    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    ids = list(range(10))
    tags = pa.array([[1, None] if i == 7 else [1, i] for i in ids], pa.list_(pa.int64()))
    quarantine, reports = tmp_path / "q", tmp_path / "r"
    table = f"main.spark.norename{int(copy)}"
    o = {**options(server, table, quarantine_path=quarantine, report_path=reports), "client_secret": SECRET}
    job = zspark._Job(o, schema)
    batch = pa.record_batch({"id": pa.array(ids, pa.int64()), "tags": tags})
    if copy:
        msg = job.write(iter([batch]))
        assert msg.quarantined_rows == 1 and not msg.failed
        assert [p.name for p in quarantine.iterdir()] == [Path(msg.quarantine_file or "").name]
        assert pq.read_table(quarantine).column("id").to_pylist() == [7]
    else:
        with pytest.raises(zspark.TaskWriteError, match="copy failed"):
            job.write(iter([batch]))
        assert list(quarantine.iterdir()) == []
        [report] = [json.loads(p.read_text()) for p in reports.glob("*/task-*.json")]
        assert report["failed"] and report["durable_rows"] == 9 and "copy failed" in report["error"]
    assert server.record_count(table) == 9


def test_a_streaming_commit_writer_reconciles_the_planners_attempts(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer PySpark builds only to commit a micro-batch is another _Job (another run id) than the one that
    planned it: it derives the same job id from the checkpoint location, runs no schema check (no stream, no
    token), finds the tasks' reports, counts the attempt it got no message for (one that reported success: a
    speculative copy that lost) and deletes that attempt's quarantine file, not the committed one's."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    table = "main.spark.streamcommit"
    quarantine, reports = tmp_path / "q", tmp_path / "r"
    o = {
        **options(server, table, quarantine_path=quarantine, report_path=reports),
        "client_secret": SECRET,
        "checkpointLocation": str(tmp_path / "chk"),
    }
    planner = zspark._Job(o, schema, streaming=True)
    batch = pa.record_batch(
        {"id": pa.array(range(10), pa.int64()), "tags": pa.array([[1, None] if i == 7 else [1, i] for i in range(10)])}
    )
    msgs = []
    for tid in (4, 5):  # two copies of partition 0 of micro-batch 3, both succeeding
        monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls, t=tid: cls(0, t - 4, t, 3)))
        msgs.append(planner.write(iter([batch])))
    assert len(list(quarantine.glob("*.parquet"))) == 2
    before = server.stats()
    monkeypatch.setattr(zspark, "_committing", lambda: True)
    committer = zspark._Job(o, schema, streaming=True)
    assert server.stats()["streams_created"] == before["streams_created"]
    assert committer.job_id == planner.job_id and committer.run_id != planner.run_id
    s = committer.finish([msgs[1]], 3, aborted=False)
    assert (s.tasks, s.durable_rows, s.failed_attempts, s.superseded_attempts) == (1, 9, 1, 1)
    assert s.failed_attempt_durable_rows == 9 and server.record_count(table) == 18
    assert [Path(f).name for f in s.superseded_quarantine_files] == [Path(msgs[0].quarantine_file or "").name]
    assert [p.name for p in quarantine.glob("*.parquet")] == [Path(msgs[1].quarantine_file or "").name]
    assert pq.read_table(quarantine).column("id").to_pylist() == [7]
    assert [p.parent.name for p in reports.glob("*/*/summary.json")] == ["batch-3"]


def _bad_row_seven(ids: range) -> pa.RecordBatch:
    """Rows whose `tags` has a null element at id % 10 == 7: the server refuses those (not written)."""
    return pa.record_batch(
        {"id": pa.array(ids, pa.int64()), "tags": pa.array([[1, None] if i % 10 == 7 else [1, i] for i in ids])}
    )


def test_abort_keeps_the_quarantine_of_a_partition_without_a_committed_attempt(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch job: partition 0's only attempt returns (row 7 quarantined, 9 rows durable) and then fails, and the
    job aborts. No attempt of partition 0 committed, so its file is the only record of row 7: abort keeps it and
    lists it as kept. Partition 1's attempt 0 also returned and failed, but its attempt 1 committed (and
    quarantined row 17 itself): that superseded file is deleted. Then, in another job, a commit deletes the file
    of an attempt whose sibling committed (the commit-time case still deletes)."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    table = "main.spark.abortquarantine"
    quarantine, reports = tmp_path / "q", tmp_path / "r"
    o = {**options(server, table, quarantine_path=quarantine, report_path=reports), "client_secret": SECRET}
    job = zspark._Job(o, schema)

    def write(partition: int, attempt: int, tid: int, ids: range) -> TaskCommitMessage:
        monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls: cls(partition, attempt, tid, None)))
        return job.write(iter([_bad_row_seven(ids)]))

    p0 = write(0, 0, 11, range(10))
    p1a0 = write(1, 0, 12, range(10, 20))
    p1a1 = write(1, 1, 13, range(10, 20))
    assert sorted(pq.read_table(quarantine).column("id").to_pylist()) == [7, 17, 17]
    s = job.finish([None, p1a1], None, aborted=True)
    assert sorted(server.table(table).column("id").to_pylist()) == sorted(
        [i for i in range(10) if i != 7] + 2 * [i for i in range(10, 20) if i != 17]
    )
    assert sorted(pq.read_table(quarantine).column("id").to_pylist()) == [7, 17], "row 7 kept on abort"
    assert sorted(p.name for p in quarantine.glob("*.parquet")) == sorted(
        Path(m.quarantine_file or "").name for m in (p0, p1a1)
    )
    assert [Path(f).name for f in s.superseded_quarantine_files] == [Path(p1a0.quarantine_file or "").name]
    assert [Path(f).name for f in s.kept_quarantine_files] == [Path(p0.quarantine_file or "").name]
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.superseded_attempts) == (2, 18, 2)
    assert "1 quarantine files kept of task attempts that did not commit" in s.line()
    [summary] = summaries(reports)
    assert summary["kept_quarantine_files"] == s.kept_quarantine_files and summary["aborted"]

    # The commit-time case: partition 0's attempt 0 returned and failed, attempt 1 committed: 0's file deleted.
    job = zspark._Job({**o, "quarantine_path": str(tmp_path / "q2")}, schema)
    quarantine = tmp_path / "q2"
    a0 = write(0, 0, 21, range(30, 40))
    a1 = write(0, 1, 22, range(30, 40))
    s = job.finish([a1], None, aborted=False)
    assert [Path(f).name for f in s.superseded_quarantine_files] == [Path(a0.quarantine_file or "").name]
    assert s.kept_quarantine_files == [] and "kept" not in s.line()
    assert pq.read_table(quarantine).column("id").to_pylist() == [37]


def test_a_micro_batch_rerun_covers_the_earlier_runs_quarantine_only_when_it_commits(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming: micro-batch 3 ran (partition 0 wrote its file) and the query stopped before the commit. After
    the restart, another planning (run) re-runs it. Its partition numbers need not match the earlier run's rows,
    so an abort of the re-run keeps the earlier run's file even though the re-run's partition 0 committed; the
    re-run's commit with every task's message covers all the micro-batch's rows and deletes it."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    table = "main.spark.rerunquarantine"
    quarantine = tmp_path / "q"
    o = {
        **options(server, table, quarantine_path=quarantine),
        "client_secret": SECRET,
        "checkpointLocation": str(tmp_path / "chk"),
    }

    def write(job: Any, partition: int, tid: int, ids: range) -> TaskCommitMessage:
        monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls: cls(partition, 0, tid, 3)))
        m: TaskCommitMessage = job.write(iter([_bad_row_seven(ids)]))
        return m

    old = write(zspark._Job(o, schema, streaming=True), 0, 4, range(20))
    rerun = zspark._Job(o, schema, streaming=True)
    new = [write(rerun, 0, 1, range(10)), write(rerun, 1, 2, range(10, 20))]
    monkeypatch.setattr(zspark, "_committing", lambda: True)
    committer = zspark._Job(o, schema, streaming=True)
    s = committer.finish([new[0], None], 3, aborted=True)  # partition 1 failed after its writer returned
    assert len(list(quarantine.glob("*.parquet"))) == 3
    assert s.superseded_quarantine_files == []
    assert [Path(f).name for f in s.kept_quarantine_files] == sorted(
        Path(m.quarantine_file or "").name for m in (old, new[1])
    )
    s = committer.finish(list(new), 3, aborted=False)
    assert [Path(f).name for f in s.superseded_quarantine_files] == [Path(old.quarantine_file or "").name]
    assert s.kept_quarantine_files == []
    assert sorted(pq.read_table(quarantine).column("id").to_pylist()) == [7, 17]


def test_a_quarantine_path_that_cannot_be_written_fails_before_any_row_is_sent(
    server: LocalServer, tmp_path: Path
) -> None:
    """quarantine_path under a regular file: the driver refuses it, naming the option, before any task starts. A
    task that cannot write it (the executors' view differs from the driver's) fails before sending: it used to
    store its good rows, fail at the first bad row, and Spark's every retry stored them again."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    table = "main.spark.badquarantine"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    bad = blocker / "q"
    o = {**options(server, table, quarantine_path=bad, report_path=tmp_path / "r"), "client_secret": SECRET}
    with pytest.raises(ConfigurationError, match=r"quarantine_path .*checked on the driver; no task was started"):
        zspark._Job(o, schema)

    job = zspark._Job({**o, "quarantine_path": str(tmp_path / "q")}, schema)
    assert not (tmp_path / "q").exists(), "the driver's check leaves no directory behind"
    job.quarantine_path = str(bad)  # what an executor sees
    for _ in range(2):  # Spark's retry fails alike, storing nothing
        with pytest.raises(zspark.TaskWriteError, match=r"(?s)0 rows durable.*quarantine_path .*before sending"):
            job.write(iter([_bad_row_seven(range(10))]))
    assert server.record_count(table) == 0


def test_without_report_path_the_summary_says_failed_attempts_are_not_counted(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Without report_path the driver cannot count what failed attempts stored: a job whose task was retried used
    to log "N of N rows durable" at INFO, as for a clean job, while the server held duplicates. The line says the
    failed attempts are not counted, and a task committed by a retry (attempt > 0) makes it a warning."""
    import logging

    from pyspark.sql.types import LongType, StructField, StructType

    from zerobus_py.spark import _Job

    job = _Job(
        {**options(server, "main.spark.noreports"), "client_secret": SECRET},
        StructType([StructField("id", LongType())]),
    )
    first = TaskCommitMessage(partition=0, total_rows=5, durable_rows=5)
    retried = TaskCommitMessage(partition=1, attempt=1, task_attempt_id=3, total_rows=5, durable_rows=5)
    with caplog.at_level(logging.INFO, logger="zerobus_py.spark"):
        s = job.finish([first, retried], None, aborted=False)
        clean = job.finish([first], None, aborted=False)
    assert (s.retried_tasks, s.attempts_counted, s.durable_rows) == (1, False, 10)
    assert "1 task(s) committed by a retry (attempt > 0)" in s.line() and "not counted here" in s.line()
    assert "failed task attempts are not counted without report_path" in clean.line()
    levels = [r.levelno for r in caplog.records if r.getMessage() in (s.line(), clean.line())]
    assert levels == [logging.WARNING, logging.INFO]


def test_a_timestamp_into_a_timestamp_ntz_column_is_sparks_cast_whatever_the_session_zone(
    spark: SparkSession, server: LocalServer
) -> None:
    """A TIMESTAMP column into a table's TIMESTAMP_NTZ column in a session whose time zone is not UTC: the driver's
    check (made in UTC) used to pass and every task attempt failed (the Arrow batches carry the session's zone).
    The stored value is now what Spark's CAST to TIMESTAMP_NTZ gives (the session's wall clock); a TIMESTAMP column
    into a TIMESTAMP column keeps its instant."""
    table = "main.spark.tsntz"
    server.create_table(table, "id BIGINT, ts TIMESTAMP_NTZ, at TIMESTAMP")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        df = spark.sql("SELECT 1L AS id, timestamp'2024-07-01 12:00:00' AS ts, timestamp'2024-07-01 12:00:00' AS at")
        df.write.format("zerobus").mode("append").options(**options(server, table)).save()
        [cast] = df.select(F.col("ts").cast("timestamp_ntz").alias("w")).collect()
    finally:
        spark.conf.unset("spark.sql.session.timeZone")
    landed = server.table(table)  # the table's TIMESTAMP_NTZ and TIMESTAMP columns read back typed
    assert [f.type for f in landed.schema][1:] == [pa.timestamp("us"), pa.timestamp("us", tz="UTC")]
    got = as_stored(landed)  # as µs since the epoch
    wall = int(cast["w"].replace(tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000  # 12:00 as naive micros
    assert wall == 1_719_835_200_000_000
    assert got == [{"id": 1, "ts": wall, "at": 1_719_849_600_000_000}]  # at: 16:00Z, the New York instant


def test_a_timestamp_field_into_a_timestamp_ntz_field_is_refused_on_the_driver_with_the_spark_cast(
    server: LocalServer,
) -> None:
    """Inside a struct the tasks do not convert: the driver refuses, naming the field and Spark's cast."""
    from pyspark.sql.types import LongType, StructField, StructType, TimestampType

    from zerobus_py.spark import _Job

    table = "main.spark.tsntznested"
    server.create_table(table, "id BIGINT, ev STRUCT<at: TIMESTAMP_NTZ>")
    schema = StructType(
        [StructField("id", LongType()), StructField("ev", StructType([StructField("at", TimestampType())]))]
    )
    with pytest.raises(ConversionError) as info:
        _Job({**options(server, table), "client_secret": SECRET}, schema)
    text = str(info.value)
    assert "no task was started" in text and "ev.at" in text and 'cast("timestamp_ntz")' in text


def test_an_abort_waits_for_a_started_attempt_and_keeps_each_runs_summary(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spark's stage cancel does not stop a Python writer that has its data: a sibling attempt still sending when
    abort runs (partition 0), or one whose writer starts only after it (partition 1), stores its partition and
    reports after the abort. The abort used to summarize without them (their rows uncounted); it now waits for
    the report of every attempt that started, and for the partitions without any while new reports appear. Each
    summary is kept in a file of its own (a re-run's commit used to overwrite the aborted run's summary.json)."""
    from pyspark.sql.types import LongType, StructField, StructType

    import zerobus_py.spark as zspark

    table = "main.spark.abortwait"
    reports = tmp_path / "r"
    o = {**options(server, table, report_path=reports), "client_secret": SECRET}
    job = zspark._Job(o, StructType([StructField("id", LongType())]))
    gate = threading.Event()
    tasks = {threading.get_ident(): zspark._Task(-1, 0, 0, None)}
    monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls: tasks[threading.get_ident()]))

    def partition(lo: int, wait: bool) -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"id": pa.array(range(lo, lo + 10), pa.int64())})
        if wait:
            gate.wait()
        yield pa.record_batch({"id": pa.array(range(lo + 10, lo + 20), pa.int64())})

    def run(p: int, wait: bool) -> threading.Thread:
        def target() -> None:
            tasks[threading.get_ident()] = zspark._Task(p, 0, 10 + p, None)
            job.write(partition(20 * p, wait))

        t = threading.Thread(target=target)
        t.start()
        return t

    # A: partition 0 is still sending when the abort runs; the abort's wait lets it finish
    running = [run(0, wait=True)]
    while not list(reports.glob("*/started-*")):
        gate.wait(0.05)
    waits: list[float] = []

    def release(seconds: float) -> None:
        waits.append(seconds)
        gate.set()
        running[0].join()

    monkeypatch.setattr(zspark, "_pause", release)
    try:
        s = job.finish([None], None, aborted=True)
    finally:
        gate.set()
        running[0].join()
    assert waits, "the abort waited for the started attempt"
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.running_attempts) == (1, 20, 0), s

    # B: another job; partition 0 has reported, partition 1's writer starts only while the abort waits
    job = zspark._Job(o, StructType([StructField("id", LongType())]))
    run(0, wait=False).join()
    waits.clear()

    def start_late(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            run(1, wait=False).join()

    monkeypatch.setattr(zspark, "_pause", start_late)
    s = job.finish([None, None], None, aborted=True)
    assert waits, "the abort waited for the partition without a report"
    assert (s.failed_attempts, s.failed_attempt_durable_rows) == (2, 40), s
    assert (s.running_attempts, s.partitions_without_report) == (0, 0)
    assert server.record_count(table) == 60

    job.finish([], None, aborted=False)  # a later commit of the same job directory
    kept = sorted(p.name for p in (reports / job.job_id).glob("summary-*.json"))
    assert len(kept) == 2 and "-aborted-" in kept[0] + kept[1] and "-committed-" in kept[0] + kept[1]
    latest = json.loads((reports / job.job_id / "summary.json").read_text())
    assert not latest["aborted"], "summary.json: the latest"


def test_a_quarantined_rows_place_in_its_partition(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quarantine file's rows carry their row in the task's partition (_zerobus_row), and the error text names
    that row and the partition: it used to name the row within the part that was sent (parts of 256 Ki rows), the
    same "row 7" for rows of different parts and partitions."""
    from pyspark.sql.types import ArrayType, LongType, StructField, StructType

    import zerobus_py.spark as zspark

    monkeypatch.setattr(zspark, "_PART_ROWS", 10)  # three parts below
    monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls: cls(2, 0, 5, None)))
    schema = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])
    quarantine = tmp_path / "q"
    o = {**options(server, "main.spark.qrow", quarantine_path=quarantine), "client_secret": SECRET}
    msg = zspark._Job(o, schema).write(iter([_bad_row_seven(range(lo, lo + 10)) for lo in (100, 110, 120)]))
    assert msg.quarantined_rows == 3
    q = pq.read_table(quarantine).sort_by("id")
    assert q.column("id").to_pylist() == [107, 117, 127]
    assert q.column("_zerobus_row").to_pylist() == [7, 17, 27]
    errors = q.column("_zerobus_error").to_pylist()
    # the place comes from err.row (the row in the part sent) and the part's offset; Go's message is kept whole
    assert [e.split(": zerobus: ")[0] for e in errors] == [
        f"ConversionError (row {r} of partition 2; row 7 of the part sent)" for r in (7, 17, 27)
    ]
    assert len({e.split(": ", 1)[1] for e in errors}) == 1 and "at row 7" in errors[0]


def test_pyspark_40_streaming_rows_store_the_utc_wall_clock_and_the_driver_says_so(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PySpark 4.0 hands a streaming query's micro-batches to Python as rows (naive datetimes, no zone), and the
    data source cannot read spark.sql.session.timeZone: a TIMESTAMP column into a TIMESTAMP_NTZ column stores the
    wall clock in UTC there, not Spark's CAST in the session's zone (documented). The driver now warns, naming the
    column and the cast; with Arrow micro-batches (PySpark >= 4.1) it does not."""
    from pyspark.sql import Row
    from pyspark.sql.types import LongType, StructField, StructType, TimestampType

    import zerobus_py.spark as zspark

    table = "main.spark.rows40ntz"
    server.create_table(table, "id BIGINT, ts TIMESTAMP_NTZ")
    schema = StructType([StructField("id", LongType()), StructField("ts", TimestampType())])
    o = {**options(server, table), "client_secret": SECRET}
    with caplog.at_level("WARNING", logger=zspark.logger.name):
        zspark._Job(o, schema, streaming=True)
    assert not [r for r in caplog.records if "PySpark 4.0" in r.getMessage()]
    monkeypatch.setattr(zspark, "STREAM_ARROW", False)
    # another planning process (one checks a query without a checkpointLocation option once per schema and settings)
    monkeypatch.setattr(zspark, "_CHECKED", {})
    with caplog.at_level("WARNING", logger=zspark.logger.name):
        job = zspark._Job(o, schema, streaming=True)
    assert job.wall_clock == ("ts",)
    [warned] = [r.getMessage() for r in caplog.records if "PySpark 4.0" in r.getMessage()]
    assert "in UTC" in warned and 'F.col("ts").cast("timestamp_ntz")' in warned and table in warned
    monkeypatch.setattr(zspark._Task, "current", classmethod(lambda cls: cls(0, 0, 1, 0)))
    instant = datetime.datetime(2024, 7, 1, 16, tzinfo=datetime.timezone.utc)
    job.write(iter([Row(id=1, ts=instant.astimezone().replace(tzinfo=None))]))  # as PySpark 4.0 gives it
    assert as_stored(server.table(table)) == [{"id": 1, "ts": 1_719_849_600_000_000}]  # 16:00 UTC's wall
