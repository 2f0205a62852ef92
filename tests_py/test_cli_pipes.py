"""``zerobus send -`` and named pipes, through ``python -m zerobus_py`` and the Go binary alike.

Standard input and pipes are read once, front to back (Arrow IPC streams and CSV): both command lines must give
the same output and exit status, and the local server must store as many rows as the summary says.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "examples" / "data"
TIMEOUT = 120
_SETTING_PREFIXES = ("ZEROBUS_", "DATABRICKS_", "UNITY_CATALOG_", "DEBUG_", "OTLP_", "RETRY_", "OBSERVABILITY_")
_MASKS = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"(duration: +)\S+"), r"\1D"),
    (re.compile(r"(throughput: +).*"), r"\1T"),
    (re.compile(r'"(duration_s|rows_per_s)":[0-9.e+-]+'), r'"\1":0'),
]


def _mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}


def _arrow_stream() -> bytes:
    table = pq.read_table(EVENTS / "events.parquet")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=7)
    return bytes(sink.getvalue().to_pybytes())


def _argvs(zerobus_cli: Path, args: list[str]) -> list[list[str]]:
    return [[sys.executable, "-m", "zerobus_py", *args], [str(zerobus_cli), *args]]


@pytest.mark.parametrize("kind", ["csv", "arrow"])
def test_send_stdin_rows_stored(zerobus_cli: Path, tmp_path: Path, kind: str) -> None:
    data = (EVENTS / "events.csv").read_bytes() if kind == "csv" else _arrow_stream()
    args = ["send", "-local", "-json", "-batch-rows", "10", "-table", "main.pipes.t", "-"]
    ran = []
    for argv in _argvs(zerobus_cli, args):
        p = subprocess.run(argv, cwd=tmp_path, env=_env(), input=data, capture_output=True, timeout=TIMEOUT)
        ran.append((p.returncode, _mask(p.stdout.decode()), _mask(p.stderr.decode())))
        assert p.returncode == 0, (argv, p.stderr)
        summary = json.loads(p.stdout)
        # the server stored every row read from the pipe; rows_total is the rows read
        assert summary["stored_rows"] == summary["rows_sent"] == summary["rows_read"] == summary["rows_total"] == 24, (
            summary
        )
        assert summary["files"] == ["-"] and summary["batches"] == 3, summary
    assert ran[0] == ran[1]


def test_send_stdin_parquet_refused(zerobus_cli: Path, tmp_path: Path) -> None:
    data = (EVENTS / "events.parquet").read_bytes()
    ran = []
    for argv in _argvs(zerobus_cli, ["send", "-dry-run", "-"]):
        p = subprocess.run(argv, cwd=tmp_path, env=_env(), input=data, capture_output=True, timeout=TIMEOUT)
        ran.append((p.returncode, p.stdout, p.stderr))
        assert p.returncode == 2, p.stderr
        assert b"standard input: Parquet cannot be read from a pipe" in p.stderr
        assert b"... > data.parquet && zerobus send [flags] data.parquet" in p.stderr
    assert ran[0] == ran[1]


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes (mkfifo): POSIX only")
def test_send_fifo_rows_stored(zerobus_cli: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    data = (EVENTS / "events.csv").read_bytes()
    args = ["send", "-local", "-json", "-table", "main.pipes.fifo", str(fifo)]
    ran = []
    for argv in _argvs(zerobus_cli, args):

        def feed() -> None:
            with open(fifo, "wb") as f:  # opening waits for the reader
                f.write(data)

        writer = threading.Thread(target=feed)
        writer.start()
        p = subprocess.run(argv, cwd=tmp_path, env=_env(), capture_output=True, timeout=TIMEOUT)
        writer.join(TIMEOUT)
        ran.append((p.returncode, _mask(p.stdout.decode()), _mask(p.stderr.decode())))
        assert p.returncode == 0, (argv, p.stderr)
        summary = json.loads(p.stdout)
        assert summary["stored_rows"] == summary["rows_sent"] == summary["rows_total"] == 24, summary
    assert ran[0] == ran[1]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT: POSIX only")
def test_stalled_pipe_interrupt(zerobus_cli: Path, tmp_path: Path) -> None:
    # The writer sends 24 rows and stalls, the pipe open: the first Ctrl-C stops the read waiting for it, the
    # summary is printed (interrupted, exit 130) and the server holds every row read.
    data = (EVENTS / "events.csv").read_bytes()
    # 4 batches of 6 rows fill the window of batches in flight: the oldest is then accounted ("6 rows so far") and
    # the send reads on, into the stalled pipe
    args = ["send", "-local", "-json", "-progress", "always", "-csv-infer-rows", "10", "-batch-rows", "6", "-"]
    for argv in _argvs(zerobus_cli, args):
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            assert proc.stdin is not None and proc.stderr is not None
            proc.stdin.write(data)
            proc.stdin.flush()  # and not closed: the writer stalls
            os.set_blocking(proc.stderr.fileno(), False)
            seen = b""
            deadline = time.monotonic() + 60
            while not re.search(rb"[1-9][0-9]* rows so far", seen) and time.monotonic() < deadline:
                seen += proc.stderr.read() or b""
                time.sleep(0.02)
            assert re.search(rb"[1-9][0-9]* rows so far", seen), (argv, seen)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 130, (argv, seen)
            out = proc.stdout.read() if proc.stdout else b""
            summary = json.loads(out)
            assert summary["interrupted"] and not summary["grace_expired"], summary
            assert summary["stored_rows"] == summary["rows_sent"] == summary["rows_read"] == 24, summary
            assert summary["rows_total"] is None, summary  # the pipe was not read to its end
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
