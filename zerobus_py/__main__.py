"""Command line: ``python -m zerobus_py <command>`` (also installed as ``zerobus-py``).

Commands:

* ``local``: start a local Zerobus server and print how to reach it.
* ``send FILE...``: stream Arrow IPC, Parquet and CSV files into a table, with
  a progress bar, a summary and an optional quarantine file for failed rows.
* ``debug read FILE``: print the rows of a debug file.
* ``version``: print the package and native versions.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, Final

import pyarrow as pa

from . import __version__, _bridge, native_version
from ._config import WrapperConfiguration
from ._errors import ERROR_TYPE_NAMES, ZerobusError

if TYPE_CHECKING:  # pragma: no cover
    from ._result import TransmissionResult
    from ._wrapper import ZerobusWrapper
    from .local import LocalServer

#: Default of ``send --batch-rows``.
DEFAULT_BATCH_ROWS: Final = 64 << 10
#: Largest ``--batch-rows`` accepted.
MAX_BATCH_ROWS: Final = 1 << 24
#: Batches in flight at once (sent, not yet accounted); with the batch being
#: gathered, memory holds about SEND_WINDOW + 1 batches.
SEND_WINDOW: Final = 4
#: Table ``send --local`` sends to without ``--table``.
LOCAL_TABLE: Final = "main.default.zerobus_local"
#: Table name ``send --dry-run`` uses when none is configured (nothing is sent).
DRY_RUN_TABLE: Final = "main.default.zerobus_dry_run"
#: Seconds between two redraws of the progress bar (at most 10 a second).
PROGRESS_INTERVAL: Final = 0.1
#: Failed rows listed per error type in the summary.
SAMPLES_PER_TYPE: Final = 5

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

_FORMATS: Final = ("auto", "arrow", "parquet", "csv")
_SUFFIXES: Final = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".ipc": "arrow",
    ".feather": "arrow",
}
_BAR_WIDTH: Final = 24


@functools.cache
def _fatal_kinds() -> frozenset[str]:
    """Error kinds that would fail every later batch too, from the Go core's
    table (``core.ErrorKinds``): reading stops."""
    kinds: list[dict[str, Any]] = json.loads(_bridge.call(_bridge.native.ErrorKinds))
    return frozenset(k["kind"] for k in kinds if k["fatal"])


#: The batch-relative row number in a conversion error message.
_BATCH_ROW = re.compile(r" at row \d+(,)?")


class UsageError(Exception):
    """A bad argument or setting of ``send``; nothing was sent (exit status 2)."""


class InputError(Exception):
    """A data file could not be read (exit status 1); the message names it."""


# -- input files ---------------------------------------------------------------


def _detect_format(path: Path, fmt: str = "auto") -> str:
    """The format of ``path``: ``fmt`` unless "auto", else from the extension
    or the first bytes. Raises :class:`InputError` when it cannot tell."""
    if fmt != "auto":
        return fmt
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"\xff\xff\xff\xff")):
        return "arrow"
    raise InputError(
        f"{path}: cannot tell its format from the name or the first bytes; "
        "name it .arrow, .parquet or .csv, or give --format arrow|parquet|csv"
    )


def _open_ipc(source: pa.NativeFile) -> pa.RecordBatchReader | pa.ipc.RecordBatchFileReader:
    """``source`` as an Arrow IPC stream reader, or as a file reader when it
    holds the IPC file format (raises ``pa.ArrowInvalid`` when neither)."""
    try:
        return pa.ipc.open_stream(source)
    except pa.ArrowInvalid:
        source.seek(0)
        return pa.ipc.open_file(source)


def _open_data(path: Path, fmt: str = "auto", batch_rows: int | None = None) -> pa.RecordBatchReader:
    """Open a data file as a stream of batches (never read whole).

    Raises :class:`InputError` naming the file when it cannot be opened as
    its format.
    """
    fmt = _detect_format(path, fmt)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            kw = {} if batch_rows is None else {"batch_size": batch_rows}
            return pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches(**kw))
        if fmt == "csv":
            import pyarrow.csv as pcsv

            return pcsv.open_csv(path)
        ipc = _open_ipc(pa.memory_map(str(path)))
        if isinstance(ipc, pa.RecordBatchReader):
            return ipc
        return pa.RecordBatchReader.from_batches(ipc.schema, (ipc.get_batch(i) for i in range(ipc.num_record_batches)))
    except (pa.ArrowException, ValueError, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowException) and exc.strerror:
            raise InputError(f"{path}: cannot read it: {exc.strerror}") from exc
        raise InputError(f"{path}: not a readable {_FORMAT_NAMES[fmt]} file: {exc}") from exc


_FORMAT_NAMES: Final = {"arrow": "Arrow IPC", "parquet": "Parquet", "csv": "CSV"}


def _count_rows(path: Path, fmt: str) -> int | None:
    """Rows of ``path`` when its format records them (Parquet metadata, the
    batches of an Arrow IPC file), else None. Raises :class:`InputError`."""
    fmt = _detect_format(path, fmt)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt == "arrow":
            with pa.memory_map(str(path)) as source:
                ipc = _open_ipc(source)
                if isinstance(ipc, pa.RecordBatchReader):
                    return None  # a stream: rows are known when read
                # batches of a memory map are views: counting reads no data
                # (RecordBatchFileReader.count_rows is pyarrow >= 26 only)
                return sum(int(ipc.get_batch(i).num_rows) for i in range(ipc.num_record_batches))
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable {_FORMAT_NAMES[fmt]} file: {exc}") from exc
    reader = _open_data(path, fmt)  # CSV: read the header and infer the types now
    reader.close()
    return None


def _check_path(path: Path) -> None:
    """Raise :class:`UsageError` when ``path`` does not name a file."""
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give files")


def _rechunk(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """Regroup the batches of ``reader`` into tables of at most ``rows`` rows
    (zero-copy: larger batches are sliced, smaller ones gathered as chunks)."""
    chunks: list[pa.RecordBatch] = []
    have = 0
    try:
        for batch in reader:
            start = 0
            while start < batch.num_rows:
                piece = batch.slice(start, rows - have)
                start += piece.num_rows
                chunks.append(piece)
                have += piece.num_rows
                if have == rows:
                    yield pa.Table.from_batches(chunks, reader.schema)
                    chunks, have = [], 0
    except Exception:
        if chunks:  # what was read before the error is sent, then the error is raised
            yield pa.Table.from_batches(chunks, reader.schema)
        raise
    if chunks:
        yield pa.Table.from_batches(chunks, reader.schema)


# -- the quarantine file -----------------------------------------------------------


@dataclass
class _QuarantineFile:
    path: Path
    sink: Any
    writer: Any = None
    schema: pa.Schema | None = None
    rows: int = 0


class Quarantine:
    """Writes failed rows to Arrow IPC stream files.

    The given path holds the rows of the first schema; rows of another schema
    (files with different columns) go to ``NAME-2.EXT``, ``NAME-3.EXT``...
    (one IPC stream holds one schema). The path is created (truncated) at once,
    so a bad path fails before anything is sent; files that received no row
    are removed by :meth:`close`, so an empty quarantine file never remains.
    """

    def __init__(self, path: Path) -> None:
        # extract_failed_batch (pa.array from a list, Table.take) first imports pandas and
        # pyarrow.compute, ~0.5 s: do it now, before the clock of the send starts.
        pa.table({"i": [0]}).take(pa.array([0], pa.int64()))

        self._base = path
        self._files = [self._create(path)]

    @staticmethod
    def _create(path: Path) -> _QuarantineFile:
        try:
            return _QuarantineFile(path, pa.OSFile(str(path), "wb"))
        except (OSError, pa.ArrowException) as exc:
            raise UsageError(f"--quarantine {path}: cannot create it: {exc}") from exc

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table``."""
        qf = next((f for f in self._files if f.schema is None or f.schema.equals(table.schema)), None)
        if qf is None:
            qf = self._create(self._base.with_name(f"{self._base.stem}-{len(self._files) + 1}{self._base.suffix}"))
            self._files.append(qf)
        if qf.writer is None:
            qf.schema = table.schema
            qf.writer = pa.ipc.new_stream(qf.sink, table.schema)
        qf.writer.write_table(table)
        qf.rows += table.num_rows

    def close(self) -> list[tuple[str, int]]:
        """Finish every file; return ``(path, rows)`` of those holding rows
        and remove the others."""
        out: list[tuple[str, int]] = []
        for qf in self._files:
            if qf.writer is not None:
                qf.writer.close()
            qf.sink.close()
            if qf.rows == 0:
                qf.path.unlink(missing_ok=True)
            else:
                out.append((str(qf.path), qf.rows))
        return out


# -- counters, progress bar and summary ------------------------------------------


@dataclass
class _Sample:
    """One distinct error message of an error type in one file: the first row
    that failed with it and how many rows did."""

    file: str
    row: int
    message: str
    rows: int = 1


@dataclass
class SendStats:
    """The running totals of a send, read by the progress bar while it runs
    and printed as the summary at the end."""

    table: str
    files: list[str]
    dry_run: bool = False
    total_rows: int | None = None
    files_done: int = 0
    rows_read: int = 0
    rows_sent: int = 0
    rows_failed: int = 0
    bytes: int = 0
    batches: int = 0
    start: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    failed_by_type: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[_Sample]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    interrupted: bool = False
    quarantine: list[tuple[str, int]] | None = None
    stored_rows: int | None = None

    @property
    def rows_done(self) -> int:
        """Rows whose outcome is known (sent or failed)."""
        return self.rows_sent + self.rows_failed

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-serialisable dict."""
        secs = self.elapsed
        out: dict[str, Any] = {
            "success": self.rows_failed == 0 and not self.errors and not self.interrupted and self.stopped is None,
            "table": self.table,
            "dry_run": self.dry_run,
            "files": self.files,
            "files_done": self.files_done,
            "total_rows": self.rows_done,
            "rows_read": self.rows_read,
            "rows_sent": self.rows_sent,
            "rows_failed": self.rows_failed,
            "bytes": self.bytes,
            "batches": self.batches,
            "elapsed_s": round(secs, 3),
            "rows_per_s": round(self.rows_done / secs, 1) if secs > 0 else None,
            "failed_by_type": {
                name: {
                    "count": count,
                    "messages": [
                        {"file": s.file, "first_row": s.row, "rows": s.rows, "message": s.message}
                        for s in self.samples.get(name, ())
                    ],
                }
                for name, count in sorted(self.failed_by_type.items())
            },
            "quarantine": [{"path": p, "rows": n} for p, n in self.quarantine or ()],
            "errors": self.errors,
            "stopped": self.stopped,
            "interrupted": self.interrupted,
        }
        if self.stored_rows is not None:
            out["stored_rows"] = self.stored_rows
        return out

    def write_text(self, out: IO[str], quarantine_asked: bool) -> None:
        """Print the summary for people: what was sent where, the row and byte
        counts, the time, the quarantine files and the failed rows by error type."""
        verb = "converted (--dry-run, nothing sent)" if self.dry_run else "sent"
        what = self.files[0] if len(self.files) == 1 else f"{len(self.files)} files"
        print(f"{verb} {what} to {self.table}", file=out)
        if len(self.files) > 1:
            print(f"  files:        {self.files_done} of {len(self.files)} read", file=out)
        print(f"  rows sent:    {self.rows_sent:,} of {self.rows_read:,}", file=out)
        kinds = ", ".join(f"{k}={n:,}" for k, n in sorted(self.failed_by_type.items()))
        print(f"  rows failed:  {self.rows_failed:,}" + (f" ({kinds})" if kinds else ""), file=out)
        print(f"  bytes:        {self.bytes:,} ({_human_bytes(self.bytes)} encoded protobuf)", file=out)
        print(f"  batches:      {self.batches:,}", file=out)
        print(f"  elapsed:      {self.elapsed:.3f} s", file=out)
        if self.elapsed > 0:
            print(f"  throughput:   {int(self.rows_done / self.elapsed):,} rows/s", file=out)
        if self.quarantine:
            for path, rows in self.quarantine:
                print(f"  quarantine:   {rows:,} failed rows written to {path} (Arrow IPC stream)", file=out)
        elif quarantine_asked:
            print("  quarantine:   none (no row failed; no file written)", file=out)
        elif self.rows_failed:
            print("  quarantine:   none (use --quarantine FILE to keep the failed rows)", file=out)
        if self.stored_rows is not None:
            print(f"  local server: table {self.table} holds {self.stored_rows:,} rows", file=out)
        if self.interrupted:
            print("  interrupted:  reading stopped at Ctrl-C; the batches in flight were completed", file=out)
        if self.stopped:
            print(f"  stopped early: {self.stopped}", file=out)
        for err in self.errors:
            print(f"  error:        {err}", file=out)
        for name, count in sorted(self.failed_by_type.items()):
            print(f"  {name}: {count:,} rows", file=out)
            for s in self.samples.get(name, ()):
                more = f" (and {s.rows - 1:,} more rows)" if s.rows > 1 else ""
                print(f"    {Path(s.file).name} row {s.row}{more}: {s.message}", file=out)


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def render_progress(stats: SendStats, now: float) -> str:
    """One progress line (no line ending), e.g.
    ``[##########..............]  42%  420,000/1,000,000 rows  612,345 rows/s  0.7s``;
    without a known total: ``420,000 rows  612,345 rows/s  0.7s``."""
    done, total = stats.rows_done, stats.total_rows
    elapsed = max(0.0, now - stats.start)
    parts: list[str] = []
    if total is not None:
        fraction = 1.0 if total == 0 else max(0.0, min(1.0, done / total))
        filled = int(fraction * _BAR_WIDTH)
        parts.append(f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {int(fraction * 100):3d}%")
        parts.append(f"{done:,}/{total:,} rows")
    else:
        parts.append(f"{done:,} rows")
    if len(stats.files) > 1:
        parts.append(f"(file {min(stats.files_done + 1, len(stats.files))}/{len(stats.files)})")
    if stats.rows_failed:
        parts.append(f"{stats.rows_failed:,} failed")
    if elapsed > 0:
        parts.append(f"{int(done / elapsed):,} rows/s")
    parts.append(f"{elapsed:.1f}s")
    return "  ".join(parts)


class ProgressBar:
    """Redraws :func:`render_progress` on one line of ``out`` (``\\r``) every
    :data:`PROGRESS_INTERVAL` seconds from a background thread until stopped."""

    def __init__(self, out: IO[str], stats: SendStats, interval: float = PROGRESS_INTERVAL) -> None:
        self._out = out
        self._stats = stats
        self._interval = interval
        self._stop = threading.Event()
        self._last = 0
        self._thread = threading.Thread(target=self._run, name="zerobus-progress", daemon=True)

    def start(self) -> ProgressBar:
        """Draw the first line and start redrawing."""
        self.draw()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.draw()

    def draw(self) -> None:
        """Redraw the line now."""
        line = render_progress(self._stats, time.monotonic())
        pad = " " * max(0, self._last - len(line))
        self._last = len(line)
        self._out.write(f"\r{line}{pad}")
        self._out.flush()

    def stop(self) -> None:
        """Stop redrawing, draw the final state and end the line."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.draw()
        self._out.write("\n")
        self._out.flush()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


# -- sending ---------------------------------------------------------------------


@dataclass
class _Pending:
    future: Future[TransmissionResult]
    table: pa.Table
    file: str
    start_row: int


def _send_one(wrapper: ZerobusWrapper, table: pa.Table) -> TransmissionResult:
    """Send one batch; a batch that failed as a whole gives the result of its
    exception (every row failed) instead of raising."""
    try:
        return wrapper.send_batch(table)
    except ZerobusError as exc:
        if exc.result is None:
            raise
        return exc.result


def _short_message(message: str) -> str:
    """A row's error message without the batch-relative row number and the
    ``zerobus:`` prefix (the summary gives the row in the file)."""
    message = message.removeprefix("zerobus: ")
    return _BATCH_ROW.sub(lambda m: ":" if m.group(1) else "", message, count=1)


class _Sender:
    """The send loop: reads the files, keeps up to SEND_WINDOW batches in
    flight and accounts their results in order."""

    def __init__(
        self, wrapper: ZerobusWrapper, stats: SendStats, quarantine: Quarantine | None, stop: threading.Event
    ) -> None:
        self.wrapper = wrapper
        self.stats = stats
        self.quarantine = quarantine
        self.stop = stop
        self.pending: deque[_Pending] = deque()

    def run(self, files: Sequence[Path], fmt: str, batch_rows: int) -> None:
        with ThreadPoolExecutor(max_workers=SEND_WINDOW, thread_name_prefix="zerobus-send") as pool:
            try:
                for path in files:
                    if self.stop.is_set() or self.stats.stopped:
                        break
                    if not self._send_file(pool, path, fmt, batch_rows):
                        break
                    self.stats.files_done += 1
            except KeyboardInterrupt:  # no SIGINT handler (not the main thread): same as the handler
                self.stop.set()
            finally:
                while self.pending:
                    self._account_oldest()
        if self.stop.is_set():
            self.stats.interrupted = True

    def _send_file(self, pool: ThreadPoolExecutor, path: Path, fmt: str, batch_rows: int) -> bool:
        """Send one file; False when sending must stop (read error, fatal failure, interrupt)."""
        row = 0
        try:
            reader = _open_data(path, fmt, batch_rows)
            for table in _rechunk(reader, batch_rows):
                self.stats.rows_read += table.num_rows
                self.pending.append(_Pending(pool.submit(_send_one, self.wrapper, table), table, str(path), row))
                row += table.num_rows
                while len(self.pending) >= SEND_WINDOW:
                    self._account_oldest()
                if self.stop.is_set() or self.stats.stopped:
                    return False
        except InputError as exc:
            self.stats.errors.append(f"{exc}; nothing of it was sent")
            return False
        except (pa.ArrowException, ValueError, OSError) as exc:
            if row:
                where = f"after row {row - 1:,} (rows 0 to {row - 1:,} were read and passed on; the bad row is later)"
                rest = f"send the rows from {row:,} on again"
            else:
                where, rest = "before the first row", "send it again"
            self.stats.errors.append(f"{path}: reading stopped {where}: {exc}; fix the file and {rest}")
            return False
        return True

    def _account_oldest(self) -> None:
        p = self.pending.popleft()
        try:
            result = p.future.result()
        except KeyboardInterrupt:
            self.pending.appendleft(p)
            raise
        except Exception as exc:  # not a ZerobusError with a result: the whole batch failed
            self._account_exception(p, exc)
            return
        s = self.stats
        s.batches += 1
        s.rows_sent += result.successful_count
        s.rows_failed += result.failed_count
        s.bytes += result.batch_size_bytes
        if not result.failed_count:
            return
        counts = result.get_error_statistics()["error_type_counts"]
        for name, n in counts.items():
            s.failed_by_type[name] = s.failed_by_type.get(name, 0) + n
        described: dict[int, tuple[str, str]] = {}  # rows failing with one error share its instance
        for index, err in result.failed_row_errors:
            d = described.get(id(err))
            if d is None:
                d = described[id(err)] = (
                    ERROR_TYPE_NAMES.get(err.kind, type(err).__name__),
                    _short_message(err.message),
                )
            self._sample(d[0], p.file, p.start_row + index, d[1])
        if self.quarantine is not None:
            self.quarantine.write(result.extract_failed_batch(p.table))
        batch_err = result.error
        if (
            batch_err is not None
            and result.successful_count == 0
            and batch_err.kind in _fatal_kinds()
            and not s.stopped
        ):
            s.stopped = f"{type(batch_err).__name__}: {batch_err.message}"

    def _sample(self, name: str, file: str, row: int, message: str) -> None:
        """Count a failed row under its distinct (short) message (the first
        SAMPLES_PER_TYPE messages of each error type are kept)."""
        samples = self.stats.samples.setdefault(name, [])
        for sample in reversed(samples):  # usually the last one
            if sample.message == message and sample.file == file:
                sample.rows += 1
                return
        if len(samples) < SAMPLES_PER_TYPE:
            samples.append(_Sample(file, row, message))

    def _account_exception(self, p: _Pending, exc: Exception) -> None:
        s = self.stats
        name = type(exc).__name__
        s.batches += 1
        s.rows_failed += p.table.num_rows
        s.failed_by_type[name] = s.failed_by_type.get(name, 0) + p.table.num_rows
        samples = s.samples.setdefault(name, [])
        if len(samples) < SAMPLES_PER_TYPE:
            samples.append(_Sample(p.file, p.start_row, _short_message(str(exc)), p.table.num_rows))
        if self.quarantine is not None:
            self.quarantine.write(p.table)
        if s.stopped is None:
            s.stopped = f"{name}: {exc}"


class _InterruptHandler:
    """While active (in the main thread only), the first Ctrl-C sets ``stop``
    (reading stops, the batches in flight finish, the summary is printed);
    a second one quits at once with status 130."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._previous: Any = None
        self._active = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._stop.is_set():
            sys.stderr.write("\ninterrupted again: quitting without waiting for the batches in flight\n")
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        self._stop.set()
        sys.stderr.write("\ninterrupted: finishing the batches in flight (Ctrl-C again to quit at once)\n")
        sys.stderr.flush()

    def __enter__(self) -> _InterruptHandler:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            # None: the previous handler was not installed from Python
            signal.signal(signal.SIGINT, signal.default_int_handler if self._previous is None else self._previous)


def _send_config(args: argparse.Namespace) -> WrapperConfiguration:
    """The configuration of ``send``: --config FILE or the environment, then the flags."""
    if args.local:
        cfg = WrapperConfiguration.from_yaml(args.config) if args.config else WrapperConfiguration()
        cfg.table_name = args.table or LOCAL_TABLE
        if args.transport is not None:
            cfg.transport = args.transport
        return cfg
    cfg = WrapperConfiguration.from_yaml(args.config) if args.config else WrapperConfiguration.from_env()
    for attr, value in (
        ("table_name", args.table),
        ("endpoint", args.endpoint),
        ("unity_catalog_url", args.workspace_url),
        ("client_id", args.client_id),
        ("client_secret", args.client_secret),
        ("transport", args.transport),
    ):
        if value is not None:
            setattr(cfg, attr, value)
    if args.dry_run:
        cfg.zerobus_writer_disabled = True
        if not cfg.table_name:
            cfg.table_name = DRY_RUN_TABLE
    return cfg


def _check_send_args(args: argparse.Namespace) -> list[Path]:
    problems = []
    if not 1 <= args.batch_rows <= MAX_BATCH_ROWS:
        problems.append(f"--batch-rows {args.batch_rows}: must be between 1 and {MAX_BATCH_ROWS:,}")
    if args.local and args.dry_run:
        problems.append("--local and --dry-run: choose one")
    if problems:
        raise UsageError("; ".join(problems))
    files = [Path(f) for f in args.files]
    for path in files:
        _check_path(path)
    return files


def _cmd_send(args: argparse.Namespace) -> int:
    from ._wrapper import ZerobusWrapper

    try:
        files = _check_send_args(args)
        cfg = _send_config(args)
    except UsageError as exc:
        print(f"error: {exc} (see python -m zerobus_py send -h)", file=sys.stderr)
        return EXIT_USAGE

    # Check every file before anything is sent.
    total: int | None = 0
    try:
        for path in files:
            n = _count_rows(path, args.format)
            total = None if n is None or total is None else total + n
    except InputError as exc:
        print(f"error: {exc}; nothing was sent", file=sys.stderr)
        return EXIT_FAILED

    server: LocalServer | None = None
    quarantine: Quarantine | None = None
    try:
        if args.local:
            from .local import LocalServer

            server = LocalServer()
            local = server.config(cfg.table_name or LOCAL_TABLE)
            cfg.endpoint, cfg.unity_catalog_url = local.endpoint, local.unity_catalog_url
            cfg.client_id, cfg.client_secret = server.client_id, server.client_secret
        try:
            wrapper = ZerobusWrapper(cfg)
        except ZerobusError as exc:
            hint = (
                "set the connection with --endpoint, --workspace-url, --client-id, --client-secret and --table, "
                "the ZEROBUS_* environment variables or --config FILE, or try --local or --dry-run"
            )
            print(f"error: {exc}\n{hint}", file=sys.stderr)
            return EXIT_USAGE
        try:
            if args.quarantine:
                quarantine = Quarantine(Path(args.quarantine))
        except UsageError as exc:
            wrapper.shutdown()
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return _run_send(args, files, total, cfg, wrapper, quarantine, server)
    finally:
        if server is not None:
            server.close()


def _run_send(
    args: argparse.Namespace,
    files: list[Path],
    total: int | None,
    cfg: WrapperConfiguration,
    wrapper: ZerobusWrapper,
    quarantine: Quarantine | None,
    server: LocalServer | None,
) -> int:
    stats = SendStats(table=cfg.table_name or "", files=[str(f) for f in files], dry_run=args.dry_run, total_rows=total)
    show_progress = not args.quiet and (
        args.progress == "always" or (args.progress == "auto" and _stderr_is_terminal())
    )
    bar = ProgressBar(sys.stderr, stats).start() if show_progress else None
    stop = threading.Event()
    # The handler stays until the summary is out: a Ctrl-C that comes late
    # (the last batches in flight, the flush) still ends with a summary.
    with _InterruptHandler(stop):
        try:
            _Sender(wrapper, stats, quarantine, stop).run(files, args.format, args.batch_rows)
            try:
                wrapper.shutdown()  # flush: everything acknowledged counts as stored
            except ZerobusError as exc:
                stats.errors.append(f"closing the stream: {exc}")
        finally:
            if bar is not None:
                bar.stop()
            if quarantine is not None:
                stats.quarantine = quarantine.close()
        stats.interrupted = stats.interrupted or stop.is_set()
        stats.elapsed = time.monotonic() - stats.start
        if server is not None:
            stats.stored_rows = server.record_count(stats.table)
        if not args.quiet:
            if args.json:
                print(json.dumps(stats.to_json()), flush=True)
            else:
                stats.write_text(sys.stdout, quarantine is not None)
                sys.stdout.flush()
    for err in stats.errors:
        print(f"error: {err}", file=sys.stderr)
    if stats.interrupted:
        return EXIT_INTERRUPTED
    if stats.rows_failed:
        hint = "see the summary and the quarantine file" if stats.quarantine else "see the summary"
        if not stats.quarantine and quarantine is None:
            hint += "; --quarantine FILE keeps them"
        print(f"error: {stats.rows_failed:,} of {stats.rows_read:,} rows failed ({hint})", file=sys.stderr)
    if stats.rows_failed or stats.errors or stats.stopped:
        return EXIT_FAILED
    return EXIT_OK


# -- the other commands ------------------------------------------------------------


def _cmd_local(args: argparse.Namespace) -> int:
    from .local import LocalServer

    server = LocalServer(port=args.port, http_port=args.http_port, tls=args.tls, data_dir=args.data_dir)
    info = {
        "endpoint": server.endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": args.table,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        for k, v in info.items():
            print(f"{k:14} {v}")
        print("serving until interrupted (Ctrl-C)", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.close()
    return 0


def _cmd_debug(args: argparse.Namespace) -> int:
    from .debug import read_file

    table = read_file(args.file)
    if args.limit is not None:
        table = table.slice(0, args.limit)
    if args.format == "json":
        for row in table.to_pylist():
            print(json.dumps(row, default=str))
    elif args.format == "csv":
        import pyarrow.csv as pcsv

        sink = pa.BufferOutputStream()
        pcsv.write_csv(table, sink)
        sys.stdout.write(sink.getvalue().to_pybytes().decode())
    else:
        print(table)
    return 0


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"zerobus-wrapper {__version__} (native {native_version()})")
    return 0


_SEND_DESCRIPTION = """\
Stream Arrow IPC (file or stream format), Parquet and CSV files into a Zerobus
table, reading each file a batch at a time, and print a summary.

Connection settings come from --config FILE (YAML) or, without it, from the
environment (ZEROBUS_ENDPOINT, ZEROBUS_TABLE_NAME, UNITY_CATALOG_URL or
DATABRICKS_HOST, ZEROBUS_CLIENT_ID, ZEROBUS_CLIENT_SECRET, ...); the flags
override both. Prefer the environment or the config file for the secret:
command lines are visible to other users of the machine. --local and
--dry-run need none of them.

The format is taken from the extension (.arrow .arrows .ipc .feather,
.parquet .pq, .csv) or the file's first bytes. CSV files need a header line;
column types are inferred by pyarrow. Rows are numbered from 0 within each
file. Up to 4 batches are in flight at once, so rows of different batches
may land in another order than the file's.
"""

_SEND_EPILOG = """\
output: a progress bar on stderr (--progress), the summary on stdout (text,
or one JSON object with --json); --quiet prints neither. With --quarantine
FILE the failed rows are written to FILE as an Arrow IPC stream; when no row
failed no file is left behind.

exit status: 0 every row was sent; 1 some rows failed, a file could not be
read or the stream failed; 2 bad arguments or configuration (nothing sent);
130 interrupted (Ctrl-C: reading stops, the batches in flight finish and the
summary is printed; a second Ctrl-C quits at once).
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command line."""
    p = argparse.ArgumentParser(prog="python -m zerobus_py", description="Stream Arrow data into Databricks Zerobus.")
    sub = p.add_subparsers(dest="command", required=True)

    lp = sub.add_parser("local", help="run a local Zerobus server until interrupted")
    lp.add_argument("--port", type=int, help="gRPC port (default: a free port)")
    lp.add_argument("--http-port", type=int, help="token/inspection HTTP port (default: a free port)")
    lp.add_argument("--table", default="main.default.events", help="table name to suggest to clients")
    lp.add_argument("--tls", action="store_true", help="serve gRPC over TLS with a generated CA")
    lp.add_argument("--data-dir", help="write each table there as <table>.arrow on exit")
    lp.add_argument("--json", action="store_true", help="print one JSON object line (for scripts)")
    lp.set_defaults(func=_cmd_local)

    sp = sub.add_parser(
        "send",
        help="send Arrow IPC, Parquet or CSV files to a table",
        description=_SEND_DESCRIPTION,
        epilog=_SEND_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sp.add_argument("files", nargs="+", metavar="FILE", help="Arrow IPC, Parquet or CSV file")
    sp.add_argument("--config", help="YAML config file (default: environment variables)")
    sp.add_argument("--table", help=f"target table catalog.schema.table (default with --local: {LOCAL_TABLE})")
    sp.add_argument("--endpoint", help="Zerobus endpoint, https://<workspace-id>.zerobus.<region>.cloud.databricks.com")
    sp.add_argument("--workspace-url", help="workspace URL serving the OAuth token endpoint (Unity Catalog URL)")
    sp.add_argument("--client-id", help="service principal client id")
    sp.add_argument("--client-secret", help="service principal secret (prefer ZEROBUS_CLIENT_SECRET)")
    sp.add_argument(
        "--transport",
        help="how batches travel: protobuf (the default) or arrow_flight (Arrow over Flight DoPut); "
        "overrides transport / ZEROBUS_TRANSPORT",
    )
    sp.add_argument("--format", choices=_FORMATS, default="auto", help="input format (default: auto)")
    sp.add_argument(
        "--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help=f"rows per batch sent (default {DEFAULT_BATCH_ROWS})"
    )
    sp.add_argument(
        "--local", action="store_true", help="start an in-process local Zerobus server, send to it, print what landed"
    )
    sp.add_argument(
        "--dry-run", action="store_true", help="convert only (zerobus_writer_disabled): no server, no credentials"
    )
    sp.add_argument("--quarantine", metavar="FILE", help="write the rows that failed to FILE (Arrow IPC stream)")
    sp.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr: auto (when stderr is a terminal), always or never",
    )
    sp.add_argument("--quiet", action="store_true", help="print neither the progress bar nor the summary")
    sp.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    sp.set_defaults(func=_cmd_send)

    dp = sub.add_parser("debug", help="debug file tools")
    dsub = dp.add_subparsers(dest="debug_command", required=True)
    rp = dsub.add_parser("read", help="print the rows of a debug file (.arrow or .proto)")
    rp.add_argument("file")
    rp.add_argument("--limit", type=int)
    rp.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rp.set_defaults(func=_cmd_debug)

    vp = sub.add_parser("version", help="print versions")
    vp.set_defaults(func=_cmd_version)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: Any = args.func(args)
    except (ZerobusError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
