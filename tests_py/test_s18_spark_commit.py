"""A commit does not wait the whole _ABORT_WAIT for an attempt killed after a later attempt of its partition
committed (a lost worker), and its summary names the partition and the bound of its duplicates (s18 sparkfault L2).
The driver's clock is the test's (_Clock): no Spark session, no real waiting."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from test_spark_reports import NEW, _job, _no_heartbeat_left  # noqa: F401 (the fixture applies here too)
from test_spark_s16 import _Clock

from zerobus_py import spark as zspark


def _committed_job(tmp_path: Path) -> tuple[object, Path, list[zspark.TaskCommitMessage]]:
    job = _job(tmp_path, NEW + "0" * 24, streaming=False)
    d = tmp_path / "r" / job.job_id  # type: ignore[attr-defined]
    d.mkdir(parents=True)
    messages = []
    for p, attempt, tid, rows in ((0, 0, 0, 40), (1, 1, 5, 50)):  # partition 1: attempt 1 committed
        m = zspark.TaskCommitMessage(p, attempt, tid, None, total_rows=rows, durable_rows=rows)
        job._report(zspark._Task(p, attempt, tid, None), m)  # type: ignore[attr-defined]
        messages.append(m)
    return job, d, messages


def test_a_killed_attempt_superseded_by_a_committed_one_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job, d, messages = _committed_job(tmp_path)
    (d / "started-task-p00001-a0-t1").write_text("{}")  # attempt 0 of partition 1, killed: never rewritten
    clock = _Clock(monkeypatch)
    start = clock.now
    with caplog.at_level(logging.INFO, logger="zerobus_py.spark"):
        s = job.finish(list(messages), None, aborted=False)  # type: ignore[attr-defined]
    assert zspark._SILENT <= clock.now - start < zspark._ABORT_WAIT
    assert s.running_attempts == 0
    assert s.killed_superseded_attempts == [
        {"partition": 1, "attempt": 0, "committed_attempt": 1, "max_duplicate_rows": 50}
    ]
    [record] = [r for r in caplog.records if "committed" in r.getMessage()]
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert "partition 1 (attempt 0)" in line and "up to 50 rows" in line, line
    saved = json.loads((d / "summary.json").read_text())
    assert saved["killed_superseded_attempts"] == s.killed_superseded_attempts


def test_a_superseded_attempt_still_beating_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An earlier attempt still sending (its marker rewritten) when its retry commits is waited for until it
    reports, and its durable rows are counted as a failed attempt's."""
    job, d, messages = _committed_job(tmp_path)
    marker = d / "started-task-p00001-a0-t1"
    marker.write_text("{}")
    reported_at = 1000.0 + zspark._SILENT * 2

    def beat(now: float) -> None:
        if now < reported_at:
            os.utime(marker, (now, now))
        elif marker.exists():
            job._report(  # type: ignore[attr-defined]
                zspark._Task(1, 0, 1, None), zspark.TaskCommitMessage(1, 0, 1, None, durable_rows=7, failed=True)
            )

    clock = _Clock(monkeypatch, beat)
    s = job.finish(list(messages), None, aborted=False)  # type: ignore[attr-defined]
    assert clock.now >= reported_at
    assert (s.running_attempts, s.killed_superseded_attempts) == (0, [])
    assert (s.failed_attempts, s.failed_attempt_durable_rows) == (1, 7)
