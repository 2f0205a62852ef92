"""One command line: ``python -m zerobus_py`` runs the Go CLI (package ``cli``) in-process.

The same argument lists go through ``python -m zerobus_py`` and through the Go binary (``go build ./cmd/zerobus``,
once per session); stdout, stderr (timings and ports masked) and exit statuses must be identical. Where a send
happens, the rows the local server stored are checked too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "examples" / "data"
TIMEOUT = 120

# Settings a developer may have exported change what `send` does; both sides run as in a fresh shell.
_SETTING_PREFIXES = ("ZEROBUS_", "DATABRICKS_", "UNITY_CATALOG_", "DEBUG_", "OTLP_", "RETRY_", "OBSERVABILITY_")


@dataclass
class Ran:
    code: int
    out: str
    err: str


_MASKS = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"(duration: +)\S+"), r"\1D"),
    (re.compile(r"(throughput: +).*"), r"\1T"),
    (re.compile(r'"(duration_s|rows_per_s)":[0-9.e+-]+'), r'"\1":0'),
    (re.compile(r"client secret: +\S+"), "client secret: S"),
]


def mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


class Both:
    """Runs one argument list through both command lines in the same directory and environment."""

    def __init__(self, go_cli: Path, cwd: Path) -> None:
        self.go_cli = go_cli
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}

    def _run(self, argv: list[str], env: dict[str, str]) -> Ran:
        p = subprocess.run(argv, cwd=self.cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        return Ran(p.returncode, p.stdout, p.stderr)

    def run(self, *args: str, env: dict[str, str] | None = None) -> Ran:
        """Run args through both; assert identical masked results; return the Python one."""
        e = dict(self.env, **(env or {}))
        py = self._run([sys.executable, "-m", "zerobus_py", *args], e)
        go = self._run([str(self.go_cli), *args], e)
        assert (py.code, mask(py.out), mask(py.err)) == (go.code, mask(go.out), mask(go.err)), args
        return py


@pytest.fixture
def both(zerobus_cli: Path, tmp_path: Path) -> Both:
    # The sample data and an Arrow IPC copy of it, in a scratch directory (the cwd of both runs).
    for name in ("events.parquet", "events.csv"):
        shutil.copy(EVENTS / name, tmp_path / name)
    table = pq.read_table(tmp_path / "events.parquet")
    with pa.OSFile(str(tmp_path / "events.arrow"), "wb") as f, pa.ipc.new_file(f, table.schema) as w:
        w.write_table(table, max_chunksize=10)
    return Both(zerobus_cli, tmp_path)


INPUTS = ["events.parquet", "events.csv", "events.arrow"]


@pytest.mark.parametrize("name", INPUTS)
def test_send_dry_run(both: Both, name: str) -> None:
    r = both.run("send", "-dry-run", name)
    assert r.code == 0, r.err
    assert f"converted (-dry-run, nothing sent) {name} to main.default.zerobus_send" in r.out
    assert re.search(r"converted: +24 of 24\n", r.out), r.out


@pytest.mark.parametrize("name", INPUTS)
def test_send_local_rows_stored(both: Both, name: str) -> None:
    r = both.run("send", "-local", name)
    assert r.code == 0, r.err
    assert "local server: table main.default.zerobus_send holds 24 rows" in r.out, r.out
    # flags after the file, double dashes, and the JSON summary
    r = both.run("send", name, "--local", "--json", "--table", "main.parity.t")
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["stored_rows"] == summary["rows_sent"] == 24 and summary["success"], summary
    assert summary["table"] == "main.parity.t" and summary["rows_failed"] == 0


def test_malformed_inputs(both: Both) -> None:
    (both.cwd / "bad.csv").write_text("id,name\n1,a\n2,b,extra\n3,c\n")
    r = both.run("send", "-local", "bad.csv")
    assert r.code == 1
    assert "bad.csv: reading CSV row 1: record on line 3: wrong number of fields" in r.err, r.err
    assert r.out == "", r.out  # rejected before anything is sent, not mangled into rows
    # a malformed row after the type sample: the batches before it are sent (one, so the rows `send -local` lists
    # land in one order), the run stops there
    (both.cwd / "late.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(50)) + '50,"open\n')
    r = both.run("send", "-local", "-csv-infer-rows", "10", "-batch-rows", "40", "late.csv")
    assert r.code == 1
    assert "zerobus send: late.csv: reading CSV row 50: " in r.err, r.err
    assert 'extraneous or missing " in quoted-field' in r.err, r.err
    assert "holds 40 rows" in r.out, r.out

    good = (both.cwd / "events.parquet").read_bytes()
    (both.cwd / "corrupt.parquet").write_bytes(good[:4] + bytes(len(good) - 8) + good[-4:])
    r = both.run("send", "-dry-run", "corrupt.parquet")
    assert r.code == 1 and r.out == "", r.out
    assert r.err.startswith("zerobus send: corrupt.parquet: not a readable Parquet file"), r.err

    r = both.run("send", "-dry-run", "missing.arrow")
    assert (r.code, r.out) == (2, "")
    assert r.err == "zerobus send: missing.arrow: no such file\nrun 'zerobus send -h' for usage\n"


def test_help_usage_and_suggestions(both: Both) -> None:
    for args in (["local", "-h"], ["send", "-h"], ["send", "--help"], ["help"], ["debug", "read", "-h"]):
        r = both.run(*args)
        assert r.code == 0 and r.err == "" and "usage: zerobus" in r.out, args
    r = both.run("send", "-dryrun", "events.csv")
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        'zerobus send: flag provided but not defined: -dryrun; did you mean "-dry-run"?\n'
        "run 'zerobus send -h' for usage\n"
    )
    r = both.run("sned", "events.csv")
    assert (r.code, r.out) == (2, "")
    assert r.err.splitlines()[0] == 'zerobus: unknown command "sned"; did you mean "send"?'


def test_debug_read_and_version(both: Both) -> None:
    dbg = {"DEBUG_ENABLED": "true", "DEBUG_OUTPUT_DIR": "dbg"}
    r = both.run("send", "-local", "events.parquet", env=dbg)  # both write the same debug files (rotated names)
    assert r.code == 0, r.err
    protos = sorted((both.cwd / "dbg").rglob("*.proto"))
    arrows = sorted((both.cwd / "dbg").rglob("*.arrow"))
    assert protos and arrows
    r = both.run("debug", "read", str(protos[0].relative_to(both.cwd)))
    assert r.code == 0
    assert [int(json.loads(line)["id"]) for line in r.out.splitlines()] == list(range(1, 25))
    r = both.run("debug", "read", "-format", "table", "-limit", "3", str(arrows[0].relative_to(both.cwd)))
    assert r.code == 0 and len(r.out.splitlines()) == 4, r.out

    r = both.run("version")
    assert r.code == 0 and r.out.startswith("zerobus-wrapper ") and r.err == ""


def _read_until(proc: subprocess.Popen[bytes], seen: bytes, text: bytes) -> bytes:
    """stderr read so far (non-blocking) until it holds text; fails after 60 s."""
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while text not in seen and time.monotonic() < deadline:
        seen += proc.stderr.read() or b""
        time.sleep(0.02)
    assert text in seen, (proc.args, seen)
    return seen


def _interrupt_twice(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        seen = _read_until(proc, b"", b"rows")  # the progress bar: sending has started
        proc.send_signal(signal.SIGINT)
        seen = _read_until(proc, seen, b"interrupted: finishing the batches in flight (Ctrl-C again to quit at once)")
        time.sleep(0.3)
        assert proc.poll() is None, (argv, seen)  # still waiting for the acknowledgements
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130, (argv, seen)
        # Before quitting, both say what is known: nothing acknowledged, the rows in flight unknown.
        seen += proc.stderr.read() or b""
        assert b"zerobus send: quit at once: 0 rows acknowledged" in seen, (argv, seen)
        assert b"(unknown: they may be stored)" in seen, (argv, seen)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT: POSIX only")
def test_second_interrupt_quits_at_once(both: Both) -> None:
    # A server that never acknowledges in time: the first Ctrl-C waits for the batches in flight, the second quits.
    from zerobus_py.local import LocalServer

    with LocalServer(ack_delay_ms=600_000) as server:
        cfg = both.cwd / "stalled.yaml"
        cfg.write_text(
            f"endpoint: {server.endpoint}\nunity_catalog_url: {server.workspace_url}\n"
            f"client_id: {server.client_id}\nclient_secret: {server.client_secret}\n"
        )
        args = ["send", "-config", str(cfg), "-table", "main.parity.stalled", "-progress", "always", "events.csv"]
        _interrupt_twice([sys.executable, "-m", "zerobus_py", *args], both.cwd, both.env)
        _interrupt_twice([str(both.go_cli), *args], both.cwd, both.env)
