"""The Spark data source decides on the Go core's error data (err.row, err.columns, err.reason, the kinds' table),
never on its message text."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from pyspark.sql.types import ArrayType, LongType, StructField, StructType, TimestampType

from zerobus_py import WrapperConfiguration, ZerobusError, _bridge
from zerobus_py import spark as zspark
from zerobus_py._errors import from_details


def _quarantine(offset: int, partition: int) -> zspark._Quarantine:
    q = zspark._Quarantine.__new__(zspark._Quarantine)
    q.offset, q._partition = offset, partition
    return q


def test_a_quarantined_errors_place_comes_from_its_row_not_its_text() -> None:
    """A column named like a place ("at row 1002 of partition 3") used to be rewritten as the row of an error that
    names no row; the row an error names is taken from err.row, and Go's message is kept whole."""
    q = _quarantine(1000, 3)
    text = 'zerobus: conversion failed, column "at row 2": value too large'
    err = from_details({"kind": "conversion", "message": text, "row": -1, "column": "at row 2"})
    assert q._placed(err) == f"ConversionError: {text}"
    text = 'zerobus: conversion failed at row 5, column "at row 1002 of partition 3": value too large'
    err = from_details({"kind": "conversion", "message": text, "row": 5, "column": "at row 1002 of partition 3"})
    assert q._placed(err) == f"ConversionError (row 1005 of partition 3; row 5 of the part sent): {text}"


class _Checker:
    """A wrapper whose schema check fails with the given error."""

    def __init__(self, err: Exception) -> None:
        self.err = err
        self.config = WrapperConfiguration(table_name="main.s.t")

    def check_schema(self, schema: pa.Schema, timeout: float) -> None:
        raise self.err


_NTZ_SCHEMA = pa.schema([("id", pa.int64()), ("ts", pa.timestamp("us", tz="UTC"))])


def test_the_wall_clock_columns_come_from_the_reason_code_not_the_text() -> None:
    """The driver's second check finds the TIMESTAMP columns that go to TIMESTAMP_NTZ by err.reason and
    err.columns: it used to look for a sentence of Go's message, and took no column when the text differed."""
    coded = from_details(
        {
            "kind": "conversion",
            "message": "zerobus: any text",
            "row": -1,
            "reason": "ZONED_TIMESTAMP_INTO_NTZ",
            "columns": ["ts"],
        }
    )
    assert zspark._wall_clock_columns(_Checker(coded), _NTZ_SCHEMA) == ("ts",)  # type: ignore[arg-type]
    # the old sentence without the code: not this refusal
    text = 'zerobus: column "ts": a timestamp in time zone "X" cannot go to the table\'s TIMESTAMP_NTZ column'
    uncoded = from_details({"kind": "conversion", "message": text, "row": -1, "columns": ["ts"]})
    assert zspark._wall_clock_columns(_Checker(uncoded), _NTZ_SCHEMA) == ()  # type: ignore[arg-type]


def test_a_tasks_failure_gives_the_spark_cast_by_the_reason_code() -> None:
    """A task's failure text adds Spark's cast for the columns err.columns names when err.reason is the code."""
    job = zspark._Job.__new__(zspark._Job)
    job.config = WrapperConfiguration(table_name="main.s.t")
    task = zspark._Task(4, 0, 9, None)
    msg = zspark.TaskCommitMessage()
    coded = from_details(
        {
            "kind": "conversion",
            "message": "zerobus: any text",
            "row": -1,
            "reason": "ZONED_TIMESTAMP_INTO_NTZ",
            "columns": ["ts", "at"],
        }
    )
    text = job._failure_text(task, msg, coded)
    assert 'F.col("ts").cast("timestamp_ntz"), F.col("at").cast("timestamp_ntz")' in text
    plain = from_details({"kind": "conversion", "message": 'zerobus: column "ts" (timestamp[us]): x', "row": -1})
    assert "timestamp_ntz" not in job._failure_text(task, msg, plain)


def _check_text(err: Exception, schema: StructType) -> str:
    with pytest.raises(ZerobusError) as info:
        zspark._check_schema(_Checker(err), schema, _NTZ_SCHEMA)  # type: ignore[arg-type]
    return str(info.value)


def test_the_driver_check_names_spark_types_of_err_columns_only() -> None:
    """The Spark types added to a refused check are those of the columns the error names (err.columns, paths
    inside a top-level column too), not of every column whose quoted name appears in the message."""
    schema = StructType(
        [
            StructField("id", LongType()),
            StructField("ev", StructType([StructField("at", TimestampType())])),
            StructField("tags", ArrayType(LongType())),
        ]
    )
    err = from_details(
        {
            "kind": "conversion",
            "message": 'zerobus: column "ev.at" is bad; "id" and "tags[" are fine',
            "row": -1,
            "columns": ["ev.at"],
        }
    )
    text = _check_text(err, schema)
    assert text.endswith("; Spark types: ev struct<at:timestamp>")
    err = from_details({"kind": "conversion", "message": "zerobus: x", "row": -1, "columns": ["tags[]", "id"]})
    assert _check_text(err, schema).endswith("; Spark types: id bigint, tags array<bigint>")


def test_the_nullability_ways_out_follow_the_servers_cause_not_its_words() -> None:
    schema = StructType([StructField("id", LongType())])
    err = from_details(
        {
            "kind": "transmission",
            "message": "zerobus: the server refused the stream",
            "row": -1,
            "retryable": False,  # as Go sends a schema refusal (INVALID_ARGUMENT)
            "server_causes": ["TYPE_INCOMPATIBLE"],
        }
    )
    assert "all_fields_optional" in _check_text(err, schema)
    err = from_details(
        {"kind": "transmission", "message": "zerobus: optional required nullable", "row": -1, "retryable": False}
    )
    assert "all_fields_optional" not in _check_text(err, schema)


def test_the_inconclusive_check_kinds_are_go_kinds() -> None:
    """The kinds whose failed check only warns are kinds of the Go core's table (a renamed kind fails here)."""
    kinds = {k["kind"] for k in json.loads(_bridge.call(_bridge.native.ErrorKinds))}
    assert kinds >= zspark._CHECK_INCONCLUSIVE
    assert "conversion" not in zspark._CHECK_INCONCLUSIVE and "authentication" not in zspark._CHECK_INCONCLUSIVE
