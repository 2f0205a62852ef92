"""The Spark sink's report directory and quarantine probe, driven directly (no Spark job, no server)."""

from __future__ import annotations

import os
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

zspark = pytest.importorskip("zerobus_py.spark", reason="pyspark is not installed")

OLD, NEW = "aaaaaaaa", "bbbbbbbb"


@pytest.fixture(autouse=True)
def _no_heartbeat_left() -> Iterator[None]:
    """A heartbeat a test leaves running rewrites its marker for the rest of the session (and brings back the
    marker _report deleted, in another test's directory): each test stops the heartbeats it starts (test_spark_s16.py
    uses it too)."""
    yield
    assert not [t for t in threading.enumerate() if t.name == "zerobus-task-heartbeat"]


def _job(tmp_path: Path, run_id: str, *, streaming: bool = True) -> Any:
    """A _Job with only what the report functions use (its constructor checks the table on a server)."""
    job = object.__new__(zspark._Job)
    job.report_path = str(tmp_path / "r")
    job.job_id = "q0123456789abcdef"
    job.run_id = run_id
    job.streaming = streaming
    job.stable = True
    job.quarantine_path = None
    job.config = types.SimpleNamespace(table_name="main.s16.t")
    return job


def _touch(d: Path, name: str, age: float = 0.0) -> None:
    (d / name).write_text("{}")
    if age:
        t = time.time() - age
        os.utime(d / name, (t, t))


def _batch_dir(tmp_path: Path) -> Path:
    d = tmp_path / "r" / "q0123456789abcdef" / "batch-7"
    d.mkdir(parents=True)
    return d


def test_a_streaming_abort_ignores_an_earlier_runs_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Micro-batch 7 re-runs after a restart (new planning NEW) in the directory of its first run (OLD), whose
    attempt of partition 0 died with the old driver (a marker, never a report) and whose partition 1 reported.
    The abort of the re-run (every task failed: no commit message; partition 0's attempt reported, partition 1's
    has not started) used to count OLD's marker as a running attempt (waiting the whole _ABORT_WAIT) and OLD's
    report as partition 1 present. The aborting writer is another _Job (another run id) than the planner."""
    d = _batch_dir(tmp_path)
    _touch(d, f"started-task-p00000-a0-t11-r{OLD}", age=3600)
    _touch(d, f"started-task-p00001-a0-t12-r{OLD}", age=3600)
    _touch(d, f"task-p00001-a0-t12-r{OLD}.json", age=3600)
    _touch(d, f"task-p00000-a0-t21-r{NEW}.json")
    waits: list[float] = []
    monkeypatch.setattr(zspark, "_pause", waits.append)
    monkeypatch.setattr(zspark, "_ABORT_WAIT", 0.0)  # the answer after the first listing
    job = _job(tmp_path, "cccccccc" + "0" * 24)
    assert job._attempt_files(7, [None, None]) == {f"task-p00000-a0-t21-r{NEW}.json"}
    assert job._await_reports(7, [None, None], True) == (0, 1)  # (running attempts, partitions without a report)

    # A commit message names the planning, whatever the files' times (here OLD's are the newest)
    msg = zspark.TaskCommitMessage(1, 0, 22, 7, job_id=job.job_id, run_id=NEW + "0" * 24)
    _touch(d, f"started-task-p00001-a0-t22-r{NEW}")  # partition 1 committed; its report not yet listed
    _touch(d, f"started-task-p00002-a0-t23-r{NEW}")  # partition 2 still sending
    for n in os.listdir(d):
        if OLD in n:
            _touch(d, n, age=-3600)
    got = job._attempt_files(7, [None, msg, None])
    assert got == {
        f"task-p00000-a0-t21-r{NEW}.json",
        f"started-task-p00001-a0-t22-r{NEW}",
        f"started-task-p00002-a0-t23-r{NEW}",
    }
    assert job._await_reports(7, [None, msg, None], True) == (2, 0)
    assert not waits


def test_a_batch_jobs_attempt_files_are_all_its_own(tmp_path: Path) -> None:
    """A batch job's directory is its own (the job id is the run id): nothing is filtered."""
    job = _job(tmp_path, "dddddddd" + "0" * 24, streaming=False)
    d = tmp_path / "r" / job.job_id
    d.mkdir(parents=True)
    _touch(d, "started-task-p00000-a0-t1")
    _touch(d, "task-p00000-a0-t1.json")
    _touch(d, "started-task-p00001-a0-t2")
    assert job._attempt_files(None, [None, None]) == set(os.listdir(d))


@pytest.mark.parametrize("streaming", [True, False])
def test_the_start_marker_goes_once_the_report_is_written(tmp_path: Path, streaming: bool) -> None:
    """An attempt's start marker used to stay beside its report for good (two files per attempt); only a marker
    without a report means anything (an attempt still running), so the marker is deleted after the report."""
    job = _job(tmp_path, NEW + "0" * 24, streaming=streaming)
    task = zspark._Task(3, 1, 42, 7)
    other = zspark._Task(4, 0, 43, 7)
    with job._mark_started(other):
        with job._mark_started(task):
            d = Path(job._report_dir(7))
            suffix = f"-r{NEW}" if streaming else ""
            want = [f"started-task-p00003-a1-t42{suffix}", f"started-task-p00004-a0-t43{suffix}"]
            assert sorted(os.listdir(d)) == want
        # stopped before the report, as write() does: no rewrite brings the marker back
        job._report(task, zspark.TaskCommitMessage(3, 1, 42, 7, job_id=job.job_id, run_id=job.run_id))
        assert sorted(os.listdir(d)) == [f"started-task-p00004-a0-t43{suffix}", f"task-p00003-a1-t42{suffix}.json"]
    assert [(r.partition, r.task_attempt_id) for r in job.reports(7)] == [(3, 42)]


class _FailingWrites:
    """A local file system whose output streams are created and then fail to write (disk full, quota)."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create_dir(self, path: str, recursive: bool = True) -> None:
        os.makedirs(path, exist_ok=True)

    def open_output_stream(self, path: str) -> Any:
        created = self.created

        class Stream:
            def __enter__(self) -> Stream:
                Path(path).write_bytes(b"")
                created.append(path)
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def write(self, data: bytes) -> int:
                raise OSError(28, "No space left on device")

        return Stream()

    def delete_file(self, path: str) -> None:
        os.remove(path)


def test_a_failed_quarantine_probe_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quarantine probe's file, created and then not written, used to stay in the directory (one per
    attempt); the probe's error is still raised."""
    fs = _FailingWrites()
    monkeypatch.setattr(zspark, "_path_fs", lambda path: (fs, os.path.abspath(path)))
    with pytest.raises(OSError, match="No space left"):
        zspark._probe_dir(str(tmp_path / "q"))
    assert len(fs.created) == 1 and Path(fs.created[0]).name.startswith("_zerobus-probe-")
    assert os.listdir(tmp_path / "q") == []


def test_a_quarantine_probe_leaves_no_file(tmp_path: Path) -> None:
    zspark._probe_dir(str(tmp_path / "q"))
    assert os.listdir(tmp_path / "q") == []


def test_a_commit_waits_for_the_report_of_an_attempt_still_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spark failed attempt 0 of partition 0 (an upstream UDF raised) and its retry committed while attempt 0's
    writer was still sending: the commit's summary missed the rows attempt 0 made durable (CI, s15). A commit now
    waits for the report of each attempt that started and has not reported, as an abort does."""
    job = _job(tmp_path, "eeeeeeee" + "0" * 24, streaming=False)
    job.stable, job.quarantine_path = True, None
    d = tmp_path / "r" / job.job_id
    d.mkdir(parents=True)
    _touch(d, "started-task-p00000-a0-t1")  # attempt 0 of partition 0: still sending
    late = zspark.TaskCommitMessage(0, 0, 1, None, job_id=job.job_id, run_id=job.run_id, durable_rows=27_000)
    commits = [
        zspark.TaskCommitMessage(0, 1, 3, None, job_id=job.job_id, run_id=job.run_id, durable_rows=100),
        zspark.TaskCommitMessage(1, 0, 2, None, job_id=job.job_id, run_id=job.run_id, durable_rows=100),
    ]
    for m in commits:
        job._report(zspark._Task(m.partition, m.attempt, m.task_attempt_id, None), m)

    def attempt_zero_reports(_: float) -> None:  # while the commit waits, attempt 0 finishes and reports
        job._report(zspark._Task(0, 0, 1, None), late)

    monkeypatch.setattr(zspark, "_pause", attempt_zero_reports)
    s = job.finish(list(commits), None, False)
    assert (s.failed_attempts, s.failed_attempt_durable_rows, s.running_attempts) == (1, 27_000, 0)
    assert s.durable_rows == 200
