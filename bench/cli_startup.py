"""Start-up time of the command line's ``-h``: in-process through the extension vs a Go binary.

Usage (from the repository root, after ``make py-build``)::

    go build -trimpath -ldflags='-s -w' -o /tmp/zerobus ./cmd/zerobus
    .venv/bin/python bench/cli_startup.py .venv/bin/python /tmp/zerobus [--rounds N]

Runs each command ``--rounds`` times (default 10), interleaved, and prints the median and minimum wall time and the
median CPU time (user + system) of each.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("python", help="the interpreter with zerobus_py installed")
    ap.add_argument("gobin", help="the Go CLI binary (go build ./cmd/zerobus)")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    py, gobin = args.python, args.gobin
    wrapper = f"import subprocess, sys; sys.exit(subprocess.call([{gobin!r}, '-h'], stdout=subprocess.DEVNULL))"
    cmds = {
        "a: python -m zerobus_py -h (in-process)": [py, "-m", "zerobus_py", "-h"],
        "b: Go binary -h": [gobin, "-h"],
        "b': Python script running the binary -h": [py, "-c", wrapper],
        "python -c pass (the interpreter alone)": [py, "-c", "pass"],
    }
    wall: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.rounds):
        for name, cmd in cmds.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            wall[name].append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    for name in cmds:
        w, c = sorted(wall[name]), sorted(cpu[name])
        print(
            f"{name:44s} wall median {w[len(w) // 2] * 1e3:5.0f} ms, min {w[0] * 1e3:5.0f} ms; "
            f"cpu median {c[len(c) // 2] * 1e3:5.0f} ms"
        )


if __name__ == "__main__":
    main()
