"""Session 22 (sparkfix), s22 review sparkdocs M1: a task without ``quarantine_path`` whose rows fail on their own
values (``ConversionError``) sends its whole partition, storing the other rows, and fails; every retry fails the same
way, storing those rows once more. Its error said only that a retry re-sends the partition; it now says a retry fails
the same way, up to ``spark.task.maxFailures`` attempts, and names ``quarantine_path``. A failure that is not the rows'
own keeps the plain hint.

No Spark session: the writer is driven directly (as Spark's task would, with no TaskContext), against the local
server; the rows are counted where the server stored them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest
from pyspark.sql.types import ArrayType, LongType, StructField, StructType

from zerobus_py import ConversionError, ZerobusError
from zerobus_py import spark as zspark
from zerobus_py.local import LocalServer


def _options(server: LocalServer, table: str) -> dict[str, str]:
    return {
        "endpoint": server.endpoint,
        "table_name": table,
        "unity_catalog_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }


_SCHEMA = StructType([StructField("id", LongType()), StructField("tags", ArrayType(LongType()))])


def _partition() -> Iterator[pa.RecordBatch]:
    """20 rows; rows 7 and 17 hold a null list element, which protobuf cannot carry (a ConversionError each)."""
    ids = list(range(20))
    tags = pa.array([[1, None] if i % 10 == 7 else [1, i] for i in ids], pa.list_(pa.int64()))
    yield pa.record_batch({"id": pa.array(ids, pa.int64()), "tags": tags})


def test_a_task_failing_on_its_rows_values_says_every_retry_fails_alike(server: LocalServer) -> None:
    table = f"main.s22.sparkmsg_{uuid.uuid4().hex[:8]}"
    job = zspark._Job(_options(server, table), _SCHEMA)
    for attempt in (1, 2):  # the task, then what Spark's retry does: the same partition again
        with pytest.raises(zspark.TaskWriteError) as info:
            job.write(_partition())
        text = str(info.value)
        assert "18 rows durable, 2 not written, 0 unknown" in text, text
        assert "ConversionError" in text, text
        assert (
            "these rows failed on their own values, so every retry of this task fails the same way, storing the "
            "partition's other rows once more each time (up to spark.task.maxFailures attempts), and then the job "
            "fails: set the option quarantine_path to write such rows aside as Parquet and let the task succeed, or "
            "fix the data"
        ) in text, text
        assert server.client_secret not in text
        # each attempt stored the 18 good rows again (what the README now says instead of "twice")
        assert server.record_count(table) == 18 * attempt


def test_a_failure_that_is_not_the_rows_own_keeps_the_plain_hint() -> None:
    plain = "; set the option quarantine_path to write such rows aside as Parquet and let the task succeed"
    conversion = ConversionError("zerobus: conversion failed at row 3", details={"kind": "conversion"})
    other = ZerobusError("zerobus: no acknowledgement", details={"kind": "transmission"})
    assert zspark._no_quarantine_hint([other]) == plain
    assert zspark._no_quarantine_hint([conversion, other]) == plain  # not every row failed on its value
    alike = zspark._no_quarantine_hint([conversion, conversion])
    assert alike.startswith("; these rows failed on their own values, so every retry of this task fails the same way")
    assert alike.endswith(plain.removeprefix("; ") + ", or fix the data")
