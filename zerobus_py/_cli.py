"""Run the zerobus command line (the Go package ``cli``) in this process.

``python -m zerobus_py`` and the ``zerobus`` console script call :func:`main`:
the same code as the Go binary ``zerobus``, through the extension, so flags,
defaults, output and exit statuses are the same everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from . import _bridge


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``zerobus <argv>`` (default: ``sys.argv[1:]``); returns the exit status.

    Go writes to file descriptors 1 and 2 directly, so Python's buffers are
    flushed first. In the main thread, the first Ctrl-C (or SIGTERM) cancels
    the command as it does the Go binary (``send`` finishes the batches in
    flight and prints its summary, ``local`` shuts down); a second one exits
    at once with the Go binary's status for it (130, ``cli.ExitInterrupted``).
    ``send -`` reads standard input through a file descriptor of its own (on Linux), closed when the command
    returns, even interrupted: file descriptor 0 stays open and in its blocking mode, and nothing of the command
    reads it afterwards.
    """
    args = json.dumps(list(sys.argv[1:] if argv is None else argv))
    env = json.dumps(dict(os.environ))
    native = _bridge.native
    exit_interrupted = native.ExitInterrupted()  # loads the extension before any output or signal handler
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    status: list[int] = []
    runner = threading.Thread(target=lambda: status.append(int(native.RunCLI(args, env))), daemon=True)

    interrupts = 0

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            native.HardStopCLI()  # send's one line (and -json object); the quarantine temp file removed
            os._exit(exit_interrupted)  # a second Ctrl-C quits at once, as the Go binary does
        native.CancelCLI()

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, interrupt)
    try:
        runner.start()
        while runner.is_alive():
            runner.join(0.05)  # wakes up for the signal handlers
    finally:
        for sig, previous in handlers.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
    return status[0] if status else 1
