"""Go's log records in Python ``logging``.

The Go core logs with ``slog`` (retries, reconnects, stream recovery and
rotation, token fetches, ...). Records at the configured ``log_level`` (the
``ObservabilityConfig.log_level`` setting, default ``info``) go into a
bounded queue in Go; this module moves them into the ``zerobus_py`` logger
(which has a ``NullHandler``: configure logging to see them):

* a daemon thread waits in Go (the GIL released) for records and emits them;
* closing a wrapper drains the queue in the closing thread, so every record
  logged up to the close is emitted before ``shutdown()`` returns.

Go never calls into Python, so logging cannot deadlock with the GIL. If
Python falls behind by a whole queue (10,000 records), newer records are
dropped and a WARNING says how many. Each record keeps Go's time and level;
its attributes are appended to the message as ``key=value`` and attached as
the ``zerobus_attrs`` dict attribute (``extra``). Secrets are never logged.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from typing import Any, Final

from . import _bridge

__all__ = ["LOGGER_NAME", "drain", "start"]

#: The logger Go's records are emitted on.
LOGGER_NAME: Final = "zerobus_py"
_logger = logging.getLogger(LOGGER_NAME)
# A library's custom: nothing is printed unless the application configures
# logging (e.g. logging.basicConfig()), rather than logging's last-resort
# stderr output of warnings.
_logger.addHandler(logging.NullHandler())

#: Records taken from Go per call.
_TAKE: Final = 1000
#: Longest wait of the drain thread in Go (ms); it rechecks its state after.
_WAIT_MS: Final = 500

# One drainer at a time, so records stay in order; re-entrant because a
# logging handler may itself shut a wrapper down (which drains).
_lock = threading.RLock()
_start_lock = threading.Lock()
_started_pid = 0
_exiting = threading.Event()


def _py_level(slog_level: int) -> int:
    """slog's -4/0/4/8 (debug/info/warn/error) to logging's 10/20/30/40."""
    return max(logging.NOTSET + 1, 20 + (slog_level * 5) // 2)


def _format(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text or '"' in text) else text


def _emit(rec: dict[str, Any]) -> None:
    level = _py_level(int(rec.get("level", 0)))
    if not _logger.isEnabledFor(level):
        return
    attrs: dict[str, Any] = rec.get("attrs") or {}
    msg = str(rec.get("msg", ""))
    if attrs:
        msg += " " + " ".join(f"{k}={_format(v)}" for k, v in attrs.items())
    record = _logger.makeRecord(LOGGER_NAME, level, "(go)", 0, msg, (), None, extra={"zerobus_attrs": attrs})
    created = float(rec.get("time", record.created))
    record.created = created
    record.msecs = (created - int(created)) * 1000
    _logger.handle(record)


def drain() -> None:
    """Emit every record queued in Go so far (in this thread)."""
    if _bridge.forked_child():  # Go cannot run here, and the parent's drain thread may have held _lock at fork
        return
    with _lock:
        while True:
            d = json.loads(_bridge.call(_bridge.native.TakeLogs, _TAKE))
            records: list[dict[str, Any]] = d["records"]
            for rec in records:
                _emit(rec)
            if d["dropped"]:
                _logger.warning(
                    "zerobus_py: %d Go log records were dropped: the queue was full (Python drained it too slowly)",
                    d["dropped"],
                )
            if len(records) < _TAKE:
                return


def _run() -> None:
    while not _exiting.is_set():
        try:
            if _bridge.native.WaitLogs(_WAIT_MS) and not _exiting.is_set():
                drain()
        except Exception:  # never let a handler's error end the thread
            continue


@atexit.register
def _drain_at_exit() -> None:
    """At interpreter exit (before logging shuts down: atexit runs handlers
    in reverse order), stop the thread and emit what is left in this one."""
    _exiting.set()
    if _started_pid == os.getpid():
        try:  # noqa: SIM105
            drain()
        except Exception:  # the extension or logging may be half torn down
            pass


def start() -> None:
    """Start the drain thread once per process (again in a child forked
    before Go started; none in one forked after, where Go cannot run)."""
    global _started_pid
    if _bridge.forked_child():
        return
    with _start_lock:
        if _started_pid == os.getpid():
            return
        _started_pid = os.getpid()
    threading.Thread(target=_run, name="zerobus_py-logs", daemon=True).start()
