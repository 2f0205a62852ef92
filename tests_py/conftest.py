"""Fixtures of the zerobus_py test suite.

Every test talks to a real peer: the Go local Zerobus server started in this
process (zerobus_py.local.LocalServer) once per session. Tests use their own
table names, so faults injected by one test never reach another.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# zerobus_py is imported lazily: this directory also holds
# test_official_sdk_conformance.py, which runs in a venv with the official
# SDK and without zerobus_py.
if TYPE_CHECKING:
    import pyarrow as pa

    from zerobus_py import WrapperConfiguration, ZerobusWrapper
    from zerobus_py.local import LocalServer

SOURCE_TREE = Path(__file__).resolve().parent.parent / "zerobus_py"


@pytest.fixture(scope="session")
def zerobus_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go command line (./cmd/zerobus), built once per test session."""
    go = shutil.which("go")
    if go is None:
        pytest.fail("this test builds ./cmd/zerobus and needs Go on PATH")
    out = tmp_path_factory.mktemp("gocli") / ("zerobus.exe" if os.name == "nt" else "zerobus")
    subprocess.run([go, "build", "-o", str(out), "./cmd/zerobus"], cwd=SOURCE_TREE.parent, check=True, timeout=600)
    return out


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """The session's local Zerobus server (fails clearly when zerobus_py is not built)."""
    import zerobus_py
    from zerobus_py.local import LocalServer

    try:
        zerobus_py.native_version()
    except ImportError as exc:
        where = Path(zerobus_py.__file__).parent
        hint = " (the source tree was imported instead of the installed package)" if where == SOURCE_TREE else ""
        pytest.fail(f"zerobus_py at {where} has no native module{hint}: run `make py-build` first. {exc}")
    with LocalServer() as s:
        yield s


@pytest.fixture
def table_name(request: pytest.FixtureRequest) -> str:
    """A table name unique to the test: main.pytest.<test>_<random>."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:60]
    return f"main.pytest.{base}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def config(server: LocalServer, table_name: str) -> WrapperConfiguration:
    """A configuration for table_name on the session server, with fast retries."""
    return server.config(table_name, retry_base_delay_ms=5, retry_max_delay_ms=50)


@pytest.fixture
def wrapper(config: WrapperConfiguration) -> Iterator[ZerobusWrapper]:
    """A wrapper on config, shut down after the test."""
    from zerobus_py import ZerobusWrapper

    with ZerobusWrapper(config) as w:
        yield w


def id_batch(start: int, n: int, *, tag: str = "x") -> pa.RecordBatch:
    """n rows with ids start..start+n-1, a string and a float column."""
    import pyarrow as pa

    ids = list(range(start, start + n))
    return pa.record_batch(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([f"{tag}-{i}" for i in ids]),
            "score": pa.array([i * 0.5 for i in ids], pa.float64()),
        }
    )


def hold_writer_lock(request: pytest.FixtureRequest, path: Path) -> None:
    """Hold the debug file ``path``'s writer lock until the test ends, as a writer still writing it would: the
    readers read a file cut inside a message as still being written only then (where writers lock, on Unix)."""
    if sys.platform == "win32":  # writers lock debug files on Unix only: there is no lock to hold
        pytest.skip("debug-file writer locks exist on Unix only")
    import fcntl  # Unix only, as the lock

    lock = open(f"{path}.lock", "a+")  # noqa: SIM115 - closed by the finalizer
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release() -> None:
        os.remove(lock.name)
        lock.close()

    request.addfinalizer(release)


def stored_ids(server: LocalServer, table: str) -> list[int]:
    """Sorted ids of the rows the server stored for table."""
    return sorted(server.table(table).column("id").to_pylist())


def as_stored(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of table (from LocalServer.table() or the /arrow view) with its TIMESTAMP(_NTZ), DATE and DECIMAL
    values, which a table created with Unity Catalog columns reads back typed, in the protobuf form the server
    stores them in (int64 µs, int32 days, the decimal text with its scale's digits), at any depth: for oracles
    written in that form. Times and dates are cast in Arrow, so values outside Python's datetime range read too."""
    import decimal

    import pyarrow as pa

    def wire(t: pa.DataType) -> pa.DataType:
        if pa.types.is_timestamp(t):
            return pa.int64()
        if pa.types.is_date32(t):
            return pa.int32()
        if pa.types.is_map(t):
            return pa.map_(wire(t.key_type), wire(t.item_type))
        if pa.types.is_list(t):
            return pa.list_(t.value_field.with_type(wire(t.value_type)).with_nullable(True))
        if pa.types.is_struct(t):
            return pa.struct(
                [t.field(i).with_type(wire(t.field(i).type)).with_nullable(True) for i in range(t.num_fields)]
            )
        return t

    def text(v: Any) -> Any:
        if isinstance(v, decimal.Decimal):
            return format(v, "f")
        if isinstance(v, dict):
            return {k: text(x) for k, x in v.items()}
        if isinstance(v, list):
            return [text(x) for x in v]
        if isinstance(v, tuple):
            return tuple(text(x) for x in v)
        return v

    columns = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        t = wire(col.type)
        columns[name] = col if t == col.type else col.cast(t)
    return [text(r) for r in pa.table(columns).to_pylist()]


# Retry settings that make a test's retries take milliseconds.
FAST = {"retry_base_delay_ms": 1, "retry_max_delay_ms": 5}


def send_raising(cfg: WrapperConfiguration, batch: pa.RecordBatch, exc: type[BaseException]) -> BaseException:
    """Send batch with a new wrapper on cfg, which must raise exc; the
    wrapper is shut down and the exception returned."""
    from zerobus_py import ZerobusWrapper

    w = ZerobusWrapper(cfg)
    try:
        with pytest.raises(exc) as ei:
            w.send_batch(batch)
    finally:
        w.shutdown(timeout=2)
    return ei.value


#: The Unity Catalog leaf types a table column can have (the randomized tests draw from these).
UC_SCALAR_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INT",
    "BIGINT",
    "FLOAT",
    "DOUBLE",
    "BOOLEAN",
    "STRING",
    "BINARY",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "DECIMAL",
    "VARIANT",
)


class SendReports(logging.Handler):
    """The records of asyncio sends nobody could await any more (they carry ``zerobus_result``); the
    ``reports`` fixture installs one on the ``zerobus_py`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "zerobus_result"):
            self.records.append(record)


@pytest.fixture
def reports() -> Iterator[SendReports]:
    handler = SendReports()
    logger = logging.getLogger("zerobus_py")
    level = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
