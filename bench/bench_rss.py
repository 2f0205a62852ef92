"""Peak memory of sending a large Parquet file vs just reading it with pyarrow.

Generates (once) a Parquet file of at least ``--gb`` GB in /tmp, starts the Go
local server in its own process (``zerobus local -max-rows``, so the server's
memory is not counted) and runs, each in a fresh Python process whose peak RSS
is taken from ``wait4``:

* ``iterate``: ``pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches())``
  read to the end (the baseline), with pyarrow's default ``pre_buffer=True`` and
  with ``pre_buffer=False`` (which reads ahead much less);
* ``send_batch``: ``ZerobusWrapper.send_batch(pq.ParquetFile(path, pre_buffer=...), progress=...)``;
* ``cli``: ``python -m zerobus_py send FILE`` (the Go CLI run in-process through the extension);
* ``go cli``: ``zerobus send FILE`` (the Go CLI).

Run: ``make py-bench-rss`` (not part of ``make test``: generating the file takes
about a minute and each send several). Numbers go to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TABLE = "main.bench.rss"
ROWS_PER_GROUP = 512 << 10


def generate(path: Path, gb: float, group_rows: int = ROWS_PER_GROUP) -> None:
    """Rows of about 190 bytes (a 128-byte random payload, incompressible), in
    row groups of ``group_rows`` rows (512 Ki), until the file is ``gb`` GB."""
    rng = np.random.default_rng(7)
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("name", pa.string()),
            ("x", pa.float64()),
            ("payload", pa.binary()),
        ]
    )
    tmp = path.with_suffix(".tmp")
    start = 0
    with pq.ParquetWriter(tmp, schema) as w:
        while not tmp.exists() or tmp.stat().st_size < gb * 1e9:
            n = group_rows
            i = np.arange(start, start + n, dtype=np.int64)
            payload = rng.integers(0, 256, size=n * 128, dtype=np.uint8).tobytes()
            offsets = pa.array(np.arange(n + 1, dtype=np.int32) * 128).buffers()[1]
            payloads = pa.BinaryArray.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(payload)])
            table = pa.table(
                {
                    "id": i,
                    "ts": pa.array(1_700_000_000_000_000 + i * 1000, pa.timestamp("us", tz="UTC")),
                    "name": pa.array([f"user-{k:010d}@example.com" for k in range(start, start + n)]),
                    "x": i * 0.5,
                    "payload": payloads,
                },
                schema=schema,
            )
            w.write_table(table, row_group_size=n)
            start += n
    tmp.rename(path)


CHILD_ITERATE = """
import sys, pyarrow as pa, pyarrow.parquet as pq
pf = pq.ParquetFile(sys.argv[1], pre_buffer=sys.argv[2] == "1")
reader = pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches())
rows = 0
for b in reader:
    rows += b.num_rows
print(rows)
"""

CHILD_SEND = """
import sys, pyarrow.parquet as pq
from zerobus_py import WrapperConfiguration, ZerobusWrapper
path, pre_buffer, endpoint, workspace, cid, secret, table = sys.argv[1:8]
calls = []
cfg = WrapperConfiguration(endpoint, table, client_id=cid, client_secret=secret, unity_catalog_url=workspace)
with ZerobusWrapper(cfg) as w:
    pf = pq.ParquetFile(path, pre_buffer=pre_buffer == "1")
    res = w.send_batch(pf, progress=lambda d, t: calls.append(d))
assert res.all_succeeded, res
print(res.successful_count, len(calls))
"""


# Peak RSS growth of send_batch(reader) over the idle process: the same
# in-memory batch (64 Ki rows of about 190 bytes, the rows of ``generate``)
# yielded by a RecordBatchReader until ``gb`` GB of Arrow data went through,
# so the input costs nothing and only the send's own memory counts. "idle" is
# VmRSS after a warm-up send and gc; the peak is VmHWM after resetting it
# (/proc/self/clear_refs), Linux only.
CHILD_GROWTH = """
import gc, json, sys
import numpy as np, pyarrow as pa
from zerobus_py import WrapperConfiguration, ZerobusWrapper
endpoint, workspace, cid, secret, table, gb = sys.argv[1:7]

def status_mib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024

n = 64 << 10
i = np.arange(n, dtype=np.int64)
payload = np.random.default_rng(7).integers(0, 256, size=n * 128, dtype=np.uint8).tobytes()
offsets = pa.array(np.arange(n + 1, dtype=np.int32) * 128).buffers()[1]
batch = pa.record_batch({
    "id": i,
    "ts": pa.array(1_700_000_000_000_000 + i * 1000, pa.timestamp("us", tz="UTC")),
    "name": pa.array([f"user-{k:010d}@example.com" for k in range(n)]),
    "x": i * 0.5,
    "payload": pa.BinaryArray.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(payload)]),
})
count = int(float(gb) * 1e9 / batch.nbytes) + 1
cfg = WrapperConfiguration(endpoint, table, client_id=cid, client_secret=secret, unity_catalog_url=workspace)
with ZerobusWrapper(cfg) as w:
    assert w.send_batch(batch).all_succeeded
    gc.collect()
    idle = status_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    reader = pa.RecordBatchReader.from_batches(batch.schema, (batch for _ in range(count)))
    res = w.send_batch(reader)
    peak = status_mib("VmHWM")
assert res.success and res.successful_count == count * n, res
print(json.dumps({"idle_mib": idle, "peak_mib": peak, "growth_mib": peak - idle, "rows": res.successful_count,
                  "arrow_gb": count * batch.nbytes / 1e9, "encoded_gb": res.batch_size_bytes / 1e9}))
"""


ROOT = Path(__file__).resolve().parent.parent


def go_cli(given: str) -> str:
    """The Go CLI binary: ``--zerobus`` as given, else built from this checkout into .bin/ (`go build` every run:
    it relinks only when a source changed, so a binary left from another commit is never measured)."""
    if given:
        return given
    out = ROOT / ".bin" / ("zerobus-bench.exe" if os.name == "nt" else "zerobus-bench")
    subprocess.run([os.environ.get("GO", "go"), "build", "-o", str(out), "./cmd/zerobus"], cwd=ROOT, check=True)
    return str(out)


def start_server(zerobus: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `zerobus local` in another process; return it and the connection arguments of the child scripts."""
    server = subprocess.Popen([zerobus, "local", "-json", "-max-rows", "1000"], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    info = json.loads(server.stdout.readline())
    return server, [info["endpoint"], info["workspace_url"], info["client_id"], info["client_secret"], TABLE]


def growth(args: argparse.Namespace) -> None:
    """send_batch(reader) of ``--growth-gb`` GB: peak RSS growth over the idle
    process, against ``--max-windows`` times the 64 MiB in-flight window."""
    server, conn = start_server(go_cli(args.zerobus))
    try:
        py, env = [sys.executable, "-I"], None
        if args.pythonpath:  # another build of zerobus_py (pip install --target DIR), e.g. the base of a change
            py, env = [sys.executable, "-P", "-s"], dict(os.environ, PYTHONPATH=args.pythonpath)
        _, secs, out = run([*py, "-c", CHILD_GROWTH, *conn, str(args.growth_gb)], env)
    finally:
        server.terminate()
        server.wait()
    r = json.loads(out.splitlines()[-1])
    window = 64.0
    print(
        f"send_batch(reader): {r['rows']:,} rows, {r['arrow_gb']:.2f} GB Arrow, {r['encoded_gb']:.2f} GB encoded "
        f"in {secs:.1f} s; RSS idle {r['idle_mib']:.0f} MiB, peak {r['peak_mib']:.0f} MiB: "
        f"growth {r['growth_mib']:.0f} MiB = {r['growth_mib'] / window:.2f}x the {window:.0f} MiB window"
    )
    if args.max_windows and r["growth_mib"] > args.max_windows * window:
        raise SystemExit(f"peak RSS growth {r['growth_mib']:.0f} MiB exceeds {args.max_windows}x the window")


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run cmd; return (its peak RSS in MiB, seconds, stdout), the RSS from wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}):\n{err.read()[-3000:]}")
        return usage.ru_maxrss / 1024, secs, out.read().strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", default="/tmp/zerobus-bench-rss.parquet")
    ap.add_argument("--gb", type=float, default=1.05)
    ap.add_argument(
        "--zerobus", default="", help="the Go CLI binary to run (default: built from this checkout into .bin/)"
    )
    ap.add_argument("--group-rows", type=int, default=ROWS_PER_GROUP, help="rows per row group of a generated file")
    ap.add_argument("--growth", action="store_true", help="only the send_batch(reader) RSS growth check")
    ap.add_argument("--growth-gb", type=float, default=1.05)
    ap.add_argument("--pythonpath", default="", help="with --growth: import zerobus_py from this directory")
    ap.add_argument("--max-windows", type=float, default=0, help="fail if the growth exceeds this many windows")
    args = ap.parse_args()
    if args.growth:
        growth(args)
        return

    path = Path(args.path)
    if not path.exists():
        print(f"generating {path} ({args.gb} GB) ...", flush=True)
        generate(path, args.gb, args.group_rows)
    meta = pq.ParquetFile(path).metadata
    print(f"{path}: {path.stat().st_size / 1e9:.2f} GB, {meta.num_rows:,} rows, {meta.num_row_groups} row groups")
    zerobus = go_cli(args.zerobus)
    server, conn = start_server(zerobus)
    try:
        env = dict(
            os.environ,
            ZEROBUS_ENDPOINT=conn[0],
            UNITY_CATALOG_URL=conn[1],
            ZEROBUS_CLIENT_ID=conn[2],
            ZEROBUS_CLIENT_SECRET=conn[3],
            ZEROBUS_TABLE_NAME=TABLE,
        )
        py = [sys.executable, "-I"]
        # each measured in a process of its own, the baseline first and last
        # pyarrow's default (pre_buffer=True) reads ahead a lot; pre_buffer=False is the
        # leaner baseline. The CLIs open files their own way: compared with the leaner one.
        rows = []
        for pb in ("1", "0"):
            rows += [
                (f"iterate (pre_buffer={pb})", *run([*py, "-c", CHILD_ITERATE, str(path), pb])),
                (f"send_batch(ParquetFile, pre_buffer={pb})", *run([*py, "-c", CHILD_SEND, str(path), pb, *conn])),
            ]
        rows += [
            ("python -m zerobus_py send", *run([*py, "-m", "zerobus_py", "send", "--quiet", str(path)], env)),
            ("zerobus send (Go CLI)", *run([zerobus, "send", str(path)], env)),
        ]
    finally:
        server.terminate()
        server.wait()
    base = {pb: next(r[1] for r in rows if r[0] == f"iterate (pre_buffer={pb})") for pb in ("1", "0")}
    print(f"{'what':40} {'peak RSS':>10} {'/ iterate pre_buffer=1, =0':>27} {'seconds':>8}  output")
    for name, rss, secs, out in rows:
        ratios = f"{rss / base['1']:8.2f}x {rss / base['0']:8.2f}x"
        print(f"{name:40} {rss:6.0f} MiB {ratios:>27} {secs:8.1f}  {out.splitlines()[-1] if out else ''}")


if __name__ == "__main__":
    main()
