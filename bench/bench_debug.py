"""Debug files on vs off: what writing the Arrow and protobuf debug files costs ``send_batch``.

Three wrappers against one in-process local server send the reference batch (see
bench_python.py) in the same run: debug off, debug off again (the noise floor) and
debug on (``debug_enabled``: Arrow and protobuf files). Each round, each wrapper sends
a block of batches (4, like the Go BenchmarkDebugOverhead), in a rotating order; a
debug block ends when the debug writer's queue is empty (``debug_stats()``), so the
background writing is charged to it. Reports medians of the per-round ratios (16
rounds: 16 samples of 4 batches each), wall clock and process CPU (Go threads
included), and the writes the debug output dropped (should be 0).

Run: ``make bench-debug`` (or ``python bench/bench_debug.py [--rows N] [--rounds N]``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench_python import reference_batch

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def wait_debug_queue(w: ZerobusWrapper) -> None:
    deadline = time.monotonic() + 60
    while True:
        st = w.debug_stats()
        if st["arrow"]["queued_writes"] == 0 and st["protobuf"]["queued_writes"] == 0:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"debug queue not empty after a minute: {st}")
        time.sleep(0.0002)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--per-round", type=int, default=4, help="sends per wrapper per round")
    args = ap.parse_args()

    batch = reference_batch(args.rows)
    modes = ["off", "off2", "on"]
    with tempfile.TemporaryDirectory() as debug_dir, LocalServer() as server:
        ws = []
        for m in modes:
            cfg = server.config(f"main.bench.debug_{m}")
            if m == "on":
                cfg = cfg.copy(debug_enabled=True, debug_output_dir=debug_dir, debug_max_files_retained=2)
            ws.append(ZerobusWrapper(cfg))
        try:
            for w in ws:  # warm up: stream, plan, files
                assert w.send_batch(batch).all_succeeded
                wait_debug_queue(w)
            wall: list[list[float]] = [[] for _ in modes]
            cpu: list[list[float]] = [[] for _ in modes]
            for r in range(args.rounds):
                for k in range(len(modes)):
                    i = (r + k) % len(modes)
                    w = ws[i]
                    t, c = time.perf_counter(), time.process_time()
                    for _ in range(args.per_round):
                        res = w.send_batch(batch)
                        assert res.success and res.successful_count == args.rows, res
                    wait_debug_queue(w)
                    wall[i].append((time.perf_counter() - t) / args.per_round)
                    cpu[i].append((time.process_time() - c) / args.per_round)
            st = ws[2].debug_stats()
        finally:
            for w in ws:
                w.shutdown()

    def ratio(a: list[float], b: list[float]) -> float:
        return statistics.median(x / y for x, y in zip(a, b, strict=True))

    print(f"Python send_batch, {args.rows} reference rows, {args.rounds} rounds x {args.per_round} sends per mode")
    for i, m in enumerate(modes):
        print(
            f"  debug {m:4}: median {statistics.median(wall[i]) * 1e3:7.1f} ms wall, "
            f"{statistics.median(cpu[i]) * 1e3:7.1f} ms CPU per batch"
        )
    print(f"  on/off   : wall x{ratio(wall[2], wall[0]):.3f}, CPU x{ratio(cpu[2], cpu[0]):.3f}  (target <= 1.10)")
    print(f"  off2/off : wall x{ratio(wall[1], wall[0]):.3f}, CPU x{ratio(cpu[1], cpu[0]):.3f}  (noise floor)")
    dropped = st["arrow"]["dropped_writes"] + st["protobuf"]["dropped_writes"]
    written = st["arrow"]["bytes_written"] + st["protobuf"]["bytes_written"]
    print(f"  debug writes dropped: {dropped}; bytes written: {written:,}")


if __name__ == "__main__":
    main()
