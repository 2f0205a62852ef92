"""TransmissionResult: the outcome of one send_batch call."""

from __future__ import annotations

import bisect
import itertools
import operator
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

from . import _errors
from ._errors import ERROR_TYPE_NAMES, ConversionError, ZerobusError, class_for_kind, error_for, from_details
from ._html import escape, plural
from ._typing import ArrowArrayExportable, _PandasFrameLike, _PolarsFrameLike

if TYPE_CHECKING:  # pragma: no cover - only in the overloads' annotations, which are never evaluated
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

__all__ = ["TransmissionResult", "partial_result"]

# The extract_*_batch overloads: the same kind out as in, or a Table for what is read again. Typed ``X | Any``
# (typeshed's "Any trick") because None comes back when there are no such rows: the caller asked after checking
# the counts, so a checker does not insist on a None check, yet still checks what is used of an ``X``.
# Without pyarrow-stubs (this package's own mypy run) pyarrow's classes are Any and the Table overloads can never
# match: hence their ``overload-cannot-match`` ignores, unused with the stubs.
#: An input the ``extract_*_batch`` helpers return as the same kind (a subclass as itself).
_Kept = TypeVar("_Kept", bound="pa.Table | pa.RecordBatch | _PandasFrameLike | _PolarsFrameLike")
#: An input they read again and return as a pyarrow Table.
_ReadAgain: TypeAlias = "pq.ParquetFile | ds.Dataset | ds.Scanner | pa.StructArray | pa.ChunkedArray[Any]"
# What extract_* return for another library's __arrow_c_array__ object (nanoarrow's array, another library's
# batch), which send_batch takes (SendInput): its rows as a pyarrow RecordBatch when it exports a struct array (a
# batch), else a pyarrow Array (_arrow.take_rows); None when no row is selected, hence Any.
_FromCArray: TypeAlias = "pa.RecordBatch | pa.Array[Any] | Any"


#: Row states of failed rows (Go ``core.RowState``): certainly not stored, or
#: sent without an acknowledgement (the server may have stored it).
NOT_WRITTEN = "not_written"
UNKNOWN = "unknown"


class _FailedGroup:
    """Rows that failed with one error in one state (``"not_written"`` or
    ``"unknown"``), as half-open ranges ``[lo, hi)``.

    A send's group holds the Go kind, message and details, and builds its
    exception only when asked (:attr:`error`): a batch with many failed rows
    costs no exception per row until one is asked for. A group with
    ``row_message`` holds rows whose errors differ only in the row number
    their message names and in the value texts it quotes (Go folds them:
    core's ``FailedGroup.RowTemplate``): ``row_message`` is the message's
    parts around them and ``row_values`` the values, ``k = len(row_message) -
    2`` per row in row order (None when ``k`` is 0); row ``i``, the group's
    ``j``-th row, has the message ``parts[0] + str(i) + parts[1] + v[0] +
    parts[2] + … + parts[k+1]`` with ``v = row_values[j*k:(j+1)*k]``, and
    :meth:`error_of` builds that row's own exception."""

    __slots__ = ("_details", "_error", "_kind", "_message", "_starts", "ranges", "row_message", "row_values", "state")

    def __init__(
        self,
        error: ZerobusError | None,
        ranges: tuple[tuple[int, int], ...],
        state: str = UNKNOWN,
        *,
        kind: str = "unknown",
        message: str = "",
        details: Mapping[str, Any] | None = None,
        row_message: tuple[str, ...] | None = None,
        row_values: Sequence[str] | None = None,
    ) -> None:
        self._error = error
        self._kind = error.kind if error is not None else kind
        self._message = error.message if error is not None else message
        self._details = details
        self.ranges = ranges
        self.state = state
        self.row_message = row_message
        self.row_values = row_values if row_message is not None and len(row_message) > 2 else None
        self._starts: list[int] | None = None

    @classmethod
    def _native(cls, g: Mapping[str, Any]) -> _FailedGroup:
        """A group of the Go result's JSON (see pybind's ``failedGroup``)."""
        rm = g.get("row_message")
        return cls(
            None,
            tuple((int(lo), int(hi)) for lo, hi in g["ranges"]),
            str(g.get("state") or UNKNOWN),
            kind=str(g["kind"]),
            message=str(g["message"]),
            details=g.get("details"),
            row_message=tuple(str(p) for p in rm) if rm and len(rm) >= 2 else None,
            row_values=g.get("row_values"),
        )

    @property
    def error(self) -> ZerobusError:
        """The group's exception (its first row's, for a folded group), built on first use."""
        if self._error is None:
            self._error = from_details(self._details or {"kind": self._kind}, self._message)
        return self._error

    def error_of(self, row: int, j: int | None = None) -> ZerobusError:
        """The exception of ``row`` (one of the group's; ``j``: its position
        among them, when known): :attr:`error`, or for a folded group that
        row's own, naming it."""
        if self.row_message is None or row == self.ranges[0][0]:
            return self.error
        return from_details({**(self._details or {"kind": self._kind}), "row": row}, self.message_of(row, j))

    def message_of(self, row: int, j: int | None = None) -> str:
        """The message of ``row``'s error (without building it); ``j`` is its
        position among the group's rows, when known."""
        parts = self.row_message
        if parts is None:
            return self._message
        if self.row_values is None:
            return f"{parts[0]}{row}{''.join(parts[1:])}"
        k = len(parts) - 2
        if j is None:
            j = self._position(row)
        vals = self.row_values[j * k : (j + 1) * k]
        out = [parts[0], str(row), parts[1]]
        for v, p in zip(vals, parts[2:], strict=True):
            out += (v, p)
        return "".join(out)

    def _position(self, row: int) -> int:
        """How many of the group's rows come before ``row`` (one of them)."""
        if self._starts is None:
            self._starts = list(itertools.accumulate((hi - lo for lo, hi in self.ranges), initial=0))
        r = bisect.bisect_right(self.ranges, (row, sys.maxsize)) - 1
        return self._starts[r] + row - self.ranges[r][0]

    def messages(self, prefix: str = "") -> Iterable[tuple[int, str]]:
        """``(row, prefix + message)`` of every row of the group, in row order."""
        parts, vals = self.row_message, self.row_values
        if parts is None:
            text = prefix + self._message
            return ((i, text) for i in self.indices())
        if vals is None:
            before, after = prefix + parts[0], "".join(parts[1:])
            return ((i, f"{before}{i}{after}") for i in self.indices())
        if len(parts) == 3:  # one value per row: the common case, without a list per row
            before, mid, after = prefix + parts[0], parts[1], parts[2]
            return ((i, f"{before}{i}{mid}{v}{after}") for i, v in zip(self.indices(), vals, strict=True))
        return ((i, prefix + self.message_of(i, j)) for j, i in enumerate(self.indices()))

    def errors(self) -> Iterable[tuple[int, ZerobusError]]:
        """``(row, exception)`` of every row of the group, in row order."""
        if self.row_message is None:
            err = self.error
            return ((i, err) for i in self.indices())
        return ((i, self.error_of(i, j)) for j, i in enumerate(self.indices()))

    @property
    def cls(self) -> type[ZerobusError]:
        """The exception class of the group's rows (without building one)."""
        if self._error is not None:
            return type(self._error)
        return class_for_kind(_resolved_kind(self._kind, self._details))

    def type_name(self) -> str:
        """The error class name counted by type (``"ConversionError"``)."""
        if self._error is not None:
            return _type_name(self._error)
        cls = self.cls
        return ERROR_TYPE_NAMES.get(cls.kind, cls.__name__)

    def display_prefix(self) -> str:
        """The original API's ``"Error type"`` of the group's rows."""
        kind = self._error.kind if self._error is not None else self.cls.kind
        return _DISPLAY_NAMES.get(kind.partition(":")[0], self.cls.__name__)

    def display_of(self, row: int) -> str:
        """``"Error type: message"`` of ``row`` (without building its exception)."""
        return f"{self.display_prefix()}: {self.message_of(row)}"

    def indices(self) -> Iterable[int]:
        for lo, hi in self.ranges:
            yield from range(lo, hi)

    def count(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "_starts"}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        if "error" in state:  # pickled by a version whose groups held their exception
            state = {"_error": state["error"], "ranges": state["ranges"], "state": state.get("state", UNKNOWN)}
            err = state["_error"]
            state = {**state, "_kind": err.kind, "_message": err.message}
        for name in self.__slots__:
            default = UNKNOWN if name == "state" else None
            object.__setattr__(self, name, state.get(name, default))


class _Tallies:
    """A result's failed rows counted once: by state, by error class name, by both."""

    __slots__ = ("by_type", "by_type_state", "not_written", "unknown")

    def __init__(self) -> None:
        self.not_written = 0
        self.unknown = 0
        self.by_type: dict[str, int] = {}
        #: (class name, not written) -> rows
        self.by_type_state: dict[tuple[str, bool], int] = {}


def _resolved_kind(kind: str, details: Mapping[str, Any] | None) -> str:
    """The kind :func:`from_details` picks a class by (exhausted retries: also the last failure's)."""
    causes = (details or {}).get("causes") or ()
    if kind == "retry_exhausted" and causes and isinstance(causes[0], Mapping):
        return f"{kind}:{causes[0].get('kind', 'unknown')}"
    return kind


def _type_name(error: ZerobusError) -> str:
    return ERROR_TYPE_NAMES.get(error.kind, type(error).__name__)


class TransmissionResult:
    """Which rows of a batch were durably acknowledged and which failed, and why.

    Every row has exactly one of three outcomes:

    * **durable** (:attr:`successful_rows`): the server acknowledged it; it is
      stored.
    * **not written** (:meth:`get_not_written_row_indices`): certainly not
      stored -- it failed conversion, was rejected before it was sent, or was
      never sent (the stream could not be opened, the call was cancelled
      while it waited). Safe to send again.
    * **unknown** (:meth:`get_unknown_row_indices`): sent, but no
      acknowledgement came before the send gave up (retries exhausted, a
      timeout, cancellation, a connection lost after the request left). The
      server may have stored it.

    Delivery is at-least-once: a row is never reported durable without being
    stored, but a row can be stored twice when an acknowledgement is lost
    and its request is re-sent, and re-sending an unknown row can store it
    twice. Re-send :meth:`extract_not_written_batch` freely; re-send
    :meth:`extract_unknown_batch` only into a table that removes duplicates
    (give each row an id and ``MERGE`` on it, or rely on the table's keys).

    Invariants: ``total_rows == successful_count + failed_count`` and
    ``failed_count == not_written_count + unknown_count``. When the whole
    batch fails, every row is listed as failed, so
    :meth:`extract_failed_batch` (not written and unknown rows together)
    always yields what must be quarantined. Results are immutable (assigning
    an attribute raises ``AttributeError``) and safe to share between
    threads.

    The original API's partial-success pattern works unchanged for a batch
    that does not fail as a whole (one that does raises: catch
    :class:`~zerobus_py.ZerobusError` and quarantine ``err.result``'s failed
    rows)::

        if result.success:          # some rows stored
            if result.failed_rows:  # ... and some not: quarantine only those
                quarantine(result.extract_failed_batch(batch))
        else:                       # nothing stored
            quarantine(batch)

    (For a reader, which the original did not take, ``success`` is also
    ``False`` when the reader broke part-way: ``error`` says so, and rows
    read before it may be stored, the failed ones listed as usual.)

    It can also be built directly, with the original Python API's signature,
    e.g. for unit tests and mocks of code that handles results::

        TransmissionResult(True, failed_rows=[(1, "ConversionError: bad value")],
                           successful_rows=[0, 2], total_rows=3)

    * ``error`` and each ``failed_rows`` message are ``"ErrorType: message"``
      strings: the prefix (``ConversionError``, ``TransmissionError``,
      ``ConnectionError``, ``AuthenticationError``, ``ConfigurationError``,
      ``RetryExhausted``, ``TokenRefreshError``, or the original's display
      form such as ``"Conversion error"``) picks the exception class; text
      without a known prefix is a ``ConversionError``, as in the original.
      A :class:`ZerobusError` instance is accepted as is.
    * The row lists are authoritative: the helpers (indices, grouping,
      extraction) read them, and a list not given is empty. Counts not given
      (left at 0) are the lengths of the lists, and ``total_rows`` not given
      is their sum. Without an explicit ``total_rows``, ``extract_*_batch``
      accepts a batch of any length that holds the listed rows.
    * ``latency_ms=None`` is stored as ``0.0``; ``message`` is accepted and
      ignored, as in the original.
    * Failed rows given here are *not durable*; whether they reached the
      table is not known, so with the durability split of the results
      (rows "not written" vs "unknown") they count as unknown.
    * ``failed_rows``, ``successful_rows`` and the indices read back keep
      the order given, as in the original (a send's result lists rows in
      row order). Counts and indices may be any integers with
      ``__index__`` (NumPy's included), and the row lists any iterable (a
      NumPy array too).
    * :attr:`all_succeeded` of a built result is ``success`` with no failed
      row and no ``error``.

    Attributes (read-only):
        success: as in the original API: at least one row was acknowledged
            (or converted, with the writer disabled) and the batch did not
            fail as a whole; an empty batch is a success. ``True`` for a
            *partial* failure: check :attr:`failed_count` (or
            :attr:`all_succeeded`) before treating the batch as stored.
        all_succeeded: every row was acknowledged (or converted, with the
            writer disabled): nothing to quarantine. An empty batch counts.
        error: the batch-level error, or ``None``: as in the original API,
            set only when the batch failed as a whole (on the exception's
            ``result``) or when its input could not be read to the end;
            rows that failed one by one leave it ``None`` (their errors are
            in :attr:`failed_rows` / :attr:`failed_row_errors`, and summed up
            in :attr:`failure`).
        failure: the result's error at any level: :attr:`error`, or for
            rows that failed one by one a summary naming the first of them.
        attempts: highest number of stream attempts any request needed
            (1 = sent once, 0 = nothing sent).
        recoveries: stream recoveries (a failed or server-closed stream
            replaced by a new one) that re-sent rows of this send; 0 when
            nothing was re-sent.
        resent_rows: rows written again after a recovery, before their
            acknowledgement came: delivery is at-least-once, so up to this
            many rows may be stored twice (0: no duplicates from this send).
            Rows a timeout or cancel left unknown are never written again
            by their stream once the send has returned.
        latency_ms: wall time of the send in milliseconds.
        batch_size_bytes: encoded size (protobuf; Arrow IPC body with arrow_flight) of the acknowledged rows (of
            the converted rows, with the writer disabled); failed rows are not
            counted.
        total_rows, successful_count, failed_count: row counts
            (``failed_count`` = ``not_written_count`` + ``unknown_count``).
        writer_disabled: nothing was sent (``zerobus_writer_disabled``):
            "successful" rows were converted only.
    """

    __slots__ = (
        "_all_succeeded",
        "_attempts",
        "_batch_size_bytes",
        "_error",
        "_failed_count",
        "_failed_rows",
        "_failure",
        "_given_failed",
        "_groups",
        "_latency_ms",
        "_recoveries",
        "_resent_rows",
        "_row_count_known",
        "_success",
        "_successful",
        "_successful_count",
        "_tallies",
        "_total_rows",
        "_writer_disabled",
    )

    #: Successful row indices as given to the constructor; None: every row not failed.
    _successful: tuple[int, ...] | None
    #: Failed rows as given to the constructor, in that order; None for a send's result.
    _given_failed: tuple[tuple[int, ZerobusError], ...] | None
    #: total_rows describes the batch, so extraction checks the batch's length.
    _row_count_known: bool

    def __init__(
        self,
        success: bool,
        *,
        error: str | ZerobusError | None = None,
        attempts: int = 1,
        latency_ms: float | None = None,
        batch_size_bytes: int = 0,
        failed_rows: Iterable[tuple[int, str | ZerobusError]] | None = None,
        successful_rows: Iterable[int] | None = None,
        total_rows: int = 0,
        successful_count: int = 0,
        failed_count: int = 0,
        message: str | None = None,
    ) -> None:
        groups, given = _groups_from_rows(failed_rows)
        ok = () if successful_rows is None else tuple(_row_index(i, "successful_rows") for i in successful_rows)
        successful_count = _count(successful_count, "successful_count") or len(ok)
        failed_count = _count(failed_count, "failed_count") or len(given)
        total = _count(total_rows, "total_rows")
        err = None if error is None else _parse_error(error, "error")
        self._set(
            success=bool(success),
            all_succeeded=bool(success) and failed_count == 0 and not given and err is None,
            error=err,
            attempts=_count(attempts, "attempts"),
            latency_ms=0.0 if latency_ms is None else float(latency_ms),
            batch_size_bytes=_count(batch_size_bytes, "batch_size_bytes"),
            total_rows=total or successful_count + failed_count,
            successful_count=successful_count,
            failed_count=failed_count,
            writer_disabled=False,
            groups=groups,
        )
        self._successful = ok
        self._given_failed = given
        self._failure = err if err is not None else (given[0][1] if given else None)
        self._row_count_known = bool(total)

    @classmethod
    def _create(
        cls,
        *,
        success: bool,
        all_succeeded: bool,
        error: ZerobusError | None,
        failure: ZerobusError | None,
        attempts: int,
        latency_ms: float,
        batch_size_bytes: int,
        total_rows: int,
        successful_count: int,
        failed_count: int,
        writer_disabled: bool = False,
        groups: Sequence[_FailedGroup] = (),
        recoveries: int = 0,
        resent_rows: int = 0,
    ) -> TransmissionResult:
        """A result of a send (the Go core's outcome): the successful rows are
        every row not in a failed group, and total_rows is the batch's length."""
        res = cls.__new__(cls)
        res._set(
            success=success,
            all_succeeded=all_succeeded,
            error=error,
            attempts=attempts,
            latency_ms=latency_ms,
            batch_size_bytes=batch_size_bytes,
            total_rows=total_rows,
            successful_count=successful_count,
            failed_count=failed_count,
            writer_disabled=writer_disabled,
            groups=groups,
        )
        res._recoveries = recoveries
        res._resent_rows = resent_rows
        res._failure = failure
        return res

    def _set(
        self,
        *,
        success: bool,
        all_succeeded: bool,
        error: ZerobusError | None,
        attempts: int,
        latency_ms: float,
        batch_size_bytes: int,
        total_rows: int,
        successful_count: int,
        failed_count: int,
        writer_disabled: bool,
        groups: Sequence[_FailedGroup],
    ) -> None:
        self._success = success
        self._all_succeeded = all_succeeded
        self._error = error
        self._attempts = attempts
        self._latency_ms = latency_ms
        self._batch_size_bytes = batch_size_bytes
        self._total_rows = total_rows
        self._successful_count = successful_count
        self._failed_count = failed_count
        self._writer_disabled = writer_disabled
        self._recoveries = 0
        self._resent_rows = 0
        self._groups: tuple[_FailedGroup, ...] = tuple(groups)
        self._failed_rows: list[tuple[int, ZerobusError]] | None = None
        self._tallies: _Tallies | None = None
        self._successful = None
        self._given_failed = None
        self._failure = error
        self._row_count_known = True

    # -- read-only attributes ------------------------------------------------

    @property
    def success(self) -> bool:
        """At least one row stored and no batch-level failure (the original
        API's meaning; an empty batch is a success). Partial failures are
        ``True``: see :attr:`all_succeeded` and :attr:`failed_count`."""
        return self._success

    @property
    def all_succeeded(self) -> bool:
        """Every row was acknowledged (or converted, with the writer
        disabled): nothing failed, nothing to quarantine."""
        return self._all_succeeded

    @property
    def error(self) -> ZerobusError | None:
        """The batch-level error (the batch failed as a whole, or its input
        could not be read to the end), or ``None``; ``None`` when rows failed
        one by one, as in the original API (see :attr:`failed_row_errors`)."""
        return self._error

    @property
    def failure(self) -> ZerobusError | None:
        """The result's error at any level, ``None`` when every row succeeded: :attr:`error` for a batch-level
        failure, else, when rows failed one by one, one error summing them up (``"zerobus: 1 of 3 rows failed;
        first, row 1: ..."``, with the first failed row's class, ``row`` and ``column``)."""
        return self._failure

    @property
    def attempts(self) -> int:
        """Highest number of stream attempts any request needed (1 = sent once, 0 = nothing sent)."""
        return self._attempts

    @property
    def recoveries(self) -> int:
        """Stream recoveries (a failed or server-closed stream replaced by a new one) that re-sent rows of this
        send; 0 when nothing was re-sent."""
        return self._recoveries

    @property
    def resent_rows(self) -> int:
        """Rows written again after a stream recovery, before their acknowledgement came: delivery is
        at-least-once, so up to this many rows may be stored twice, though each is counted once in the result
        (0: this send made no duplicates)."""
        return self._resent_rows

    @property
    def latency_ms(self) -> float:
        """Wall time of the send in milliseconds."""
        return self._latency_ms

    @property
    def batch_size_bytes(self) -> int:
        """Encoded size of the acknowledged (with the writer disabled: converted) rows."""
        return self._batch_size_bytes

    @property
    def total_rows(self) -> int:
        """Rows in the batch."""
        return self._total_rows

    @property
    def successful_count(self) -> int:
        """Rows acknowledged (converted, with the writer disabled)."""
        return self._successful_count

    @property
    def failed_count(self) -> int:
        """Rows not acknowledged (``not_written_count + unknown_count``)."""
        return self._failed_count

    @property
    def writer_disabled(self) -> bool:
        """Nothing was sent (``zerobus_writer_disabled``): "successful" rows were converted only."""
        return self._writer_disabled

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> TransmissionResult:
        groups = [_FailedGroup._native(g) for g in d.get("failed") or ()]
        every = bool(d["success"])
        successful = int(d["successful_count"])
        failed = int(d["failed_count"])
        failure: ZerobusError | None = None
        if d.get("error_kind"):
            failure = from_details(d.get("error") or {"kind": d["error_kind"]}, d["error_message"])
            # Share the instance with the group of the same message, so
            # result.error is failed_rows[i][1] for whole-batch failures
            # (compared as Go gave them: no group's exception is built).
            for g in groups:
                if g._kind == d["error_kind"] and g._message == d["error_message"]:
                    failure = g.error
                    break
        # The original API's batch-level error: the batch failed as a whole
        # (raised), or its input could not be read to the end (Go says which).
        # Rows that failed one by one leave it None.
        batch_level = d.get("raised") or d.get("input_incomplete") or failed == 0
        err = failure if failure is not None and not every and batch_level else None
        res = cls._create(
            # the original's meaning: any row stored, no batch-level error
            success=every or (successful > 0 and err is None),
            all_succeeded=every,
            error=err,
            failure=failure,
            attempts=int(d["attempts"]),
            latency_ms=float(d["latency_ms"]),
            batch_size_bytes=int(d["batch_size_bytes"]),
            total_rows=int(d["total_rows"]),
            successful_count=successful,
            failed_count=failed,
            writer_disabled=bool(d.get("writer_disabled", False)),
            groups=groups,
            recoveries=int(d.get("recoveries") or 0),
            resent_rows=int(d.get("resent_rows") or 0),
        )
        if failure is not None:
            failure.result = res
        return res

    # -- pickle ------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # every slot but the failed-row cache (rebuilt on demand)
        return {name: getattr(self, name) for name in self.__slots__ if name not in ("_failed_rows", "_tallies")}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        # a result pickled before recoveries / resent_rows existed (0.8.1) had none
        object.__setattr__(self, "_recoveries", 0)
        object.__setattr__(self, "_resent_rows", 0)
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self._failed_rows = None
        self._tallies = None

    # -- rows --------------------------------------------------------------

    @property
    def failed_rows(self) -> list[tuple[int, str]]:
        """``(row_index, "Error type: message")`` for every failed row, in row
        order (a new list), as the original API gives them: the prefix is the
        error type's display form (``"Conversion error"``, ``"Transmission
        error"``, ...). :attr:`failed_row_errors` gives the exceptions."""
        if self._given_failed is not None or self._failed_rows is not None:
            return [(i, _display(err)) for i, err in self.failed_row_errors]
        # from the groups' messages: no exception per row
        rows: list[tuple[int, str]] = []
        for g in self._groups:
            if g.row_message is None:
                text = g.display_of(0)
                rows.extend((i, text) for i in g.indices())
            else:
                rows.extend(g.messages(f"{g.display_prefix()}: "))
        if len(self._groups) > 1:
            rows.sort(key=operator.itemgetter(0))
        return rows

    @property
    def failed_row_errors(self) -> list[tuple[int, ZerobusError]]:
        """``(row_index, error)`` for every failed row, in row order (a new
        list; a built result: in the order given); rows that failed with one
        error share its instance. Built on first use (one exception per row
        whose message names it)."""
        if self._failed_rows is None:
            if self._given_failed is not None:  # built by the caller: the order given, as the original
                self._failed_rows = list(self._given_failed)
            else:
                rows = [row for g in self._groups for row in g.errors()]
                rows.sort(key=lambda r: r[0])
                self._failed_rows = rows
        return list(self._failed_rows)

    @property
    def successful_rows(self) -> list[int]:
        """Indices of the acknowledged rows, in row order (a new list)."""
        if self._successful is not None:
            return list(self._successful)
        return [i for lo, hi in self._successful_ranges() for i in range(lo, hi)]

    def _successful_ranges(self) -> list[tuple[int, int]]:
        """The acknowledged rows of a send's result as ascending half-open
        ranges: every row of ``[0, total_rows)`` not in a failed group."""
        failed = sorted(r for g in self._groups for r in g.ranges)
        out: list[tuple[int, int]] = []
        nxt = 0
        for lo, hi in failed:
            if lo > nxt:
                out.append((nxt, lo))
            nxt = max(nxt, hi)
        if nxt < self.total_rows:
            out.append((nxt, self.total_rows))
        return out

    def get_failed_row_indices(self) -> list[int]:
        """Indices of the failed rows, in row order (a built result: in the order given)."""
        if self._given_failed is not None:
            return [i for i, _ in self._given_failed]
        if len(self._groups) == 1:
            return list(self._groups[0].indices())
        return sorted(i for g in self._groups for i in g.indices())

    @property
    def not_written_count(self) -> int:
        """Failed rows certainly not stored (safe to send again)."""
        return self._tally().not_written

    @property
    def unknown_count(self) -> int:
        """Failed rows sent without an acknowledgement: the server may have stored them."""
        return self._tally().unknown

    def _tally(self) -> _Tallies:
        """Counts from the groups, computed once (results are immutable)."""
        if self._tallies is None:
            t = _Tallies()
            for g in self._groups:
                n = g.count()
                name = g.type_name()
                t.by_type[name] = t.by_type.get(name, 0) + n
                key = (name, g.state == NOT_WRITTEN)
                t.by_type_state[key] = t.by_type_state.get(key, 0) + n
                if g.state == NOT_WRITTEN:
                    t.not_written += n
                else:
                    t.unknown += n
            self._tallies = t
        return self._tallies

    def get_not_written_row_indices(self) -> list[int]:
        """Indices of the rows certainly not stored, in row order: re-sending
        them cannot create duplicates."""
        return sorted(i for g in self._groups if g.state == NOT_WRITTEN for i in g.indices())

    def get_unknown_row_indices(self) -> list[int]:
        """Indices of the rows sent without an acknowledgement, in row order:
        the server may have stored them, so re-send them only where
        duplicates are removed (an id column and ``MERGE``, or table keys)."""
        return sorted(i for g in self._groups if g.state != NOT_WRITTEN for i in g.indices())

    def get_successful_row_indices(self) -> list[int]:
        """Indices of the acknowledged rows, in row order."""
        return self.successful_rows

    def get_failed_row_indices_by_error_type(self, error_type: str | type[ZerobusError]) -> list[int]:
        """Indices of rows that failed with an error of ``error_type``: a
        class name (``"ConversionError"``), an exception class, or a Go kind
        (``"conversion"``). Subclasses count (``AuthenticationError`` also
        matches ``TokenRefreshError`` rows)."""
        cls = _resolve_error_type(error_type)
        return sorted(i for g in self._groups if issubclass(g.cls, cls) for i in g.indices())

    def group_errors_by_type(self) -> dict[str, list[int]]:
        """Failed row indices grouped by error class name, e.g.
        ``{"ConversionError": [3, 7]}``."""
        out: dict[str, list[int]] = {}
        for g in self._groups:
            out.setdefault(g.type_name(), []).extend(g.indices())
        for rows in out.values():
            rows.sort()
        return out

    def get_error_statistics(self) -> dict[str, Any]:
        """Counts: ``total_rows``, ``successful_count``, ``failed_count``,
        ``success_rate``, ``failure_rate`` (1.0 / 0.0 for an empty batch) and
        ``error_type_counts`` (failed rows per error class name). The failed
        rows split into :attr:`not_written_count` and :attr:`unknown_count`."""
        total = self.total_rows
        return {
            "total_rows": total,
            "successful_count": self.successful_count,
            "failed_count": self.failed_count,
            "success_rate": self.successful_count / total if total else 1.0,
            "failure_rate": self.failed_count / total if total else 0.0,
            "error_type_counts": self._counts_by_type(),
        }

    def _counts_by_type(self) -> dict[str, int]:
        """Failed rows per error class name, counted from the ranges (a new dict)."""
        return dict(self._tally().by_type)

    def get_error_messages(self) -> list[str]:
        """One ``"Error type: message"`` string per failed row, in row order,
        as the original API gives them (the messages of :attr:`failed_rows`)."""
        return [m for _, m in self.failed_rows]

    def is_partial_success(self) -> bool:
        """Some but not all rows succeeded: :attr:`success` with rows both
        successful and failed (the original API's definition)."""
        return self._success and self._successful_count > 0 and self._failed_count > 0

    def has_failed_rows(self) -> bool:
        """At least one row is listed as failed."""
        return any(g.ranges for g in self._groups)

    def has_successful_rows(self) -> bool:
        """At least one row is listed as successful."""
        if self._successful is not None:
            return bool(self._successful)
        return self.successful_count > 0

    # -- quarantine --------------------------------------------------------

    @overload
    def extract_failed_batch(
        self, batch: _Kept | None = None, *, original_batch: _Kept | None = None
    ) -> _Kept | Any: ...
    @overload
    def extract_failed_batch(  # type: ignore[overload-cannot-match, unused-ignore]
        self, batch: _ReadAgain | None = None, *, original_batch: _ReadAgain | None = None
    ) -> pa.Table | Any: ...
    @overload
    def extract_failed_batch(  # type: ignore[overload-cannot-match, unused-ignore]
        self, batch: ArrowArrayExportable | None = None, *, original_batch: ArrowArrayExportable | None = None
    ) -> _FromCArray: ...
    def extract_failed_batch(self, batch: Any = None, *, original_batch: Any = None) -> Any:
        """Return only the failed rows of ``batch`` (the data that was sent),
        in row order, as the same kind of object: a pyarrow RecordBatch or
        Table, a pandas or polars DataFrame; a Parquet file, dataset or
        scanner comes back as a pyarrow Table (read again once, in file
        order, keeping only those rows: it must still hold the data that was
        sent); another library's ``__arrow_c_array__`` object (which
        ``send_batch`` takes) comes back as a pyarrow RecordBatch when it
        exports a batch (a struct array), else as a pyarrow Array; ``None``
        when no row failed (as the original API).
        Raises ``ValueError`` if ``batch`` has a different number of rows
        than this result describes.

        Rows are selected by position, so ``batch`` must give the same rows
        in the same order as the send read. Another ``__arrow_c_stream__``
        object (a DuckDB relation, a lazy query) would run again, with no
        promise of that order, so it raises ``TypeError``: materialise it
        first (``relation.to_arrow_table()``, ``pyarrow.table(obj)``), send
        that table and extract from it. A ``RecordBatchReader`` is consumed
        by the send: pass the data it came from.

        These are all rows not acknowledged, not written and unknown alike:
        right for quarantine, but re-sending them can duplicate the unknown
        ones (see :meth:`extract_not_written_batch` and
        :meth:`extract_unknown_batch`).

        ``original_batch=`` is the original API's keyword for ``batch``."""
        return self._take(_sent_batch(batch, original_batch), self._failed_ranges(lambda g: True))

    @overload
    def extract_not_written_batch(self, batch: _Kept) -> _Kept | Any: ...
    @overload
    def extract_not_written_batch(self, batch: _ReadAgain) -> pa.Table | Any: ...  # type: ignore[overload-cannot-match, unused-ignore]
    @overload
    def extract_not_written_batch(self, batch: ArrowArrayExportable) -> _FromCArray: ...  # type: ignore[overload-cannot-match, unused-ignore]
    def extract_not_written_batch(self, batch: Any) -> Any:
        """Return only the rows of ``batch`` certainly not stored, as
        :meth:`extract_failed_batch` does: safe to send again."""
        return self._take(batch, self._failed_ranges(lambda g: g.state == NOT_WRITTEN))

    @overload
    def extract_unknown_batch(self, batch: _Kept) -> _Kept | Any: ...
    @overload
    def extract_unknown_batch(self, batch: _ReadAgain) -> pa.Table | Any: ...  # type: ignore[overload-cannot-match, unused-ignore]
    @overload
    def extract_unknown_batch(self, batch: ArrowArrayExportable) -> _FromCArray: ...  # type: ignore[overload-cannot-match, unused-ignore]
    def extract_unknown_batch(self, batch: Any) -> Any:
        """Return only the rows of ``batch`` sent without an acknowledgement,
        as :meth:`extract_failed_batch` does. The server may have stored
        them: send them again only into a table that removes duplicates."""
        return self._take(batch, self._failed_ranges(lambda g: g.state != NOT_WRITTEN))

    @overload
    def extract_successful_batch(
        self, batch: _Kept | None = None, *, original_batch: _Kept | None = None
    ) -> _Kept | Any: ...
    @overload
    def extract_successful_batch(  # type: ignore[overload-cannot-match, unused-ignore]
        self, batch: _ReadAgain | None = None, *, original_batch: _ReadAgain | None = None
    ) -> pa.Table | Any: ...
    @overload
    def extract_successful_batch(  # type: ignore[overload-cannot-match, unused-ignore]
        self, batch: ArrowArrayExportable | None = None, *, original_batch: ArrowArrayExportable | None = None
    ) -> _FromCArray: ...
    def extract_successful_batch(self, batch: Any = None, *, original_batch: Any = None) -> Any:
        """Return only the acknowledged rows of ``batch``, as
        :meth:`extract_failed_batch` does for the failed ones
        (``original_batch=`` is the original API's keyword for ``batch``)."""
        batch = _sent_batch(batch, original_batch)
        if self._successful is not None:
            return self._take(batch, _ranges(sorted(self._successful)))
        return self._take(batch, self._successful_ranges())

    def _failed_ranges(self, keep: Callable[[_FailedGroup], bool]) -> list[tuple[int, int]]:
        """The ranges of the failed groups ``keep`` selects, by first row."""
        return sorted(r for g in self._groups if keep(g) for r in g.ranges)

    def _failed_runs(self, not_written: bool) -> list[tuple[int, int, ZerobusError]]:
        """``(lo, hi, error)`` of the failed rows not written (or unknown),
        by first row: the rows :meth:`extract_not_written_batch` (or
        :meth:`extract_unknown_batch`) selects, in its order for a send's
        result (whose ranges never overlap)."""
        runs = [
            run
            for g in self._groups
            if (g.state == NOT_WRITTEN) == not_written
            for run in (
                ((lo, hi, g.error) for lo, hi in g.ranges)
                if g.row_message is None
                else ((i, i + 1, err) for i, err in g.errors())  # a folded group: per row
            )
        ]
        runs.sort(key=lambda r: r[0])
        return runs

    def _take(self, batch: Any, ranges: Sequence[tuple[int, int]]) -> Any:
        """The rows of ``ranges`` (ascending by ``lo``) of ``batch``, or None
        when there are none (as the original API returns). The selection is
        an Arrow index array built from the ranges: no Python int per row."""
        from ._arrow import _num_rows, row_indices, take_rows

        ranges = [(lo, hi) for lo, hi in ranges if hi > lo]
        if not self._row_count_known:  # built without total_rows: the listed rows must exist
            expected = _num_rows(batch)
            last = max((hi - 1 for _, hi in ranges), default=-1)
            if last >= expected:
                raise ValueError(
                    f"the batch has {expected} rows but this result lists row {last}: pass the batch that was sent"
                )
        else:
            expected = self.total_rows
            if not ranges and (n := _num_rows(batch)) != expected:
                raise ValueError(
                    f"the batch has {n} rows but this result describes {expected}: pass the batch that was sent"
                )
        if not ranges:
            return None
        return take_rows(batch, row_indices(ranges), expected)

    # -- display -----------------------------------------------------------

    def _summary(self) -> str:
        # Rows not acknowledged were not all "not sent", nor all "failed": say which are certainly not stored and
        # which may be (#16: never call a row failed that may have landed).
        rows = "row" if self.total_rows == 1 else "rows"
        verb = "converted (writer disabled)" if self.writer_disabled else "acknowledged"
        s = f"{self.successful_count:,}/{self.total_rows:,} {rows} {verb}"
        if self.failed_count:
            t = self._tally()
            kinds = ", ".join(f"{k}={n:,}" for k, n in sorted(t.by_type.items()))
            states = [f"{n:,} {what}" for n, what in ((t.not_written, "not written"), (t.unknown, UNKNOWN_SHOWN)) if n]
            not_ok = "not converted" if self.writer_disabled else "not acknowledged"
            s += f" ({self.failed_count:,} {not_ok}: {'; '.join([kinds, ', '.join(states)] if states else [kinds])})"
        return s

    def __repr__(self) -> str:
        if not hasattr(self, "_row_count_known"):  # set last: the constructor failed or has not run
            # never raises: Python < 3.12's traceback prints a failed constructor's self with repr (capture_locals)
            return "<TransmissionResult incomplete>"
        parts = [
            f"success={self.success}",
            self._summary(),
            f"attempts={self.attempts}",
        ]
        if self.recoveries or self.resent_rows:
            parts += [f"recoveries={self.recoveries}", f"resent_rows={self.resent_rows}"]
        parts += [
            f"latency_ms={self.latency_ms:.1f}",
            f"batch_size_bytes={self.batch_size_bytes}",
        ]
        if self.error is not None:
            parts.append(f"error={type(self.error).__name__}({_short(self.error.message)!r})")
        elif self._failure is not None:  # rows failed one by one: error is None
            parts.append(f"failure={type(self._failure).__name__}({_short(self._failure.message)!r})")
        return f"<TransmissionResult {' '.join(parts[:1])}: {parts[1]}, {', '.join(parts[2:])}>"

    def __str__(self) -> str:
        return self.__repr__()

    def _status(self) -> str:
        """The HTML status, agreeing with ``success`` (the repr's first word), and never "failed" for rows that
        may be stored."""
        if self.all_succeeded:
            return "✅ success"
        if self.success:
            return "⚠️ partial"
        t = self._tally()
        if t.unknown and not t.not_written:
            return "❓ unknown (not acknowledged; may be stored)"
        if t.unknown:
            return "❌ failed (some rows not acknowledged may be stored)"
        return "❌ failed (not written)" if t.not_written else "❌ failed"

    def _repr_html_(self) -> str:
        if not hasattr(self, "_row_count_known"):  # the constructor failed or has not run (see __repr__)
            return f"<table><caption>TransmissionResult</caption><tr><td>{escape(repr(self))}</td></tr></table>"
        t = self._tally()
        rows = [
            ("status", self._status()),
            ("rows", self._summary()),
        ]
        if self.failed_count:
            ok = "converted" if self.writer_disabled else "acknowledged"
            rows.append((ok, plural(self.successful_count, "row", thousands=True)))
            for not_written, label in ((True, "not written"), (False, UNKNOWN_SHOWN)):
                n = t.not_written if not_written else t.unknown
                if n:
                    first = self._first_rows(None, not_written)
                    rows.append((label, _rows_text(n, first)))
        rows.append(("attempts", str(self.attempts)))
        if self.recoveries or self.resent_rows:
            rows.append(
                (
                    "re-sent",
                    f"up to {plural(self.resent_rows, 'row', thousands=True)} after {self.recoveries:,} stream "
                    f"{'recovery' if self.recoveries == 1 else 'recoveries'} (possible duplicates)",
                )
            )
        rows += [
            ("latency", f"{self.latency_ms:.1f} ms"),
            ("encoded size", plural(self.batch_size_bytes, "byte", thousands=True)),
        ]
        for (name, not_written), n in sorted(t.by_type_state.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
            first = self._first_rows(name, not_written)
            rows.append((f"{name}, {'not written' if not_written else UNKNOWN_SHOWN}", _rows_text(n, first)))
        msgs = self._first_messages(5)
        # "error" is .error, the batch's; rows failing one by one leave it None: their errors are "row error"
        label = "row error" if self.error is None else "error"
        if self.error is not None and not msgs:
            msgs = [_display(self.error)]
        for msg in msgs:
            rows.append((label, _short(msg, 300)))
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>TransmissionResult</caption>{body}</table>"

    def _first_rows(self, type_name: str | None, not_written: bool, n: int = 10) -> list[int]:
        """The first ``n`` failed rows in one state (and of one error class name, unless None), from the
        ranges: no list of every row."""
        return sorted(
            i
            for g in self._groups
            if (g.state == NOT_WRITTEN) == not_written and (type_name is None or g.type_name() == type_name)
            for i in itertools.islice(g.indices(), n)
        )[:n]

    def _first_messages(self, n: int) -> list[str]:
        """Up to ``n`` distinct ``"Error type: message"`` texts of the first failed rows' groups; a folded group
        (rows whose messages differ only in the row named and its values) shows its first row's and how many more
        are alike."""
        by_first_row = sorted((g for g in self._groups if g.ranges), key=lambda g: g.ranges[0][0])
        out: dict[str, None] = {}
        for g in by_first_row:
            text = g.display_of(g.ranges[0][0])
            if g.row_message is not None and (more := g.count() - 1):
                own = "its row" if g.row_values is None else "its row and its own values"
                text += f" (and {more:,} more {'row' if more == 1 else 'rows'} like it, each naming {own})"
            out[text] = None
            if len(out) == n:
                break
        return list(out)


#: How the display names the unknown state.
UNKNOWN_SHOWN = "unknown (may be stored)"


def _rows_text(n: int, first: list[int]) -> str:
    """``"1,234 rows: 0, 1, … 9 …"``: a count and the first rows."""
    return f"{plural(n, 'row', thousands=True)}: {', '.join(map(str, first))}{' …' if n > len(first) else ''}"


def partial_result(exc: BaseException) -> TransmissionResult | None:
    """The partial result a send left on ``exc``, typed: ``exc.result`` when it is a
    :class:`TransmissionResult`, else ``exc.__cause__.result``; ``None`` when neither is.

    A send that ends early attaches its partial result to the exception that ended it, which is often not this
    package's: the ``KeyboardInterrupt`` of a Ctrl-C, the exception a ``progress`` callback raised, the
    ``asyncio.CancelledError`` of a cancelled task, and, under ``asyncio.wait_for`` / ``asyncio.timeout``, the
    ``TimeoutError`` whose ``__cause__`` is that ``CancelledError``. Those classes declare no ``result``, so a
    type checker refuses ``exc.result`` / ``err.__cause__.result``; this reads either (a
    :class:`~zerobus_py.ZerobusError`'s ``result`` too)::

        try:
            wrapper.send_batch(batch)
        except KeyboardInterrupt as exc:
            if (result := partial_result(exc)) is not None:
                quarantine(result.extract_failed_batch(batch))
            raise
    """
    for err in (exc, exc.__cause__):
        result = getattr(err, "result", None)
        if isinstance(result, TransmissionResult):
            return result
    return None


def _sent_batch(batch: Any, original_batch: Any) -> Any:
    """The batch given to ``extract_*_batch`` positionally, as ``batch=`` or as
    the original API's ``original_batch=`` (exactly one of them)."""
    if (batch is None) == (original_batch is None):
        raise TypeError("pass the batch that was sent once: positionally, as batch= or as original_batch=")
    return original_batch if batch is None else batch


def _display(err: ZerobusError) -> str:
    """``"Error type: message"``: the original API's text of a row error."""
    return f"{_DISPLAY_NAMES.get(err.kind.partition(':')[0], type(err).__name__)}: {err.message}"


def _short(s: str, n: int = 120) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _resolve_error_type(error_type: str | type[ZerobusError]) -> type[ZerobusError]:
    if isinstance(error_type, type):
        if not issubclass(error_type, BaseException):
            raise TypeError(f"error_type must be an exception class or a name, not {error_type!r}")
        return error_type
    for kind, name in ERROR_TYPE_NAMES.items():
        if error_type in (name, kind):
            return class_for_kind(kind)
    if error_type in ("ZerobusError", "unknown"):
        return ZerobusError
    if error_type == "ZerobusConnectionError":
        return class_for_kind("connection")
    known = ", ".join(sorted(ERROR_TYPE_NAMES.values()))
    raise ValueError(f"unknown error type {error_type!r}; use one of {known} (or the class itself)")


# -- construction from the original API's arguments --------------------------

#: Error type prefixes of ``"ErrorType: message"`` strings: the original's
#: class names and display forms, and this package's class names.
_PREFIX_KINDS: dict[str, str] = {
    "Configuration error": "configuration",
    "Authentication error": "authentication",
    "Connection error": "connection",
    "Conversion error": "conversion",
    "Transmission error": "transmission",
    "Retry exhausted": "retry_exhausted",
    "Token refresh error": "token_refresh",
    "ZerobusConnectionError": "connection",
    **{name: kind for kind, name in ERROR_TYPE_NAMES.items()},
}


#: The original API's display form of each kind (the reverse of the first
#: _PREFIX_KINDS entries), and of the kinds it did not have.
_DISPLAY_NAMES: dict[str, str] = {
    **{kind: prefix for prefix, kind in list(_PREFIX_KINDS.items())[:7]},
    "closed": "Wrapper closed",
    "canceled": "Cancelled",
}


def _parse_error(value: object, what: str) -> ZerobusError:
    """The exception for ``"ErrorType: message"`` (no known prefix: a
    ConversionError with the whole text, as the original does)."""
    if isinstance(value, ZerobusError):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected a str 'ErrorType: message' or a ZerobusError, got {type(value).__name__}")
    prefix, sep, rest = value.partition(":")
    kind = _PREFIX_KINDS.get(prefix.strip()) if sep else None
    if kind is None:
        return ConversionError(value)
    return error_for(kind, rest.strip())


def _as_int(value: object) -> int | None:
    """``value`` as an int when it is an integer (``__index__``: NumPy's
    integers too), not a bool; None otherwise."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # NumPy's bool has __index__ too
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def _count(value: object, what: str) -> int:
    n = _as_int(value)
    if n is None:
        raise TypeError(f"{what}: expected an int, got {type(value).__name__}")
    if n < 0:
        raise ValueError(f"{what}: must not be negative, got {n}")
    return n


def _row_index(value: object, what: str) -> int:
    i = _as_int(value)
    if i is None:
        raise TypeError(f"{what}: row indices must be ints, got {value!r}")
    if i < 0:
        raise ValueError(f"{what}: row indices must not be negative, got {i}")
    return i


def _groups_from_rows(
    rows: Iterable[tuple[int, str | ZerobusError]] | None,
) -> tuple[list[_FailedGroup], tuple[tuple[int, ZerobusError], ...]]:
    """Group ``(row_index, error)`` pairs by error (equal strings share one
    exception) into row ranges; also return the pairs parsed, in the order given."""
    by_error: dict[int, tuple[ZerobusError, list[int]]] = {}
    parsed: dict[str, ZerobusError] = {}
    given: list[tuple[int, ZerobusError]] = []
    for item in () if rows is None else rows:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"failed_rows: expected (row_index, 'ErrorType: message') tuples, got {item!r}")
        index, raw = item
        i = _row_index(index, "failed_rows")
        err = parsed.get(raw) if isinstance(raw, str) else None
        if err is None:
            err = _parse_error(raw, "failed_rows")
            if isinstance(raw, str):
                parsed[raw] = err
        by_error.setdefault(id(err), (err, []))[1].append(i)
        given.append((i, err))
    return [_FailedGroup(err, _ranges(sorted(idx))) for err, idx in by_error.values()], tuple(given)


def _ranges(indices: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted indices as half-open runs ``[lo, hi)`` (duplicates kept)."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return tuple(out)


# _errors annotates ZerobusError.result with this class, which it cannot import (this module imports it): bound
# in its globals here, so that typing.get_type_hints resolves ZerobusError's annotations at run time.
_errors.__dict__["TransmissionResult"] = TransmissionResult
