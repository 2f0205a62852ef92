"""Session 20 (sparkfix, with the pybind log-attributes patch): every log record of a Spark task's wrapper carries
the task (job, partition, attempt, task attempt id), so the lines of tasks sharing ``log_file`` (or an executor's
log) can be told apart (s18 sparkfault L1: 98 interleaved lines of 16 tasks with no partition). The session and
server are test_spark.py's."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from test_spark import jvm_log, options, server, spark, stored_ids, summaries

from zerobus_py.local import LocalServer

__all__ = ["jvm_log", "server", "spark"]  # fixtures, used by name


def test_every_task_log_line_names_its_task(spark: SparkSession, server: LocalServer, tmp_path: Path) -> None:
    table = "main.s20.logattrs"
    partitions, n = 4, 4_000
    log_file = tmp_path / "zerobus.log"
    reports = tmp_path / "reports"
    df = spark.range(0, n, numPartitions=partitions).select("id", F.concat(F.lit("l-"), F.col("id")).alias("name"))
    o = options(server, table, report_path=reports, log_file=log_file, log_level="debug")
    df.write.format("zerobus").mode("append").options(**o).save()
    assert stored_ids(server, table).tolist() == list(range(n))

    [s] = summaries(reports)
    tasks = {r["partition"]: r for r in (json.loads(p.read_text()) for p in reports.glob("*/task-*.json"))}
    assert sorted(tasks) == list(range(partitions))
    lines = [json.loads(x) for x in log_file.read_text().splitlines()]
    created = [x for x in lines if x["msg"] == "zerobus wrapper created"]
    # the driver's schema check (no task) and one wrapper per task attempt
    of_tasks = [x for x in created if "spark_partition" in x]
    assert len(created) == partitions + 1 and len(of_tasks) == partitions, created
    for x in of_tasks:
        r = tasks[x["spark_partition"]]
        assert (x["spark_job_id"], x["spark_attempt"], x["spark_task_attempt_id"]) == (
            s["job_id"],
            r["attempt"],
            r["task_attempt_id"],
        ), x
        assert "spark_batch_id" not in x
    # every line a task's wrapper logged names it: lines with a partition are only those of the four tasks
    tagged = [x for x in lines if "spark_partition" in x]
    assert {x["spark_partition"] for x in tagged} == set(range(partitions))
    assert all(x["spark_job_id"] == s["job_id"] for x in tagged)
    assert len(tagged) > len(of_tasks)  # stream opened / closed lines too, not only the creation
