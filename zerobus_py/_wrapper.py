"""ZerobusWrapper (sync, thread-safe) and AsyncZerobusWrapper (asyncio)."""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import contextvars
import copy
import ctypes
import dataclasses
import functools
import itertools
import json
import math
import numbers
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

import pyarrow as pa

from . import _bridge, _logs
from ._arrow import ReadFailure, export, known_rows
from ._config import ConfigurationTypeError, ObservabilityConfig, WrapperConfiguration, _seal, _Settings, _shown_url
from ._errors import CancelledError, WrapperClosedError, ZerobusError
from ._result import NOT_WRITTEN, TransmissionResult, _FailedGroup
from ._typing import Self, SendInput, Unpack
from .debug import _ArrowArrayStream, _release_stream

if TYPE_CHECKING:  # pragma: no cover
    from ._native import pybind

__all__ = ["AsyncZerobusWrapper", "LogAttributes", "ProgressCallback", "ZerobusWrapper"]

#: ``progress(rows_done, total_rows)`` of :meth:`ZerobusWrapper.send_batch`;
#: ``total_rows`` is ``None`` when the input is a stream of unknown length. What it returns is ignored (typed
#: ``object``, so ``lambda done, total: bar.update(...)`` of tqdm, which returns a value, is accepted).
ProgressCallback = Callable[[int, "int | None"], object]

#: Longest single wait on Go (seconds) of a blocking send: Ctrl-C / a
#: Jupyter interrupt is seen within about this long.
_WAIT_SLICE = 0.05
#: The in-flight window of a send, (rows, bytes) of Arrow data read from the
#: input and not yet resolved; 0 keeps the Go core's default (1 Mi rows,
#: 32 MiB). Parts of at most a quarter of it are sent concurrently.
_SEND_WINDOW: tuple[int, int] = (0, 0)


def _timeout_ms(timeout: float | None) -> int:
    """``timeout`` seconds as the Go call's milliseconds: 0 for None (the
    call's default bound); otherwise what Go's rule makes of it (pybind
    ``TimeoutMs``: under 1 ms is 1 ms, ``math.inf`` waits as long as Go can; a
    negative timeout or NaN raises :class:`~zerobus_py.ConfigurationError`, a
    ``ValueError``, naming it). Not a number: ``TypeError``."""
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):  # numpy numbers are Real
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    try:
        seconds = float(timeout)
    except OverflowError:  # an int too large for a float: Go's rule for an infinite one of its sign
        seconds = math.inf if timeout > 0 else -math.inf
    return _bridge.call(_bridge.native.TimeoutMs, seconds)


class _Send:
    """One send in Go (a ``pybind.Pending``) and the Python side of waiting
    for it: progress calls, interruption, the outcome."""

    def __init__(self, native: pybind.Wrapper, batch: Any, timeout: float | None, progress: ProgressCallback | None):
        ms = _timeout_ms(timeout)  # before the input is exported
        if progress is not None and not callable(progress):  # not after the rows were sent
            what = type(progress).__name__
            raise TypeError(f"progress must be a callable(rows_done, total_rows) or None, not {what}")
        exported = export(batch, want_total=progress is not None)
        total = -1 if exported.total is None else exported.total
        rows, nbytes = _SEND_WINDOW
        self._progress = progress
        #: set while the progress callback runs, left set when it raises (:meth:`_AsyncWaiter._step`)
        self.in_callback = False
        #: how the input's producer failed, filled while Go reads it (see _outcome)
        self.read_failures = exported.read_failures
        self._pending: pybind.Pending | None = None
        #: the asyncio waiter's record of this send (:class:`_AsyncWaiter`), once an async send waits for it
        self.watch: _Watch | None = None
        try:
            with _InterruptHeld():  # a Ctrl-C as the send starts cancels it (below), once it is stored
                self._pending = _bridge.call(
                    native.SendStream, exported.address, total, progress is not None, ms, rows, nbytes
                )
                with _live_lock:
                    _live.add(self)
        except BaseException as exc:
            if self._pending is not None:
                self._cancel_into(exc)
            raise
        finally:
            del exported  # Go moved the stream out of the capsule

    @property
    def pending(self) -> pybind.Pending:
        assert self._pending is not None  # set by __init__ or it raised; dropped only once resolved (release)
        return self._pending

    def release(self) -> None:
        """Drop the Go ``Pending`` once the outcome was read (the send is no longer live): an exception the
        caller keeps holds this object through its traceback, and must not keep the Go side with it."""
        with _live_lock:
            if self not in _live:
                self._pending = None

    def cancel_go(self) -> None:
        """Tell Go to cancel, unless already released (resolved: nothing to cancel)."""
        pending = self._pending
        if pending is not None:
            pending.Cancel()

    def step(self, wait: float) -> dict[str, Any] | None:
        """Wait up to ``wait`` seconds; report progress; the outcome once resolved."""
        raw = self.pending.Wait(max(1, int(wait * 1000)))
        _park_if_exiting()
        d = json.loads(raw)
        if self._progress is not None:
            for done, total in d["progress"]:
                self.in_callback = True  # stays set when the callback raises
                self._progress(done, None if total < 0 else total)
                self.in_callback = False
        out: dict[str, Any] | None = d["result"]
        if out is not None:
            with _live_lock:
                _live.discard(self)
        return out

    def cancel(self) -> TransmissionResult:
        """Cancel the Go side and wait (uninterruptibly: it is prompt) for the
        partial outcome."""
        self.pending.Cancel()
        self._progress = None
        while True:
            d = self.step(_WAIT_SLICE)
            if d is not None:
                return TransmissionResult._from_native(d)

    def _cancel_into(self, exc: BaseException) -> None:
        """Cancel the send as ``exc`` ends its caller; its partial result on ``exc`` as ``result``."""
        result = self.cancel()
        with contextlib.suppress(AttributeError):  # an exception type without a __dict__
            exc.result = result  # type: ignore[attr-defined]

    def wait(self) -> TransmissionResult:
        """Block until resolved; raise the batch's error for a whole failure.

        KeyboardInterrupt (or an exception from the progress callback) cancels
        the send and propagates with the partial result as ``.result``.
        """
        try:
            while (d := self.step(_WAIT_SLICE)) is None:
                pass
        except BaseException as exc:
            self._cancel_into(exc)
            _clear_native_frames(exc)
            raise
        finally:
            self.release()
        return _outcome(d, self.read_failures)


#: the generated bindings' modules (``zerobus_py._native.pybind``, ``.go``)
_NATIVE = __name__.rpartition(".")[0] + "._native."


def _clear_native_frames(exc: BaseException) -> None:
    """Clear the locals of the generated bindings' frames in ``exc``'s traceback (a KeyboardInterrupt is raised
    inside ``Pending.Wait``, whose ``self`` is the Go ``Pending``): an exception the caller keeps must not
    keep Go objects. The frames stay in the traceback, so it prints as before."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_NATIVE):
            with contextlib.suppress(RuntimeError):  # still running: not ours to clear
                tb.tb_frame.clear()
        tb = tb.tb_next


class _InterruptHeld:
    """``with _InterruptHeld(): op = start()``: a SIGINT that comes while the block runs is held and handed to the
    previous handler as the block ends, once ``op`` is stored. Python runs a signal handler between bytecodes,
    also just after a call returned and before its result is stored: a KeyboardInterrupt there left the Go call
    started by ``start()`` running with nothing to cancel it (up to ``flush_timeout_ms``). Only the main thread
    gets signals (elsewhere, and when SIGINT has no Python handler, this does nothing)."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._held: list[Any] = []  # the frame of each SIGINT held

    def _hold(self, signum: int, frame: Any) -> None:
        self._held.append(frame)

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN / SIG_DFL / not set from Python: no KeyboardInterrupt to hold
            return
        with contextlib.suppress(ValueError):  # not the main interpreter
            signal.signal(signal.SIGINT, self._hold)
            self._previous = previous

    def __exit__(self, *exc: object) -> None:
        previous, self._previous = self._previous, None
        if previous is None:
            return
        signal.signal(signal.SIGINT, previous)
        if self._held:
            previous(signal.SIGINT, self._held.pop())  # raises KeyboardInterrupt (or cancels asyncio's task)


def _wait_for(start: Callable[[], pybind.Waiting]) -> None:
    """Start a Flush / Close / CheckSchema in Go (``start()``) and wait for it in short slices, so that
    Ctrl-C is seen at once (one blocking call kept KeyboardInterrupt out until
    Go returned: up to the flush timeout). An exception while waiting cancels
    the call, waits the moment Go takes to return, and propagates; an interrupt
    while it starts is held until the call is known here (:class:`_InterruptHeld`),
    so it cancels it too. Go's error is raised as its ZerobusError."""
    op: pybind.Waiting | None = None
    try:
        with _InterruptHeld():
            op = start()
        while not op.Wait(int(_WAIT_SLICE * 1000)):
            pass
    except BaseException:
        if op is not None:
            op.Cancel()
            while not op.Wait(int(_WAIT_SLICE * 1000)):
                pass
        raise
    _bridge.call(op.Err)


#: Threads at most of the pool the asyncio methods wait on Go in (see :func:`_in_waiter`).
_WAITER_THREADS = 64
_waiters: concurrent.futures.ThreadPoolExecutor | None = None
_waiters_lock = threading.Lock()


def _waiter_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process's pool of waiter threads, made on first use (again in a forked child)."""
    global _waiters
    with _waiters_lock:
        if _waiters is None:
            _waiters = concurrent.futures.ThreadPoolExecutor(_WAITER_THREADS, thread_name_prefix="zerobus_py-wait")
        return _waiters


def _forget_waiters() -> None:
    """In a forked child: the parent's pool threads (and asyncio waiter and start threads) do not exist there."""
    global _waiters, _waiters_lock, _async_waiter, _starter
    _waiters, _waiters_lock, _async_waiter, _starter = None, threading.Lock(), None, None


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_forget_waiters)

_T = TypeVar("_T")

#: ``log_attributes``: names and values each Go log record of a wrapper carries (Go checks them: core.LogAttributes)
LogAttributes = Mapping[str, str | int | float | bool]


async def _in_waiter(fn: Callable[..., _T], /, *args: Any) -> _T:
    """``await asyncio.to_thread(fn, *args)`` in this package's own threads (:func:`_waiter_pool`), not the event
    loop's default executor: the application's own ``to_thread`` / ``run_in_executor(None, ...)`` jobs filling
    that pool (a few threads: ``min(32, cpus + 4)``) held every send's next wait on Go until one ended, and each
    50 ms wait of a send took a slot from them."""
    return await _in_pool(asyncio.get_running_loop(), fn, *args)


def _in_pool(loop: asyncio.AbstractEventLoop, fn: Callable[..., _T], /, *args: Any) -> asyncio.Future[_T]:
    """``fn(*args)`` in :func:`_waiter_pool` as an asyncio future of ``loop``.

    At interpreter exit ``concurrent.futures`` shuts the pool down (before this package's atexit handler runs) and
    it refuses work with ``RuntimeError``: an event loop still running then is a daemon thread's (the process does
    not wait for it), which parks as :func:`_park_if_exiting` does (a traceback printed while the interpreter
    finalizes is noise at best); in any other thread ``fn`` runs inline, so the loop can still finish."""
    ctx = contextvars.copy_context()
    try:
        return loop.run_in_executor(_waiter_pool(), functools.partial(ctx.run, fn, *args))
    except RuntimeError:
        if not _pool_shut_down():
            raise
    if threading.current_thread().daemon:
        while True:
            time.sleep(3600)
    done: asyncio.Future[_T] = loop.create_future()
    try:
        done.set_result(ctx.run(fn, *args))
    except BaseException as exc:  # delivered to the awaiting coroutine, as the pool would
        done.set_exception(exc)
    return done


def _pool_shut_down() -> bool:
    """Whether :func:`_waiter_pool` no longer takes work (interpreter exit)."""
    pool = _waiters
    return pool is None or getattr(pool, "_shutdown", False) or getattr(concurrent.futures.thread, "_shutdown", False)


#: Milliseconds the asyncio waiter thread waits for news at most before it checks for sends whose event loop was
#: closed (:meth:`_AsyncWaiter._sweep`).
_SWEEP_MS = 1000


class _Watch:
    """One asyncio send as :class:`_AsyncWaiter` tracks it."""

    __slots__ = (
        "again",
        "busy",
        "callback_error",
        "error",
        "key",
        "loop",
        "orphan",
        "outcome",
        "read",
        "send",
        "waiters",
    )

    def __init__(self, send: _Send, key: int, loop: asyncio.AbstractEventLoop) -> None:
        self.send = send
        #: the id its Pending posts to the Notifier
        self.key = key
        #: the event loop the send was started from: once it is closed nobody can await the send
        self.loop = loop
        #: Go's outcome (as :meth:`_Send.step` returns it) once the send is resolved
        self.outcome: dict[str, Any] | None = None
        #: the futures awaiting the outcome, with their loops
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[dict[str, Any]]]] = []
        #: what the send's progress callback raised (the send was cancelled then)
        self.callback_error: BaseException | None = None
        #: what reading the send's news raised, not in its callback (the send was cancelled; awaiting it raises it)
        self.error: BaseException | None = None
        #: a step of a send with a progress callback is running in the pool / news came meanwhile
        self.busy = False
        self.again = False
        #: the outcome was handed to a coroutine, or reported as nobody's (:func:`_report_unawaited`)
        self.read = False
        #: its coroutine was closed without running (its loop gone): nobody will read the outcome
        self.orphan = False


class _AsyncWaiter:
    """Waits on Go for every asyncio send of the process, in one daemon thread.

    Each send's ``pybind.Pending`` posts its id to one ``pybind.Notifier`` when it has progress to report or is
    resolved; the thread takes the news (a ``Pending.Wait`` that does not block) and hands the outcome to the
    awaiting coroutine's loop with ``call_soon_threadsafe``. The event loop itself only creates a future: it no
    longer submitted a 50 ms wait to the thread pool per send and per slice (with a few hundred sends, the loop
    thread queued on the pool's lock and stalled). Progress callbacks run in the pool (one at a time per send, in
    order), so a slow one delays no other send."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._notifier = _bridge.call(_bridge.native.NewNotifier)
        self._watches: dict[int, _Watch] = {}
        #: resolved sends whose outcome no coroutine has read yet (reported if their loop is closed first)
        self._unread: dict[int, _Watch] = {}
        #: starts that failed, their error posted to an event loop that has not run the hand-over yet (by id)
        self._failed_starts: dict[int, _Start] = {}
        #: sends given up by :meth:`abandon`, for the waiter thread
        self._abandoned: collections.deque[_Send] = collections.deque()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._swept = time.monotonic()

    def adopt(self, send: _Send, loop: asyncio.AbstractEventLoop) -> None:
        """Watch ``send``, started for a coroutine of ``loop``, from now on (in the thread that started it: the
        Go call is not made on the event loop's thread). The send is cancelled once ``loop`` is closed before its
        outcome was read (:meth:`_sweep`), and that outcome is then logged (:func:`_report_unawaited`)."""
        with self._lock:
            if send.watch is not None:
                return
            watch = send.watch = _Watch(send, next(self._ids), loop)
            self._watches[watch.key] = watch
            self._running()
        send.pending.Notify(self._notifier, watch.key)

    def _running(self) -> None:
        """Under the lock: start the waiter thread if it is not running (not started, or ended by a bug)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="zerobus_py-async", daemon=True)
            self._thread.start()

    def failed_start(self, job: _Start) -> None:
        """``job``'s start failed and its error is about to be posted to its event loop (:meth:`_Starter._ended`):
        if the loop is closed before it runs the hand-over (:func:`_settle_start`), nothing can raise the error
        into the task, and the sweep logs it (:func:`_report_start_failure`)."""
        with self._lock:
            self._failed_starts[id(job)] = job
            with contextlib.suppress(Exception):  # no thread now: the next adopt starts it, and the sweep runs then
                self._running()

    def start_read(self, job: _Start) -> bool:
        """``job``'s failed start was handed over, or is logged (by the one caller this returns True to)."""
        with self._lock:
            return self._failed_starts.pop(id(job), None) is not None

    def outcome(self, send: _Send) -> asyncio.Future[dict[str, Any]]:
        """A future of the running loop resolved with ``send``'s outcome (the dict :meth:`_Send.step` returns)."""
        loop = asyncio.get_running_loop()
        if send.watch is None:  # the start thread adopts every send it starts (_Starter._run): a safeguard
            self.adopt(send, loop)
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        with self._lock:
            watch = send.watch
            assert watch is not None
            if watch.outcome is not None or watch.error is not None:
                self._mark_read(watch)
                _settle(fut, watch.outcome, watch.error)
                return fut
            watch.waiters.append((loop, fut))
        return fut

    def abandon(self, send: _Send) -> None:
        """``send``'s coroutine was closed without running (its event loop is gone, the task left pending): the
        send is cancelled, and its outcome logged once known, as nobody will read it.

        It takes no lock: a coroutine left pending in a closed loop is closed by the garbage collector, in
        whatever thread it runs, possibly one holding this waiter's lock (a deadlock of every asyncio send). The
        waiter thread records it at its next pass (:meth:`_abandoned_now`)."""
        send.cancel_go()
        self._abandoned.append(send)  # a deque: thread-safe without a lock

    def disown(self, send: _Send) -> None:
        """Stop watching ``send``, whose start failed after it was watched (:func:`_hand_over_failed`): its start
        thread reads its outcome and hands it on, so this waiter neither hands it to a coroutine nor reports it. A
        step already under way may still resolve it: it is read (:meth:`_resolve` then neither reports it nor lists
        it unread)."""
        with self._lock:
            watch = send.watch
            if watch is None:
                return
            self._watches.pop(watch.key, None)
            self._mark_read(watch)

    def _abandoned_now(self) -> None:
        """Record the sends :meth:`abandon` gave up (in the waiter thread): orphans, their outcome logged now if
        known and unread, else once known (:meth:`_resolve`)."""
        while self._abandoned:
            send = self._abandoned.popleft()
            with self._lock:
                watch = send.watch
                if watch is None:
                    continue
                watch.orphan = True
                report = watch.key in self._unread and self._mark_read(watch)
            if report:
                _report_unawaited(watch.send, watch.outcome, watch.error)

    def _run(self) -> None:
        failures, pause = 0, 0.05
        while True:
            try:
                self._pass()
                failures, pause = 0, 0.05
            except Exception:  # a bug here would leave every awaited send of the process waiting: log it, go on
                failures += 1
                if failures == 1 or failures % 100 == 0:  # not a traceback per pass when it keeps failing
                    _logs._logger.exception(
                        "zerobus_py: the asyncio send waiter failed (%d in a row); it goes on", failures
                    )
                time.sleep(pause)  # not a busy loop if it fails again at once
                pause = min(1.0, pause * 2)

    def _pass(self) -> None:
        """Take the news of one wait on the Notifier (at most ``_SWEEP_MS``) and act on it."""
        ids: list[int] = json.loads(self._notifier.Wait(_SWEEP_MS))
        _park_if_exiting()
        for key in ids:
            with self._lock:
                watch = self._watches.get(key)
                if watch is None:
                    continue
                in_pool = watch.send._progress is not None
                if in_pool:
                    if watch.busy:
                        watch.again = True
                        continue
                    watch.busy = True
            if not in_pool:
                self._step(watch)
                continue
            try:
                _waiter_pool().submit(self._steps, watch)
            except RuntimeError:  # the pool is shut down: interpreter exit
                self._steps(watch)
        self._abandoned_now()
        if time.monotonic() - self._swept >= _SWEEP_MS / 1000:
            self._sweep()

    def _steps(self, watch: _Watch) -> None:
        """:meth:`_step` in the pool for a send with a progress callback, again while news came meanwhile."""
        while True:
            self._step(watch)
            with self._lock:
                if not watch.again:
                    watch.busy = False
                    return
                watch.again = False

    def _step(self, watch: _Watch) -> None:
        if watch.outcome is not None or watch.error is not None:
            # resolved by an earlier step (news taken while a progress callback ran): its coroutine may have
            # read the outcome and released the send (_Send.release)
            return
        send = watch.send
        try:
            d = send.step(0.001)  # there is news: it does not wait
        except BaseException as exc:
            send.cancel_go()
            if not send.in_callback:  # reading the news failed: the awaiting coroutines get the error
                with _live_lock:  # cancelled above; its outcome is never read (step() would drop it from _live)
                    _live.discard(send)
                self._resolve(watch, None, exc)
                return
            # the progress callback raised: the send is cancelled, its outcome awaited
            send._progress = None
            if watch.callback_error is None:
                watch.callback_error = exc
            self._notifier.Post(watch.key)  # its outcome may have come already: look again
            return
        if d is not None:
            self._resolve(watch, d)

    def _resolve(self, watch: _Watch, d: dict[str, Any] | None, exc: BaseException | None = None) -> None:
        """Hand the send's outcome ``d`` (or the error ``exc`` reading it raised) to every coroutine awaiting it;
        log it when nobody can (:func:`_report_unawaited`: its event loop was closed, its coroutine closed)."""
        with self._lock:
            if watch.outcome is not None or watch.error is not None:
                return
            watch.outcome, watch.error = d, exc
            waiters, watch.waiters = watch.waiters, []
            self._watches.pop(watch.key, None)
            orphan = watch.orphan or (not waiters and watch.loop.is_closed())
            if not orphan and not watch.read:  # read already: disowned (disown)
                # read once a coroutine asks (outcome()) or its loop runs the hand-over (_handed): a loop closed
                # before that drops the callback, and the sweep logs the outcome
                self._unread[watch.key] = watch
        delivered = False
        if not orphan:
            for loop, fut in waiters:
                with contextlib.suppress(RuntimeError):  # the loop was closed: nobody awaits it
                    loop.call_soon_threadsafe(self._handed, watch, fut, d, exc)
                    delivered = True
        if orphan or (waiters and not delivered):
            with self._lock:
                report = self._mark_read(watch)
            if report:
                _report_unawaited(watch.send, d, exc)

    def _handed(
        self, watch: _Watch, fut: asyncio.Future[dict[str, Any]], d: dict[str, Any] | None, exc: BaseException | None
    ) -> None:
        """In the awaiting coroutine's loop: the outcome reaches it (a future cancelled meanwhile: the cancel's
        path reports the rows), so it is read."""
        with self._lock:
            self._mark_read(watch)
        _settle(fut, d, exc)

    def _mark_read(self, watch: _Watch) -> bool:
        """Under the lock: ``watch``'s outcome is read (handed to a coroutine, or logged as nobody's), no longer
        in ``_unread``; whether it was not read before (then it is the one caller to log it)."""
        unread = not watch.read
        watch.read = True
        self._unread.pop(watch.key, None)
        return unread

    def _sweep(self) -> None:
        """Cancel the sends whose event loop was closed before they ended (the task left pending, or the send
        started after the loop was closed): nothing will ever read their outcome, and Go would send them to their
        end (a later close waiting for them); their outcome is logged once known (:meth:`_resolve`). A send that
        ended with nobody having read its outcome when its loop was closed is logged now."""
        self._swept = time.monotonic()
        with self._lock:
            orphans = [
                w
                for w in self._watches.values()
                if w.loop.is_closed() and all(loop.is_closed() for loop, _ in w.waiters)
            ]
            unread = [w for w in self._unread.values() if w.loop.is_closed()]
            for w in unread:
                self._mark_read(w)
            failed = [job for job in self._failed_starts.values() if job.loop.is_closed()]
            for job in failed:
                del self._failed_starts[id(job)]
        for watch in orphans:
            watch.orphan = True
            watch.send.cancel_go()
        for watch in unread:
            _report_unawaited(watch.send, watch.outcome, watch.error)
        for job in failed:
            _report_start_failure(job.error)


def _settle(fut: asyncio.Future[dict[str, Any]], d: dict[str, Any] | None, exc: BaseException | None) -> None:
    if fut.done():  # cancelled meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        assert d is not None
        fut.set_result(d)


_async_waiter: _AsyncWaiter | None = None


def _abandon(send: _Send) -> None:
    """:meth:`_AsyncWaiter.abandon` without a lock (not even the one making the waiter): a send that is watched
    has a waiter already."""
    waiter = _async_waiter
    if waiter is not None:
        waiter.abandon(send)
    else:
        send.cancel_go()


def _the_async_waiter() -> _AsyncWaiter:
    """The process's :class:`_AsyncWaiter`, made on first use (again in a forked child)."""
    global _async_waiter
    with _waiters_lock:
        if _async_waiter is None:
            _async_waiter = _AsyncWaiter()
        return _async_waiter


async def _wait_for_async(start: Callable[[], pybind.Waiting]) -> None:
    """:func:`_wait_for` for asyncio: cancelling the task cancels the call
    (a worker thread blocked in Go until the flush timeout also held up
    ``asyncio.run``'s exit on Ctrl-C)."""
    op: pybind.Waiting | None = None
    try:
        with _InterruptHeld():
            op = start()
        while not await _in_waiter(op.Wait, int(_WAIT_SLICE * 1000)):
            pass
    except BaseException as exc:
        if op is not None:
            op.Cancel()  # does not block: Go stops at once
            if not isinstance(exc, GeneratorExit):  # a coroutine closed without running awaits nothing
                await _in_waiter(op.Wait, 0)
        raise
    _bridge.call(op.Err)


def _outcome(d: dict[str, Any], read_failures: Sequence[ReadFailure] = ()) -> TransmissionResult:
    """The send's result from Go's outcome ``d``; the batch's error raised when it failed as a whole.

    When the input's producer failed (``read_failures``: a RecordBatchReader whose generator raised), the error
    that reports it says so in one line (pyarrow passed on the whole Python traceback as text) and has the
    producer's own exception as its ``__cause__``, raised or on ``result.error``."""
    failure = read_failures[0] if read_failures else None
    if failure is not None:
        d = _cleaned(d, failure)
    result = TransmissionResult._from_native(d)
    if failure is not None and failure.error is not None:
        for err in (result.error, result.failure):
            if err is not None and failure.text in err.message:
                err.__cause__ = failure.error
    if d.get("raised") and result.error is not None:
        raise result.error
    return result


def _cleaned(value: Any, failure: ReadFailure) -> Any:
    """Go's outcome (JSON) with each message reporting ``failure`` cut to its one line."""
    if isinstance(value, str):
        return failure.cleaned(value)
    if isinstance(value, dict):
        return {k: _cleaned(v, failure) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v, failure) for v in value]
    return value


def _interrupted(exc_type: type[BaseException] | None) -> bool:
    """Whether a ``with`` block is left by an interrupt (Ctrl-C, a cancelled
    task): it then shuts down with a short grace (_INTERRUPT_GRACE) instead of
    waiting up to the flush timeout for acknowledgements that may not come."""
    return exc_type is not None and issubclass(exc_type, (KeyboardInterrupt, asyncio.CancelledError))


#: Seconds a ``with`` block left by an interrupt waits for acknowledgements.
_INTERRUPT_GRACE = 0.2
#: Milliseconds the close of a wrapper collected unclosed (``__del__``) waits in Go for acknowledgements.
_DEL_CLOSE_MS = 5000

_live: set[_Send] = set()
_live_lock = threading.Lock()
#: Set when the interpreter exits (_cancel_live_sends).
_exiting = threading.Event()


def _park_if_exiting() -> None:
    """At interpreter exit only daemon threads can still be in a send (the
    others were joined before atexit handlers run). Once their send is
    cancelled they must run no more Python: a traceback printed while the
    interpreter finalizes aborts the process ("could not acquire lock for
    <stderr> at interpreter shutdown"). They sleep until the process ends."""
    if _exiting.is_set() and threading.current_thread() is not threading.main_thread():
        while True:
            time.sleep(3600)


@atexit.register
def _cancel_live_sends() -> None:
    """At interpreter exit, cancel sends still running in other threads and
    wait for Go to release the callers' data while Python can still run."""
    _exiting.set()
    if _bridge.forked_child():  # the sends are the parent's; Go cannot run here
        return
    with _live_lock:  # the Pendings themselves: a send resolving meanwhile releases its own (_Send.release)
        live = [p for send in _live if (p := send._pending) is not None]
    deadline = time.monotonic() + 5
    for pending in live:
        pending.Cancel()
    for pending in live:
        while time.monotonic() < deadline and not pending.Ready():
            pending.Wait(100)


class ZerobusWrapper:
    """Streams Arrow data into one Zerobus table through the Go core.

    ``send_batch`` blocks until every row is durably acknowledged or has
    failed. The wrapper is safe to share between threads: the GIL is released
    while Go works, so concurrent ``send_batch`` calls progress together over
    the table's shared streams. Use it as a context manager (``with``) or call
    :meth:`shutdown` when done. As in the original API, a wrapper that was
    shut down (also by leaving ``with`` / ``async with``) can send again: the
    next send opens new streams; :meth:`close` ends it for good.

    Worker processes: create wrappers in each worker. Go cannot run in a
    process forked after zerobus_py was first used in its parent (every call
    there raises :class:`~zerobus_py.ZerobusError` saying so); start workers
    with ``multiprocessing.get_context("spawn")`` or ``"forkserver"``.

    Args:
        config: the settings; validated here with the Go core's rules (raises
            :class:`~zerobus_py.ConfigurationError` listing every problem).
            Creating the wrapper does not connect: streams open on the first
            send.
        log_attributes: names and values (strings, numbers, booleans)
            that every log record of this wrapper carries, as the Go
            core's logger attributes: in ``log_file``, in
            ``observability_output_dir``'s ``logs.jsonl`` and in the
            ``zerobus_py`` logger's records (``zerobus_attrs``), e.g. to
            tell apart the wrappers of several workers sharing a log file
            (the Spark data source gives each task's). Logged as given:
            never put a secret there.
        **settings: instead of ``config``, the keywords of
            :class:`~zerobus_py.WrapperConfiguration` (``endpoint=``,
            ``table_name=``, ``client_id=``, ...), as the original Python
            API's README and examples write it.
    """

    @overload
    def __init__(self, config: WrapperConfiguration, *, log_attributes: LogAttributes | None = None) -> None: ...
    # The keywords as a **mapping whose keys a checker cannot see (a dict[str, str] of the environment's or a
    # YAML file's values): mypy matches ``ZerobusWrapper(**d)`` here, as d may be empty, and no keyword written
    # out, so a mistyped keyword, or one given a value of the wrong type, still fails the overload below. The
    # mapping's keys and values are checked when it runs (ConfigurationError). With log_attributes given too,
    # type the mapping dict[str, Any].
    @overload
    def __init__(self, config: None = None, /) -> None: ...
    @overload
    def __init__(
        self,
        config: None = None,
        *,
        log_attributes: LogAttributes | None = None,
        **settings: Unpack[_Settings],
    ) -> None: ...
    def __init__(
        self,
        config: WrapperConfiguration | None = None,
        *,
        log_attributes: LogAttributes | None = None,
        **settings: Any,
    ) -> None:
        # The secrets given as keywords sealed first (their repr hidden): this frame's settings are what a
        # traceback's captured locals show when anything below raises.
        _seal(settings, WrapperConfiguration._sealed_keywords())
        if config is None:
            config = WrapperConfiguration(**settings)
        elif settings:
            raise TypeError(
                "ZerobusWrapper takes either a WrapperConfiguration or its keywords, not both "
                f"(got config and {', '.join(sorted(settings))})"
            )
        if not isinstance(config, WrapperConfiguration):  # a TypeError, as the original's (a ConfigurationError too)
            raise ConfigurationTypeError(f"config must be a WrapperConfiguration, not {type(config).__name__}")
        # A snapshot, secret included: the caller may change (or reuse for the next table) the object it passed,
        # which would make .config and repr() name settings this wrapper does not use.
        self._config = _config_snapshot(config)
        self._lock = threading.Lock()
        #: notified when no call is starting on the Go wrapper (_calling); shutdown waits for that
        self._idle = threading.Condition(self._lock)
        self._starting = 0
        #: shut down: no Go wrapper until the next send opens one (_calling)
        self._closed = False
        #: close() was called: no send opens a Go wrapper again
        self._ended = False
        self._native: pybind.Wrapper | None = None
        #: the settings as created: a send after shutdown() opens a Go wrapper with the same ones
        self._settings = self._config._native_json()
        #: the log attributes as Go takes them (None: none), also for the Go wrapper a send after shutdown() opens
        try:
            self._log_attrs = json.dumps(dict(log_attributes)) if log_attributes else None
        except (TypeError, ValueError) as e:  # Go checks the values; this is only what JSON cannot carry
            raise ConfigurationTypeError(
                f"zerobus: log_attributes: {e}; give a mapping of names to strings, numbers or booleans"
            ) from None
        _logs.start()  # Go's log records to the "zerobus_py" logger
        self._native = self._new_native()

    def _new_native(self) -> pybind.Wrapper:
        if self._log_attrs is None:
            return _bridge.call(_bridge.native.NewWrapper, self._settings)
        return _bridge.call(_bridge.native.NewWrapperWithLogAttrs, self._settings, self._log_attrs)

    # -- properties --------------------------------------------------------

    @property
    def config(self) -> WrapperConfiguration:
        """The configuration this wrapper was created with (the settings it uses), as a new copy: changes to
        the object passed at creation, or to this copy, do not reach the wrapper."""
        return _config_snapshot(self._config)

    @property
    def is_closed(self) -> bool:
        """True once :meth:`shutdown` (or :meth:`close`) has been called, until a
        send opens the wrapper again (after ``shutdown()`` only)."""
        return self._closed

    @contextlib.contextmanager
    def _calling(self) -> Iterator[pybind.Wrapper]:
        """The Go wrapper, for the duration of a call that registers with it (a send or schema check starting):
        :meth:`shutdown` waits for such calls, so a send that overlaps it is never refused as closed. After
        :meth:`shutdown` a new Go wrapper with the same settings (the original API re-opened its stream on the
        next send); after :meth:`close` :class:`~zerobus_py.WrapperClosedError`."""
        with self._idle:
            if self._native is None:
                if self._ended:
                    raise WrapperClosedError(
                        "zerobus: the wrapper was closed with close(); create a new ZerobusWrapper to send more data"
                    )
                self._native = self._new_native()
                self._closed = False
            native = self._native
            self._starting += 1
        try:
            yield native
        finally:
            with self._idle:
                self._starting -= 1
                if self._starting == 0:
                    self._idle.notify_all()

    # -- sending -----------------------------------------------------------

    def send_batch(
        self, batch: SendInput, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """Send one logical batch and wait until every row is acknowledged or has failed.

        The data crosses into Go once, in place, as an Arrow C stream
        (nothing is serialised); Go reads it as its in-flight window allows
        (at most 32 MiB / 1 Mi rows read and not yet acknowledged), so a
        reader or file of any size is sent in bounded memory.

        Args:
            batch: a pyarrow RecordBatch, Table or RecordBatchReader (streamed),
                a ``pyarrow.parquet.ParquetFile`` or ``pyarrow.dataset``
                Dataset / Scanner (streamed), a pandas or polars DataFrame (a
                named pandas index is sent as a column), or any object with
                ``__arrow_c_stream__`` / ``__arrow_c_array__``. The caller may
                drop it once the call has started (e.g. from another thread).
            timeout: seconds to wait at most; rows not acknowledged by then
                fail with :class:`~zerobus_py.CancelledError` (the server may
                still store them: delivery is at-least-once). Default: no limit.
                0 or more (under 1 ms waits 1 ms), ``math.inf`` or None; a negative
                timeout raises :class:`~zerobus_py.ConfigurationError` (a ``ValueError``),
                as it does for every call of this class that takes one.
                When a send stops early (a timeout, Ctrl-C, a cancelled task,
                a raising ``progress``), the rows it never read from an input
                of known length (a table, DataFrame or Parquet file; a
                dataset when ``progress`` is given, which counts it) were
                never sent: they are in the result as not written, so the
                result covers the whole input and its ``extract_*`` helpers
                take the batch that was sent.
            progress: called as ``progress(rows_done, total_rows)`` each time
                a part of the input is resolved (acknowledged or failed), in
                the calling thread: at least once per batch of a stream and
                per 1/16 of an input of known length. ``total_rows`` is known
                for tables, DataFrames, Parquet files and datasets (counted),
                ``None`` for readers and ``__arrow_c_stream__`` objects. If it
                raises, the send is cancelled and the exception propagates
                with the partial result as its ``result`` attribute
                (:func:`~zerobus_py.partial_result` reads it, typed).

        KeyboardInterrupt (Ctrl-C, a Jupyter interrupt) during the call is
        raised within about 0.05 s: the Go side is cancelled (rows already
        acknowledged stay stored; the others fail with ``CancelledError`` and
        may still be stored) and the partial result is attached to the
        ``KeyboardInterrupt`` as ``result`` (``partial_result(exc)``).

        Returns:
            The :class:`~zerobus_py.TransmissionResult`. Row-level failures
            (some rows did not convert, or a stream failed after part of the
            batch was acknowledged) are reported there: ``failed_count > 0``
            and ``all_succeeded=False``, while ``success`` stays ``True`` if
            any row was stored and ``error`` is ``None`` (the original API's
            meanings). A reader that fails part-way (its producer raising after at
            least one batch) also returns a result with ``success=False``:
            the rows read before are in it with their states, ``error`` names
            the row the input was read to and the producer's message, and the
            rows never read are not counted (``failed_count`` may be 0; an
            input of known length, such as a Parquet file that fails to
            decode, has them as not written instead). One
            that fails before its first batch raises
            :class:`~zerobus_py.ConversionError` instead, its (empty) result
            on ``err.result``. Either way the exception the reader (a generator
            behind ``RecordBatchReader.from_batches``) raised is that error's
            ``__cause__``, and its message names the batch and the exception in
            one line.

        Raises:
            ZerobusError: the subclass matching the cause when the batch
                failed as a whole (authentication, connection, retries
                exhausted, schema not convertible, wrapper closed with ``close()``, ...);
                the exception's ``result`` lists every row as failed (``None`` only for
                an input whose length is unknown until read, a reader or stream,
                refused before any of it was read).
                One column (a pandas or polars Series, a lone
                ``pyarrow.Array`` / ``ChunkedArray``) is not a table: a
                :class:`~zerobus_py.ConversionError` saying what to send.
                A ``StructArray`` (or a ``ChunkedArray`` of structs) is
                sent as a table of its fields; null rows in it cannot be
                rows and are refused, for either, with a
                :class:`~zerobus_py.ConversionError` naming the first.
            TypeError: ``batch`` is not a supported kind of data.
        """
        send = _start_send(self, batch, timeout, progress)
        del batch  # Go holds what it needs: an exception the caller keeps does not keep the data
        return send.wait()

    async def send_batch_async(
        self, batch: SendInput, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """:meth:`send_batch` for asyncio: the send starts in a worker thread of this
        package (not the loop's default executor) and one thread of this package
        waits on Go for every awaited send, so the event loop is never blocked. Same arguments, result and
        exceptions (``progress`` is called in a worker thread). Cancelling the
        task cancels the send; the CancelledError carries the partial result
        as ``result``.

        To bound the send, pass ``timeout=``: the rows not acknowledged in time
        fail with :class:`~zerobus_py.CancelledError`, in the result returned
        (or, when no row was acknowledged, on the raised CancelledError, a
        ``TimeoutError``, as ``err.result``). Under ``asyncio.wait_for(send, t)``
        or ``async with asyncio.timeout(t)`` the task is cancelled instead, and
        the ``TimeoutError`` asyncio raises has the task's
        ``asyncio.CancelledError`` as its ``__cause__``: the partial result is
        ``err.__cause__.result``, which :func:`~zerobus_py.partial_result` reads typed.

        An event loop closed with the task still pending cancels the send (one whose start was still queued is
        never sent) and, as nothing can await it then, logs its outcome: a WARNING of the ``zerobus_py`` logger
        with the rows written, not written and unknown, the result as the record's ``zerobus_result``."""
        box = [batch]
        del batch  # an exception the caller keeps (its traceback has this frame) does not keep the data
        return await _send_async(self, box, timeout, progress)

    def check_schema(self, schema: pa.Schema, *, timeout: float | None = None) -> None:
        """Check, without sending any row, that batches of ``schema`` can be sent with this configuration.

        :meth:`send_batch` treats an empty batch as a success whatever its schema; call this to learn up
        front (e.g. before starting workers) what a batch with rows would meet. With transport ``protobuf``
        it opens the schema's first stream, as the first send would (it stays open for later sends), so the
        server checks the columns against the table; with ``arrow_flight`` it reads the table's columns from
        Unity Catalog (no stream is opened). Either way columns the table does not have are named too.

        Raises:
            ConversionError: the error a batch of this schema with rows would fail with as a whole, naming
                each column Zerobus cannot take, its type and what to do (``column`` is set when there is
                one such column), or (``arrow_flight``) the columns that do not fit the table.
            TransmissionError: (``protobuf``) the server refused the stream: ``reason``
                ``SCHEMA_VALIDATION_FAILED`` with its ``server_causes``, or a missing table.
            ZerobusError: the check could not be made (the endpoint or catalog unreachable, authentication,
                ``timeout`` seconds passed), the subclass matching the cause (``retryable`` tells whether a
                later try may pass).
        """
        _wait_for(lambda: self._start_check(schema, timeout))

    def _start_check(self, schema: pa.Schema, timeout: float | None) -> pybind.Waiting:
        if not isinstance(schema, pa.Schema):
            raise TypeError(f"check_schema takes a pyarrow.Schema, not {type(schema).__name__}")
        ms = _timeout_ms(timeout)
        exported = export(schema.empty_table())
        with self._calling() as native:
            return _bridge.call(native.CheckSchemaAsync, exported.address, ms)

    def table_schema(self, *, timeout: float | None = None) -> pa.Schema:
        """The Arrow schema of the table, read from Unity Catalog: the column types to give batches built
        for it (``pa.Table.from_pylist(rows, schema=w.table_schema())``), without sending any row.

        The Go core maps the table's Unity Catalog types as both transports send them
        (``core.Wrapper.TableSchema``): STRING ``large_string``, BIGINT ``int64``, INT ``int32``, SMALLINT
        ``int16``, TINYINT ``int8``, DOUBLE ``float64``, FLOAT ``float32``, BOOLEAN ``bool``, BINARY
        ``large_binary``, DATE ``date32``, TIMESTAMP ``timestamp[us, tz=UTC]``, TIMESTAMP_NTZ
        ``timestamp[us]``, ARRAY ``list``, MAP ``map``, STRUCT ``struct``, VARIANT ``struct<metadata, value>``.
        A DECIMAL(p,s) column is ``large_string`` (the decimal's text) whose field metadata has
        ``b"zerobus.decimal": b"p,s"``; a batch may give it as ``decimal128(p, s)`` too. Fields are in the
        table's column order, NOT NULL columns not nullable. No stream is opened; the answer is kept and
        sends use it.

        Raises:
            ConfigurationError: Unity Catalog gives no columns for the table, its message saying why and ``key``
                the setting to check: ``"table_name"`` (no such table), ``"client_id"`` (the catalog refused the
                lookup) or ``"zerobus_writer_disabled"`` (the wrapper contacts nothing).
            AuthenticationError: the token endpoint refused ``client_id`` / ``client_secret``.
            TokenRefreshError: the token endpoint (``unity_catalog_url``) unreachable.
            ConnectionError: the catalog unreachable or not answering within ``create_timeout_ms``
                (``retryable``: call again). It and TokenRefreshError are builtin ``ConnectionError`` too.
            CancelledError: ``timeout`` seconds passed (a ``TimeoutError``).
            ZerobusError: the table has a column type with no Arrow mapping, or the wrapper was closed with
                :meth:`close` (:class:`~zerobus_py.WrapperClosedError`).
        """
        started: list[pybind.Waiting] = []
        _wait_for(lambda: self._start_table_schema(timeout, started))
        return self._exported_schema(started[0])

    def _start_table_schema(self, timeout: float | None, started: list[pybind.Waiting]) -> pybind.Waiting:
        ms = _timeout_ms(timeout)
        with self._calling() as native:
            op = _bridge.call(native.TableSchemaAsync, ms)
        started.append(op)
        return op

    def _exported_schema(self, op: pybind.Waiting) -> pa.Schema:
        """The schema of a returned ``TableSchemaAsync``, through an Arrow C stream of no batch, as
        :mod:`zerobus_py.debug` reads a debug file."""
        stream = _ArrowArrayStream()
        address = ctypes.addressof(stream)
        _bridge.call(op.ExportSchema, address)
        try:
            reader = pa.RecordBatchReader._import_from_c(address)
        except BaseException:
            if stream.release:  # not taken over: release it here
                _release_stream(stream.release)(address)
            raise
        with reader:
            return reader.schema

    def flush(self, *, timeout: float | None = None) -> None:
        """Block until everything sent so far is acknowledged (at most
        ``timeout`` seconds; default: the configured flush timeout, 300 s).

        Raises :class:`~zerobus_py.CancelledError` (a ``TimeoutError``) when
        the time runs out; its message names ``flush_timeout_ms`` when that
        bound, not ``timeout``, ran out. After :meth:`shutdown` (nothing
        sent since) it does nothing, as in the original API; after
        :meth:`close` it raises :class:`~zerobus_py.WrapperClosedError`. A
        flush that a shutdown or close in another thread overtakes reports
        what that close did with the rows: nothing when it had them all
        acknowledged, else its error (e.g. the ``CancelledError`` of its
        timeout)."""
        ms = _timeout_ms(timeout)
        native = self._open_native()
        if native is not None:
            try:
                _wait_for(lambda: _bridge.call(native.FlushAsync, ms))
            except WrapperClosedError:
                if not self._overtaken(native):
                    raise
                _wait_for(lambda: _bridge.call(native.CloseAsync, ms))

    def _overtaken(self, native: pybind.Wrapper) -> bool:
        """Whether a :meth:`shutdown` (or :meth:`close`) took ``native`` after a flush on it started: Go then refused
        the flush as closed when that close got there first. The close flushes the same streams, so its outcome
        (Go's ``Close`` is idempotent: a second call returns the first one's result, ``CloseAsync`` here) is the
        flush's: None when it had every row acknowledged, its error otherwise (not a ``WrapperClosedError`` for a
        flush the caller started while the wrapper was open)."""
        return self._native is not native

    def _open_native(self) -> pybind.Wrapper | None:
        """The Go wrapper if one is open, None after :meth:`shutdown`; :class:`~zerobus_py.WrapperClosedError`
        after :meth:`close`."""
        native = self._native
        if native is None and self._ended:
            raise WrapperClosedError("zerobus: the wrapper was closed with close(); create a new ZerobusWrapper")
        return native

    def debug_stats(self) -> dict[str, dict[str, int]]:
        """Counters of the debug files since the wrapper was created:
        ``{"arrow": {...}, "protobuf": {...}}``, each with ``writes``, ``rows``,
        ``dropped_writes``, ``dropped_rows``, ``dropped_bytes``, ``bytes_written``,
        ``failures``, ``queued_bytes`` and ``queued_writes`` (zeros for an output
        that is off). When the disk falls behind, debug writes are dropped, never
        waited for; each drop is also recorded beside the file it is missing from
        (:func:`zerobus_py.debug.read_drops`), unless writing failed (``failures``:
        a full disk, where that record cannot be written either).

        After :meth:`shutdown` the counters went with the streams: this raises
        :class:`~zerobus_py.WrapperClosedError` until the next send, whose
        counters start from zero."""
        native = self._open_native()
        if native is None:
            raise WrapperClosedError(
                "zerobus: the wrapper is shut down: its debug counters start again with the next send"
            )
        stats: dict[str, dict[str, int]] = json.loads(_bridge.call(native.DebugStats))
        return stats

    def shutdown(self, *, timeout: float | None = None) -> None:
        """Flush, close every stream and release the Go wrapper.

        Idempotent: later calls do nothing. Sends still in progress in other
        threads finish first, for up to ``timeout``. As in the original API the wrapper is not
        finished: a later :meth:`send_batch` (or :meth:`check_schema`) opens
        a Go wrapper again with the same settings (new streams, new debug
        files and counters), and :meth:`flush` does nothing until then; call
        it again (or use ``with``) when done. :meth:`close` ends the
        wrapper for good. With observability on, the
        last metrics and spans are exported (or written to
        ``observability_output_dir``) and every Go log record is emitted on
        the ``zerobus_py`` logger before this returns.

        ``timeout`` (seconds) bounds the call: waiting for the last acknowledgements, then the final
        telemetry export, which the Go core gives half of the time left within bounds of its own (a short
        grace even when ``timeout`` has passed; README "Telemetry and logs from Python" gives the
        numbers). Default: the configured ``flush_timeout_ms`` for the acknowledgements, and the Go
        core's longest wait for a collector that accepts connections but does not answer.

        Raises:
            CancelledError: ``timeout`` (or the flush timeout) passed with
                rows still unacknowledged; the streams are aborted. A send
                still in flight in another thread then raises
                :class:`WrapperClosedError` with its rows in ``err.result``
                (those already sent as unknown: they may be stored).
                The wrapper is shut down all the same: the next send opens it
                again.
        """
        ms = _timeout_ms(timeout)  # a bad timeout raises before the wrapper is marked closed
        native = self._mark_closed()
        if native is not None:
            try:
                _wait_for(lambda: _bridge.call(native.CloseAsync, ms))
            finally:
                _logs.drain()  # every record logged up to the close, before returning

    async def _shutdown_async(self, timeout: float | None) -> None:
        """:meth:`shutdown` for asyncio: the event loop is not blocked and
        cancelling the task cancels the wait for acknowledgements."""
        ms = _timeout_ms(timeout)
        native = self._mark_closed()
        if native is not None:
            try:
                await _wait_for_async(lambda: _bridge.call(native.CloseAsync, ms))
            finally:
                await _in_waiter(_logs.drain)

    def _mark_closed(self) -> pybind.Wrapper | None:
        """Mark the wrapper closed; the Go wrapper to close, or None when
        an earlier shutdown did (and no send opened one since)."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._starting == 0)  # sends starting now register first
            native, self._native = self._native, None
        return native

    def close(self, *, timeout: float | None = None) -> None:
        """:meth:`shutdown`, for good: later sends and flushes raise
        :class:`~zerobus_py.WrapperClosedError` (``shutdown()`` alone lets a
        later send open the wrapper again, as the original API did)."""
        _timeout_ms(timeout)  # a bad timeout raises before anything changes
        self._ended = True
        self.shutdown(timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not _interrupted(exc_type):
            self.shutdown()
            return
        # leave promptly, and let the interrupt (not a flush timeout) propagate
        with contextlib.suppress(ZerobusError):
            self.shutdown(timeout=_INTERRUPT_GRACE)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not _interrupted(exc_type):
            await self._shutdown_async(None)
            return
        with contextlib.suppress(ZerobusError):
            await self._shutdown_async(_INTERRUPT_GRACE)

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is None:
            return
        warnings.warn(f"unclosed {self!r}: call shutdown() or use it in a with block", ResourceWarning, stacklevel=2)
        # A finalizer runs in whichever thread the collection happens in (an event loop's, any thread at an
        # allocation), and an exception raised in it (Ctrl-C) is discarded: it must not wait. Nothing is left to
        # wait for anyway: a wrapper still sending is still referenced, so every send on this one has returned its
        # rows' results. The close is started and goes on in Go (up to _DEL_CLOSE_MS waiting for the last
        # acknowledgements, then aborting); only when the interpreter is exiting (modules torn down: a Go goroutine
        # left running is cut when the process ends) is it waited for, as shutdown() does.
        self._native, self._closed = None, True
        # not contextlib.suppress: modules may already be torn down at exit
        try:
            op = _bridge.call(native.CloseAsync, _DEL_CLOSE_MS)
            if _exiting.is_set():
                _wait_for(lambda: op)
        except Exception:  # never raise from a finalizer
            pass

    def __repr__(self) -> str:
        # Never raises, also for a wrapper whose construction failed (its self in a traceback's frame locals, which
        # Python < 3.12's traceback prints with repr for capture_locals) or has not run (cls.__new__(cls)).
        config = getattr(self, "_config", None)
        if not isinstance(config, WrapperConfiguration):
            return "<ZerobusWrapper not created>"
        if getattr(self, "_closed", False):
            state = "closed"
        elif getattr(self, "_native", None) is None:  # only while (or after failing) creating the Go wrapper
            state = "not created"
        else:
            state = "open"
        # User information (Go refuses it: only a wrapper not created has it) shown redacted. Otherwise no Go call:
        # a forked child's __del__ prints this repr, and Go cannot run there.
        endpoint = config.endpoint
        if isinstance(endpoint, str) and "@" in endpoint:
            endpoint = _shown_url(endpoint)
        return f"<ZerobusWrapper table={config.table_name!r} endpoint={endpoint!r} {state}>"


async def _send_async(
    wrapper: ZerobusWrapper, box: list[Any], timeout: float | None, progress: ProgressCallback | None
) -> TransmissionResult:
    """A send of ``box``'s one batch (taken out of it, so that no frame of the caller's keeps it) started in
    a worker thread and awaited through :class:`_AsyncWaiter`: the event loop never
    blocks, and cancelling the task (``asyncio.run`` does on Ctrl-C) cancels
    the Go side, the partial result on the CancelledError as ``.result``."""
    batch = box.pop()
    send = await _start_send_async(wrapper, batch, timeout, progress)
    del batch  # Go holds what it needs: the caller may drop the data
    try:
        d = await _the_async_waiter().outcome(send)
        assert send.watch is not None
        if send.watch.callback_error is not None:  # the progress callback raised: the send was cancelled
            raise send.watch.callback_error
    except BaseException as exc:
        await _cancel_async(send, exc)
        raise
    finally:
        send.release()
    return _outcome(d, send.read_failures)


def _config_snapshot(config: WrapperConfiguration) -> WrapperConfiguration:
    """A copy of ``config`` that the caller's later changes do not reach (secret included), attribute by attribute
    (:func:`_snapshot_value`): a value ``validate()`` accepts that :func:`copy.deepcopy` cannot copy (a read-only
    ``MappingProxyType`` ``observability_config``, a path object holding a lock) is snapshot as plain data, not
    refused with deepcopy's ``TypeError``."""
    snap = copy.copy(config)
    for attr, value in vars(config).items():
        vars(snap)[attr] = _snapshot_value(value)
    return snap


def _snapshot_value(value: Any) -> Any:
    """``value`` as a copy: an ``ObservabilityConfig`` field by field, a ``Mapping`` as a ``dict`` of copies, others
    by :func:`copy.deepcopy` (a ``pathlib`` path stays one); a path deepcopy cannot copy as its ``str``, and any other
    such value as given (it cannot be copied; the settings sent are the text it gives when the wrapper is made)."""
    if value is None or isinstance(value, (str, bytes, int, float)):
        return value
    if isinstance(value, ObservabilityConfig):
        return dataclasses.replace(
            value, **{f.name: _snapshot_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    if isinstance(value, Mapping):
        return {k: _snapshot_value(v) for k, v in value.items()}
    try:
        return copy.deepcopy(value)
    except Exception:  # any object deepcopy refuses (pickling, a lock, a __deepcopy__ raising)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        return value


def _start_send(wrapper: ZerobusWrapper, batch: Any, timeout: float | None, progress: ProgressCallback | None) -> _Send:
    """Start the send in Go. A :class:`~zerobus_py.ZerobusError` before Go has the batch (a DataFrame pyarrow
    cannot convert, one column, a wrapper closed with ``close()``, ...) fails the batch as a whole: as for the
    failures Go finds, its ``result`` lists every row as failed (not written), when the input's length is known
    without reading it (:func:`~zerobus_py._arrow.known_rows`, as extraction counts it)."""
    try:
        with wrapper._calling() as native:
            return _Send(native, batch, timeout, progress)
    except ZerobusError as err:
        if err.result is None:
            err.result = _all_not_written(err, batch)
        raise


def _all_not_written(err: ZerobusError, batch: Any) -> TransmissionResult | None:
    """The result of ``batch`` failing as a whole with ``err`` before any row was sent: every row not written;
    None when its length is not known without reading it (a reader, a stream, a dataset)."""
    n = known_rows(batch, count=False)
    if n is None:
        return None
    return TransmissionResult._create(
        success=False,
        all_succeeded=False,
        error=err,
        failure=err,
        attempts=0,
        latency_ms=0.0,
        batch_size_bytes=0,
        total_rows=n,
        successful_count=0,
        failed_count=n,
        groups=[_FailedGroup(err, ((0, n),), NOT_WRITTEN)] if n else [],
    )


#: Starts at most running at once for one event loop (the input's export and Go's SendStream; see :class:`_Starter`).
_START_THREADS = 4
#: Start threads at most for the whole process, all event loops together: a share of the waiter pool
#: (:data:`_WAITER_THREADS`), which also runs the progress callbacks and the other asyncio calls' waits.
_START_THREADS_TOTAL = 32
# the states of a _Start
_QUEUED, _RUNNING, _ENDED, _DROPPED = range(4)


class _Start:
    """One asyncio send's start, queued in :class:`_Starter` until a start thread takes it."""

    __slots__ = ("abandoned", "args", "ctx", "error", "fut", "loop", "send", "state")

    def __init__(self, loop: asyncio.AbstractEventLoop, args: tuple[ZerobusWrapper, Any, float | None, Any]) -> None:
        self.loop = loop
        #: resolved (in ``loop``) with the started send, or what starting it raised
        self.fut: asyncio.Future[_Send] = loop.create_future()
        #: ``_start_send``'s arguments, dropped once taken (the batch is Go's then)
        self.args: tuple[ZerobusWrapper, Any, float | None, Any] | None = args
        self.ctx = contextvars.copy_context()
        #: _QUEUED, _RUNNING (in a start thread), _ENDED (started or failed), _DROPPED (never handed to Go)
        self.state = _QUEUED
        #: its coroutine was closed while it ran: the send is cancelled once started
        self.abandoned = False
        self.send: _Send | None = None
        #: what starting it raised (with the send's partial result as ``result`` if Go had the batch)
        self.error: BaseException | None = None


class _LoopStarts:
    """The starts of one event loop in :class:`_Starter`: queued, and how many a start thread runs."""

    __slots__ = ("jobs", "running")

    def __init__(self) -> None:
        self.jobs: collections.deque[_Start] = collections.deque()
        self.running = 0


class _Starter:
    """Starts the asyncio sends of the process in threads of :func:`_waiter_pool`.

    The event loop only queues each start (a future and a deque append); the start threads take the queues and
    hand each started send to :class:`_AsyncWaiter` themselves (its Go ``Notify`` call). A pool job submitted by
    the loop per send (a lock, a thread woken, a context copy and an asyncio future per send, with the woken
    threads taking the GIL from it) stalled the event loop 0.1-0.2 s when 300 sends started together.

    Each event loop has its own queue and at most :data:`_START_THREADS` starts running at once; the loops share
    at most :data:`_START_THREADS_TOTAL` threads, and a thread that frees takes the next start of the loop with the
    fewest running (the loop served longest ago on a tie). A slow start (an input whose export blocks: a lazy
    frame, a dataset, a reader waiting on its source) holds up later starts of its own loop at most, not the
    sends of other loops (one queue for the process let four slow starts of one loop hold every loop's sends).

    A start still queued when its event loop is closed is never handed to Go (its rows were not written, which is
    logged); one that ends after that is cancelled at once (its outcome logged once known)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: each event loop's starts; the order is the order the loops were last served in (least recent first)
        self._loops: dict[asyncio.AbstractEventLoop, _LoopStarts] = {}
        self._threads = 0  # drain jobs submitted and not ended
        self._idle = 0  # of them, the ones not running a start (each takes the next one it may)

    def start(self, wrapper: ZerobusWrapper, batch: Any, timeout: float | None, progress: Any) -> _Start:
        """Queue the start of a send (on the event loop's thread)."""
        job = _Start(asyncio.get_running_loop(), (wrapper, batch, timeout, progress))
        with self._lock:
            starts = self._loops.get(job.loop)
            if starts is None:
                starts = self._loops[job.loop] = _LoopStarts()
            starts.jobs.append(job)
            spawn = self._more()
        if spawn:
            try:
                self._spawn(from_loop=True)
            except BaseException:  # no thread could be started (the pool refused it): the send fails with that
                if self.drop(job):
                    raise
        return job

    def drop(self, job: _Start) -> bool:
        """Give up ``job`` if no start thread took it yet (it is then never handed to Go); whether it was."""
        with self._lock:
            if job.state != _QUEUED:
                return False
            job.state = _DROPPED
            job.args = None
        return True

    def _next(self) -> _Start | None:
        """Under the lock: the start to run next, taken off its queue and counted as running; None if every loop
        with starts queued runs :data:`_START_THREADS` already. Loops with nothing left are forgotten."""
        chosen: _LoopStarts | None = None
        for loop, starts in list(self._loops.items()):
            jobs = starts.jobs
            while jobs and jobs[0].state != _QUEUED:  # given up by its coroutine
                jobs.popleft()
            if not jobs:
                if starts.running == 0:
                    del self._loops[loop]
                continue
            if starts.running < _START_THREADS and (chosen is None or starts.running < chosen.running):
                chosen = starts
        if chosen is None:
            return None
        job = chosen.jobs.popleft()
        job.state = _RUNNING
        chosen.running += 1
        del self._loops[job.loop]  # served now: last in the order
        self._loops[job.loop] = chosen
        return job

    def _ran(self, job: _Start) -> None:
        """Under the lock: ``job``'s start thread is done with it."""
        starts = self._loops[job.loop]
        starts.running -= 1
        if starts.running == 0 and not starts.jobs:
            del self._loops[job.loop]

    def _more(self) -> bool:
        """Under the lock: whether a start waits that a loop may run, with no idle thread to take it and one more
        thread allowed (counted then)."""
        if self._idle or self._threads >= _START_THREADS_TOTAL:
            return False
        if not any(starts.jobs and starts.running < _START_THREADS for starts in self._loops.values()):
            return False
        self._threads += 1
        self._idle += 1
        return True

    def _spawn(self, *, from_loop: bool) -> None:
        """Submit the drain job :meth:`_more` counted; it is uncounted if the pool refuses it."""
        try:
            _waiter_pool().submit(self._drain)
            return
        except BaseException:
            with self._lock:
                self._threads -= 1
                self._idle -= 1
            if not _pool_shut_down():
                if from_loop:
                    raise
                return  # the start thread spawning it drains on
        # interpreter exit: concurrent.futures shut the pool down (as for _in_pool)
        if not from_loop:
            return
        if threading.current_thread().daemon:  # a daemon thread's loop: park (see _park_if_exiting)
            while True:
                time.sleep(3600)
        with self._lock:
            self._threads += 1
            self._idle += 1
        self._drain()  # any other thread: start the sends here, so its loop can still finish

    def _drain(self) -> None:
        while True:
            with self._lock:
                self._idle -= 1
                job = self._next()
                if job is None:
                    self._threads -= 1
                    return
                spawn = self._more()
            if spawn:
                self._spawn(from_loop=False)
            try:
                self._run(job)
            except Exception:  # a bug here must not end the thread with the counts wrong: log it, go on
                _logs._logger.exception("zerobus_py: starting an asyncio send failed")
            finally:
                with self._lock:
                    self._ran(job)
                    self._idle += 1

    def _run(self, job: _Start) -> None:
        args, job.args = job.args, None
        assert args is not None
        if job.loop.is_closed() or job.abandoned:  # nobody can await it: it is not sent
            with self._lock:
                job.state = _DROPPED
            _report_unawaited_start(args[1])
            return
        send: _Send | None = None
        try:
            send = job.ctx.run(_start_send, *args)
            del args  # Go has the batch
            _the_async_waiter().adopt(send, job.loop)
        except BaseException as exc:
            if send is not None:
                _hand_over_failed(send, exc)
            self._ended(job, None, exc)
            return
        self._ended(job, send, None)

    def _ended(self, job: _Start, send: _Send | None, exc: BaseException | None) -> None:
        """Hand the start's outcome to its coroutine; cancel the send if nobody will await it."""
        with self._lock:
            job.state, job.send, job.error = _ENDED, send, exc
            abandoned = job.abandoned
        if send is not None and abandoned:
            _abandon(send)  # cancelled; its outcome is logged once known
        elif send is not None and job.loop.is_closed():
            send.cancel_go()  # its outcome is logged once known (_AsyncWaiter._resolve)
        waiter: _AsyncWaiter | None = None
        if exc is not None:
            try:
                waiter = _the_async_waiter()
                waiter.failed_start(job)  # logged if the loop is closed before it runs the hand-over
            except Exception:  # no waiter could be made: a loop closed unrun drops the error unlogged
                waiter = None
        try:
            job.loop.call_soon_threadsafe(_settle_start, job, send, exc)
        except RuntimeError:  # the loop was closed meanwhile
            if send is not None:
                send.cancel_go()
            elif exc is not None and (waiter is None or waiter.start_read(job)):
                _report_start_failure(exc)


def _hand_over_failed(send: _Send, exc: BaseException) -> None:
    """A start failed with ``exc`` after Go had the batch (handing ``send`` to :class:`_AsyncWaiter` failed: a
    thread that cannot be started): nothing will wait for the send, so it is cancelled here, in the start thread,
    and Go's partial result (rows acknowledged: written; never sent: not written; sent, not acknowledged: unknown,
    they may be stored) goes on ``exc`` as ``result``, for the caller, or the log record when its loop is closed.
    The waiter, if it watches the send already, lets go of it: the send is reported once, with ``exc``."""
    waiter = _async_waiter
    if waiter is not None:
        waiter.disown(send)
    try:
        send._cancel_into(exc)  # prompt: Go stops at once
    except Exception:  # reading the outcome failed (a bug): cancelled all the same, the caller still gets exc
        send.cancel_go()
        _logs._logger.exception("zerobus_py: reading a cancelled asyncio send's result failed")
    finally:
        send.release()


def _settle_start(job: _Start, send: _Send | None, exc: BaseException | None) -> None:
    """In the start's event loop: its outcome reaches the coroutine (a failure is read then, see
    :meth:`_AsyncWaiter.failed_start`)."""
    fut = job.fut
    waiter = _async_waiter
    if exc is not None and waiter is not None:
        waiter.start_read(job)
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        assert send is not None
        fut.set_result(send)


_starter: _Starter | None = None


def _the_starter() -> _Starter:
    """The process's :class:`_Starter`, made on first use (again in a forked child)."""
    global _starter
    with _waiters_lock:
        if _starter is None:
            _starter = _Starter()
        return _starter


def _not_started(batch: Any, why: str) -> tuple[CancelledError, TransmissionResult | None]:
    """The error of a send never handed to Go and its result: every row not written (None for an input whose
    length is not known without reading it)."""
    err = CancelledError(f"zerobus_py: {why} before the send started: no row was sent")
    return err, _all_not_written(err, batch)


def _report_start_failure(exc: BaseException | None) -> None:
    """Log a failed start nobody can be told of (its event loop was closed): its rows as its error's ``result``
    says (the send's partial result when Go had the batch, see :func:`_hand_over_failed`)."""
    _report_unawaited(None, None, exc, getattr(exc, "result", None))


def _report_unawaited_start(batch: Any) -> None:
    err, result = _not_started(batch, "send_batch_async's event loop was closed")
    _report_unawaited(None, None, err, result)


def _report_unawaited(
    send: _Send | None,
    d: dict[str, Any] | None,
    exc: BaseException | None,
    result: TransmissionResult | None = None,
) -> None:
    """Log the outcome of an asyncio send that nobody can read any more: its event loop was closed (or its
    coroutine closed) before it ended. It was cancelled then, so its rows are those acknowledged (written), those
    never sent (not written) and those sent but not acknowledged (unknown: they may be stored). A WARNING of the
    ``zerobus_py`` logger with the counts, the :class:`~zerobus_py.TransmissionResult` as its ``zerobus_result``
    attribute (``None`` for an input of unknown length not sent) and the error, if any, as ``zerobus_error``."""
    if result is None and d is not None:
        failure = send.read_failures[0] if send is not None and send.read_failures else None
        result = TransmissionResult._from_native(_cleaned(d, failure) if failure is not None else d)
    if result is None and isinstance(exc, ZerobusError):
        result = exc.result
    if result is None:
        counts = "its rows were not written" if exc is not None and d is None and send is None else "rows unknown"
    else:
        counts = (
            f"{result.successful_count} of its {result.total_rows} rows written, {result.not_written_count} not "
            f"written, {result.unknown_count} unknown (sent, not acknowledged: they may be stored)"
        )
    why = f": {exc}" if exc is not None else ""
    _logs._logger.warning(
        "zerobus_py: nobody can await a send_batch_async any more (its event loop was closed, or its task "
        "destroyed, before it was read; a send still running then was cancelled): %s%s",
        counts,
        why,
        extra={"zerobus_result": result, "zerobus_error": exc},
    )


async def _start_send_async(
    wrapper: ZerobusWrapper, batch: Any, timeout: float | None, progress: ProgressCallback | None
) -> _Send:
    """``_Send(...)`` (the export and the Go call) in a start thread (:class:`_Starter`).

    Cancelling the task while the start is still queued gives it up: no row is sent, and the CancelledError's
    ``result`` lists every row as not written (``None`` for an input whose length is unknown until read). Once a
    start thread runs it, the cancel cannot stop the thread, which would start the send with nothing waiting for
    it: the start is waited for, then the send is cancelled and its partial result attached to the
    CancelledError. A coroutine closed without running (its loop closed with the task pending) cancels the send
    once started, and its outcome is logged (:func:`_report_unawaited`)."""
    starter = _the_starter()
    job = starter.start(wrapper, batch, timeout, progress)
    try:
        return await asyncio.shield(job.fut)
    except BaseException as exc:
        if isinstance(exc, GeneratorExit):
            # Closed without running (its loop closed with the task pending): nothing can be awaited. The garbage
            # collector may be closing it, in any thread, maybe one holding a lock of _Starter or _AsyncWaiter:
            # take none. A start still queued is dropped by the start thread that takes it (_Starter._run), one
            # started is given up here or by _Starter._ended, whichever sees the other's mark (at least one does:
            # each writes its own before reading the other's), its outcome logged once known.
            job.abandoned = True
            send = job.send
            if send is not None:
                _abandon(send)
            raise
        if starter.drop(job):  # still queued: never handed to Go
            with contextlib.suppress(AttributeError):  # an exception type without a __dict__
                exc.result = _not_started(batch, "the task was cancelled")[1]  # type: ignore[attr-defined]
            raise
        del batch
        while not job.fut.done():  # the export and SendStream are prompt once under way
            with contextlib.suppress(asyncio.CancelledError):  # a second cancel: the first one is raised
                await asyncio.wait([job.fut])
        if job.fut.cancelled():
            raise
        failure = job.fut.exception()
        if failure is None:
            await _cancel_async(job.fut.result(), exc)
        elif (result := getattr(failure, "result", None)) is not None:  # the start failed: its rows, as it says
            with contextlib.suppress(AttributeError):  # an exception type without a __dict__
                exc.result = result  # type: ignore[attr-defined]
        raise


async def _cancel_async(send: _Send, exc: BaseException) -> None:
    """Cancel ``send`` as ``exc`` ends its coroutine, and attach its partial result to ``exc``.

    Go is told at once, in this thread (``Pending.Cancel`` does not block): the send stops whatever happens next.
    The partial result is then awaited (:class:`_AsyncWaiter`), through further cancellations, except when the
    coroutine is being closed without running (``GeneratorExit``: its event loop was closed with the task pending)
    or no event loop runs here: nothing can be awaited then, and ``exc`` propagates without it."""
    send.pending.Cancel()
    send._progress = None
    if isinstance(exc, GeneratorExit):
        _abandon(send)  # its outcome is logged once known
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    del loop
    while True:
        try:
            d = await _the_async_waiter().outcome(send)  # prompt once cancelled
            break
        except asyncio.CancelledError:  # a second cancel: the first one is raised
            continue
    with contextlib.suppress(AttributeError):  # an exception type without a __dict__
        exc.result = TransmissionResult._from_native(d)  # type: ignore[attr-defined]


class AsyncZerobusWrapper:
    """The asyncio form of :class:`ZerobusWrapper`: every method is a
    coroutine whose Go work runs in a worker thread (of this package's own pool,
    not the loop's default executor), so the event loop is never
    blocked. Use ``async with AsyncZerobusWrapper(config) as w: await
    w.send_batch(batch)``.
    """

    @overload
    def __init__(self, config: WrapperConfiguration, *, log_attributes: LogAttributes | None = None) -> None: ...
    # The keywords as a **mapping whose keys a checker cannot see (a dict[str, str] of the environment's or a
    # YAML file's values): mypy matches ``ZerobusWrapper(**d)`` here, as d may be empty, and no keyword written
    # out, so a mistyped keyword, or one given a value of the wrong type, still fails the overload below. The
    # mapping's keys and values are checked when it runs (ConfigurationError). With log_attributes given too,
    # type the mapping dict[str, Any].
    @overload
    def __init__(self, config: None = None, /) -> None: ...
    @overload
    def __init__(
        self,
        config: None = None,
        *,
        log_attributes: LogAttributes | None = None,
        **settings: Unpack[_Settings],
    ) -> None: ...
    def __init__(
        self,
        config: WrapperConfiguration | None = None,
        *,
        log_attributes: LogAttributes | None = None,
        **settings: Any,
    ) -> None:
        """``config``, or instead :class:`~zerobus_py.WrapperConfiguration`'s
        keywords, and ``log_attributes``, as for :class:`ZerobusWrapper`."""
        _seal(settings, WrapperConfiguration._sealed_keywords())  # as ZerobusWrapper does
        self._sync = ZerobusWrapper(config, log_attributes=log_attributes, **settings)

    @property
    def config(self) -> WrapperConfiguration:
        """The configuration this wrapper was created with."""
        return self._sync.config

    @property
    def is_closed(self) -> bool:
        """True once :meth:`shutdown` has been called (until a send opens the wrapper again)."""
        return self._sync.is_closed

    @property
    def sync(self) -> ZerobusWrapper:
        """The underlying thread-safe synchronous wrapper."""
        return self._sync

    async def send_batch(
        self, batch: SendInput, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """Await :meth:`ZerobusWrapper.send_batch` without blocking the loop
        (``progress`` is called in the worker thread: use
        ``loop.call_soon_threadsafe`` from it to touch loop objects).

        Bound it with ``timeout=`` (the partial result is returned, or is
        ``err.result`` of the CancelledError raised when no row was
        acknowledged); under ``asyncio.wait_for`` / ``asyncio.timeout`` it is on
        the ``TimeoutError``'s ``__cause__`` (the task's CancelledError):
        ``err.__cause__.result``, or typed ``partial_result(err)``. See
        :meth:`ZerobusWrapper.send_batch_async`."""
        box = [batch]
        del batch  # as in ZerobusWrapper.send_batch_async
        return await _send_async(self._sync, box, timeout, progress)

    async def check_schema(self, schema: pa.Schema, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.check_schema` (cancelling the task cancels the check)."""
        await _wait_for_async(lambda: self._sync._start_check(schema, timeout))

    async def table_schema(self, *, timeout: float | None = None) -> pa.Schema:
        """Await :meth:`ZerobusWrapper.table_schema` (cancelling the task cancels the read)."""
        started: list[pybind.Waiting] = []
        await _wait_for_async(lambda: self._sync._start_table_schema(timeout, started))
        return self._sync._exported_schema(started[0])

    def debug_stats(self) -> dict[str, dict[str, int]]:
        """:meth:`ZerobusWrapper.debug_stats` (counters kept in memory: no need to await)."""
        return self._sync.debug_stats()

    async def flush(self, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.flush` (cancelling the task cancels the wait)."""
        ms = _timeout_ms(timeout)
        native = self._sync._open_native()
        if native is not None:
            try:
                await _wait_for_async(lambda: _bridge.call(native.FlushAsync, ms))
            except WrapperClosedError:
                if not self._sync._overtaken(native):
                    raise
                await _wait_for_async(lambda: _bridge.call(native.CloseAsync, ms))

    async def shutdown(self, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.shutdown` (idempotent; cancelling the
        task stops waiting for acknowledgements and still closes the wrapper)."""
        await self._sync._shutdown_async(timeout)

    async def close(self, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.close`: :meth:`shutdown`, for good (later sends and flushes raise
        :class:`~zerobus_py.WrapperClosedError`)."""
        _timeout_ms(timeout)  # a bad timeout raises before anything changes
        self._sync._ended = True
        await self._sync._shutdown_async(timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not _interrupted(exc_type):
            await self.shutdown()
            return
        with contextlib.suppress(ZerobusError):
            await self.shutdown(timeout=_INTERRUPT_GRACE)

    def __repr__(self) -> str:
        sync = getattr(self, "_sync", None)  # unset: construction failed (see ZerobusWrapper.__repr__)
        return "<AsyncZerobusWrapper not created>" if sync is None else "<Async" + repr(sync)[1:]
