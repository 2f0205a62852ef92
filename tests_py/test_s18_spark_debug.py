"""The Spark data source's debug files: every task attempt writes into a directory of its own under
``debug_output_dir``, so retention (``debug_max_files_retained``) never deletes another task's files and every
partition's rows are found in the debug files after the job (s18 sparkfault M1).

The session and server are test_spark.py's (a module with a session of its own left its builder options and the
JVM's output file to the later Spark modules: s19). Arrow batches of 250 rows (set for this test only), so each
task writes several batches and, with a 1-byte ``debug_max_file_size``, rotates a file at each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from test_spark import jvm_log, options, server, spark, stored_ids

from zerobus_py import debug
from zerobus_py.local import LocalServer

__all__ = ["jvm_log", "server", "spark"]  # fixtures, used by name

PARTITIONS, PER_PARTITION, RETAINED = 4, 2000, 10
_BATCH_ROWS = "spark.sql.execution.arrow.maxRecordsPerBatch"


def test_every_partitions_rows_are_in_the_debug_files(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.s18.debugfiles"
    n = PARTITIONS * PER_PARTITION
    df = spark.range(0, n, numPartitions=PARTITIONS).select("id", F.concat(F.lit("u"), F.col("id")).alias("name"))
    o = options(
        server,
        table,
        debug_arrow_enabled="true",
        debug_output_dir=tmp_path,
        debug_max_file_size=1,
        debug_max_files_retained=RETAINED,
    )
    spark.conf.set(_BATCH_ROWS, "250")
    try:
        df.write.format("zerobus").mode("append").options(**o).save()
    finally:
        spark.conf.unset(_BATCH_ROWS)
    np.testing.assert_array_equal(stored_ids(server, table), np.arange(n))

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
