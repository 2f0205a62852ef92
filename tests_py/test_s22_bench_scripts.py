"""Every benchmark script under bench/ runs to the end at a tiny size and prints its figures.

The README's Python figures name these scripts as their commands; nothing else runs them, so an API change broke
``make py-bench`` for a day unnoticed (``bench_python.py`` called ``ZerobusWrapper._handle()`` after it was
removed). Each script runs as a user runs it (``python bench/<script>.py``, a fresh process, against the installed
zerobus_py) with options that make it small; the test checks the numbers it prints (parsed, not timed) and the rows
the scripts check themselves. Timings are never compared with a bound. ``bench/rust-encoder`` is not here: it
needs cargo and crates.io (``make bench-rust-encoder``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# A bound for a hung script, not a speed check (the Spark one starts a JVM twice).
TIMEOUT = 600

#: the scripts this file runs; test_every_bench_script_is_run checks that none is missing
COVERED = {
    "bench_python.py",
    "bench_transports.py",
    "bench_debug.py",
    "bench_extract.py",
    "bench_rss.py",
    "bench_spark.py",
    "cli_startup.py",
}

NUM = r"[-+]?\d[\d,]*(?:\.\d+)?"


def run_script(name: str, *args: str, cwd: Path) -> str:
    """``python bench/<name> args`` from ``cwd`` (not the repository root, so zerobus_py is the installed one);
    its stdout. A failure shows the script's stderr."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.returncode == 0, f"{name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def number(pattern: str, text: str) -> float:
    """The number captured by ``pattern`` (one group matching NUM) in text; fails naming the pattern when absent."""
    m = re.search(pattern, text, re.M)
    assert m, f"no {pattern!r} in:\n{text}"
    return float(m.group(1).replace(",", ""))


def test_every_bench_script_is_run() -> None:
    """A new script under bench/ gets a run here (or this test says which one has none)."""
    assert {p.name for p in BENCH.glob("*.py")} == COVERED


def test_bench_python(tmp_path: Path) -> None:
    rows, rounds, per_round, small = 1000, 1, 1, 5
    out = run_script(
        "bench_python.py",
        *("--rows", str(rows), "--rounds", str(rounds), "--per-round", str(per_round), "--small-iters", str(small)),
        cwd=tmp_path,
    )
    assert number(rf"^reference batch: ({NUM}) rows, 12 columns", out) == rows
    go_ms = number(rf"Go +\(core\.SendReader loop\): median +({NUM}) ms", out)
    py_ms = number(rf"Python \(send_batch\) +: median +({NUM}) ms", out)
    extra = number(rf"Python extra cost +: ({NUM})% of the Go time", out)
    assert go_ms > 0 and py_ms > 0
    # the medians are printed rounded to 0.1 ms, the percentage to 0.1
    tolerance = 100 * (0.05 / go_ms + 0.05 * py_ms / go_ms**2) + 0.06
    assert extra == pytest.approx((py_ms - go_ms) / go_ms * 100, abs=tolerance), out
    assert number(rf"^\s+Go +: median +({NUM}) us", out) > 0
    assert number(rf"^\s+Python : median +({NUM}) us", out) > 0
    # the script counts the rows the server stored: warm-ups (2 + 2), the rounds, the 1-row calls
    expected = (2 + 2 + 2 * rounds * per_round) * rows + 2 * small
    assert number(rf"^server stored ({NUM}) rows", out) == expected, out
    assert number(rf"\(expected ({NUM})\)", out) == expected


def test_bench_transports(tmp_path: Path) -> None:
    rows = 1000
    out = run_script("bench_transports.py", "--rows", str(rows), "--rounds", "1", "--per-round", "1", cwd=tmp_path)
    medians = {
        name: number(rf"{re.escape(name)} *: median +({NUM}) ms", out)
        for name in ("zerobus_py protobuf", "zerobus_py arrow_flight", "official SDK (Flight)")
    }
    assert all(m > 0 for m in medians.values()), out
    ratio = number(rf"arrow_flight vs protobuf : ({NUM})x", out)
    want = medians["zerobus_py protobuf"] / medians["zerobus_py arrow_flight"]
    assert ratio == pytest.approx(want, rel=0.15, abs=0.02), out  # medians printed to 0.1 ms
    assert number(rf"arrow_flight vs official SDK: ({NUM})x", out) > 0
    # 1 warm-up + 1 round x 1 send per path, each table counted on the server by the script
    assert number(rf"^every table holds its ({NUM}) rows", out) == 2 * rows


def test_bench_debug(tmp_path: Path) -> None:
    rows = 1000
    out = run_script("bench_debug.py", "--rows", str(rows), "--rounds", "1", "--per-round", "1", cwd=tmp_path)
    assert number(rf"Python send_batch, ({NUM}) reference rows, 1 rounds x 1 sends per mode", out) == rows
    for mode in ("off", "off2", "on"):
        assert number(rf"debug {mode} *: median +({NUM}) ms wall", out) > 0
    assert number(rf"on/off +: wall x({NUM})", out) > 0
    assert number(rf"off2/off : wall x({NUM})", out) > 0
    assert number(rf"debug writes dropped: ({NUM});", out) == 0
    # 2 sends with debug on (warm-up + 1): both files hold every row, ~300 B a row
    assert number(rf"bytes written: ({NUM})", out) > 2 * rows * 100, out


def test_bench_extract(tmp_path: Path) -> None:
    rows = 20_000
    out = run_script("bench_extract.py", "--rows", str(rows), "--ranges", "4", "--repeat", "1", cwd=tmp_path)
    assert number(rf"^({NUM}) failed rows in 4 ranges of a ({NUM})-row batch", out) == rows
    # the 4 runs are separated by one successful row, and 1000 successful rows follow them
    assert number(rf"in 4 ranges of a ({NUM})-row batch", out) == rows + 3 + 1000
    kinds = ["table", "pandas"]
    for kind in kinds:
        ranges = number(rf"{kind} +ranges +best .* peak Python allocations +({NUM}) MB", out)
        listed = number(rf"{kind} +list +best .* peak Python allocations +({NUM}) MB", out)
        # a Python list of 20,000 indices alone is over 0.5 MB; ranges build no list
        assert listed > ranges and listed > 0.5, out
        assert number(rf"{kind} +list/ranges median time ({NUM})x", out) > 0
    assert number(rf"table +ranges +best .* peak Python allocations +({NUM}) MB", out) < 0.05, out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS from wait4 and /proc/self: Linux only")
def test_bench_rss(tmp_path: Path, zerobus_cli: Path) -> None:
    """The make py-bench-rss table on a ~1 MB file: each reader reads and each sender sends every row of it."""
    out = run_script(
        "bench_rss.py",
        *("--path", str(tmp_path / "small.parquet"), "--gb", "0.001", "--group-rows", "4096"),
        *("--zerobus", str(zerobus_cli)),
        cwd=tmp_path,
    )
    rows = int(number(rf"GB, ({NUM}) rows, ", out))
    assert rows % 4096 == 0 and rows >= 4096, out
    for what in (
        "iterate (pre_buffer=1)",
        "iterate (pre_buffer=0)",
        "send_batch(ParquetFile, pre_buffer=1)",
        "send_batch(ParquetFile, pre_buffer=0)",
        "python -m zerobus_py send",
        "zerobus send (Go CLI)",
    ):
        assert number(rf"^{re.escape(what)} +({NUM}) MiB", out) > 0
    # the last column is each child's own output: the rows it read or sent
    assert number(rf"^iterate \(pre_buffer=1\) .* ({NUM})$", out) == rows
    assert number(rf"^send_batch\(ParquetFile, pre_buffer=0\) .* ({NUM}) {NUM}$", out) == rows


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS from /proc/self: Linux only")
def test_bench_rss_growth(tmp_path: Path, zerobus_cli: Path) -> None:
    out = run_script("bench_rss.py", "--growth", "--growth-gb", "0.02", "--zerobus", str(zerobus_cli), cwd=tmp_path)
    sent = number(rf"^send_batch\(reader\): ({NUM}) rows", out)
    assert sent > 0 and sent % 65536 == 0, out  # whole 64 Ki-row batches
    growth = number(rf"growth ({NUM}) MiB", out)
    windows = number(rf"= ({NUM})x the 64 MiB window", out)
    assert windows == pytest.approx(growth / 64, abs=0.01), out


def test_bench_rss_builds_the_cli_of_this_checkout(tmp_path: Path) -> None:
    """Without --zerobus, bench_rss.py measures a binary built from this checkout whatever is left at its path (it
    reused /tmp/zerobus-bench-bin, from whichever checkout built it first)."""
    sys.path.insert(0, str(BENCH))
    try:
        import bench_rss
    finally:
        sys.path.remove(str(BENCH))
    target = ROOT / ".bin" / ("zerobus-bench.exe" if os.name == "nt" else "zerobus-bench")
    target.parent.mkdir(exist_ok=True)
    # a Go binary from another build at the path (as a checkout of another commit leaves it)
    other = tmp_path / "other.go"
    other.write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("another build") }\n')
    go = os.environ.get("GO", "go")
    target.unlink(missing_ok=True)
    subprocess.run([go, "build", "-o", str(target), str(other)], cwd=tmp_path, check=True, timeout=600)
    assert subprocess.run([str(target)], capture_output=True, text=True, timeout=60).stdout == "another build\n"
    built = Path(bench_rss.go_cli(""))
    assert built == target
    version = subprocess.run([str(built), "version"], capture_output=True, text=True, timeout=60, check=True)
    assert "another build" not in version.stdout and "zerobus" in version.stdout + version.stderr, version
    assert Path(bench_rss.go_cli(str(tmp_path / "given"))) == tmp_path / "given"  # an explicit binary as given


@pytest.mark.slow
def test_bench_spark(tmp_path: Path) -> None:
    rows = 8000
    out = run_script("bench_spark.py", "--rows", str(rows), cwd=tmp_path)
    assert number(rf"^({NUM}) rows in 8 Parquet files", out) == rows
    assert number(rf"^Python send_batch, one process +{NUM} +({NUM}) +1\.00x", out) > 0  # rows/s
    for cores in (1, 2):
        assert number(rf"^Spark local\[{cores}\], zerobus data source +({NUM}) ", out) > 0
        assert number(rf"^Spark local\[{cores}\], zerobus data source +{NUM} +{NUM} +({NUM})x", out) > 0
        assert number(rf"^Spark local\[{cores}\], .*session start \+ warm-up write ({NUM}) s", out) > 0
    # the script asserts server.record_count == rows for each write: it would have exited non-zero


@pytest.mark.skipif(sys.platform == "win32", reason="CPU time of children from the resource module: POSIX only")
def test_cli_startup(tmp_path: Path, zerobus_cli: Path) -> None:
    out = run_script("cli_startup.py", sys.executable, str(zerobus_cli), "--rounds", "1", cwd=tmp_path)
    names = [
        "a: python -m zerobus_py -h (in-process)",
        "b: Go binary -h",
        "b': Python script running the binary -h",
        "python -c pass (the interpreter alone)",
    ]
    for name in names:
        assert number(rf"^{re.escape(name)} +wall median +({NUM}) ms", out) >= 0
    assert len(out.splitlines()) == len(names), out
