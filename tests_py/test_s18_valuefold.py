"""s18: rows whose conversion errors differ in the row AND in the row's own value (an INT overflow, a float with a
fraction sent into an INT column) were a group each: 1M rows with 500k bad values made 500k groups (176 MB of
JSON, 28 s in send_batch). Go now folds each kind of failure of a column into one group, sent as a message template
and one value text per row; every per-row API still gives each row exactly the message it has on its own."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

N = 20_000
OVER = (
    'zerobus: conversion failed at row {i}, column "n": int64 value {v} is over the INT maximum 2147483647; '
    "filter or correct the row, or give the table's column a wider type"
)
UNDER = (
    'zerobus: conversion failed at row {i}, column "n": int64 value {v} is under the INT minimum -2147483648; '
    "filter or correct the row, or give the table's column a wider type"
)
FRACTION = (
    'zerobus: conversion failed at row {i}, column "f": float64 value {v} is not a whole number (the table\'s '
    "column is INT, and the value is not rounded); round or filter the row, or declare the table's column DOUBLE"
)


def _data() -> tuple[pa.Table, dict[int, tuple[str, str]]]:
    """The batch and, for each row that fails, its column and message (as the row has it on its own): n over
    INT's maximum on even rows, under its minimum on rows 5 mod 10, f with a fraction on rows 1 mod 6 (when n
    fits)."""
    n = np.arange(N, dtype=np.int64)
    f = np.arange(N, dtype=np.float64)
    want: dict[int, tuple[str, str]] = {}
    for i in range(N):
        if i % 2 == 0:
            n[i] = 2**31 + i * 7
            want[i] = ("n", OVER.format(i=i, v=int(n[i])))
        elif i % 10 == 5:
            n[i] = -(2**31) - i
            want[i] = ("n", UNDER.format(i=i, v=int(n[i])))
        elif i % 6 == 1:
            f[i] = i + 0.5
            want[i] = ("f", FRACTION.format(i=i, v=repr(float(f[i]))))
    return pa.table({"id": np.arange(N, dtype=np.int64), "n": n, "f": f}), want


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_value_errors_fold_and_every_row_keeps_its_message(
    server: LocalServer, table_name: str, transport: str
) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, n INT, f INT")
    batch, want = _data()
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(batch)
    good = [i for i in range(N) if i not in want]
    assert (res.failed_count, res.successful_count, res.not_written_count) == (len(want), len(good), len(want))
    assert sorted(server.table(table_name).column("id").to_pylist()) == good  # what the server stored
    # one group per failure: n over, n under, f with a fraction (not one per row)
    assert len(res._groups) == 3
    for g in res._groups:
        assert g.row_message is not None and len(g.row_message) == 3  # the row and the value as holes
        assert g.row_values is not None and len(g.row_values) == g.count()
    failed = sorted(want)
    errs = res.failed_row_errors
    assert [i for i, _ in errs] == failed
    for i, e in errs:
        col, msg = want[i]
        assert isinstance(e, ConversionError) and e.message == msg and e.row == i and e.column == col, (i, e.message)
    assert res.failed_rows == [(i, "Conversion error: " + want[i][1]) for i in failed]
    assert res.get_failed_row_indices() == failed
    assert res.extract_failed_batch(batch).column("id").to_pylist() == failed
    # one row's exception, asked for alone (its position found from the ranges)
    g = next(g for g in res._groups if g.ranges[0][0] == 1 or (g.ranges[0][0] == 5))
    last = g.ranges[-1][1] - 1
    assert g.error_of(last).message == want[last][1] and g.message_of(last) == want[last][1]
    h = res._repr_html_()
    assert "more rows like it, each naming its row and its own values" in h and len(h) < 10_000
    back = pickle.loads(pickle.dumps(res))
    assert back.failed_rows == res.failed_rows
    assert [(i, e.message) for i, e in back.failed_row_errors] == [(i, want[i][1]) for i in failed]


def test_value_errors_fold_across_reader_batches(server: LocalServer, table_name: str) -> None:
    """A reader's batches are one result: a group runs across them and each row keeps its own message."""
    server.create_table(table_name, "id BIGINT NOT NULL, n INT, f INT")
    table, want = _data()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3_000)))
    assert res.failed_count == len(want) and len(res._groups) == 3
    assert [(i, e.message) for i, e in res.failed_row_errors] == [(i, want[i][1]) for i in sorted(want)]
    assert server.record_count(table_name) == N - len(want)
