"""Start-up time of the command line's ``-h``: in-process through the extension vs a Go binary.

Usage (from the repository root, after ``make py-build``)::

    go build -trimpath -ldflags='-s -w' -o /tmp/zerobus ./cmd/zerobus
    .venv/bin/python bench/cli_startup.py .venv/bin/python /tmp/zerobus

Runs each command ROUNDS times, interleaved, and prints the median and minimum wall time and the median CPU time
(user + system) of each.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

ROUNDS = 10


def main() -> None:
    py, gobin = sys.argv[1], sys.argv[2]
    wrapper = f"import subprocess, sys; sys.exit(subprocess.call([{gobin!r}, '-h'], stdout=subprocess.DEVNULL))"
    cmds = {
        "a: python -m zerobus_py -h (in-process)": [py, "-m", "zerobus_py", "-h"],
        "b: Go binary -h": [gobin, "-h"],
        "b': Python script running the binary -h": [py, "-c", wrapper],
        "python -c pass (the interpreter alone)": [py, "-c", "pass"],
    }
    wall: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(ROUNDS):
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
