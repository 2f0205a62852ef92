"""TransmissionResult: the outcome of one send_batch call."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import ERROR_TYPE_NAMES, ZerobusError, class_for_kind, error_for

__all__ = ["TransmissionResult"]


@dataclass(frozen=True)
class _FailedGroup:
    """Rows that failed with one error, as half-open ranges ``[lo, hi)``."""

    error: ZerobusError
    ranges: tuple[tuple[int, int], ...]

    def indices(self) -> Iterable[int]:
        for lo, hi in self.ranges:
            yield from range(lo, hi)

    def count(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)


def _type_name(error: ZerobusError) -> str:
    return ERROR_TYPE_NAMES.get(error.kind, type(error).__name__)


class TransmissionResult:
    """Which rows of a batch were durably acknowledged and which failed, and why.

    Invariant: ``total_rows == successful_count + failed_count``. When the
    whole batch fails, every row is listed as failed, so
    :meth:`extract_failed_batch` always yields what must be quarantined or
    replayed. Results are immutable and safe to share between threads.

    Attributes:
        success: every row was acknowledged (or converted, with the writer
            disabled). An empty batch is a success.
        error: the batch's error (for a partial failure, the first row's), or
            ``None``.
        attempts: highest number of stream attempts any request needed
            (1 = sent once, 0 = nothing sent).
        latency_ms: wall time of the send in milliseconds.
        batch_size_bytes: encoded (protobuf) size of the rows that converted.
        total_rows, successful_count, failed_count: row counts.
        writer_disabled: nothing was sent (``zerobus_writer_disabled``):
            "successful" rows were converted only.
    """

    __slots__ = (
        "_failed_rows",
        "_groups",
        "attempts",
        "batch_size_bytes",
        "error",
        "failed_count",
        "latency_ms",
        "success",
        "successful_count",
        "total_rows",
        "writer_disabled",
    )

    def __init__(
        self,
        *,
        success: bool,
        error: ZerobusError | None,
        attempts: int,
        latency_ms: float,
        batch_size_bytes: int,
        total_rows: int,
        successful_count: int,
        failed_count: int,
        writer_disabled: bool = False,
        groups: Sequence[_FailedGroup] = (),
    ) -> None:
        self.success = success
        self.error = error
        self.attempts = attempts
        self.latency_ms = latency_ms
        self.batch_size_bytes = batch_size_bytes
        self.total_rows = total_rows
        self.successful_count = successful_count
        self.failed_count = failed_count
        self.writer_disabled = writer_disabled
        self._groups: tuple[_FailedGroup, ...] = tuple(groups)
        self._failed_rows: list[tuple[int, ZerobusError]] | None = None

    # -- construction ------------------------------------------------------

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> TransmissionResult:
        groups = [
            _FailedGroup(error_for(g["kind"], g["message"]), tuple((int(lo), int(hi)) for lo, hi in g["ranges"]))
            for g in d.get("failed") or ()
        ]
        err: ZerobusError | None = None
        if d.get("error_kind"):
            err = error_for(d["error_kind"], d["error_message"])
            # Share the instance with the group of the same message, so
            # result.error is failed_rows[i][1] for whole-batch failures.
            for g in groups:
                if g.error.kind == err.kind and g.error.message == err.message:
                    err = g.error
                    break
        res = cls(
            success=bool(d["success"]),
            error=err,
            attempts=int(d["attempts"]),
            latency_ms=float(d["latency_ms"]),
            batch_size_bytes=int(d["batch_size_bytes"]),
            total_rows=int(d["total_rows"]),
            successful_count=int(d["successful_count"]),
            failed_count=int(d["failed_count"]),
            writer_disabled=bool(d.get("writer_disabled", False)),
            groups=groups,
        )
        if err is not None:
            err.result = res
        return res

    # -- rows --------------------------------------------------------------

    @property
    def failed_rows(self) -> list[tuple[int, ZerobusError]]:
        """``(row_index, error)`` for every failed row, in row order (a new list)."""
        if self._failed_rows is None:
            rows = [(i, g.error) for g in self._groups for i in g.indices()]
            rows.sort(key=lambda r: r[0])
            self._failed_rows = rows
        return list(self._failed_rows)

    @property
    def successful_rows(self) -> list[int]:
        """Indices of the acknowledged rows, in row order (a new list)."""
        if not self._groups:
            return list(range(self.total_rows))
        failed = set(self.get_failed_row_indices())
        return [i for i in range(self.total_rows) if i not in failed]

    def get_failed_row_indices(self) -> list[int]:
        """Indices of the failed rows, in row order."""
        if len(self._groups) == 1:
            return list(self._groups[0].indices())
        return sorted(i for g in self._groups for i in g.indices())

    def get_successful_row_indices(self) -> list[int]:
        """Indices of the acknowledged rows, in row order."""
        return self.successful_rows

    def get_failed_row_indices_by_error_type(self, error_type: str | type[ZerobusError]) -> list[int]:
        """Indices of rows that failed with an error of ``error_type``: a
        class name (``"ConversionError"``), an exception class, or a Go kind
        (``"conversion"``). Subclasses count (``AuthenticationError`` also
        matches ``TokenRefreshError`` rows)."""
        cls = _resolve_error_type(error_type)
        return sorted(i for g in self._groups if isinstance(g.error, cls) for i in g.indices())

    def group_errors_by_type(self) -> dict[str, list[int]]:
        """Failed row indices grouped by error class name, e.g.
        ``{"ConversionError": [3, 7]}``."""
        out: dict[str, list[int]] = {}
        for g in self._groups:
            out.setdefault(_type_name(g.error), []).extend(g.indices())
        for rows in out.values():
            rows.sort()
        return out

    def get_error_statistics(self) -> dict[str, Any]:
        """Counts: ``total_rows``, ``successful_count``, ``failed_count``,
        ``success_rate``, ``failure_rate`` (1.0 / 0.0 for an empty batch) and
        ``error_type_counts`` (failed rows per error class name)."""
        total = self.total_rows
        return {
            "total_rows": total,
            "successful_count": self.successful_count,
            "failed_count": self.failed_count,
            "success_rate": self.successful_count / total if total else 1.0,
            "failure_rate": self.failed_count / total if total else 0.0,
            "error_type_counts": {k: len(v) for k, v in self.group_errors_by_type().items()},
        }

    def get_error_messages(self) -> list[str]:
        """The distinct error messages of failed rows, in order of first occurrence."""
        seen: dict[str, None] = {}
        for g in sorted(self._groups, key=lambda g: g.ranges[0][0] if g.ranges else 0):
            seen.setdefault(g.error.message, None)
        return list(seen)

    def is_partial_success(self) -> bool:
        """Some but not all rows succeeded."""
        return self.successful_count > 0 and self.failed_count > 0

    def has_failed_rows(self) -> bool:
        """At least one row failed."""
        return self.failed_count > 0

    def has_successful_rows(self) -> bool:
        """At least one row succeeded."""
        return self.successful_count > 0

    # -- quarantine --------------------------------------------------------

    def extract_failed_batch(self, batch: Any) -> Any:
        """Return only the failed rows of ``batch`` (the data that was sent),
        in row order, as the same kind of object: a pyarrow RecordBatch or
        Table, a pandas or polars DataFrame; other Arrow objects come back as
        a pyarrow Table. Raises ``ValueError`` if ``batch`` has a different
        number of rows than this result describes."""
        from ._arrow import take_rows

        return take_rows(batch, self.get_failed_row_indices(), self.total_rows)

    def extract_successful_batch(self, batch: Any) -> Any:
        """Return only the acknowledged rows of ``batch``, as
        :meth:`extract_failed_batch` does for the failed ones."""
        from ._arrow import take_rows

        return take_rows(batch, self.successful_rows, self.total_rows)

    # -- display -----------------------------------------------------------

    def _summary(self) -> str:
        verb = "converted (writer disabled)" if self.writer_disabled else "sent"
        s = f"{self.successful_count}/{self.total_rows} rows {verb}"
        if self.failed_count:
            kinds = ", ".join(f"{k}={len(v)}" for k, v in sorted(self.group_errors_by_type().items()))
            s += f" ({self.failed_count} failed: {kinds})"
        return s

    def __repr__(self) -> str:
        parts = [
            f"success={self.success}",
            self._summary(),
            f"attempts={self.attempts}",
            f"latency_ms={self.latency_ms:.1f}",
            f"batch_size_bytes={self.batch_size_bytes}",
        ]
        if self.error is not None:
            parts.append(f"error={type(self.error).__name__}({_short(self.error.message)!r})")
        return f"<TransmissionResult {' '.join(parts[:1])}: {parts[1]}, {', '.join(parts[2:])}>"

    def __str__(self) -> str:
        return self.__repr__()

    def _repr_html_(self) -> str:
        status = "✅ success" if self.success else ("⚠️ partial" if self.is_partial_success() else "❌ failed")
        rows = [
            ("status", status),
            ("rows", self._summary()),
            ("attempts", str(self.attempts)),
            ("latency", f"{self.latency_ms:.1f} ms"),
            ("encoded size", f"{self.batch_size_bytes:,} bytes"),
        ]
        for name, idx in sorted(self.group_errors_by_type().items()):
            shown = ", ".join(map(str, idx[:10])) + (" …" if len(idx) > 10 else "")
            rows.append((name, f"{len(idx)} rows: {shown}"))
        for msg in self.get_error_messages()[:5]:
            rows.append(("error", _short(msg, 300)))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        return f"<table><caption>TransmissionResult</caption>{body}</table>"


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
