"""The Spark data source decides on the Go core's error data (err.row, err.columns, err.reason, the kinds' table),
never on its message text."""

from __future__ import annotations

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
