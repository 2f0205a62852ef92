"""``python -m zerobus_py send -`` runs in-process: after it returns, Python's standard input is its own again.

The command line reads standard input through a file descriptor of its own (on Linux) and closes it: after an
interrupted ``send -`` of a pipe whose writer stalls, nothing of the run still reads fd 0 (it would swallow what
comes next), and fd 0 is open and still blocking (Python reading a non-blocking stdin gets EAGAIN errors).
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
_SETTING_PREFIXES = ("ZEROBUS_", "DATABRICKS_", "UNITY_CATALOG_", "DEBUG_", "OTLP_", "RETRY_", "OBSERVABILITY_")

# Runs the command line as `python -m zerobus_py` does, then reports fd 0's mode and reads what comes next on it.
_SCRIPT = """
import fcntl, os, sys
from zerobus_py._cli import main
code = main(sys.argv[1:])
nonblocking = bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)
print(f"\\nexit={code} nonblocking={nonblocking}", flush=True)
print("after=" + repr(sys.stdin.buffer.read()), flush=True)
"""


def _read_until(fd: int, pattern: bytes, seen: bytes = b"") -> bytes:
    deadline = time.monotonic() + TIMEOUT
    while not re.search(pattern, seen):
        left = deadline - time.monotonic()
        assert left > 0, seen
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, seen  # closed before the pattern came
            seen += chunk
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stdin is read through /proc/self/fd: Linux only")
def test_stdin_is_pythons_again_after_an_interrupted_send(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}
    data = (ROOT / "examples" / "data" / "events.csv").read_bytes()
    # 4 batches of 6 rows fill the window of batches in flight: the oldest is then accounted ("6 rows so far") and
    # the send reads on, into the stalled pipe
    args = ["send", "-local", "-json", "-progress", "always", "-csv-infer-rows", "10", "-batch-rows", "6", "-"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(data)
        proc.stdin.flush()  # and not closed: the writer stalls
        _read_until(proc.stderr.fileno(), rb"[1-9][0-9]* rows so far")  # rows were sent: the send reads on, waiting
        proc.send_signal(signal.SIGINT)
        out = _read_until(proc.stdout.fileno(), rb"exit=\S+ nonblocking=\S+\n")
        assert b"exit=130 nonblocking=False\n" in out, out
        rest, err = proc.communicate(input=b"after the run\n", timeout=TIMEOUT)  # then closes stdin
        assert proc.returncode == 0, err
        # what the writer wrote after the run went to Python, not to a read of the run left behind
        assert b"after=b'after the run\\n'" in out + rest, (out + rest, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
