"""A PySpark data source named ``zerobus``: every Spark partition streamed into Zerobus by the Go engine.

Needs PySpark >= 4.0 (``pip install "zerobus-wrapper[spark]"``) and a Java 17+ runtime. Register it once per
session, then write any DataFrame, in batch or streaming::

    from zerobus_py.spark import ZerobusDataSource
    spark.dataSource.register(ZerobusDataSource)

    (df.write.format("zerobus").mode("append")
       .option("table_name", "main.default.events")
       .option("endpoint", "https://1234567890.zerobus.us-west-2.cloud.databricks.com")
       .option("unity_catalog_url", "https://my-workspace.cloud.databricks.com")
       .option("client_id", client_id)
       .option("client_secret", "${MY_CLIENT_SECRET}")   # read from that environment variable
       .save())

    (stream_df.writeStream.format("zerobus").option("checkpointLocation", "/chk/events")
       .option("table_name", "main.default.events")...start())

``.mode("append")`` is required: Spark refuses its default save mode (``errorifexists``) for this source itself,
with a message that also suggests Overwrite, which ``zerobus`` refuses (it only appends).

The DataFrame's schema is checked on the driver before any task starts, as a send would check it (with protobuf
the driver opens one stream, sending no row, and the server compares the columns with the table's; with
arrow_flight the table's columns come from Unity Catalog): a column Zerobus or the table cannot take fails the
write once, with an error naming the column, its Spark type and what to do. A ``void`` column (a bare
``F.lit(None)``) needs a type: ``F.lit(None).cast("string")``.

A TimestampType column going to a table's TIMESTAMP_NTZ column stores its wall clock in the Spark session's time
zone, as Spark's CAST does (found by the driver's check; such a field inside a struct, array or map is refused
with the cast to use), except in a streaming query on PySpark 4.0: its micro-batches reach Python as rows, which
carry no time zone, so it stores the wall clock in UTC (the driver logs a warning); cast in Spark first
(``F.col("ts").cast("timestamp_ntz")``) or run the session in UTC there. A TimestampNTZType column going to a
table's TIMESTAMP column is taken as UTC (the Go core's rule), not in the session's zone as Spark's CAST would:
cast it in Spark first (``F.col("t").cast("timestamp")``).

Options are this package's setting keys (those of a YAML config file and of :class:`WrapperConfiguration`), parsed by
the Go core's settings loader, so unknown keys and bad values are reported as for the keywords, naming the key. A key
not given as an option comes from the environment (``ZEROBUS_CLIENT_SECRET``, ``ZEROBUS_ENDPOINT``, ... as
:meth:`WrapperConfiguration.from_env` reads them) of the process that plans the write, which is not the application's:
Spark plans it in a Python worker that its driver JVM starts. That worker has the variables the driver had when the
Spark session started, plus the session's ``spark.executorEnv.*`` (``spark.executorEnv.ZEROBUS_CLIENT_SECRET`` puts a
variable there, and in the tasks' workers); a variable the application sets after the session started (with
``os.environ`` in a notebook) is not there: pass its value as the option instead. An option given as an empty string
unsets its key (the environment's value is not used). An option value may reference a variable of that worker as
``${NAME}`` (``$${`` for a literal ``${``), except a secret (``client_secret``, ``proxy_url``): it is taken literally,
``${`` included, unless its whole value is ``${NAME}``, which reads the variable NAME. Secrets never touch the disk
and never appear in logs, commit messages, reports or errors. With ``zerobus_writer_disabled`` nothing is sent: the
commit counts the rows as converted, not durable. Options of the data source itself:

``quarantine_path``
    A directory (local path or a ``scheme://`` URI pyarrow opens). Each task attempt whose rows were not all made
    durable writes them there as one Parquet file (the columns of the DataFrame plus ``_zerobus_outcome``,
    ``not_written`` or ``unknown``, ``_zerobus_error``, whose row number is the row's in the task's partition, and
    ``_zerobus_row``, that number, 0-based) and succeeds. Without it such a task fails after sending its whole
    partition (its other rows are stored), and a row refused for its own value (a ``ConversionError``) fails every
    retry the same way: each attempt stores the other rows once more, up to ``spark.task.maxFailures`` attempts
    (4 by default on a cluster), and the job fails; set this option before writing data that may hold such rows. A part
    that fails as a whole (authentication, connection, retries exhausted, a schema Zerobus cannot take) fails
    the task even with it, and Spark retries the task. The file of an attempt that fails anyway is deleted: the
    retried attempt writes its own. The driver's ``commit`` / ``abort`` also deletes the file of an attempt it got
    no commit message for (one that failed after its writer returned, a speculative copy that lost) when another
    attempt of its partition has one (on ``commit`` every partition's has). So after a ``commit`` the directory
    gives once each row the committed attempts did not store, except the rows of a speculative copy whose writer
    finished only after the commit ran (its file stays). On ``abort`` the files of a partition none of whose
    attempts committed are kept, as the only record of the rows they did not store (the attempts' other rows are
    stored): the summary lists them as ``kept_quarantine_files``, and with several such attempts a row may be in
    several of them. The directory is created and probed (a small file written and deleted) on the driver, which
    refuses one it sees and cannot write, and by each task attempt before it sends anything.
``report_path``
    A directory: each task attempt writes a JSON report there (``<job>/[batch-<id>/]task-*.json``) and the
    driver's ``commit`` / ``abort`` a ``summary.json`` with the totals, including the rows that the attempts without
    a commit message had made durable before Spark retried them (duplicates). A streaming query's ``<job>`` is
    derived from its ``checkpointLocation`` option, the same for all its micro-batches and restarts; without the
    option (the checkpoint set by ``spark.sql.streaming.checkpointLocation``), from its ``queryName`` (Spark's
    checkpoint is then ``<conf>/<queryName>``), or for an unnamed query from the query id its tasks see (``qid-*``;
    an abort no commit message names its directory for reads the only unfinished one as a guess, or none, and says
    which in ``query_dir``). Without it,
    failed attempts are not counted (the summary line says so, and warns when a task committed by a retry). A
    ``commit`` or ``abort`` waits (up to 30 s) for the reports of the attempts that started (a ``started-*``
    marker, rewritten every second while the attempt runs; on ``abort``, one unchanged for 6 s is an attempt Spark
    killed, e.g. on ``query.stop()``, and is not waited for; an attempt Spark failed and retried may still be
    sending when its retry commits) and counts those still without one as ``running_attempts`` (those whose
    partition another attempt committed are named in ``unreported_superseded_attempts``, with the committed
    attempt's rows as the bound of what they stored twice: ``max_duplicate_rows``); on ``abort``, a
    partition without a commit message and without any marker is waited for while new markers or reports appear
    (``partitions_without_report`` when none came).
    ``summary.json`` is the latest summary; each commit and abort also keeps its own
    ``summary-<time>-<committed|aborted>-<id>.json``. A micro-batch re-run after a restart counts the attempts of its
    earlier runs that started and never reported (killed with the query) as ``earlier_run_unreported_attempts``
    (their partitions' rows may be stored twice) and warns.

Delivery is at-least-once: Spark retries a failed task by running it again, and the new attempt re-sends its whole
partition, so the rows a failed attempt had made durable are stored once more by its retry: a partition whose every
attempt fails (a row's bad value without ``quarantine_path``) has its other rows stored up to
``spark.task.maxFailures`` times (the commit's or abort's summary counts them, with ``report_path``). A streaming
micro-batch re-run after a restart does the same, and so does a speculative copy of a task (``spark.speculation``):
both attempts send the partition (one that finishes and loses is counted from its report; a killed one reports
nothing). A recovery inside a task (a dropped connection: the engine re-opens the stream and re-sends the requests
not yet acknowledged) can store rows twice too: each task report has the engine's counts, ``recoveries`` and
``resent_rows``, and the summary sums them (with ``recovered_attempts``, the attempts that recovered) and its line
says "up to N rows re-sent (possible duplicates)". Give every row a unique key and deduplicate on it downstream
(``MERGE`` / ``ROW_NUMBER() OVER (PARTITION BY key)``) when duplicates matter. The driver checks the schema once for
a batch write, and once per query (per planning process) for a stream, not for every micro-batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import inspect
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, overload

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from . import _bridge
from ._arrow import repeat_runs, row_indices
from ._config import _SECRETS, WrapperConfiguration, _did_you_mean, _nearest, go_settings
from ._errors import ConfigurationError, ConversionError, ZerobusError
from ._result import TransmissionResult
from ._wrapper import ZerobusWrapper

try:
    from pyspark import TaskContext
    from pyspark.sql import Row
    from pyspark.sql.datasource import (
        DataSource,
        DataSourceArrowWriter,
        DataSourceStreamWriter,
        DataSourceWriter,
        WriterCommitMessage,
    )
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "zerobus_py.spark needs PySpark >= 4.0: pip install 'zerobus-wrapper[spark]'" + f" ({exc})"
    ) from exc

try:  # PySpark >= 4.1: micro-batches arrive as Arrow too
    from pyspark.sql.datasource import DataSourceStreamArrowWriter as _StreamWriterBase

    STREAM_ARROW: Final = True
except ImportError:  # pragma: no cover - PySpark 4.0: rows, batched into Arrow here
    from pyspark.sql.datasource import DataSourceStreamWriter as _StreamWriterBase  # type: ignore[assignment]

    STREAM_ARROW = False  # type: ignore[misc]

__all__ = ["STREAM_ARROW", "TaskCommitMessage", "TaskWriteError", "WriteSummary", "ZerobusDataSource", "summarize"]

logger = logging.getLogger("zerobus_py.spark")

#: Options Spark itself puts among a sink's options: ``queryName`` (``writeStream.queryName``), ``path``
#: (``save(path)`` / ``start(path)``: refused), ``checkpointLocation``, and the partitioning / clustering columns of
#: ``partitionBy`` / ``clusterBy`` (Spark refuses those for a Python data source before the writer is built).
_SPARK_OPTIONS: Final = frozenset(
    {"queryname", "path", "checkpointlocation", "__partition_columns", "__clustering_columns"}
)
#: Options of the data source itself and Spark's (not settings of the wrapper).
_SOURCE_OPTIONS: Final = frozenset({"quarantine_path", "report_path"}) | _SPARK_OPTIONS
#: With a quarantine, a partition is sent in parts, each held until its result says which rows to set aside; a part
#: ends with the Arrow batch that brings it to this many rows or Arrow bytes, so it holds up to one batch more
#: (Spark's spark.sql.execution.arrow.maxRecordsPerBatch rows). Without one, the partition is streamed to Go as it
#: arrives.
_PART_ROWS: Final = 1 << 18
_PART_BYTES: Final = 32 << 20
#: Rows per Arrow batch when PySpark hands over rows (PySpark 4.0 streaming).
_ROWS_PER_BATCH: Final = 10_000
#: Spark's local property holding the micro-batch id of a streaming task.
_BATCH_ID_PROPERTY: Final = "streaming.sql.batchId"
#: Spark's local property holding a streaming task's query id (the checkpoint keeps it across restarts).
_QUERY_ID_PROPERTY: Final = "sql.streaming.queryId"
#: Seconds the driver's schema check may take (with arrow_flight it reads the table's columns from Unity Catalog).
_CHECK_TIMEOUT: Final = 60.0
#: How long the driver waits for the wrapper of that check to close (it sent nothing).
_CHECK_SHUTDOWN: Final = 5.0
#: Where the options' ``${NAME}`` and the settings not given as options are read: Spark calls the data source's
#: ``writer()`` / ``streamWriter()`` in a Python worker that its driver JVM starts, not in the application's process.
_PLANNER: Final = "the Python worker that Spark's driver started to plan the write"
#: What that worker's environment holds, and how to get a variable there.
_PLANNER_ENV: Final = (
    "it has the variables the driver had when the Spark session started, and the session's spark.executorEnv.*; "
    "a variable set in the application after the session started (os.environ[...] = ...) is not there"
)
#: The Go core's refusal of a ``${NAME}`` whose variable is not set (``core.ExpandEnv``).
_UNSET_REFERENCE: Final = re.compile(r"references \$\{([A-Za-z_][A-Za-z0-9_]*)\}, which is not set")
#: A secret option that is wholly a reference to an environment variable (any other ``${`` in a secret is literal).
_WHOLE_REFERENCE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A quarantine file's attempt: partition, task attempt id and (streaming) run id prefix.
_ATTEMPT_FILE: Final = re.compile(r"-task-p(\d+)-a\d+-t(\d+)(?:-r([0-9a-f]{8}))?\.parquet$")
#: PySpark's worker that builds a streamWriter only to commit or abort a micro-batch.
_COMMIT_RUNNER: Final = os.path.join("sql", "worker", "python_streaming_sink_runner.py")
#: Digests of the streaming writers whose schema this process checked (micro-batches of a query, planned here),
#: with the TimestampType columns that go to TIMESTAMP_NTZ table columns (see ``_Job._check``).
_CHECKED: dict[str, tuple[str, ...]] = {}


def _check_digest(job_id: str, schema_json: str, config: WrapperConfiguration) -> str:
    """The key of one driver check in _CHECKED: a digest of the job, the schema and every setting, the secret
    included (a changed secret is checked again). Made here so that no frame left in a traceback holds the
    settings text with the secret (error reporters capture frame locals)."""
    settings = json.dumps(config.to_settings(include_secret=True), sort_keys=True)
    return hashlib.sha256("\0".join((job_id, schema_json, settings)).encode()).hexdigest()


#: The time zone the driver's second schema check gives TimestampType columns: not UTC, so that the Go core's check
#: names every one that goes to a TIMESTAMP_NTZ column (a zone other than UTC cannot go there).
_CHECK_ZONE: Final = "Etc/GMT-14"
#: Kinds of a failed driver-side schema check that say nothing about the schema, so the tasks send anyway (a warning):
#: the check was cancelled or its wrapper closed, an error of no known kind, or a connection failure that is not
#: retryable (a host the driver cannot resolve, a certificate it does not trust: executors may see another network).
#: This is the data source's own policy for its pre-flight check, not a property of the kinds (a connection error
#: is fatal for a stream, and "fatal" is what the kinds' table says): retryable errors are inconclusive too, by
#: err.retryable. tests_py/test_spark_error_data.py checks these are kinds of the Go core's table.
_CHECK_INCONCLUSIVE: Final = frozenset({"canceled", "closed", "unknown", "connection"})
#: The Go core's code (``err.reason``, ``convert.ZonedIntoNTZ``) of its refusal of a zoned timestamp for a
#: TIMESTAMP_NTZ column; ``err.columns`` names them.
_INTO_NTZ: Final = "ZONED_TIMESTAMP_INTO_NTZ"
#: Seconds an abort waits for the reports of the task attempts that started and have not reported: Spark's stage
#: cancel does not stop a Python writer that already has its data, and it stores its partition after the abort.
_ABORT_WAIT: Final = 30.0
#: ... and, once no started attempt is pending, how long it waits for a partition without any attempt's marker or
#: report while new markers or reports keep appearing (a task whose Python writer starts after the abort).
_ABORT_IDLE: Final = 2.0
#: Seconds between two rewrites of a running attempt's start marker (its heartbeat: the marker's mtime changes).
_HEARTBEAT: Final = 1.0
#: the directories of unnamed streaming queries planned without the checkpointLocation option (named by query id)
_QUERY_ID_PREFIX: Final = "qid-"
#: An abort (not a commit) stops waiting for an attempt whose marker's mtime has not changed for this long (as the
#: driver's clock measures it, so no clock is compared with the storage's): the attempt was killed (Spark kills
#: the Python worker of a task it cancels, e.g. on ``query.stop()``, and a killed worker writes no report).
_SILENT: Final = 6.0
#: How long a finishing attempt waits for its heartbeat's last rewrite of the marker.
_HEARTBEAT_JOIN: Final = 30.0
#: The partition in a marker's or report's name.
_PARTITION_IN_NAME: Final = re.compile(r"task-p(\d+)-")
#: The name start of the marker a task attempt writes beside the reports when it starts.
_STARTED: Final = "started-"
#: The planning's run id at the end of a streaming attempt's marker or report name (see ``_attempt_name``).
_RUN_IN_NAME: Final = re.compile(r"-r([0-9a-f]{8})(?:\.json)?$")
#: How many unreported superseded attempts the summary line names (summary.json has them all).
_NAMED: Final = 10
#: A marker's or report's partition, attempt number and task attempt id.
_ATTEMPT_IN_NAME: Final = re.compile(r"task-p(\d+)-a(\d+)-t(\d+)")
#: Columns a quarantine file adds to the rows: their outcome (not_written / unknown), error, and place in the
#: task's partition (0-based, in the order Spark gave the rows).
_QUARANTINE_COLUMNS: Final = ("_zerobus_outcome", "_zerobus_error", "_zerobus_row")


class TaskWriteError(RuntimeError):
    """A task attempt could not make every row of its partition durable; the message says how many it did.

    Spark retries the task (``spark.task.maxFailures``): the new attempt re-sends the whole partition.
    """


@dataclass
class TaskCommitMessage(WriterCommitMessage):
    """What one task attempt did, returned to the driver's ``commit``.

    Attributes:
        partition, attempt, task_attempt_id: the Spark task.
        batch_id: the streaming micro-batch (None in batch mode).
        total_rows: rows of the partition; ``durable_rows`` were acknowledged by the server,
            ``not_written_rows`` certainly not stored, ``unknown_rows`` sent without an acknowledgement.
        bytes: the size of the rows made durable (encoded protobuf; Arrow IPC body bytes with arrow_flight).
        latency_ms: wall time of the task's sends.
        quarantined_rows, quarantine_file: rows written to the quarantine Parquet file (one per attempt).
        failed: the attempt failed (only in reports: Spark gives ``commit`` no message for a failed task).
        error: for a failed attempt, the error's class and message (never a secret).
        converted_rows: with ``zerobus_writer_disabled``, rows converted and not sent (not counted as durable).
        job_id, run_id: the write (stable across a streaming query's micro-batches) and the planning of this
            job or micro-batch: with ``task_attempt_id`` they tell the driver which reports it got no message for.
        stream_attempts: the highest number of stream attempts any request of the attempt's sends needed
            (:attr:`TransmissionResult.attempts`). Above 1, the engine recovered inside the task (a dropped
            connection, a stream the server closed): it re-opened the stream and re-sent the requests not yet
            acknowledged, so rows whose acknowledgement was lost may be stored twice.
        recoveries, resent_rows: the stream recoveries the attempt's sends went through and the rows they wrote
            again (:attr:`TransmissionResult.recoveries` / :attr:`~TransmissionResult.resent_rows`, as the Go
            core counts them, summed over the attempt's sends): up to ``resent_rows`` rows may be stored twice.
    """

    partition: int = 0
    attempt: int = 0
    task_attempt_id: int = 0
    batch_id: int | None = None
    total_rows: int = 0
    durable_rows: int = 0
    not_written_rows: int = 0
    unknown_rows: int = 0
    bytes: int = 0
    latency_ms: float = 0.0
    quarantined_rows: int = 0
    quarantine_file: str | None = None
    failed: bool = False
    error: str | None = None
    converted_rows: int = 0
    job_id: str = ""
    run_id: str = ""
    stream_attempts: int = 0
    recoveries: int = 0
    resent_rows: int = 0

    def add(self, result: TransmissionResult) -> None:
        """Count one send's result (with ``zerobus_writer_disabled``, its rows as converted, not durable)."""
        self.stream_attempts = max(self.stream_attempts, result.attempts)
        self.recoveries += result.recoveries
        self.resent_rows += result.resent_rows
        self.total_rows += result.total_rows
        if result.writer_disabled:
            self.converted_rows += result.successful_count
        else:
            self.durable_rows += result.successful_count
        self.not_written_rows += result.not_written_count
        self.unknown_rows += result.unknown_count
        self.bytes += result.batch_size_bytes


@dataclass
class WriteSummary:
    """The driver's totals over a job (or a micro-batch), as ``commit`` / ``abort`` log and report them.

    ``failed_attempts`` / ``failed_attempt_durable_rows`` / ``failed_attempt_unknown_rows`` come from the task
    reports of ``report_path`` (Spark hands the driver nothing from a failed task): every report of the job (or
    micro-batch) whose task attempt is not among the committed messages. That is an attempt that failed, also one
    whose writer had returned (a failure after it, e.g. in an upstream UDF: ``superseded_attempts`` of them), or a
    speculative copy that lost. Rows those attempts made durable are stored; when Spark retried the task, they were
    sent again (duplicates; up to the unknown rows more may be stored twice). ``superseded_quarantine_files``: the
    quarantine files of those attempts whose rows a committed attempt covers (one of the same partition has a
    commit message, or, for an earlier run of a micro-batch, every task of the re-run has), deleted so that the
    directory does not give those rows a second time. ``kept_quarantine_files``: the files of attempts without a
    commit message whose partition has no committed attempt (a task that failed after its writer returned, in a
    job that was then aborted): kept, as the only record of the rows those attempts did not store (their other
    rows are stored). ``converted_rows``: with ``zerobus_writer_disabled``, rows converted and not sent.
    ``recovered_attempts``: task attempts (committed, or counted from their reports) whose sends recovered inside the
    task (``stream_attempts`` above 1, at most ``max_stream_attempts``): the engine re-sent requests whose
    acknowledgement it had not got, and the rows of those whose first copy was stored are stored twice.
    ``recoveries`` / ``resent_rows``: the stream recoveries of those attempts and the rows they re-sent, summed
    over the same attempts (the Go core's counts of each send): up to ``resent_rows`` rows may be stored twice by
    recoveries (not counted in ``failed_attempt_durable_rows``, which is the rows of attempts Spark retried).
    ``unreported_superseded_attempts``: of the ``running_attempts``, those whose partition another attempt
    committed (a retry, or a speculative copy that won), each as ``partition``, ``attempt``,
    ``task_attempt_id``, ``committed_attempt`` and ``max_duplicate_rows`` (the committed attempt's
    ``total_rows``): rows such an attempt stored (killed, or still running when the wait ended) are stored twice,
    up to that many; nothing exact is known of them.
    """

    job_id: str
    batch_id: int | None
    aborted: bool
    tasks: int = 0
    tasks_without_message: int = 0
    total_rows: int = 0
    durable_rows: int = 0
    not_written_rows: int = 0
    unknown_rows: int = 0
    bytes: int = 0
    max_task_latency_ms: float = 0.0
    quarantined_rows: int = 0
    quarantine_files: list[str] = field(default_factory=list)
    failed_attempts: int = 0
    failed_attempt_durable_rows: int = 0
    failed_attempt_unknown_rows: int = 0
    superseded_attempts: int = 0
    superseded_quarantine_files: list[str] = field(default_factory=list)
    converted_rows: int = 0
    kept_quarantine_files: list[str] = field(default_factory=list)
    #: committed tasks whose attempt number is not 0: an earlier attempt of theirs failed (or was a copy that lost)
    retried_tasks: int = 0
    #: the failed attempts were counted from report_path's reports (False without report_path)
    attempts_counted: bool = True
    #: on abort: task attempts that had started and still had no report after the wait (running, or killed)
    running_attempts: int = 0
    #: on abort: partitions without a commit message and without any attempt's marker or report after the wait
    partitions_without_report: int = 0
    #: task attempts whose sends re-opened their stream and re-sent unacknowledged requests (duplicates possible)
    recovered_attempts: int = 0
    #: the highest number of stream attempts a request of those needed
    max_stream_attempts: int = 0
    #: stream recoveries of the counted task attempts (committed and reported), summed
    recoveries: int = 0
    #: rows those recoveries wrote again, summed: up to this many rows may be stored twice by recoveries
    resent_rows: int = 0
    #: of the running_attempts: those whose partition another attempt committed (see the class docstring)
    unreported_superseded_attempts: list[dict[str, int]] = field(default_factory=list)
    #: streaming: task attempts of an earlier run of this micro-batch (before a restart from the checkpoint) that
    #: started and never reported (killed with the query or its driver): rows they made durable are stored twice
    earlier_run_unreported_attempts: int = 0
    #: streaming: the summaries the aborts of earlier runs of this micro-batch kept (names in its report directory)
    earlier_run_summaries: list[str] = field(default_factory=list)
    #: the abort of an unnamed streaming query planned without the checkpointLocation option, with no commit message
    #: to name its report directory: "guessed" (the only ``qid-*`` directory with an unfinished micro-batch of this
    #: id was read, ``job_id``; it is another query's if that one runs the same micro-batch id while this one's
    #: tasks wrote nothing) or "unknown" (none or several: no directory was read, nothing of the failed attempts is
    #: counted). The summary is then kept in the planning's own directory. "" otherwise.
    query_dir: str = ""
    #: the ``qid-*`` directories it was chosen from
    query_dir_candidates: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One log line."""
        what = f"micro-batch {self.batch_id}" if self.batch_id is not None else "job"
        verb = "aborted" if self.aborted else "committed"
        text = (
            f"zerobus: {what} {self.job_id} {verb}: {self.tasks} tasks, {self.durable_rows:,} of "
            f"{self.total_rows:,} rows durable, {self.not_written_rows:,} not written, {self.unknown_rows:,} unknown, "
            f"{self.bytes:,} bytes, slowest task {self.max_task_latency_ms:.0f} ms"
        )
        if self.converted_rows:
            text += f"; {self.converted_rows:,} rows converted and not sent (zerobus_writer_disabled)"
        if self.quarantined_rows:
            text += f"; {self.quarantined_rows:,} rows quarantined in {len(self.quarantine_files)} files"
        if self.tasks_without_message:
            text += f"; {self.tasks_without_message} tasks failed"
        if self.failed_attempts:
            after = (
                ", before the job was aborted: stored"
                if self.aborted
                else ": stored, and sent again by the committed attempt of their task (duplicates)"
            )
            superseded = (
                f" ({self.superseded_attempts} of them failed after their writer returned, or lost to another copy)"
                if self.superseded_attempts
                else ""
            )
            text += (
                f"; {self.failed_attempts} task attempt(s) without a commit message{superseded} had made "
                f"{self.failed_attempt_durable_rows:,} rows durable (+{self.failed_attempt_unknown_rows:,} "
                f"unknown){after}"
            )
        if self.superseded_quarantine_files:
            text += f"; {len(self.superseded_quarantine_files)} quarantine files of those attempts deleted"
        if self.recovered_attempts or self.resent_rows:
            recoveries = (
                f"{_plural(self.recoveries, 'stream recovery', 'stream recoveries')}, " if self.recoveries else ""
            )
            text += (
                f"; {self.recovered_attempts} task attempt(s) recovered inside the task ({recoveries}a request needed "
                f"up to {self.max_stream_attempts} stream attempts): "
            )
            # without a count (reports of an older zerobus_py, or no row re-sent), the at-least-once warning stays
            text += (
                f"up to {_plural(self.resent_rows, 'row')} re-sent (possible duplicates)"
                if self.resent_rows
                else "rows whose acknowledgement was lost were sent again and may be stored twice, not counted here "
                "(at-least-once)"
            )
        if self.kept_quarantine_files:
            text += (
                f"; {len(self.kept_quarantine_files)} quarantine files kept of task attempts that did not commit "
                "(no attempt of their partition did): they hold the rows those attempts did not store, while the "
                "attempts' other rows are stored; a partition's rows may be in several of them, and a re-run "
                "re-sends them all"
            )
        if self.running_attempts:
            text += (
                f"; {self.running_attempts} task attempt(s) had started and not reported when this summary was made "
                f"({'still running after the abort' if self.aborted else 'still running'}, or killed): rows they store "
                "are not counted here"
            )
            if self.unreported_superseded_attempts:
                shown = self.unreported_superseded_attempts[:_NAMED]
                text += "; of them, another attempt committed the partition of " + ", ".join(
                    f"partition {u['partition']} attempt {u['attempt']} (attempt {u['committed_attempt']} committed): "
                    f"up to {_plural(u['max_duplicate_rows'], 'row')} may be stored twice"
                    for u in shown
                )
                if len(self.unreported_superseded_attempts) > len(shown):
                    text += f", and {len(self.unreported_superseded_attempts) - len(shown)} more (see the summary)"
        if self.partitions_without_report:
            text += (
                f"; {self.partitions_without_report} partition(s) without a commit message had no task attempt "
                "report (not started, still starting, or killed): rows an attempt of theirs stores are not counted here"
            )
        if self.earlier_run_unreported_attempts:
            text += (
                f"; an earlier run of this micro-batch (before a restart) had {self.earlier_run_unreported_attempts} "
                "task attempt(s) that started and never reported (killed): rows they had made durable are stored "
                "twice (this run re-sent their partitions), up to those partitions' rows, not counted here"
            )
            if self.earlier_run_summaries:
                text += f" (the earlier run's summary: {', '.join(self.earlier_run_summaries)})"
        if self.query_dir == "guessed":
            text += (
                f"; no commit message named this query's report directory: {self.job_id} was read, the only query "
                f"directory with an unfinished micro-batch {self.batch_id} (another unnamed query's if it runs the "
                "same micro-batch id and this query's tasks wrote nothing); this summary is kept in the planning's "
                "own directory"
            )
        elif self.query_dir == "unknown":
            which = ", ".join(self.query_dir_candidates) or "none"
            text += (
                f"; this query's report directory is unknown (no commit message named it; query directories with an "
                f"unfinished micro-batch {self.batch_id}: {which}): its failed and running task attempts are not "
                "counted here"
            )
        if not self.attempts_counted:
            if self.aborted:
                text += "; task attempts still running after the abort may store rows not counted here"
            if self.retried_tasks:
                text += (
                    f"; {self.retried_tasks} task(s) committed by a retry (attempt > 0): rows their earlier attempts "
                    "had made durable are stored twice and not counted here (failed task attempts are counted only "
                    "with report_path)"
                )
            else:
                text += (
                    "; failed task attempts are not counted without report_path (set it to count the rows they "
                    "stored twice)"
                )
        return text


def summarize(
    job_id: str,
    messages: Iterable[WriterCommitMessage | None],
    *,
    batch_id: int | None = None,
    aborted: bool = False,
    failed_reports: Iterable[TaskCommitMessage] = (),
) -> WriteSummary:
    """Aggregate the tasks' commit messages (``None`` for a failed task) and failed-attempt reports."""
    s = WriteSummary(job_id=job_id, batch_id=batch_id, aborted=aborted)
    for m in messages:
        if not isinstance(m, TaskCommitMessage):
            s.tasks_without_message += 1
            continue
        s.tasks += 1
        s.retried_tasks += m.attempt > 0
        s.total_rows += m.total_rows
        s.durable_rows += m.durable_rows
        s.not_written_rows += m.not_written_rows
        s.unknown_rows += m.unknown_rows
        s.bytes += m.bytes
        s.converted_rows += m.converted_rows
        s.max_task_latency_ms = max(s.max_task_latency_ms, m.latency_ms)
        s.quarantined_rows += m.quarantined_rows
        if m.quarantine_file:
            s.quarantine_files.append(m.quarantine_file)
        _count_recovery(s, m)
    for r in failed_reports:
        _count_recovery(s, r)
        s.failed_attempts += 1
        s.superseded_attempts += not r.failed
        s.failed_attempt_durable_rows += r.durable_rows
        s.failed_attempt_unknown_rows += r.unknown_rows
    return s


def _count_recovery(s: WriteSummary, m: TaskCommitMessage) -> None:
    if m.stream_attempts > 1:
        s.recovered_attempts += 1
        s.max_stream_attempts = max(s.max_stream_attempts, m.stream_attempts)
    s.recoveries += m.recoveries
    s.resent_rows += m.resent_rows


def _plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number ("1 row", "50,000 rows")."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# -- options -----------------------------------------------------------------


def _config_from_options(options: Mapping[str, str]) -> WrapperConfiguration:
    """The wrapper settings of the options (see _config_and_env)."""
    return _config_and_env(options)[0]


def _config_and_env(options: Mapping[str, str]) -> tuple[WrapperConfiguration, frozenset[str]]:
    """The wrapper settings: options (the settings' keys, parsed by the Go core's settings loader) over the
    environment.

    The options reach the loader as data (``ParseSettings``: no file, so its problems name the option and quote
    its value as given, with no line of a file the user never wrote). Secret values (``client_secret``,
    ``proxy_url``) are taken literally (a ``${`` in one is kept as it is); a secret whose whole value is
    ``${NAME}`` is read from the environment variable NAME. Other values may reference variables as ``${NAME}``
    anywhere (``$${`` for a literal ``${``), the YAML loader's rule (``_expand``). An option given as an empty
    string unsets the key: the environment's value is not used. Also returns the keys the environment set.
    """
    given = {k.lower(): str(v) for k, v in options.items() if k.lower() not in _SOURCE_OPTIONS}
    # A mistyped option of the data source itself (quarantine_pth): the loader only knows the settings' keys.
    keys = {s["key"] for s in go_settings()}
    for key in given.keys() - keys:
        best = _nearest(key, keys | _SOURCE_OPTIONS)
        if best in _SOURCE_OPTIONS:
            raise ConfigurationError(
                f"zerobus: the zerobus data source option {key} is unknown{_did_you_mean(key, [best])}", keys=[key]
            )
    text: dict[str, str | None] = {}
    for key, value in given.items():
        if value == "":  # null: the loader checks the key's name and keeps its default
            text[key] = None
        elif key in _SECRETS:
            ref = _WHOLE_REFERENCE.fullmatch(value)
            if ref is not None and ref.group(1) not in os.environ:
                name = ref.group(1)
                raise ConfigurationError(
                    f"zerobus: the zerobus data source option {key} references ${{{name}}}, which is not set in the "
                    f"environment of {_PLANNER} ({_PLANNER_ENV}): set it before the session starts or as Spark conf "
                    f'spark.executorEnv.{name}, or give the value itself: .option("{key}", os.environ["{name}"])',
                    keys=[key],
                )
            text[key] = value if ref is None else os.environ[ref.group(1)]
        elif key in keys:
            text[key] = _expand(key, value)
        else:
            text[key] = value  # an unknown key: the loader names it (and the nearest key)
    error: ConfigurationError | None = None
    try:
        parsed = json.loads(_bridge.call(_bridge.native.ParseSettings, json.dumps(text)))
    except ConfigurationError as err:
        # the Go core's problems, named by key; said to be the options' (secrets are never echoed by Go), and
        # by key alone: the options are not the environment (no "env X when loading from the environment")
        message = "zerobus: in the zerobus data source options: " + _ENV_NOTE.sub(
            lambda m: _env_note(m, frozenset()), err.message.removeprefix("zerobus: ")
        )
        error = ConfigurationError(message, details={**err.details, "message": message})
    if error is not None:
        raise error  # outside the except: no traceback frame or context holds the secret's text
    # Merged as data and built once: neither the environment nor the options alone need be a configuration
    # (DEBUG_ENABLED in the environment with debug_output_dir in the options). The variables of the keys the
    # options give (also as "") are not read: an option overrides them, so a bad value there is no problem.
    merged = _env_settings(given.keys() & keys)
    merged.update(parsed)
    from_env = set(merged) - set(parsed)
    for key, value in given.items():
        if value == "":  # given empty: unset, not the environment's value
            merged.pop(key, None)
            from_env.discard(key)
    try:
        config = WrapperConfiguration._from_settings(merged)
    except ConfigurationError as err:  # a combination (debug_enabled without debug_output_dir): the options'
        error = _options_error(err, frozenset(from_env))
    if error is not None:
        raise error  # outside the except, as above
    return config, frozenset(from_env)


def _env_settings(overridden: Iterable[str]) -> dict[str, Any]:
    """The settings the environment of the planning process (_PLANNER) sets (the Go core's ``EnvSettings``), leaving
    out the variables of the ``overridden`` keys (each key's variables, fallbacks included, from the Go settings
    table). A variable Go cannot parse is reported naming the option that would override it."""
    skipped = {var for s in go_settings() if s["key"] in overridden for var in s["env"]}
    env = {name: value for name, value in os.environ.items() if name not in skipped}
    error: ConfigurationError | None = None
    try:
        settings: dict[str, Any] = json.loads(_bridge.call(_bridge.native.ConfigFromEnv, json.dumps(env)))
    except ConfigurationError as err:
        message = (
            f"zerobus: in the environment of {_PLANNER}: "
            + err.message.removeprefix("zerobus: ")
            + ' (a data source option of the same key overrides the variable; .option(key, "") unsets it)'
        )
        error = ConfigurationError(message, details={**err.details, "message": message})
    if error is not None:
        raise error  # outside the except: no traceback frame or context holds a secret's text
    return settings


def _options_error(err: ConfigurationError, from_env: frozenset[str]) -> ConfigurationError:
    """A problem of the settings found when the values are checked together (a proxy_url's scheme, ranges,
    combinations: by the driver's wrapper), said to be the options', as the settings loader's problems are; a value
    the environment of the planning process gave is named by its variable, one an option gave by its key alone."""
    if err.message.startswith("zerobus: in the zerobus data source options"):
        return err
    text = "zerobus: in the zerobus data source options: " + _ENV_NOTE.sub(
        lambda m: _env_note(m, from_env), err.message.removeprefix("zerobus: ")
    )
    return ConfigurationError(text, details={**err.details, "message": text})


#: How the Go core's problems name a setting's environment variable when it does not know where the settings came
#: from (``proxy_url (env ZEROBUS_PROXY_URL when loading from the environment): ...``).
_ENV_NOTE: Final = re.compile(r"\b([a-z][a-z0-9_]*) \(env ([A-Z][A-Z0-9_]*) when loading from the environment\)")


def _env_note(m: re.Match[str], from_env: frozenset[str]) -> str:
    """A problem's setting as the data source's options name it: the key alone when an option gave it (or nothing
    did: a default or a derived value), with its variable when the environment of the planning process did."""
    key, variable = m.group(1), m.group(2)
    return f"{key} (env {variable})" if key in from_env else key


def _expand(key: str, value: str) -> str:
    """``value`` with each ``${NAME}`` replaced by the environment variable NAME, ``$${`` a literal ``${``, any
    other ``$`` kept: the Go core's rule for YAML values (``core.ExpandEnv``), applied by Go to this process's
    environment (``_PLANNER``'s when Spark calls the data source)."""
    if "${" not in value:
        return value
    try:
        return str(_bridge.call(_bridge.native.ExpandEnv, value, json.dumps(dict(os.environ))))
    except ZerobusError as err:
        unset = _UNSET_REFERENCE.search(err.message)
        where = f"expanded in {_PLANNER}"
        if unset is not None:  # the variable is not there: say what that worker's environment holds, and the ways
            where += (
                f"; {_PLANNER_ENV}: set it before the session starts or as Spark conf "
                f'spark.executorEnv.{unset.group(1)}, or give the value itself in .option("{key}", ...)'
            )
        raise ConfigurationError(
            f"zerobus: in the zerobus data source options: invalid configuration: {key}: {err.message} ({where})",
            keys=[key],
        ) from None


def _arrow_schema(schema: StructType) -> pa.Schema:
    """The Arrow schema of a Spark schema, TimestampType as ``timestamp[us, tz=UTC]``.

    PySpark >= 4.2 takes ``timezone`` (and needs one for TimestampType); 4.0 and 4.1 have no such keyword and map
    TimestampType to UTC by default (``timestamp_utc=True``)."""
    try:
        return _to_arrow_schema(schema)
    except TypeError as err:  # PySparkTypeError: a Spark type PySpark does not convert to Arrow
        bad = []
        for f in schema.fields:
            try:
                _to_arrow_schema(StructType([f]))
            except TypeError:
                bad.append(f)
        if not bad:
            raise
        columns = ", ".join(f'"{f.name}" ({f.dataType.simpleString()})' for f in bad)
        which, it = ("column", "it") if len(bad) == 1 else ("columns", "them")
        raise ConversionError(
            "zerobus: the DataFrame cannot be written (checked on the driver; no task was started): PySpark cannot "
            f"hand {which} {columns} to a Python data source as Arrow: cast or convert {it} to a type the table "
            f"has, e.g. .cast('string') ({err})",
            details={"kind": "conversion", "column": bad[0].name, "columns": [f.name for f in bad]},
        ) from None


def _to_arrow_schema(schema: StructType) -> pa.Schema:
    if "timezone" in inspect.signature(to_arrow_schema).parameters:
        return to_arrow_schema(schema, timezone="UTC")
    return to_arrow_schema(schema)


def _check_schema(wrapper: ZerobusWrapper, schema: StructType, arrow_schema: pa.Schema) -> bool:
    """Raise on the driver, before any task starts, the error every task would fail with for the DataFrame's
    schema: the Go core's check for the configured transport (types with no mapping; with protobuf the server's
    check of the columns when a stream opens, with arrow_flight the table's columns from Unity Catalog), naming
    the Spark types of the columns at fault. A retryable error (the endpoint or catalog unreachable from the
    driver), a connection failure (a host the driver cannot resolve, a certificate it does not trust: executors
    may see another network) or a cancel is only a warning: the tasks send anyway (False is returned)."""
    try:
        wrapper.check_schema(arrow_schema, timeout=_CHECK_TIMEOUT)
    except ZerobusError as err:
        table = wrapper.config.table_name
        if err.retryable or err.kind in _CHECK_INCONCLUSIVE:
            logger.warning(
                "zerobus: the DataFrame's schema could not be checked against %s before the tasks start (%s: %s); "
                "the tasks send anyway and report what they meet",
                table,
                type(err).__name__,
                err,
            )
            return False
        text = str(err).removeprefix("zerobus: ")
        paths = set(err.columns) | ({err.column} if err.column else set())
        named = [f for f in schema.fields if any(_under(p, f.name) for p in paths)]
        if named:
            text += "; Spark types: " + ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in named)
        if any("void" in f.dataType.simpleString() for f in named):
            text += (
                "; a void (NullType) column holds a None that has no type, such as F.lit(None) or an empty "
                "F.array(): give it the table column's type, e.g. F.lit(None).cast('string')"
            )
        # The server's cause does not tell a nullability mismatch from a type mismatch (the message does, but it
        # is not read): the ways out of the former are given for both, as "too".
        if "TYPE_INCOMPATIBLE" in err.server_causes and wrapper.config.transport != "arrow_flight":
            text += (
                "; with transport protobuf a column's nullability must match the table's too (nullable: optional, "
                "NOT NULL: required); it is taken from the table when the table's columns can be read from Unity "
                "Catalog (unity_catalog_url, a principal allowed to read the table, as transport arrow_flight needs "
                "too), and when they cannot, Spark decides it (spark.range, literals and expressions of non-null "
                "columns are not null; Parquet columns are nullable): let the principal read the table, set the "
                "option all_fields_optional to true when the table has no NOT NULL column, or make a column not null "
                "with F.coalesce(col, default)"
            )
        raise type(err)(
            f"zerobus: the DataFrame cannot be written to {table} (checked on the driver; no task was started): {text}",
            details=err.details,
        ) from None
    return True


def _under(path: str, name: str) -> bool:
    """Whether the dotted column path of an error (``err.columns``: "ev.at", "tags[]", "attrs.value") is the
    top-level column ``name`` or inside it."""
    return path == name or path.startswith((name + ".", name + "["))


def _zoned(t: pa.DataType, zone: str) -> pa.DataType:
    """``t`` with every zoned timestamp in it (TimestampType, also inside structs, lists and maps) in ``zone``."""
    if pa.types.is_timestamp(t):
        return pa.timestamp(t.unit, tz=zone) if t.tz is not None else t
    if pa.types.is_struct(t):
        return pa.struct([t.field(j).with_type(_zoned(t.field(j).type, zone)) for j in range(t.num_fields)])
    if pa.types.is_map(t):
        return pa.map_(
            t.key_field.with_type(_zoned(t.key_type, zone)),
            t.item_field.with_type(_zoned(t.item_type, zone)),
            t.keys_sorted,
        )
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_zoned(t.value_type, zone)))
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_zoned(t.value_type, zone)))
    return t


def _ntz_hint(columns: Iterable[str]) -> str:
    names = ", ".join(f'F.col("{c}").cast("timestamp_ntz")' for c in columns) or 'F.col(name).cast("timestamp_ntz")'
    return (
        "; in Spark, a TIMESTAMP (an instant) becomes a TIMESTAMP_NTZ wall clock by Spark's own CAST, which takes the "
        f"wall clock in spark.sql.session.timeZone: {names} (a struct's field: rebuild the struct with the field cast)"
    )


def _wall_clock_columns(wrapper: ZerobusWrapper, arrow_schema: pa.Schema) -> tuple[str, ...]:
    """The top-level TimestampType columns the table has as TIMESTAMP_NTZ (after the check in UTC passed).

    The tasks' Arrow batches carry the Spark session's time zone, and the Go core takes a zoned timestamp into a
    TIMESTAMP_NTZ column only in UTC: whether a write worked depended on ``spark.sql.session.timeZone``, and the
    driver's check (made in UTC) passed. So the check is made again with a zone other than UTC: the columns it
    refuses go to TIMESTAMP_NTZ, and the tasks give them Spark's CAST semantics (``_to_wall_clock``). Such a field
    inside a struct, list or map is refused here, with the Spark cast that fixes it."""
    zoned = pa.schema([f.with_type(_zoned(f.type, _CHECK_ZONE)) for f in arrow_schema], metadata=arrow_schema.metadata)
    if zoned.equals(arrow_schema):
        return ()  # no TimestampType anywhere
    try:
        wrapper.check_schema(zoned, timeout=_CHECK_TIMEOUT)
    except ConversionError as err:
        if err.reason != _INTO_NTZ:
            return ()  # cannot tell: the tasks meet what they meet
        columns = err.columns
        top = {f.name for f in arrow_schema if pa.types.is_timestamp(f.type) and f.type.tz is not None}
        nested = [c for c in columns if c not in top]
        if nested:
            table = wrapper.config.table_name
            raise ConversionError(
                f"zerobus: the DataFrame cannot be written to {table} (checked on the driver; no task was started): "
                f"the TIMESTAMP fields {', '.join(nested)} go to the table's TIMESTAMP_NTZ fields{_ntz_hint(nested)}",
                details=err.details,
            ) from None
        return tuple(c for c in columns if c in top)
    except ZerobusError:
        return ()
    return ()


def _to_wall_clock(batches: Iterator[pa.RecordBatch], columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    """The batches with each of ``columns`` (zoned timestamps) as its wall clock in its zone: what Spark's CAST to
    TIMESTAMP_NTZ gives when the zone is the Spark session's (Arrow batches from Spark). Batches built from rows
    (PySpark 4.0 streaming, ``_as_arrow``) are in UTC: their wall clock is UTC's, not the session's."""
    for b in batches:
        fields, arrays = list(b.schema), list(b.columns)
        for j, f in enumerate(fields):
            if f.name in columns and pa.types.is_timestamp(f.type) and f.type.tz is not None:
                arrays[j] = pc.local_timestamp(arrays[j])
                fields[j] = f.with_type(arrays[j].type)
        yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=b.schema.metadata))


def _path_fs(path: str) -> tuple[pafs.FileSystem, str]:
    if "://" in path:
        fs, p = pafs.FileSystem.from_uri(path)
        return fs, p
    return pafs.LocalFileSystem(), os.path.abspath(path)


def _probe_dir(path: str) -> None:
    """Create the directory ``path`` (local path or URI) and write and delete a small hidden file in it; raise
    the file system's error when it cannot be."""
    fs, d = _path_fs(path)
    fs.create_dir(d, recursive=True)
    probe = f"{d.rstrip('/')}/_zerobus-probe-{uuid.uuid4().hex}"
    try:
        with fs.open_output_stream(probe) as f:
            f.write(b"zerobus")
    except BaseException:  # the write failed after the file was created (disk full, quota): not left behind
        with contextlib.suppress(OSError):
            fs.delete_file(probe)
        raise
    fs.delete_file(probe)


def _quarantine_error(path: str, err: BaseException, where: str) -> ConfigurationError:
    return ConfigurationError(
        f"zerobus: quarantine_path {path!r}: cannot create or write the directory {where} ({type(err).__name__}: "
        f"{err}); give the option quarantine_path a directory the tasks can write",
        keys=["quarantine_path"],
    )


def _check_quarantine_path(path: str) -> None:
    """On the driver, before any task starts: a quarantine directory that cannot be created or written is refused
    when the driver sees it as the tasks do (a URI; a local path whose directory or parent exists here), and only
    warned about when the driver may not see the executors' storage (a local path whose parent does not exist
    here). A local directory the check created is removed again (the tasks create it)."""
    made: list[str] = []
    if "://" not in path:
        d = os.path.abspath(path)
        while not os.path.lexists(d):
            made.append(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    try:
        _probe_dir(path)
    except Exception as err:
        if "://" in path or len(made) <= 1:
            raise _quarantine_error(path, err, "(checked on the driver; no task was started)") from None
        logger.warning(
            "zerobus: quarantine_path %r cannot be created on the driver (%s: %s), which may not see the executors' "
            "storage; each task checks it before sending",
            path,
            type(err).__name__,
            err,
        )
    finally:
        for d in made:  # deepest first; kept when not empty (another writer's files)
            with contextlib.suppress(OSError):
                os.rmdir(d)


# -- tasks -------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    partition: int
    attempt: int
    task_attempt_id: int
    batch_id: int | None
    #: the streaming query's id (None in batch mode)
    query_id: str | None = None

    @classmethod
    def current(cls) -> _Task:
        ctx = TaskContext.get()
        if ctx is None:  # called outside a Spark task (unit tests)
            return cls(0, 0, 0, None)
        bid = ctx.getLocalProperty(_BATCH_ID_PROPERTY)
        return cls(
            ctx.partitionId(),
            ctx.attemptNumber(),
            ctx.taskAttemptId(),
            None if bid is None else int(bid),
            ctx.getLocalProperty(_QUERY_ID_PROPERTY) or None,
        )

    def name(self) -> str:
        return f"task-p{self.partition:05d}-a{self.attempt}-t{self.task_attempt_id}"


def _reader(items: Iterator[Any], arrow_schema: pa.Schema) -> pa.RecordBatchReader | None:
    """The partition as one Arrow stream that Go reads while Spark produces it (None when empty)."""
    batches = _as_arrow(items, arrow_schema)
    first = next(batches, None)
    if first is None:
        return None
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))


def _parts(batches: Iterator[Any], arrow_schema: pa.Schema) -> Iterator[pa.Table]:
    """Group the partition's Arrow batches (or rows) into tables: a table ends with the batch that brings it to
    _PART_ROWS rows or _PART_BYTES bytes (so it may hold up to one batch more), the last one with the partition."""
    held: list[pa.RecordBatch] = []
    rows = nbytes = 0
    for b in _as_arrow(batches, arrow_schema):
        if b.num_rows == 0:
            continue
        held.append(b)
        rows += b.num_rows
        nbytes += b.nbytes
        if rows >= _PART_ROWS or nbytes >= _PART_BYTES:
            yield pa.Table.from_batches(held)
            held, rows, nbytes = [], 0, 0
    if held:
        yield pa.Table.from_batches(held)


def _no_quarantine_hint(errors: Iterable[BaseException]) -> str:
    """The end of the error of a task attempt without ``quarantine_path`` whose rows failed alone. When every such
    row failed on its own value (a ``ConversionError``: the data, not the network), Spark's retries of the task fail
    the same way, each storing the partition's other rows once more, until ``spark.task.maxFailures`` fails the job:
    the text says so, and what to do."""
    way_out = "set the option quarantine_path to write such rows aside as Parquet and let the task succeed"
    if all(isinstance(err, ConversionError) for err in errors):
        return (
            "; these rows failed on their own values, so every retry of this task fails the same way, storing the "
            "partition's other rows once more each time (up to spark.task.maxFailures attempts), and then the job "
            f"fails: {way_out}, or fix the data"
        )
    return f"; {way_out}"


def _aware(v: Any) -> Any:
    """A naive datetime (local time, as PySpark gives a TimestampType value) as that instant in UTC."""
    if isinstance(v, datetime.datetime) and v.tzinfo is None:
        return v.astimezone(datetime.timezone.utc)
    return v


def _variant(v: Any) -> Any:
    """A VariantVal (as PySpark gives a VariantType value) as the struct of its Arrow type."""
    if v is None or isinstance(v, dict):
        return v
    return {"value": v.value, "metadata": v.metadata}


def _row_fixer(f: pa.Field) -> Callable[[Any], Any] | None:
    """A function turning the values of field ``f`` of a row (as ``Row.asDict(recursive=True)`` gives them: dicts
    for structs and maps, lists for arrays) into what pyarrow reads as ``f``'s type, or None when nothing needs it:
    TimestampType values (naive local datetimes) made aware, VariantType values (VariantVal) made structs; at the
    top level or inside structs, arrays and maps."""
    t = f.type
    if (
        pa.types.is_struct(t)
        and sorted(t.field(j).name for j in range(t.num_fields)) == ["metadata", "value"]
        and all(pa.types.is_binary(t.field(j).type) for j in range(t.num_fields))
    ):
        return _variant  # PySpark's VariantType (a VariantVal); a dict, as of a struct of that shape, is kept
    if pa.types.is_timestamp(t):
        return _aware if t.tz is not None else None  # no zone: TimestampNTZType, wall time kept
    if pa.types.is_map(t):
        fk, fv = _row_fixer(t.key_field), _row_fixer(t.item_field)
        if fk is None and fv is None:
            return None
        k, i = fk or (lambda x: x), fv or (lambda x: x)
        return lambda v: v if not isinstance(v, dict) else {k(a): i(b) for a, b in v.items()}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        fe = _row_fixer(t.value_field)
        if fe is None:
            return None
        return lambda v: v if v is None else [fe(x) for x in v]
    if pa.types.is_struct(t):
        subs = [(t.field(j).name, g) for j in range(t.num_fields) if (g := _row_fixer(t.field(j))) is not None]
        if not subs:
            return None

        def struct(v: Any) -> Any:
            if isinstance(v, dict):
                for name, g in subs:
                    if name in v:
                        v[name] = g(v[name])
            return v

        return struct
    return None


def _as_arrow(items: Iterator[Any], arrow_schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Arrow batches as they are; rows (the row writers of older PySpark) batched into Arrow.

    A row's TimestampType value, at the top level or inside a struct, array or map, is a naive datetime in the
    worker's local time (PySpark's conversion); pyarrow would read it as UTC, so each is made aware first. A
    VariantType value is a VariantVal, which pyarrow does not know: it becomes its struct (value, metadata)."""
    fixers = [(f.name, fix) for f in arrow_schema if (fix := _row_fixer(f)) is not None]
    rows: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, pa.RecordBatch):
            yield item
            continue
        if not isinstance(item, Row):
            raise TypeError(f"zerobus: the writer got a {type(item).__name__}, not a pyarrow RecordBatch or Row")
        row = item.asDict(recursive=True)
        for name, fix in fixers:
            if name in row:
                row[name] = fix(row[name])
        rows.append(row)
        if len(rows) >= _ROWS_PER_BATCH:
            yield pa.RecordBatch.from_pylist(rows, schema=arrow_schema)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=arrow_schema)


def _attempt_name(task: _Task, run_id: str | None) -> str:
    """The task attempt's name in report and quarantine file names; in streaming with the planning's run id (a
    micro-batch re-run after a restart has new task attempt ids that may equal the old ones)."""
    return task.name() + ("" if run_id is None else f"-r{run_id[:8]}")


def _quarantine_prefix(job_id: str, batch_id: int | None) -> str:
    """The start of the names of a job's (micro-batch's) quarantine files."""
    return f"part-{job_id[:12]}" + ("" if batch_id is None else f"-batch{batch_id}") + "-"


class _Quarantine:
    """One Parquet file per task attempt, opened at the first failed row.

    It is written under a hidden name (``_zerobus-inprogress-...``, which Spark and pyarrow skip when they read the
    directory) and renamed when the attempt succeeds; a failed attempt's file is deleted (Spark re-runs the task,
    and the new attempt quarantines the partition's rows again). So reading the directory gives no half-written
    file. An attempt can still fail after its file got its final name (its writer returned, then Spark failed
    the task, e.g. in an upstream UDF), and a speculative copy can finish and lose: the driver's commit (and
    abort) deletes the files of the job's (micro-batch's) attempts it got no commit message for when a committed
    attempt covers their rows (see ``_Job._drop_superseded_quarantine``), so reading the directory after the
    commit gives no attempt's rows a second time; an abort keeps those of partitions with no committed attempt.
    An attempt killed outright (executor lost) leaves its hidden file behind: readers skip it, and a
    ``_zerobus-inprogress-*`` file of a finished write may be deleted."""

    def __init__(self, base: str, job_id: str, task: _Task, run_id: str | None = None) -> None:
        """``run_id``: the planning of a streaming micro-batch, in the name (see ``_Job._attempt_name``)."""
        file = f"{_quarantine_prefix(job_id, task.batch_id)}{_attempt_name(task, run_id)}.parquet"
        self.name = f"{base.rstrip('/')}/{file}"
        self._base = base
        self._fs, self._dir = _path_fs(base)
        self._path = f"{self._dir.rstrip('/')}/{file}"
        self._tmp = f"{self._dir.rstrip('/')}/_zerobus-inprogress-{file}"
        self._writer: pq.ParquetWriter | None = None
        self._tmp_written = False  # the hidden file exists (deleted by discard)
        self.rows = 0
        self._partition = task.partition
        #: rows of the partition sent before the current part (an error's row number counts from the part's start)
        self.offset = 0

    def probe(self) -> None:
        """Before the attempt sends anything: create the directory and write a file there, so that a directory the
        rows cannot be set aside in fails the attempt with no row durable (not after its good rows are stored,
        once for every attempt Spark makes)."""
        try:
            _probe_dir(self._base)
        except Exception as err:
            raise _quarantine_error(self._base, err, "(checked by the task before sending)") from None

    def write(self, result: TransmissionResult, part: pa.Table) -> None:
        # Built from the result's runs (rows of one error): no Python object per row.
        for outcome, rows in (
            ("not_written", result.extract_not_written_batch(part)),
            ("unknown", result.extract_unknown_batch(part)),
        ):
            if rows is None:
                continue
            runs = result._failed_runs(outcome == "not_written")
            messages = repeat_runs(
                [self._placed(e) for _, _, e in runs],
                [hi - lo for lo, hi, _ in runs],
                pa.string(),
            )
            outcome_col, error_col, row_col = _QUARANTINE_COLUMNS
            out = rows.append_column(outcome_col, pa.repeat(pa.scalar(outcome, pa.string()), rows.num_rows))
            out = out.append_column(error_col, messages)
            where = pc.add(row_indices([(lo, hi) for lo, hi, _ in runs]), pa.scalar(self.offset, pa.int64()))
            out = out.append_column(row_col, where)
            if self._writer is None:
                self._fs.create_dir(self._dir, recursive=True)
                self._tmp_written = True
                self._writer = pq.ParquetWriter(self._tmp, out.schema, filesystem=self._fs)
            self._writer.write_table(out)
            self.rows += rows.num_rows

    def _placed(self, err: ZerobusError) -> str:
        """An error's text for ``_zerobus_error``: its class and message, after the row it names (``err.row``,
        counted from the start of the part that was sent) counted in the partition, as ``_zerobus_row`` is.
        The message is Go's, unchanged."""
        if err.row is None:
            return f"{type(err).__name__}: {err}"
        return (
            f"{type(err).__name__} (row {err.row + self.offset} of partition {self._partition}; row {err.row} of "
            f"the part sent): {err}"
        )

    def close(self) -> str | None:
        """The attempt succeeded: the file takes its final name. Where the file system cannot rename (Arrow's
        Azure file system on a flat-namespace account), it is copied to that name and the hidden file deleted."""
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        try:
            self._fs.move(self._tmp, self._path)
        except (NotImplementedError, OSError) as err:  # pa.ArrowNotImplementedError is a NotImplementedError
            logger.debug("zerobus: cannot rename the quarantine file (%s); copying it", err)
            try:
                self._fs.copy_file(self._tmp, self._path)
            except BaseException:
                with contextlib.suppress(Exception):  # no half-copied file under the final name
                    self._fs.delete_file(self._path)
                raise
            try:
                self._fs.delete_file(self._tmp)
            except Exception as exc:  # the rows are in the final file: failing the attempt would give them twice
                logger.warning("zerobus: cannot delete the hidden quarantine file %s: %s", self._tmp, exc)
        self._tmp_written = False
        return self.name

    def discard(self) -> None:
        """The attempt failed: its file is deleted (the retried attempt writes its own), also when the writer is
        already closed (a failed rename)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.rows = 0
        if self._tmp_written:
            self._fs.delete_file(self._tmp)
            self._tmp_written = False


class _Job:
    """The state a write shares between the driver and its tasks (pickled to the executors)."""

    def __init__(self, options: Mapping[str, str], schema: StructType, *, streaming: bool = False) -> None:
        self.config, self._from_env = _config_and_env(options)
        lowered = {k.lower(): v for k, v in options.items()}
        # A streaming query's micro-batches are each planned by a new streamWriter, and committed by another one
        # (PySpark builds both from the options): both derive the job id from the query's checkpoint location, so
        # the commit finds the tasks' reports. run_id tells one planning (of a job or micro-batch) from another,
        # e.g. a micro-batch re-run after a restart.
        self.run_id = uuid.uuid4().hex
        self.streaming = streaming
        # Without the checkpointLocation option, Spark's checkpoint is <spark.sql.streaming.checkpointLocation>/
        # <queryName> for a named query (the same at every start), which this process cannot read, and for an
        # unnamed one <that conf>/<a new UUID> (a new query at every start): a named query's job id comes from its
        # name (and table), an unnamed one's from its query id, which only its tasks see (see write and finish).
        checkpoint = lowered.get("checkpointlocation") or ""
        name = lowered.get("queryname") or ""
        self.stable = streaming and bool(checkpoint or name)
        if streaming and checkpoint:
            identity = checkpoint.encode() + b"\0" + _query_metadata(checkpoint)
            self.job_id = "q" + hashlib.sha256(identity).hexdigest()[:31]
        elif streaming and name:
            identity = b"queryName\0" + name.encode() + b"\0" + (self.config.table_name or "").encode()
            self.job_id = "q" + hashlib.sha256(identity).hexdigest()[:31]
        else:
            self.job_id = self.run_id
        self.schema = schema
        # TimestampType needs a zone here: UTC. Arrow batches from Spark carry their own (the session's); rows
        # (PySpark 4.0 streaming) hold naive local datetimes, which _as_arrow converts to UTC.
        self.arrow_schema = _arrow_schema(schema)
        if lowered.get("path"):
            raise ConfigurationError(
                "zerobus: the zerobus data source writes to the table of the option table_name and takes no path: "
                f"save({lowered['path']!r}) / start(path) (option path) would be ignored; call save() / start() "
                "without one"
            )
        self.quarantine_path: str | None = lowered.get("quarantine_path") or None
        self.report_path: str | None = lowered.get("report_path") or None
        clash = sorted(set(_QUARANTINE_COLUMNS) & set(schema.fieldNames()))
        if self.quarantine_path and clash:
            raise ConfigurationError(
                f"zerobus: quarantine_path adds the columns {', '.join(_QUARANTINE_COLUMNS)} to the quarantined rows, "
                f"and the DataFrame already has {', '.join(clash)}: rename them"
            )
        if self.quarantine_path and not _committing():
            _check_quarantine_path(self.quarantine_path)
        #: TimestampType columns going to TIMESTAMP_NTZ table columns: the tasks store their wall clock in the Spark
        #: session's time zone, as Spark's CAST (and INSERT) would (learned by the driver's check); in UTC from rows
        #: (PySpark 4.0 streaming: the rows carry no zone, and the session's conf is not readable here).
        self.wall_clock: tuple[str, ...] = ()
        # Every configuration problem, and a schema Zerobus or the table cannot take, is reported now, on the
        # driver, once: in a task it would fail every attempt of every task alike. A streaming query checks once
        # per planning process (not again for each micro-batch), and not in the writer built only to commit.
        if not streaming:
            self._check()
            return
        # an unnamed query without the checkpointLocation option: checked once per schema and settings (its job
        # id here is this planning's)
        digest = _check_digest(self.job_id if self.stable else "", schema.json(), self.config)
        if _committing() or digest in _CHECKED:
            self.wall_clock = _CHECKED.get(digest, ())
            return
        self._check()
        _CHECKED[digest] = self.wall_clock
        if self.wall_clock and not STREAM_ARROW:
            casts = ", ".join(f'F.col("{c}").cast("timestamp_ntz")' for c in self.wall_clock)
            logger.warning(
                "zerobus: on PySpark 4.0 a streaming query's micro-batches reach Python as rows, which carry no time "
                "zone: the TIMESTAMP columns %s going to TIMESTAMP_NTZ columns of %s store their wall clock in UTC, "
                "not in spark.sql.session.timeZone as Spark's CAST would; to store Spark's CAST, cast them in Spark "
                "first: %s (or run the session in UTC, or use PySpark >= 4.1)",
                ", ".join(self.wall_clock),
                self.config.table_name,
                casts,
            )

    def _check(self) -> None:
        error: ConfigurationError | None = None
        try:
            wrapper = ZerobusWrapper(self.config)
        except ConfigurationError as err:
            error = _options_error(err, self._from_env)
        if error is not None:
            raise error  # outside the except: no traceback frame or context holds the settings (secrets are redacted)
        try:
            if _check_schema(wrapper, self.schema, self.arrow_schema):
                self.wall_clock = _wall_clock_columns(wrapper, self.arrow_schema)
        finally:
            # Nothing was sent, so nothing can be lost: a stream still opening after a check that gave up is not
            # waited for (shutdown would wait up to flush_timeout_ms and then fail a write the check only warned
            # about).
            with contextlib.suppress(ZerobusError):
                wrapper.shutdown(timeout=_CHECK_SHUTDOWN)

    def __repr__(self) -> str:
        return f"<zerobus write {self.job_id} table={self.config.table_name!r}>"

    # -- executors --

    def write(self, items: Iterator[Any]) -> TaskCommitMessage:
        task = _Task.current()
        if self.streaming and not self.stable and task.query_id:  # the query's directory, not the planning's
            self.job_id = _query_job_id(task.query_id)
        msg = TaskCommitMessage(
            task.partition, task.attempt, task.task_attempt_id, task.batch_id, job_id=self.job_id, run_id=self.run_id
        )
        quarantine = (
            _Quarantine(self.quarantine_path, self.job_id, task, self.run_id if self.streaming else None)
            if self.quarantine_path
            else None
        )
        start = time.monotonic()
        heartbeat = self._mark_started(task)
        if self.wall_clock:
            items = _to_wall_clock(_as_arrow(items, self.arrow_schema), self.wall_clock)
        try:
            if quarantine is not None:
                quarantine.probe()
            with _task_wrapper(self._task_config(task), self._log_attributes(task)) as wrapper:
                if quarantine is None:
                    reader = _reader(items, self.arrow_schema)
                    if reader is not None:
                        self._send(wrapper, reader, task, msg, None)
                else:
                    for part in _parts(items, self.arrow_schema):
                        self._send(wrapper, part, task, msg, quarantine)
                        quarantine.offset += part.num_rows
            if quarantine is not None:  # in the try: a failed rename fails the attempt with its report
                msg.quarantine_file = quarantine.close()
                msg.quarantined_rows = quarantine.rows
        except BaseException as exc:
            msg.failed = True
            msg.error = f"{type(exc).__name__}: {exc}"
            msg.latency_ms = (time.monotonic() - start) * 1000
            if quarantine is not None:
                try:
                    quarantine.discard()
                except Exception as err:
                    logger.warning("zerobus: cannot delete the quarantine file of a failed attempt: %s", err)
            heartbeat.stop()
            self._report(task, msg)
            if isinstance(exc, TaskWriteError) or not isinstance(exc, Exception):  # e.g. the task being killed
                raise
            raise TaskWriteError(self._failure_text(task, msg, exc)) from exc
        msg.latency_ms = (time.monotonic() - start) * 1000
        heartbeat.stop()
        self._report(task, msg)
        return msg

    def _task_config(self, task: _Task) -> WrapperConfiguration:
        """The wrapper settings of one task attempt: its debug files go to a directory of its own,
        ``<debug_output_dir>/<job id>/[batch-<id>/]task-p<partition>-a<attempt>-t<task attempt id>``, so that
        ``debug_max_files_retained`` counts that attempt's files alone and no task's retention deletes another's."""
        base = self.config.debug_output_dir
        if not base:
            return self.config
        parts = [os.fspath(base), self.job_id]
        if task.batch_id is not None:
            parts.append(f"batch-{task.batch_id}")
        parts.append(task.name())
        return self.config.copy(debug_output_dir=os.path.join(*parts))

    def _log_attributes(self, task: _Task) -> dict[str, str | int]:
        """The attributes every log record of a task attempt's wrapper carries (Go's logger: ``log_file``,
        ``observability_output_dir``'s ``logs.jsonl`` and Python's ``zerobus_py`` logger), so that the lines of
        tasks sharing a file or an executor's log can be told apart: the job (the report directory's name), the
        micro-batch, the partition, the attempt number and Spark's task attempt id."""
        attrs: dict[str, str | int] = {"spark_job_id": self.job_id}
        if task.batch_id is not None:
            attrs["spark_batch_id"] = task.batch_id
        attrs.update(
            spark_partition=task.partition, spark_attempt=task.attempt, spark_task_attempt_id=task.task_attempt_id
        )
        return attrs

    def _send(
        self,
        wrapper: ZerobusWrapper,
        part: pa.Table | pa.RecordBatchReader,
        task: _Task,
        msg: TaskCommitMessage,
        q: _Quarantine | None,
    ) -> None:
        try:
            result = wrapper.send_batch(part)
        except BaseException as err:  # a ZerobusError, or an interrupt: both carry the partial result
            partial = getattr(err, "result", None)
            if isinstance(partial, TransmissionResult):
                msg.add(partial)
            raise
        msg.add(result)
        if not result.failed_count and (result.success or result.error is None):
            return
        if not result.failed_count:
            # Every row read was stored, but reading the partition failed (the Spark iterator raised): the rows
            # after that point were never sent, so the attempt must fail (and be retried), not report success.
            msg.failed = True
            msg.error = f"{type(result.error).__name__}: {result.error}"
            raise TaskWriteError(
                self._failure_text(task, msg, result.error) + "; the partition could not be read to its end"
            )
        if q is None:
            errors = [err for _, err in result.failed_row_errors]
            first = errors[0]
            msg.failed = True
            msg.error = f"{type(first).__name__}: {first}"
            raise TaskWriteError(self._failure_text(task, msg, first) + _no_quarantine_hint(errors))
        assert isinstance(part, pa.Table)  # parts are tables when there is a quarantine
        q.write(result, part)

    def _failure_text(self, task: _Task, msg: TaskCommitMessage, err: BaseException | None) -> str:
        where = f"partition {task.partition} (attempt {task.attempt}" + (
            f", micro-batch {task.batch_id})" if task.batch_id is not None else ")"
        )
        text = (
            f"zerobus: {where} into {self.config.table_name}: {msg.durable_rows:,} rows durable, "
            f"{msg.not_written_rows:,} not written, {msg.unknown_rows:,} unknown before it stopped ({msg.error}); "
            "a retry re-sends the whole partition"
        )
        if msg.resent_rows:
            text += (
                f"; {_plural(msg.recoveries, 'stream recovery', 'stream recoveries')} had re-sent up to "
                f"{_plural(msg.resent_rows, 'row')} (possible duplicates)"
            )
        if isinstance(err, ZerobusError) and err.reason == _INTO_NTZ:  # the driver could not check the columns
            text += _ntz_hint(err.columns)
        return text

    # -- reports --

    def _report_dir(self, batch_id: int | None) -> str | None:
        if self.report_path is None:
            return None
        d = f"{self.report_path.rstrip('/')}/{self.job_id}"
        return d if batch_id is None else f"{d}/batch-{batch_id}"

    def _attempt_name(self, task: _Task) -> str:
        return _attempt_name(task, self.run_id if self.streaming else None)

    def _report(self, task: _Task, msg: TaskCommitMessage) -> None:
        d = self._report_dir(task.batch_id)
        if d is None:
            return
        try:
            _write_json(d, f"{self._attempt_name(task)}.json", asdict(msg))
        except Exception as err:  # a report must not fail the write
            logger.warning("zerobus: cannot write the task report in %s: %s", d, err)
            return
        # The report is written: the start marker (only a marker without a report matters) goes.
        with contextlib.suppress(Exception):
            fs, p = _path_fs(d)
            fs.delete_file(f"{p.rstrip('/')}/{_STARTED}{self._attempt_name(task)}")

    def _mark_started(self, task: _Task) -> _Heartbeat:
        """Write the marker of a starting attempt beside the reports (a commit or abort waits for the report of
        each), and rewrite it every _HEARTBEAT seconds until the attempt reports: a marker that stops changing is
        an attempt that was killed."""
        d = self._report_dir(task.batch_id)
        if d is None:
            return _Heartbeat(None, "")
        try:
            fs, p = _path_fs(d)
            fs.create_dir(p, recursive=True)
            marker = f"{p.rstrip('/')}/{_STARTED}{self._attempt_name(task)}"
            _write_marker(fs, marker)
        except Exception as err:  # a marker must not fail the write
            logger.warning("zerobus: cannot write the task marker in %s: %s", d, err)
            return _Heartbeat(None, "")
        return _Heartbeat(fs, marker)

    @overload
    def _attempt_files(
        self,
        batch_id: int | None,
        messages: Iterable[WriterCommitMessage | None] = ...,
        *,
        mtimes: Literal[False] = ...,
    ) -> set[str]: ...

    @overload
    def _attempt_files(
        self, batch_id: int | None, messages: Iterable[WriterCommitMessage | None] = ..., *, mtimes: Literal[True]
    ) -> dict[str, Any]: ...

    def _attempt_files(
        self, batch_id: int | None, messages: Iterable[WriterCommitMessage | None] = (), *, mtimes: bool = False
    ) -> set[str] | dict[str, Any]:
        """The names of the start markers and reports of this job's (micro-batch's) attempts; in streaming only
        those of the planning being committed or aborted. A micro-batch re-run after a restart shares the directory
        with the earlier run, whose attempts killed with the old driver left markers that never get a report. That
        planning is the run of the commit messages; without any (every task failed), the run of the newest file
        (the failed attempt's report). The writer that commits or aborts is another _Job than the planner (another
        run id), so its own run id does not tell."""
        d = self._report_dir(batch_id)
        if d is None:
            return {} if mtimes else set()
        fs, p = _path_fs(d)
        infos = [
            i
            for i in fs.get_file_info(pafs.FileSelector(p, allow_not_found=True))
            if i.base_name.startswith(("task-", _STARTED))
        ]
        if self.streaming:
            runs = {m.run_id[:8] for m in messages if isinstance(m, TaskCommitMessage) and m.run_id}
            if not runs:
                newest = max(
                    (i for i in infos if i.mtime is not None and _RUN_IN_NAME.search(i.base_name)),
                    key=lambda i: i.mtime,
                    default=None,
                )
                if newest is not None and (m := _RUN_IN_NAME.search(newest.base_name)):
                    runs = {m.group(1)}
            if runs:
                infos = [i for i in infos if (m := _RUN_IN_NAME.search(i.base_name)) and m.group(1) in runs]
        if mtimes:
            return {i.base_name: i.mtime for i in infos}
        return {i.base_name for i in infos}

    def _query_dirs(self, batch_id: int) -> list[str]:
        """An abort of an unnamed query planned without the checkpointLocation option, with no commit message to
        name its job: the query-id directories (``qid-*``, named by tasks from the query id) whose ``batch-<id>``
        has markers or reports and no summary yet (a micro-batch not committed or aborted there). Only these can be
        this query's; the caller takes one only when it is the only one, and then as a guess (another unnamed
        query of the same report_path may be running the same micro-batch id while this one's tasks wrote
        nothing)."""
        if self.report_path is None:
            return []
        found = []
        try:
            fs, root = _path_fs(self.report_path)
            for q in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
                if q.type != pafs.FileType.Directory or not q.base_name.startswith(_QUERY_ID_PREFIX):
                    continue
                names = {
                    i.base_name
                    for i in fs.get_file_info(pafs.FileSelector(f"{q.path}/batch-{batch_id}", allow_not_found=True))
                }
                if "summary.json" not in names and any(n.startswith(("task-", _STARTED)) for n in names):
                    found.append(q.base_name)
        except Exception as err:
            logger.warning("zerobus: cannot list the report directory %s: %s", self.report_path, err)
            return []
        return sorted(found)

    def _earlier_runs(self, batch_id: int | None, messages: list[WriterCommitMessage | None]) -> tuple[int, list[str]]:
        """Streaming: the start markers without a report of the earlier runs of this micro-batch (a re-run after a
        restart shares the directory with them; their attempts killed with the query never report), and the
        summaries the aborts of those runs kept. Their reports are counted among the failed attempts already."""
        d = self._report_dir(batch_id)
        if d is None or not self.streaming:
            return 0, []
        fs, p = _path_fs(d)
        names = {i.base_name for i in fs.get_file_info(pafs.FileSelector(p, allow_not_found=True))}
        ours = self._attempt_files(batch_id, messages)
        reports = {n.removesuffix(".json") for n in names if n.startswith("task-") and n.endswith(".json")}
        earlier = [
            n
            for n in names - ours
            if n.startswith(_STARTED) and _RUN_IN_NAME.search(n) and n.removeprefix(_STARTED) not in reports
        ]
        summaries = sorted(n for n in names if n.startswith("summary-") and "-aborted-" in n) if earlier else []
        return len(earlier), summaries

    def _await_reports(
        self, batch_id: int | None, messages: list[WriterCommitMessage | None], aborted: bool
    ) -> tuple[int, int]:
        """(attempts still unreported, partitions still without a report) after the wait of ``_await_pending``."""
        pending, missing = self._await_pending(batch_id, messages, aborted)
        return len(pending), missing

    def _await_pending(
        self, batch_id: int | None, messages: list[WriterCommitMessage | None], aborted: bool
    ) -> tuple[list[str], int]:
        """On commit and abort: wait for the reports of the attempts that started and have not reported (a sibling
        of the failed task still sending: Spark's stage cancel does not stop it; an attempt failed by an upstream
        error whose retry has committed), up to _ABORT_WAIT seconds, and, on abort, for the
        partitions without a commit message and without any marker or report (a task whose Python writer starts
        only after the abort) as long as new files keep appearing (_ABORT_IDLE). Returns (the start markers of the
        attempts still unreported, partitions still without a report). On abort only, an attempt whose marker
        stopped changing for _SILENT seconds is taken as killed (query.stop() kills the tasks); a commit waits for
        every attempt up to _ABORT_WAIT, as a slow storage (a marker rewrite taking seconds, an NFS attribute cache)
        can make a live attempt's marker look still. The commit's summary names the attempts still unreported then
        whose partition another attempt committed (``_superseded``), with a bound of what they stored twice."""
        if self._report_dir(batch_id) is None:
            return [], 0
        committed = {m.partition for m in messages if isinstance(m, TaskCommitMessage)}
        wanted = set(range(len(messages))) - committed
        deadline = _now() + _ABORT_WAIT
        changed = _now()
        seen: set[str] = set()
        beats: dict[str, tuple[Any, float]] = {}  # a marker's last mtime, and when the driver saw it change
        try:
            while True:
                times = self._attempt_files(batch_id, messages, mtimes=True)
                names = set(times)
                now = _now()
                if names != seen:
                    seen, changed = names, now
                reports = {n.removesuffix(".json") for n in names if n.startswith("task-") and n.endswith(".json")}
                pending = [n for n in names if n.startswith(_STARTED) and n.removeprefix(_STARTED) not in reports]
                for n in pending:
                    if n not in beats or beats[n][0] != times[n]:
                        beats[n] = (times[n], now)
                # on abort, an attempt whose marker stopped changing was killed: no report will come (no mtime:
                # waited for)
                alive = [n for n in pending if not aborted or times[n] is None or now - beats[n][1] < _SILENT]
                present = {int(m.group(1)) for n in names if (m := _PARTITION_IN_NAME.search(n))}
                missing = wanted - present
                if (not alive and (not missing or now - changed >= _ABORT_IDLE)) or now >= deadline:
                    return sorted(pending), len(missing)
                _pause(0.5)
        except Exception as err:
            logger.warning("zerobus: cannot list the task reports of %s: %s", self.job_id, err)
            return [], 0

    def reports(self, batch_id: int | None) -> list[TaskCommitMessage]:
        """The reports of the task attempts of this job (micro-batch)."""
        d = self._report_dir(batch_id)
        if d is None:
            return []
        fs, p = _path_fs(d)
        known = {f.name for f in dataclasses.fields(TaskCommitMessage)}
        out = []
        for info in fs.get_file_info(pafs.FileSelector(p, allow_not_found=True)):
            if not info.base_name.startswith("task-") or not info.base_name.endswith(".json"):
                continue
            with fs.open_input_stream(info.path) as f:
                data = json.loads(f.read())
            out.append(TaskCommitMessage(**{k: v for k, v in data.items() if k in known}))
        return out

    def failed_reports(
        self, batch_id: int | None, messages: Iterable[WriterCommitMessage | None] = ()
    ) -> list[TaskCommitMessage]:
        """The reports of the task attempts of this job (micro-batch) that are not among the commit messages:
        attempts that failed (also after their writer returned) or lost to another copy of their task."""
        committed = _committed(messages)
        return [r for r in self.reports(batch_id) if (r.run_id[:8], r.task_attempt_id) not in committed]

    def _drop_superseded_quarantine(
        self, batch_id: int | None, messages: list[WriterCommitMessage | None], aborted: bool
    ) -> tuple[list[str], list[str]]:
        """Sort the quarantine files of this job's (micro-batch's) attempts that have no commit message; returns
        (deleted, kept).

        A file is deleted only when committed attempts cover its rows: an attempt of the same planning and partition
        has a commit message (that attempt stored the partition's rows or quarantined them itself), or, for a file
        of another planning of the micro-batch (a re-run after a restart), the driver commits the micro-batch with
        every task's message. Otherwise (on abort, the partition's only attempts) the file is kept: it is the only
        record of the rows its attempt did not store, while the attempt's other rows are stored."""
        if self.quarantine_path is None:
            return [], []
        committed = _committed(messages)
        parts = {(m.run_id[:8], m.partition) for m in messages if isinstance(m, TaskCommitMessage)}
        runs = {run for run, _ in parts}
        complete = not aborted and all(isinstance(m, TaskCommitMessage) for m in messages)
        fs, d = _path_fs(self.quarantine_path)
        prefix = _quarantine_prefix(self.job_id, batch_id)
        dropped, kept = [], []
        for info in fs.get_file_info(pafs.FileSelector(d, allow_not_found=True)):
            name = info.base_name
            m = _ATTEMPT_FILE.search(name)
            if not name.startswith(prefix) or m is None:
                continue
            run = m.group(3) or self.run_id[:8]  # batch jobs: one planning, no run in the name
            if (run, int(m.group(2))) in committed:
                continue
            path = f"{self.quarantine_path.rstrip('/')}/{name}"
            if (run, int(m.group(1))) not in parts and not (complete and run not in runs):
                kept.append(path)
                continue
            try:
                fs.delete_file(info.path)
            except Exception as err:
                logger.warning("zerobus: cannot delete the quarantine file of a superseded attempt %s: %s", name, err)
                continue
            dropped.append(path)
        return sorted(dropped), sorted(kept)

    # -- driver --

    def finish(self, messages: list[WriterCommitMessage | None], batch_id: int | None, aborted: bool) -> WriteSummary:
        _ensure_log_handler()
        summary_dir = None  # the summary's directory when it is not the job's
        candidates: list[str] | None = None  # the query directories a guess was made from
        if not self.stable:  # an unnamed query without a checkpointLocation option: the tasks name the job
            ids = {m.job_id for m in messages if isinstance(m, TaskCommitMessage) and m.job_id}
            if len(ids) == 1:
                self.job_id = ids.pop()
            elif not ids and self.streaming and batch_id is not None and self.report_path is not None:
                # No message names the query's directory: the planning's own directory keeps the summary (never
                # one guessed from the files of what may be another query), and a directory is read only when
                # it is the only one that can be this query's.
                summary_dir = self._report_dir(batch_id)
                candidates = self._query_dirs(batch_id)
                if len(candidates) == 1:
                    self.job_id = candidates[0]
        pending: list[str] = []
        if candidates is not None and len(candidates) != 1:  # the query's directory cannot be told: none is read
            unreported = 0
        else:
            # Also on commit: an attempt Spark failed (an upstream error) and retried may still be sending and has
            # not reported when its retry commits; its durable rows belong in this summary.
            pending, unreported = self._await_pending(batch_id, messages, aborted)
        try:
            failed = self.failed_reports(batch_id, messages)
        except Exception as err:
            logger.warning("zerobus: cannot read the task reports of %s: %s", self.job_id, err)
            failed = []
        s = summarize(self.job_id, messages, batch_id=batch_id, aborted=aborted, failed_reports=failed)
        s.attempts_counted = self.report_path is not None
        # an attempt that reported between the end of the wait and the reading of the reports is counted from
        # its report (exactly), not as running
        reported = {(r.partition, r.attempt, r.task_attempt_id) for r in failed}
        running = [n for n in pending if _attempt_of(n) not in reported]
        s.running_attempts, s.partitions_without_report = len(running), unreported
        s.unreported_superseded_attempts = _superseded(running, messages)
        if candidates is not None:
            s.query_dir = "guessed" if len(candidates) == 1 else "unknown"
            s.query_dir_candidates = candidates
        try:
            s.earlier_run_unreported_attempts, s.earlier_run_summaries = self._earlier_runs(batch_id, messages)
        except Exception as err:
            logger.warning("zerobus: cannot list the task reports of %s: %s", self.job_id, err)
        try:
            s.superseded_quarantine_files, s.kept_quarantine_files = self._drop_superseded_quarantine(
                batch_id, messages, aborted
            )
        except Exception as err:
            logger.warning("zerobus: cannot list the quarantine files of %s: %s", self.job_id, err)
        bad = (
            aborted
            or s.not_written_rows
            or s.unknown_rows
            or s.failed_attempts
            or s.converted_rows
            or s.kept_quarantine_files
            or (s.retried_tasks and not s.attempts_counted)
            or s.running_attempts
            or s.recovered_attempts
            or s.resent_rows
            or s.earlier_run_unreported_attempts
            or s.query_dir
        )
        logger.log(logging.WARNING if bad else logging.INFO, "%s", s.line())
        d = summary_dir or self._report_dir(batch_id)
        if d is not None:
            # summary.json is the latest; each commit or abort also keeps its own (a micro-batch re-run after a
            # restart, or a job re-run, would otherwise overwrite what the aborted run said)
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
            verb = "aborted" if aborted else "committed"
            own = f"summary-{stamp}-{verb}-{uuid.uuid4().hex[:8]}.json"
            try:
                for name in (own, "summary.json"):
                    _write_json(d, name, {**asdict(s), "table_name": self.config.table_name})
            except Exception as err:
                logger.warning("zerobus: cannot write the summary in %s: %s", d, err)
        return s


#: The installed wrapper takes ``log_attributes`` (attributes Go's logger adds to every record of the wrapper).
_LOG_ATTRIBUTES: Final = "log_attributes" in inspect.signature(ZerobusWrapper.__init__).parameters


def _task_wrapper(config: WrapperConfiguration, attrs: Mapping[str, str | int]) -> ZerobusWrapper:
    """The wrapper of a task attempt, its log records carrying ``attrs`` (the task's identity) when the installed
    wrapper can add them (every record then has them, in ``log_file`` too); without it, the records do not."""
    factory: Callable[..., ZerobusWrapper] = ZerobusWrapper
    if _LOG_ATTRIBUTES:
        return factory(config, log_attributes=dict(attrs))
    return factory(config)


def _attempt_of(name: str) -> tuple[int, int, int] | None:
    """(partition, attempt number, task attempt id) of a start marker's or report's name."""
    m = _ATTEMPT_IN_NAME.search(name)
    return None if m is None else (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _superseded(markers: Iterable[str], messages: Iterable[WriterCommitMessage | None]) -> list[dict[str, int]]:
    """The unreported attempts (their start markers, of the planning being committed or aborted) whose partition
    another attempt committed: whatever they stored is stored twice, up to the committed attempt's rows (its
    ``total_rows``: the partition's). Nothing exact is known of them: they wrote no report."""
    committed = {m.partition: m for m in messages if isinstance(m, TaskCommitMessage)}
    out = []
    for name in markers:
        attempt = _attempt_of(name)
        if attempt is None:
            continue
        partition, number, task_attempt_id = attempt
        c = committed.get(partition)
        if c is None or c.task_attempt_id == task_attempt_id:
            continue
        out.append(
            {
                "partition": partition,
                "attempt": number,
                "task_attempt_id": task_attempt_id,
                "committed_attempt": c.attempt,
                "max_duplicate_rows": c.total_rows,
            }
        )
    return sorted(out, key=lambda u: (u["partition"], u["attempt"], u["task_attempt_id"]))


def _query_job_id(query_id: str) -> str:
    """The job id of a streaming query known by its id (Spark keeps it in the checkpoint: the same at a restart).
    Its prefix tells these directories from the other queries' (``q`` + hex digits)."""
    return _QUERY_ID_PREFIX + hashlib.sha256(b"queryId\0" + query_id.encode()).hexdigest()[:28]


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _now() -> float:
    return time.monotonic()


def _write_marker(fs: pafs.FileSystem, path: str) -> None:
    with fs.open_output_stream(path) as f:
        f.write(b"{}")


class _Heartbeat:
    """Rewrites a running attempt's start marker every _HEARTBEAT seconds (its mtime changes) until stopped: call
    stop(), or use it as a context manager (``with job._mark_started(task):``), which stops it on the way out."""

    def __init__(self, fs: pafs.FileSystem | None, marker: str) -> None:
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        if fs is None:
            return
        self._fs, self._marker = fs, marker
        self._thread = threading.Thread(target=self._run, name="zerobus-task-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(_HEARTBEAT):
            try:
                _write_marker(self._fs, self._marker)
            except Exception as err:  # the marker only tells a commit or abort how long to wait
                logger.debug("zerobus: cannot rewrite the task marker %s: %s", self._marker, err)

    def stop(self) -> None:
        """Stop rewriting (before the report is written and the marker deleted, which must not come back)."""
        self._stopped.set()
        if self._thread is not None:
            # a rewrite still hanging after this may bring the marker back beside the report: harmless (a marker
            # with a report is not waited for), so a storage that hangs does not hold the task
            self._thread.join(_HEARTBEAT_JOIN)

    def __enter__(self) -> _Heartbeat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _committed(messages: Iterable[WriterCommitMessage | None]) -> set[tuple[str, int]]:
    """(run id prefix, task attempt id) of the attempts with a commit message."""
    return {(m.run_id[:8], m.task_attempt_id) for m in messages if isinstance(m, TaskCommitMessage)}


def _query_metadata(checkpoint: str) -> bytes:
    """The ``metadata`` file Spark writes in a query's checkpoint when it starts (it holds the query's id), or
    nothing when it cannot be read here: a checkpoint deleted and made again at the same place is another query."""
    try:
        fs, p = _path_fs(checkpoint)
        with fs.open_input_stream(f"{p.rstrip('/')}/metadata") as f:
            data: bytes = f.read(4096)
            return data
    except Exception:
        return b""


def _committing() -> bool:
    """Whether this streamWriter is built by PySpark's streaming commit runner (to call commit or abort only)."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.endswith(_COMMIT_RUNNER):
            return True
        frame = frame.f_back
    return False


def _write_json(directory: str, name: str, data: Mapping[str, Any]) -> None:
    fs, p = _path_fs(directory)
    fs.create_dir(p, recursive=True)
    with fs.open_output_stream(f"{p.rstrip('/')}/{name}") as f:
        f.write(json.dumps(data, indent=1, sort_keys=True).encode())


def _ensure_log_handler() -> None:
    """Spark's Python workers configure no logging: show this module's INFO lines on stderr there."""
    if logger.handlers or logging.getLogger().handlers:
        return
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(h)
    logger.setLevel(logging.INFO)


# -- the Spark classes ---------------------------------------------------------


class ZerobusWriter(DataSourceArrowWriter):
    """The batch writer: each task streams its partition (Arrow batches) through one wrapper."""

    def __init__(self, job: _Job) -> None:
        self.job = job

    def write(self, iterator: Iterator[Any]) -> WriterCommitMessage:
        """Send the partition; return what was made durable (see :class:`TaskCommitMessage`)."""
        return self.job.write(iterator)

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        """Aggregate and log the tasks' outcomes (and write ``summary.json`` under ``report_path``)."""
        self.job.finish(messages, None, aborted=False)

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        """Log (and report) what the committed and the failed task attempts had made durable."""
        self.job.finish(messages, None, aborted=True)

    def __repr__(self) -> str:
        return f"ZerobusWriter({self.job!r})"


class ZerobusStreamWriter(_StreamWriterBase):
    """The streaming writer: each micro-batch's tasks stream their partitions; commit logs per micro-batch."""

    def __init__(self, job: _Job) -> None:
        self.job = job

    def write(self, iterator: Iterator[Any]) -> WriterCommitMessage:
        """Send the partition of this micro-batch."""
        return self.job.write(iterator)

    def commit(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:
        """Aggregate and log the micro-batch's outcome."""
        self.job.finish(messages, batchId, aborted=False)

    def abort(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:
        """Log (and report) what the micro-batch's tasks had made durable."""
        self.job.finish(messages, batchId, aborted=True)

    def __repr__(self) -> str:
        return f"ZerobusStreamWriter({self.job!r})"


class ZerobusDataSource(DataSource):
    """The ``zerobus`` data source (write only): ``spark.dataSource.register(ZerobusDataSource)``."""

    @classmethod
    def name(cls) -> str:
        """``"zerobus"``, the name for ``format(...)``."""
        return "zerobus"

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        """The batch writer; only ``mode("append")`` is supported."""
        if overwrite:
            raise ConfigurationError(
                "zerobus: the zerobus data source only appends (mode 'append'); Zerobus cannot replace or "
                "truncate a table, so mode 'overwrite' is refused"
            )
        return ZerobusWriter(_Job(self.options, schema))

    def streamWriter(self, schema: StructType, overwrite: bool) -> DataSourceStreamWriter:
        """The streaming writer; output mode ``append`` only."""
        if overwrite:
            raise ConfigurationError(
                "zerobus: the zerobus data source only appends (output mode 'append'); 'complete' is refused"
            )
        return ZerobusStreamWriter(_Job(self.options, schema, streaming=True))
