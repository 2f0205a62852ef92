"""Session 20 (sparkfix): the Spark data source's task reports and job summary carry the rows re-sent after stream
recoveries (the Go core's ``recoveries`` / ``resent_rows``), and a commit whose wait ends with an attempt still
unreported whose partition another attempt committed names that attempt with a bound of its duplicates (s19
sparkredo "L2, the safe part"; s18 sparkfault L2, L3). The wait itself is unchanged (a commit waits up to
``_ABORT_WAIT`` for every started attempt).

The Spark tests use test_spark.py's session and server (a module with a session of its own, or Spark conf left
set, changes the later modules' tests: s19), and every write here is a batch job (no streaming query to stop).
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pyarrow as pa
import pytest
from pyspark import TaskContext
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from test_spark import jvm_log, options, server, spark, stored_ids, summaries
from test_spark_reports import NEW, _job, _no_heartbeat_left  # noqa: F401 (the fixture applies here too)
from test_spark_s16 import _Clock

from zerobus_py import TransmissionResult
from zerobus_py import spark as zspark
from zerobus_py.local import LocalServer

__all__ = ["jvm_log", "server", "spark"]  # fixtures, used by name


def _native(**counts: Any) -> dict[str, Any]:
    """A send's outcome as Go encodes it (what pybind hands to ``TransmissionResult._from_native``)."""
    rows = counts.pop("rows", 10)
    return {
        "success": True,
        "attempts": counts.pop("attempts", 1),
        "recoveries": counts.pop("recoveries", 0),
        "resent_rows": counts.pop("resent_rows", 0),
        "latency_ms": 1.0,
        "batch_size_bytes": 10 * rows,
        "total_rows": rows,
        "successful_count": rows,
        "failed_count": 0,
        "not_written_count": 0,
        "unknown_count": 0,
        "failed": [],
    }


# -- re-sent rows in the reports and the summary (no Spark) --------------------------------------------------------


def test_a_task_message_sums_the_recoveries_and_resent_rows_of_its_sends() -> None:
    msg = zspark.TaskCommitMessage(partition=3)
    msg.add(TransmissionResult._from_native(_native(rows=100, attempts=2, recoveries=1, resent_rows=40)))
    msg.add(TransmissionResult._from_native(_native(rows=50)))
    msg.add(TransmissionResult._from_native(_native(rows=70, attempts=3, recoveries=2, resent_rows=25)))
    assert (msg.total_rows, msg.durable_rows, msg.stream_attempts) == (220, 220, 3)
    assert (msg.recoveries, msg.resent_rows) == (3, 65)
    # a report written before session 20 (no such keys) reads as 0: reports() keeps only known fields
    assert (zspark.TaskCommitMessage(partition=0).recoveries, zspark.TaskCommitMessage().resent_rows) == (0, 0)


def test_the_summary_sums_resent_rows_of_committed_and_reported_attempts() -> None:
    ok = zspark.TaskCommitMessage(partition=0, total_rows=10, durable_rows=10, stream_attempts=1)
    recovered = zspark.TaskCommitMessage(
        partition=1, total_rows=5000, durable_rows=5000, stream_attempts=2, recoveries=1, resent_rows=1234
    )
    failed = zspark.TaskCommitMessage(
        partition=2, durable_rows=4, failed=True, stream_attempts=3, recoveries=2, resent_rows=300
    )
    s = zspark.summarize("j", [ok, recovered], failed_reports=[failed])
    assert (s.recovered_attempts, s.recoveries, s.resent_rows, s.max_stream_attempts) == (2, 3, 1534, 3)
    line = s.line()
    assert "2 task attempt(s) recovered inside the task (3 stream recoveries, a request needed up to 3" in line
    assert "up to 1,534 rows re-sent (possible duplicates)" in line, line
    assert "not counted here" not in line

    one = zspark.summarize("j", [recovered])
    assert "(1 stream recovery, " in one.line() and "up to 1,234 rows re-sent (possible duplicates)" in one.line()
    # no count (a report of an older zerobus_py, or nothing re-sent): the at-least-once warning without a number
    quiet = zspark.TaskCommitMessage(partition=0, total_rows=10, durable_rows=10, stream_attempts=2)
    text = zspark.summarize("j", [quiet]).line()
    assert "1 task attempt(s) recovered inside the task (a request needed up to 2 stream attempts): " in text, text
    assert "may be stored twice, not counted here" in text and "re-sent" not in text
    plain = zspark.summarize("j", [ok])
    assert (plain.recoveries, plain.resent_rows) == (0, 0) and "re-sent" not in plain.line()


def test_a_failed_tasks_error_says_how_many_rows_it_resent() -> None:
    job = object.__new__(zspark._Job)
    job.config = zspark.WrapperConfiguration(table_name="main.s20.t")
    msg = zspark.TaskCommitMessage(partition=2, durable_rows=7, unknown_rows=3, recoveries=2, resent_rows=4096)
    msg.error = "ZerobusError: x"
    text = job._failure_text(zspark._Task(2, 0, 9, None), msg, None)
    assert "; 2 stream recoveries had re-sent up to 4,096 rows (possible duplicates)" in text, text


# -- a commit's wait ending with a superseded attempt unreported (no Spark; the driver's clock faked) -------------


def _commit_job(tmp_path: Path) -> tuple[Any, Path]:
    job = _job(tmp_path, NEW + "0" * 24, streaming=False)
    d = tmp_path / "r" / job.job_id
    d.mkdir(parents=True)
    return job, d


def test_a_commit_names_an_unreported_attempt_whose_partition_a_retry_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partition 1's attempt 0 started (its marker) and never reported (its worker was killed); attempt 1 committed
    50,000 rows. The commit still waits the whole _ABORT_WAIT (the marker may be a live attempt's on slow
    storage), and its summary then names the attempt, the attempt that committed and the bound, instead of only
    counting it in running_attempts."""
    job, d = _commit_job(tmp_path)
    (d / "started-task-p00001-a0-t4").write_text("{}")
    p0 = zspark.TaskCommitMessage(0, 0, 3, None, total_rows=40_000, durable_rows=40_000, run_id=job.run_id)
    p1 = zspark.TaskCommitMessage(1, 1, 5, None, total_rows=50_000, durable_rows=50_000, run_id=job.run_id)
    clock = _Clock(monkeypatch)
    start = clock.now
    s = job.finish([p0, p1], None, aborted=False)
    assert clock.now - start >= zspark._ABORT_WAIT  # the wait is not shortened (the driver's clock, faked)
    assert s.running_attempts == 1
    entry = {"partition": 1, "attempt": 0, "task_attempt_id": 4, "committed_attempt": 1, "max_duplicate_rows": 50_000}
    assert s.unreported_superseded_attempts == [entry]
    line = s.line()
    assert "1 task attempt(s) had started and not reported" in line
    assert "partition 1 attempt 0 (attempt 1 committed): up to 50,000 rows may be stored twice" in line, line
    written = json.loads((d / "summary.json").read_text())
    assert written["unreported_superseded_attempts"] == [entry] and written["running_attempts"] == 1


def test_only_attempts_of_committed_partitions_are_named_and_a_late_report_is_counted_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An abort: partition 0 committed (attempt 2), and its attempts 0 and 1 never reported; partition 1 has no
    commit message and its attempt is unreported: only partition 0's are named (partition 1's rows are not stored
    twice by a committed attempt). A report that arrives after the wait ended, before the reports are read, is
    counted from the report (exactly), not as running."""
    job, d = _commit_job(tmp_path)
    for name in ("started-task-p00000-a1-t7", "started-task-p00000-a0-t2", "started-task-p00001-a0-t3"):
        (d / name).write_text("{}")
    p0 = zspark.TaskCommitMessage(0, 2, 9, None, total_rows=1_234, durable_rows=1_234, run_id=job.run_id)
    waited = zspark._Job._await_pending

    def then_a_report(self: Any, *args: Any) -> tuple[list[str], int]:
        pending, missing = waited(self, *args)
        job._report(zspark._Task(0, 1, 7, None), zspark.TaskCommitMessage(0, 1, 7, None, durable_rows=600))
        return pending, missing

    monkeypatch.setattr(zspark._Job, "_await_pending", then_a_report)
    _Clock(monkeypatch)
    s = job.finish([p0, None], None, aborted=True)
    assert (s.failed_attempts, s.failed_attempt_durable_rows) == (1, 600)
    assert s.running_attempts == 2
    assert s.unreported_superseded_attempts == [
        {"partition": 0, "attempt": 0, "task_attempt_id": 2, "committed_attempt": 2, "max_duplicate_rows": 1_234}
    ]
    assert "partition 0 attempt 0 (attempt 2 committed): up to 1,234 rows may be stored twice" in s.line()
    assert "partition 1 attempt" not in s.line()


def test_a_commit_with_every_attempt_reported_names_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job, _ = _commit_job(tmp_path)
    m = zspark.TaskCommitMessage(0, 0, 1, None, total_rows=10, durable_rows=10, run_id=job.run_id)
    job._report(zspark._Task(0, 0, 1, None), m)
    clock = _Clock(monkeypatch)
    s = job.finish([m], None, aborted=False)
    assert clock.now == 1000.0  # nothing to wait for
    assert (s.running_attempts, s.unreported_superseded_attempts) == (0, [])
    assert "may be stored twice" not in s.line()


# -- in Spark, against the local server --------------------------------------------------------------------------


def test_rows_resent_after_a_recovery_are_in_the_report_and_the_summary(
    spark: SparkSession, server: LocalServer, tmp_path: Path, jvm_log: Path
) -> None:
    """Two partitions; only the big one's stream reaches the faults (the small one sends one message): acks stop
    after its 3rd message and the connection drops at the 6th, with 3 requests in flight, so the one recovery
    re-sends exactly the 3 stored and unacknowledged requests (test_s19_resent.py). The rows the server stored
    twice are then exactly the rows the summary and the task report say were re-sent."""
    table = "main.s20.resent"
    big, small = 20_000, 100
    text = F.concat(F.lit("row "), F.col("id"), F.lit(" with some text to make it a few dozen bytes"))
    # partition 0 keeps its 20,000 ids, partition 1 its last 100 (a filter keeps the two partitions)
    keep = (F.col("id") < big) | (F.col("id") >= 2 * big - small)
    df = spark.range(0, 2 * big, numPartitions=2).where(keep).select("id", text.alias("s"))
    want = set(range(big)) | set(range(2 * big - small, 2 * big))
    server.inject_fault(table, "stall_acks", after_messages=3)
    server.inject_fault(table, "drop_connection", after_messages=6)
    o = options(
        server,
        table,
        report_path=tmp_path,
        streams_per_schema=1,
        max_inflight_requests=3,
        max_message_bytes=64 << 10,
        retry_base_delay_ms=1,
        retry_max_delay_ms=10,
    )
    df.write.format("zerobus").mode("append").options(**o).save()

    ids = stored_ids(server, table)
    n = big + small
    assert set(ids.tolist()) == want
    dups = len(ids) - n
    assert dups > 0, "the faults stored nothing twice"
    [s] = summaries(tmp_path)
    assert (s["tasks"], s["durable_rows"], s["failed_attempts"]) == (2, n, 0)
    assert (s["recoveries"], s["resent_rows"], s["recovered_attempts"]) == (1, dups, 1), s
    reports = sorted((json.loads(p.read_text()) for p in tmp_path.glob("*/task-*.json")), key=lambda r: r["total_rows"])
    assert [(r["total_rows"], r["recoveries"], r["resent_rows"]) for r in reports] == [
        (small, 0, 0),
        (big, 1, dups),
    ]
    log = jvm_log.read_text(errors="replace")
    [line] = [x for x in log.splitlines() if f"zerobus: job {s['job_id']} committed" in x]
    assert f"up to {dups:,} rows re-sent (possible duplicates)" in line, line
    assert "WARNING" in line


def _kill_the_sender(
    server: LocalServer, table: str, after_rows: int, killed: list[int], stop: threading.Event
) -> None:
    """Once the server stored ``after_rows`` rows of ``table``, kill -9 the one process started by this test's
    Spark (a Python worker) that holds a connection to the server: the writer of the partition, mid-send."""
    port = urlsplit(server.endpoint).port
    me = psutil.Process()
    while not stop.is_set() and not killed:
        if server.record_count(table) >= after_rows:
            for p in me.children(recursive=True):
                try:
                    if any(c.raddr and c.raddr.port == port for c in p.net_connections(kind="tcp")):
                        p.kill()
                        killed.append(p.pid)
                        return
                except psutil.Error:
                    continue
        time.sleep(0.02)


def test_a_killed_attempt_whose_retry_committed_is_named_with_its_bound(
    spark: SparkSession, server: LocalServer, tmp_path: Path, jvm_log: Path
) -> None:
    """The Python worker of partition 0's attempt 0 is killed (kill -9) once the server stored its first 10,000
    rows: no report, its marker stays. Spark retries the task; attempt 1 sends the whole partition and commits.
    The commit waits _ABORT_WAIT for attempt 0 (unchanged) and names it: partition 0, attempt 0, committed by
    attempt 1, up to the partition's rows stored twice, which bounds what the server stored twice."""
    table = "main.s20.killed"
    n, per_batch = 100_000, 10_000

    def slow_first_attempt(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        ctx = TaskContext.get()
        first = ctx is not None and ctx.attemptNumber() == 0
        for b in batches:
            yield b
            if first:
                time.sleep(0.5)

    df = (
        spark.range(0, n, numPartitions=1)
        .select("id", F.concat(F.lit("k-"), F.col("id")).alias("name"))
        .mapInArrow(slow_first_attempt, "id long, name string")
    )
    killed: list[int] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_kill_the_sender, args=(server, table, per_batch, killed, stop), daemon=True)
    watcher.start()
    try:
        df.write.format("zerobus").mode("append").options(**options(server, table, report_path=tmp_path)).save()
    finally:
        stop.set()
        watcher.join()
    assert killed, "no sending worker was killed"

    ids = stored_ids(server, table)
    assert set(ids.tolist()) == set(range(n))
    dups = len(ids) - n
    [s] = summaries(tmp_path)
    assert (s["tasks"], s["durable_rows"], s["retried_tasks"], s["failed_attempts"]) == (1, n, 1, 0), s
    assert s["running_attempts"] == 1
    [u] = s["unreported_superseded_attempts"]
    assert (u["partition"], u["attempt"], u["committed_attempt"], u["max_duplicate_rows"]) == (0, 0, 1, n), u
    assert per_batch <= dups <= u["max_duplicate_rows"]
    log = jvm_log.read_text(errors="replace")
    [line] = [x for x in log.splitlines() if f"zerobus: job {s['job_id']} committed" in x]
    assert f"partition 0 attempt 0 (attempt 1 committed): up to {n:,} rows may be stored twice" in line, line


# -- the task's log attributes (Go's logger adds them with the pybind log-attributes patch) -----------------------


def test_a_task_wrapper_gets_the_tasks_log_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = _job(tmp_path, NEW + "0" * 24, streaming=True)
    task = zspark._Task(partition=5, attempt=1, task_attempt_id=42, batch_id=7)
    attrs = job._log_attributes(task)
    assert attrs == {
        "spark_job_id": "q0123456789abcdef",
        "spark_batch_id": 7,
        "spark_partition": 5,
        "spark_attempt": 1,
        "spark_task_attempt_id": 42,
    }
    assert "spark_batch_id" not in job._log_attributes(zspark._Task(0, 0, 3, None))

    made: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(zspark, "ZerobusWrapper", lambda config, **kw: made.append((config, kw)) or "wrapper")
    config = zspark.WrapperConfiguration(table_name="main.s20.t")
    monkeypatch.setattr(zspark, "_LOG_ATTRIBUTES", True)
    assert zspark._task_wrapper(config, attrs) == "wrapper"
    monkeypatch.setattr(zspark, "_LOG_ATTRIBUTES", False)  # a zerobus_py whose wrapper takes none
    zspark._task_wrapper(config, attrs)
    assert made == [(config, {"log_attributes": attrs}), (config, {})]


def test_the_wrapper_signature_decides_whether_log_attributes_are_passed() -> None:
    from zerobus_py import ZerobusWrapper

    assert zspark._LOG_ATTRIBUTES is ("log_attributes" in inspect.signature(ZerobusWrapper.__init__).parameters)
