"""A user's script written against the public API, type-checked with ``mypy --strict`` by
test_typing.py (as a user's CI would, against the installed package) and run there against the local server.

It is not a test module itself (no ``test_`` prefix): ``main(server)`` is called by the test.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pyarrow as pa

import arrow_zerobus_sdk_wrapper as azw
import zerobus_py
from arrow_zerobus_sdk_wrapper import native_version
from zerobus_py import (
    AsyncZerobusWrapper,
    AuthenticationError,
    ConfigurationError,
    ConversionError,
    RetryExhausted,
    TransmissionResult,
    WrapperClosedError,
    WrapperConfiguration,
    ZerobusError,
    ZerobusWrapper,
)
from zerobus_py import ConnectionError as ZConnectionError  # the original's name, kept out of import *
from zerobus_py.local import LocalServer

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_type


def send_and_quarantine(wrapper: ZerobusWrapper, batch: pa.RecordBatch) -> tuple[int, list[int]]:
    result = wrapper.send_batch(batch, timeout=30.0, progress=lambda done, total: None)
    assert_type(result, TransmissionResult)
    assert_type(result.success, bool)
    assert_type(result.all_succeeded, bool)
    assert_type(result.failure, "ZerobusError | None")
    assert_type(result.total_rows, int)
    assert_type(result.latency_ms, float)
    assert_type(result.error, "ZerobusError | None")
    assert_type(result.failed_rows, "list[tuple[int, str]]")
    assert_type(result.failed_row_errors, "list[tuple[int, ZerobusError]]")
    assert_type(result.get_unknown_row_indices(), "list[int]")
    assert_type(result.group_errors_by_type(), "dict[str, list[int]]")
    stats: dict[str, Any] = result.get_error_statistics()
    assert stats["total_rows"] == result.total_rows
    failed: list[int] = result.get_failed_row_indices_by_error_type(ConversionError)
    if result.has_failed_rows():
        quarantine = result.extract_failed_batch(batch)
        assert quarantine.num_rows == result.failed_count
    return result.successful_count, failed


def handle(err: ZerobusError) -> str:
    assert_type(err.retryable, bool)
    assert_type(err.row, "int | None")
    assert_type(err.column, "str | None")
    assert_type(err.keys, "list[str]")
    assert_type(err.grpc_code, "str | None")
    partial = err.result
    assert_type(partial, "TransmissionResult | None")
    if isinstance(err, RetryExhausted):
        assert_type(err.attempts, "int | None")
    if isinstance(err, (AuthenticationError, ConfigurationError)):
        return "fix the settings: " + ", ".join(err.keys)
    return f"{type(err).__name__}: {err} ({partial!r})"


async def send_async(config: WrapperConfiguration, batch: pa.RecordBatch) -> TransmissionResult:
    async with AsyncZerobusWrapper(config) as w:
        result = await w.send_batch(batch)
        await w.flush(timeout=10)
        return result


def main(server: LocalServer, table: str) -> int:
    config = server.config(table, retry_max_attempts=3, retry_base_delay_ms=5)
    assert_type(config, WrapperConfiguration)
    config.validate()
    same = WrapperConfiguration(
        endpoint=server.endpoint,
        table_name=table,
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
        retry_max_attempts=3,
        retry_base_delay_ms=5,
    )
    assert same == config
    batch = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", None]})
    with ZerobusWrapper(config) as wrapper:
        ok, failed = send_and_quarantine(wrapper, batch)
        wrapper.flush(timeout=5)
    assert wrapper.is_closed and failed == []
    wrapper.close()  # for good: shutdown() alone lets a later send open the wrapper again
    try:
        wrapper.send_batch(batch)
    except WrapperClosedError as err:
        handle(err)
    # the original API's names and keyword construction
    original = azw.ZerobusWrapper(
        endpoint=server.endpoint,
        table_name=table,
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
    )
    try:
        result: azw.TransmissionResult = original.send_batch(batch)
        ok += result.successful_count
    except (azw.ConnectionError, ZConnectionError) as err:
        handle(err)
    finally:
        original.shutdown()
    assert_type(native_version(), str)
    assert native_version() == zerobus_py.native_version()
    ok += asyncio.run(send_async(config, batch)).successful_count
    assert zerobus_py.__version__ == azw.__version__
    return ok
