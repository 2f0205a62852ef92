"""The Spark data source's debug files: every task attempt writes into a directory of its own under
``debug_output_dir``, so retention (``debug_max_files_retained``) never deletes another task's files and every
partition's rows are found in the debug files after the job (s18 sparkfault M1).

One small SparkSession (local[2]); Arrow batches of 250 rows, so each task writes several batches and, with a
1-byte ``debug_max_file_size``, rotates a file at each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from zerobus_py import debug
from zerobus_py.local import LocalServer
from zerobus_py.spark import ZerobusDataSource

PARTITIONS, PER_PARTITION, RETAINED = 4, 2000, 10


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture(scope="module")
def spark(server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    log = tmp_path_factory.mktemp("spark") / "jvm.log"
    # The JVM inherits fds 1 and 2 and the working directory (its Python workers must import the installed
    # zerobus_py, not the source tree's): both pointed elsewhere while it starts.
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = os.dup(1), os.dup(2)
    cwd = os.getcwd()
    os.chdir(log.parent)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("zerobus-s18-debug")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "250")
            .config("spark.executorEnv.ZEROBUS_CLIENT_SECRET", server.client_secret)
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


def test_every_partitions_rows_are_in_the_debug_files(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.s18.debugfiles"
    n = PARTITIONS * PER_PARTITION
    df = spark.range(0, n, numPartitions=PARTITIONS).select("id", F.concat(F.lit("u"), F.col("id")).alias("name"))
    (
        df.write.format("zerobus")
        .mode("append")
        .option("endpoint", server.endpoint)
        .option("unity_catalog_url", server.workspace_url)
        .option("client_id", server.client_id)
        .option("table_name", table)
        .option("debug_arrow_enabled", "true")
        .option("debug_output_dir", str(tmp_path))
        .option("debug_max_file_size", "1")
        .option("debug_max_files_retained", str(RETAINED))
        .save()
    )
    stored = np.sort(server.table(table).column("id").to_numpy())
    np.testing.assert_array_equal(stored, np.arange(n))

    files = debug.list_files(tmp_path)
    # more files than one writer retains: one shared lineage would have lost some
    assert len(files) > RETAINED, files
    # <dir>/<job id>/task-p<partition>-a<attempt>-t<id>/zerobus/arrow/<table>...arrow
    by_task: dict[str, list[Path]] = {}
    for f in files:
        rel = f.relative_to(tmp_path).parts
        assert len(rel) == 5 and rel[2:4] == ("zerobus", "arrow"), f
        by_task.setdefault(rel[1], []).append(f)
    assert len({f.relative_to(tmp_path).parts[0] for f in files}) == 1  # one job directory
    assert sorted(t.split("-")[1] for t in by_task) == [f"p{p:05d}" for p in range(PARTITIONS)], sorted(by_task)
    all_ids: list[int] = []
    for task, task_files in sorted(by_task.items()):
        p = int(task.split("-")[1][1:])
        assert len(task_files) > 1, (task, task_files)  # the task rotated files
        ids = sorted(i for f in task_files for i in debug.read_file(f).column("id").to_pylist())
        assert ids == list(range(p * PER_PARTITION, (p + 1) * PER_PARTITION)), task
        all_ids += ids
    assert sorted(all_ids) == list(range(n))
