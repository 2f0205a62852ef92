"""Issue 14 "must show": progress is called at least once per resolved part, with a correct total, for Tables and
Parquet readers (a ParquetFile, a Dataset, a Scanner); the rows stored are the rows sent.

tests_py/test_progress.py and test_inputs.py check a Table cut in 16 parts and a ParquetFile; a Dataset and a
Scanner were checked only on their last call, and a Table of more batches than 16 parts not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

Calls = list[tuple[int, "int | None"]]


def _check_calls(calls: Calls, total: int, at_least: int) -> None:
    assert len(calls) >= at_least, calls
    assert {t for _, t in calls} == {total}, calls  # the total is known and right on every call
    done = [d for d, _ in calls]
    assert all(0 < a < b for a, b in itertools.pairwise(done)), done  # each call a newly resolved part
    assert done[-1] == total


def test_table_of_many_small_batches_reports_each_batch(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    # 40 batches of 10 rows: more batches than 1/16 parts, so at least one call per input batch
    table = pa.Table.from_batches([id_batch(i * 10, 10) for i in range(40)])
    calls: Calls = []
    res = wrapper.send_batch(table, progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 400 and res.successful_count == 400
    _check_calls(calls, 400, 40)
    assert stored_ids(server, table_name) == list(range(400))


@pytest.mark.parametrize("kind", ["ParquetFile", "Dataset", "Scanner"])
def test_parquet_readers_report_each_sixteenth_with_the_metadata_total(
    tmp_path: Path, wrapper: ZerobusWrapper, server: LocalServer, table_name: str, kind: str
) -> None:
    n = 4000
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, n)]), path, row_group_size=500)
    make: dict[str, Callable[[], object]] = {
        "ParquetFile": lambda: pq.ParquetFile(path),
        "Dataset": lambda: ds.dataset(path),
        "Scanner": lambda: ds.dataset(path).scanner(batch_size=250),  # 16 batches
    }
    calls: Calls = []
    res = wrapper.send_batch(make[kind](), progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == n and res.successful_count == n
    _check_calls(calls, n, 16)
    assert stored_ids(server, table_name) == list(range(n))


def test_filtered_scanner_total_is_the_rows_it_yields(
    tmp_path: Path, wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 3000)]), path, row_group_size=500)
    scanner = ds.dataset(path).scanner(filter=(ds.field("id") >= 1000) & (ds.field("id") < 2500))
    calls: Calls = []
    res = wrapper.send_batch(scanner, progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 1500
    _check_calls(calls, 1500, 4)
    assert stored_ids(server, table_name) == list(range(1000, 2500))
