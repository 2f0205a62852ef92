"""The `zerobus` PySpark data source: session 16's fixes (a named streaming query, option errors, duplicates of a
re-run micro-batch and of a recovery inside a task, a stop while a micro-batch sends, a session-level checkpoint).
The Spark tests share test_spark.py's fixtures (one local session, one local server)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StructField, StructType
from test_spark import finish, jvm_log, options, server, spark, stored_ids, summaries
from test_spark_reports import NEW, OLD, _job, _no_heartbeat_left  # noqa: F401 (the fixture applies here too)

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
    finish(query)
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


def test_a_recovery_inside_a_task_is_reported(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
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


def test_a_recovered_attempt_makes_the_commit_line_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job = _job(tmp_path, NEW + "0" * 24, streaming=False)
    monkeypatch.setattr(zspark, "_pause", lambda _: None)
    m = zspark.TaskCommitMessage(0, 0, 1, None, total_rows=10, durable_rows=10, stream_attempts=2, run_id=job.run_id)
    with caplog.at_level(logging.INFO, logger="zerobus_py.spark"):
        job.finish([m], None, aborted=False)
    [record] = [r for r in caplog.records if "committed" in r.getMessage()]
    assert record.levelno == logging.WARNING and "recovered inside the task" in record.getMessage()


def test_a_rerun_micro_batchs_commit_reports_the_earlier_runs_killed_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The query was stopped while micro-batch 7 was sending: its attempt of partition 0 (run OLD) was killed (a
    start marker, never a report) after storing rows, and the abort kept its summary. The re-run (NEW) re-sent the
    partition and committed: its summary said 0 failed attempts, at INFO, as it looked only at its own run's
    files. It now counts the earlier run's unreported attempt, names the aborted run's summary, and warns."""
    d = tmp_path / "r" / "q0123456789abcdef" / "batch-7"
    d.mkdir(parents=True)
    (d / f"started-task-p00000-a0-t11-r{OLD}").write_text("{}")
    (d / f"started-task-p00001-a0-t12-r{OLD}").write_text("{}")  # reported: counted as a failed attempt
    (d / f"task-p00001-a0-t12-r{OLD}.json").write_text(json.dumps({"partition": 1, "durable_rows": 5, "failed": True}))
    aborted = "summary-20260101T000000-aborted-0123abcd.json"
    (d / aborted).write_text("{}")
    planner = _job(tmp_path, NEW + "0" * 24)  # the re-run's tasks
    job = _job(tmp_path, "cccccccc" + "0" * 24)  # the committing writer: another run id than the planner's
    monkeypatch.setattr(zspark, "_pause", lambda _: None)
    messages = []
    for p in (0, 1):
        task = zspark._Task(p, 0, 20 + p, 7)
        m = zspark.TaskCommitMessage(p, 0, 20 + p, 7, job_id=job.job_id, run_id=planner.run_id, durable_rows=10)
        with planner._mark_started(task):
            pass
        planner._report(task, m)
        messages.append(m)
    with caplog.at_level(logging.INFO, logger="zerobus_py.spark"):
        s = job.finish(list(messages), 7, aborted=False)
    assert (s.earlier_run_unreported_attempts, s.earlier_run_summaries) == (1, [aborted])
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.running_attempts) == (1, 5, 0)
    [record] = [r for r in caplog.records if "micro-batch 7" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "an earlier run of this micro-batch" in record.getMessage() and aborted in record.getMessage()
    saved = json.loads((d / "summary.json").read_text())
    assert saved["earlier_run_unreported_attempts"] == 1

    # A micro-batch run once: nothing of the kind
    job.job_id = planner.job_id = "q-other"
    m = zspark.TaskCommitMessage(0, 0, 30, 7, job_id=job.job_id, run_id=planner.run_id)
    with planner._mark_started(zspark._Task(0, 0, 30, 7)):
        pass
    planner._report(zspark._Task(0, 0, 30, 7), m)
    assert job.finish([m], 7, aborted=False).earlier_run_unreported_attempts == 0


class _Clock:
    """The driver's clock of _await_reports, advanced by its pauses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, on_pause: Any = None) -> None:
        self.now = 1000.0
        self.on_pause = on_pause
        monkeypatch.setattr(zspark, "_now", lambda: self.now)
        monkeypatch.setattr(zspark, "_pause", self.pause)

    def pause(self, seconds: float) -> None:
        self.now += seconds
        if self.on_pause is not None:
            self.on_pause(self.now)


def _aborting_job(tmp_path: Path) -> tuple[Any, Path]:
    job = _job(tmp_path, NEW + "0" * 24, streaming=False)
    d = tmp_path / "r" / job.job_id
    d.mkdir(parents=True)
    return job, d


def test_an_abort_stops_waiting_for_a_killed_attempt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """query.stop() while a micro-batch sends: Spark kills the attempt's Python worker, which never reports, and
    the abort waited the whole _ABORT_WAIT (30 s) for its report. A running attempt rewrites its marker; one whose
    marker stopped changing for _SILENT seconds is given up on."""
    job, d = _aborting_job(tmp_path)
    (d / "started-task-p00000-a0-t1").write_text("{}")  # killed: never rewritten
    clock = _Clock(monkeypatch)
    start = clock.now
    s = job.finish([None], None, aborted=True)
    assert s.running_attempts == 1
    assert zspark._SILENT <= clock.now - start < zspark._ABORT_WAIT


def test_an_abort_waits_for_an_attempt_whose_marker_beats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An attempt still sending (its marker rewritten) is waited for past _SILENT, until it reports."""
    job, d = _aborting_job(tmp_path)
    marker = d / "started-task-p00000-a0-t1"
    marker.write_text("{}")
    reported_at = 1000.0 + zspark._SILENT * 2

    def beat(now: float) -> None:
        if now < reported_at:
            os.utime(marker, (now, now))  # the heartbeat: a new mtime
        elif marker.exists():
            job._report(zspark._Task(0, 0, 1, None), zspark.TaskCommitMessage(0, 0, 1, None, durable_rows=7))

    clock = _Clock(monkeypatch, beat)
    s = job.finish([None], None, aborted=True)
    assert (s.running_attempts, s.failed_attempts, s.failed_attempt_durable_rows) == (0, 1, 7)
    assert clock.now >= reported_at


def test_a_running_attempt_rewrites_its_marker_until_it_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zspark, "_HEARTBEAT", 0.01)
    job = _job(tmp_path, NEW + "0" * 24)
    task = zspark._Task(0, 0, 1, 7)
    marker = Path(job._report_dir(7)) / f"started-task-p00000-a0-t1-r{NEW}"
    with job._mark_started(task) as beat:
        os.utime(marker, (1, 1))
        for _ in range(2000):  # until the heartbeat rewrote it
            if marker.stat().st_mtime > 1:
                break
            time.sleep(0.01)
        assert marker.stat().st_mtime > 1
    assert beat._thread is not None and not beat._thread.is_alive(), "leaving the with block stops the heartbeat"
    job._report(task, zspark.TaskCommitMessage(0, 0, 1, 7, run_id=job.run_id))
    time.sleep(0.05)
    assert not marker.exists(), "stopped before the report: the marker does not come back"


def test_a_session_checkpoint_gives_one_job_directory_and_one_check(
    spark: SparkSession, server: LocalServer, tmp_path: Path
) -> None:
    """With the checkpoint set only by spark.sql.streaming.checkpointLocation (no checkpointLocation option),
    report_path got a new job directory per micro-batch and the driver checked the schema (a stream and a token)
    at every micro-batch. The tasks now name the query's directory by its query id, and the check is made once."""
    table = "main.s16.sessionchk"
    batches, per_file = 3, 1_000
    stream = _parquet_stream(spark, tmp_path / "in", batches, per_file)
    reports = tmp_path / "reports"
    before = server.stats()
    spark.conf.set("spark.sql.streaming.checkpointLocation", str(tmp_path / "chk"))
    try:
        query = (
            stream.writeStream.format("zerobus")
            .options(**options(server, table, report_path=reports))
            .trigger(availableNow=True)
            .start()
        )
        finish(query)
    finally:
        spark.conf.unset("spark.sql.streaming.checkpointLocation")
    assert query.exception() is None
    after = server.stats()
    np.testing.assert_array_equal(stored_ids(server, table), np.arange(batches * per_file))
    [job] = list(reports.iterdir())
    done = summaries(reports)
    assert sorted(s["batch_id"] for s in done) == list(range(batches))
    assert all(s["job_id"] == job.name and s["durable_rows"] == per_file for s in done)
    assert job.name == zspark._query_job_id(query.id)
    assert after["streams_created"] - before["streams_created"] == batches + 1  # one per task, one check


def test_a_named_querys_job_is_its_name_without_the_checkpoint_option(server: LocalServer) -> None:
    """Spark's checkpoint of a named query without the option is <spark.sql.streaming.checkpointLocation>/<name>,
    the same at every start: its planning and the writer that commits (another process) derive one job id from
    the name (and table)."""
    schema = StructType([StructField("id", LongType())])
    o = {**options(server, "main.s16.named2"), "client_secret": server.client_secret}
    a = zspark._Job({**o, "queryName": "events"}, schema, streaming=True)
    b = zspark._Job({**o, "queryname": "events"}, schema, streaming=True)
    c = zspark._Job({**o, "queryName": "other"}, schema, streaming=True)
    assert a.stable and a.job_id == b.job_id != c.job_id and a.job_id.startswith("q")
    assert a.run_id != b.run_id


def _query_batch(tmp_path: Path, name: str, *files: str) -> Path:
    d = tmp_path / "r" / name / "batch-3"
    d.mkdir(parents=True)
    for f in files:
        (d / f).write_text(json.dumps({"durable_rows": 4, "failed": True} if f.endswith(".json") else {}))
    return d


def test_an_abort_without_messages_reads_the_only_unfinished_query_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unnamed query planned without the checkpointLocation option, whose micro-batch 3 failed in every task:
    no commit message names the job. The abort reads the only query-id directory whose batch-3 is unfinished
    (not another query's ``q…`` directory, nor a finished batch-3), and keeps its summary in the planning's own
    directory, not in the one it guessed."""
    job = _job(tmp_path, NEW + "0" * 24)
    job.stable, job.job_id = False, NEW + "0" * 24
    this = zspark._query_job_id("this query")
    assert this.startswith("qid-")
    _query_batch(tmp_path, this, f"task-p00000-a0-t1-r{OLD}.json")
    _query_batch(tmp_path, "q0123456789abcdef", f"task-p00000-a0-t1-r{OLD}.json")  # a named query's, newest
    _query_batch(tmp_path, zspark._query_job_id("done"), f"task-p00000-a0-t1-r{OLD}.json", "summary.json")
    _Clock(monkeypatch)
    s = job.finish([None], 3, aborted=True)
    assert (s.job_id, s.query_dir) == (this, "guessed")
    assert (s.failed_attempts, s.failed_attempt_durable_rows) == (1, 4)
    assert not (tmp_path / "r" / this / "batch-3" / "summary.json").exists()
    assert json.loads((tmp_path / "r" / job.run_id / "batch-3" / "summary.json").read_text())["job_id"] == this
    assert "was read, the only query directory" in s.line()


@pytest.mark.parametrize("other_running", [False, True])
def test_an_abort_without_messages_does_not_take_another_querys_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_running: bool
) -> None:
    """Query A's micro-batch 3 aborts with no commit message; B shares report_path. B committed its batch 3 (a
    named query, or an unnamed one): A's abort took B's directory, counted B's committed rows as A's failed
    attempts and overwrote B's summary.json. Or A's tasks reported and B, running, wrote later: A's abort took
    B's (the newest). Now the directory is unknown: nothing is read, nothing of B's is written."""
    job = _job(tmp_path, NEW + "0" * 24)
    job.stable, job.job_id = False, NEW + "0" * 24
    named = _query_batch(tmp_path, "q3f0c9b1e2d4a0123", f"task-p00000-a0-t41-r{OLD}.json", "summary.json")
    unnamed = _query_batch(tmp_path, zspark._query_job_id("B"), f"task-p00000-a0-t42-r{OLD}.json", "summary.json")
    if other_running:  # A's own report, and B's unfinished batch 3
        _query_batch(tmp_path, zspark._query_job_id("A"), f"task-p00000-a0-t7-r{NEW}.json")
        _query_batch(tmp_path, zspark._query_job_id("B2"), f"started-task-p00000-a0-t8-r{OLD}")
    _Clock(monkeypatch)
    s = job.finish([None], 3, aborted=True)
    assert s.query_dir == "unknown" and s.job_id == job.run_id
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.running_attempts) == (0, 0, 0)
    assert len(s.query_dir_candidates) == (2 if other_running else 0)
    for d in (named, unnamed):
        assert json.loads((d / "summary.json").read_text()) == {"durable_rows": 4, "failed": True}, "not rewritten"
    assert "report directory is unknown" in s.line()
    assert (tmp_path / "r" / job.run_id / "batch-3" / "summary.json").exists()


def test_a_commit_waits_for_an_attempt_whose_marker_looks_still(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slow storage (a marker rewrite taking longer than _SILENT, an NFS attribute cache) makes a live attempt's
    marker look still: the commit stopped waiting for it after _SILENT and left its durable rows out. The _SILENT
    rule is the abort's only (query.stop() kills the tasks); a commit waits up to _ABORT_WAIT."""
    job, d = _aborting_job(tmp_path)
    (d / "started-task-p00000-a0-t1").write_text("{}")  # never rewritten (the storage is slow), still sending
    reported_at = 1000.0 + zspark._SILENT * 2
    commit = zspark.TaskCommitMessage(0, 1, 2, None, job_id=job.job_id, run_id=job.run_id, durable_rows=3)
    job._report(zspark._Task(0, 1, 2, None), commit)

    def late_report(now: float) -> None:
        if now >= reported_at and (d / "started-task-p00000-a0-t1").exists():
            job._report(zspark._Task(0, 0, 1, None), zspark.TaskCommitMessage(0, 0, 1, None, durable_rows=500))

    _Clock(monkeypatch, late_report)
    s = job.finish([commit], None, aborted=False)
    assert (s.running_attempts, s.failed_attempts, s.failed_attempt_durable_rows) == (0, 1, 500)
