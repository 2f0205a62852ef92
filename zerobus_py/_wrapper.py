"""ZerobusWrapper (sync, thread-safe) and AsyncZerobusWrapper (asyncio)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from itertools import chain
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _bridge
from ._arrow import normalize, payloads
from ._config import WrapperConfiguration
from ._errors import ConfigurationError, WrapperClosedError
from ._result import TransmissionResult

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

    from ._native import pybind

__all__ = ["AsyncZerobusWrapper", "ProgressCallback", "ZerobusWrapper"]

#: ``progress(rows_done, total_rows)`` of :meth:`ZerobusWrapper.send_batch`;
#: ``total_rows`` is ``None`` when the input is a stream of unknown length.
ProgressCallback = Callable[[int, "int | None"], None]

#: Payloads (IPC chunks of one logical batch) in flight at once when a large
#: table or a reader is streamed.
_MAX_PENDING = 2


def _timeout_ms(deadline: float | None) -> int:
    if deadline is None:
        return 0
    return max(1, int((deadline - time.monotonic()) * 1000))


def _parse(text: str) -> tuple[TransmissionResult, bool]:
    d = json.loads(text)
    return TransmissionResult._from_native(d), bool(d.get("raised"))


class ZerobusWrapper:
    """Streams Arrow data into one Zerobus table through the Go core.

    ``send_batch`` blocks until every row is durably acknowledged or has
    failed. The wrapper is safe to share between threads: the GIL is released
    while Go works, so concurrent ``send_batch`` calls progress together over
    the table's shared streams. Use it as a context manager (``with``) or call
    :meth:`shutdown` when done.

    Args:
        config: the settings; validated here with the Go core's rules (raises
            :class:`~zerobus_py.ConfigurationError` listing every problem).
            Creating the wrapper does not connect: streams open on the first
            send.
    """

    def __init__(self, config: WrapperConfiguration) -> None:
        if not isinstance(config, WrapperConfiguration):
            raise ConfigurationError(f"config must be a WrapperConfiguration, not {type(config).__name__}")
        self._config = config
        self._lock = threading.Lock()
        self._closed = False
        self._native: pybind.Wrapper | None = None
        self._native = _bridge.call(_bridge.native.NewWrapper, config._native_json())

    # -- properties --------------------------------------------------------

    @property
    def config(self) -> WrapperConfiguration:
        """The configuration this wrapper was created with."""
        return self._config

    @property
    def is_closed(self) -> bool:
        """True once :meth:`shutdown` has been called."""
        return self._closed

    def _handle(self) -> pybind.Wrapper:
        native = self._native
        if self._closed or native is None:
            raise WrapperClosedError("zerobus: the wrapper is shut down; create a new ZerobusWrapper to send more data")
        return native

    # -- sending -----------------------------------------------------------

    def send_batch(
        self, batch: Any, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """Send one logical batch and wait until every row is acknowledged or has failed.

        Args:
            batch: a pyarrow RecordBatch, Table or RecordBatchReader (streamed
                chunk by chunk), a pandas or polars DataFrame, or any object
                with ``__arrow_c_stream__`` / ``__arrow_c_array__``.
            timeout: seconds to wait at most; rows not acknowledged by then
                fail with :class:`~zerobus_py.CancelledError` (the server may
                still store them: delivery is at-least-once). Default: no limit.
            progress: called as ``progress(rows_done, total_rows)`` each time
                a part of the batch is resolved (acknowledged or failed), in
                the sending thread; ``total_rows`` is ``None`` for streams
                (readers, ``__arrow_c_stream__``). Large inputs go out in
                parts of at most 64 MiB; a small batch reports once, at the
                end. If it raises, the parts in flight are still waited for
                (nothing is left running) and the exception propagates.

        Returns:
            The :class:`~zerobus_py.TransmissionResult`. Row-level failures
            (some rows did not convert, or a stream failed after part of the
            batch was acknowledged) are reported there with ``success=False``.

        Raises:
            ZerobusError: the subclass matching the cause when the batch
                failed as a whole (authentication, connection, retries
                exhausted, schema not convertible, wrapper shut down, ...);
                the exception's ``result`` lists every row as failed.
            TypeError: ``batch`` is not a supported kind of data.
        """
        native = self._handle()
        norm = normalize(batch)
        # only with a callback: the common path does no extra work
        total = None if progress is None or norm.streamed else sum(b.num_rows for b in norm.batches)
        deadline = None if timeout is None else time.monotonic() + timeout
        started = time.perf_counter()
        it = payloads(norm)
        first = next(it)
        second = next(it, None)
        if second is None:
            text = _bridge.call(native.SendBatch, first.segments, _timeout_ms(deadline))
            result, raised = _parse(text)
            if progress is not None:
                progress(result.total_rows, total)
        else:
            parts: list[TransmissionResult] = []
            raised_all = True
            done = 0
            pending: deque[pybind.Pending] = deque()

            def wait_one() -> None:
                nonlocal raised_all, done
                part, part_raised = _parse(_bridge.call(pending.popleft().Wait))
                parts.append(part)
                raised_all = raised_all and part_raised
                done += part.total_rows
                if progress is not None:
                    progress(done, total)

            try:
                for p in chain((first, second), it):
                    pending.append(_bridge.call(native.SendBatchAsync, p.segments, _timeout_ms(deadline)))
                    del p  # Go copied it; free the Python buffers early
                    while len(pending) > _MAX_PENDING:
                        wait_one()
                while pending:
                    wait_one()
            except BaseException:
                # A failing progress callback, an unreadable stream or Ctrl-C:
                # let the parts in flight finish so no send is left running.
                while pending:
                    with contextlib.suppress(Exception):  # the first error is the one to report
                        _bridge.call(pending.popleft().Wait)
                raise
            result = TransmissionResult._merge(parts, (time.perf_counter() - started) * 1000)
            raised = raised_all and not result.success
        if raised and result.error is not None:
            result.error.result = result
            raise result.error
        return result

    async def send_batch_async(
        self, batch: Any, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """:meth:`send_batch` for asyncio: runs in a worker thread, so the
        event loop is never blocked. Same arguments, result and exceptions
        (``progress`` is called in that worker thread)."""
        return await asyncio.to_thread(self.send_batch, batch, timeout=timeout, progress=progress)

    def flush(self, *, timeout: float | None = None) -> None:
        """Block until everything sent so far is acknowledged (at most
        ``timeout`` seconds; default: the configured flush timeout, 300 s)."""
        native = self._handle()
        _bridge.call(native.Flush, 0 if timeout is None else max(1, int(timeout * 1000)))

    def shutdown(self, *, timeout: float | None = None) -> None:
        """Flush, close every stream and release the Go wrapper.

        Idempotent: later calls do nothing. Sends still in progress in other
        threads finish first; sends started afterwards raise
        :class:`~zerobus_py.WrapperClosedError`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            native, self._native = self._native, None
        if native is not None:
            _bridge.call(native.Close, 0 if timeout is None else max(1, int(timeout * 1000)))

    def close(self) -> None:
        """Alias of :meth:`shutdown`."""
        self.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.shutdown)

    def __del__(self) -> None:
        if getattr(self, "_closed", True) or getattr(self, "_native", None) is None:
            return
        warnings.warn(f"unclosed {self!r}: call shutdown() or use it in a with block", ResourceWarning, stacklevel=2)
        # not contextlib.suppress: modules may already be torn down at exit
        try:  # noqa: SIM105
            self.shutdown(timeout=5)
        except Exception:  # never raise from a finalizer
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<ZerobusWrapper table={self._config.table_name!r} endpoint={self._config.endpoint!r} {state}>"


class AsyncZerobusWrapper:
    """The asyncio form of :class:`ZerobusWrapper`: every method is a
    coroutine whose Go work runs in a worker thread, so the event loop is never
    blocked. Use ``async with AsyncZerobusWrapper(config) as w: await
    w.send_batch(batch)``.
    """

    def __init__(self, config: WrapperConfiguration) -> None:
        self._sync = ZerobusWrapper(config)

    @property
    def config(self) -> WrapperConfiguration:
        """The configuration this wrapper was created with."""
        return self._sync.config

    @property
    def is_closed(self) -> bool:
        """True once :meth:`shutdown` has been called."""
        return self._sync.is_closed

    @property
    def sync(self) -> ZerobusWrapper:
        """The underlying thread-safe synchronous wrapper."""
        return self._sync

    async def send_batch(
        self, batch: Any, *, timeout: float | None = None, progress: ProgressCallback | None = None
    ) -> TransmissionResult:
        """Await :meth:`ZerobusWrapper.send_batch` without blocking the loop
        (``progress`` is called in the worker thread: use
        ``loop.call_soon_threadsafe`` from it to touch loop objects)."""
        return await asyncio.to_thread(self._sync.send_batch, batch, timeout=timeout, progress=progress)

    async def flush(self, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.flush`."""
        await asyncio.to_thread(self._sync.flush, timeout=timeout)

    async def shutdown(self, *, timeout: float | None = None) -> None:
        """Await :meth:`ZerobusWrapper.shutdown` (idempotent)."""
        await asyncio.to_thread(self._sync.shutdown, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    def __repr__(self) -> str:
        return "<Async" + repr(self._sync)[1:]
