"""Each exception class raised by a real fault, caught as ZerobusError and as its builtin."""

from __future__ import annotations

import builtins
import json

import pyarrow as pa
import pytest
from conftest import FAST, id_batch, send_raising

import zerobus_py
from zerobus_py import (
    AuthenticationError,
    CancelledError,
    ConfigurationError,
    ConversionError,
    RetryExhausted,
    TokenRefreshError,
    TransmissionError,
    WrapperClosedError,
    WrapperConfiguration,
    ZerobusConnectionError,
    ZerobusError,
    ZerobusWrapper,
)
from zerobus_py.local import LocalServer


def _send_expecting(cfg: WrapperConfiguration, exc: type[BaseException], rows: int = 3) -> ZerobusError:
    batch = id_batch(0, rows)
    err = send_raising(cfg, batch, exc)
    assert isinstance(err, ZerobusError)
    # a whole-batch failure lists every row as failed, for quarantine
    assert err.result is not None
    assert (err.result.total_rows, err.result.failed_count, err.result.successful_count) == (rows, rows, 0)
    assert err.result.error is err
    assert err.result.extract_failed_batch(batch).equals(batch)
    return err


def test_configuration_error(server: LocalServer) -> None:
    cfg = WrapperConfiguration("ftp://nowhere", "not-a-table", client_secret="s3cr3t-value", retry_max_attempts=-1)
    with pytest.raises(ValueError) as ei:
        ZerobusWrapper(cfg)
    err = ei.value
    assert isinstance(err, ConfigurationError) and isinstance(err, ZerobusError)
    msg = str(err)
    # every problem at once, each naming the Python keyword (= YAML key) and env variable
    for fragment in ("table_name", "ZEROBUS_TABLE_NAME", "endpoint", "client_id", "retry_max_attempts"):
        assert fragment in msg, fragment
    assert "TableName" not in msg and "RetryMaxAttempts" not in msg
    assert "s3cr3t-value" not in msg and "s3cr3t-value" not in repr(err)
    with pytest.raises(ConfigurationError):
        cfg.validate()


def test_configuration_error_for_wrong_python_type() -> None:
    with pytest.raises(ConfigurationError, match="retry_max_attempts: expected int"):
        WrapperConfiguration("http://127.0.0.1:1", "a.b.c", retry_max_attempts="5")  # type: ignore[arg-type]
    cfg = WrapperConfiguration("http://127.0.0.1:1", "a.b.c")
    cfg.retry_max_attempts = "5"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="retry_max_attempts: expected int"):
        cfg.validate()


def test_authentication_error_bad_secret(server: LocalServer, table_name: str) -> None:
    err = _send_expecting(server.config(table_name, client_secret="wrong-secret-123", **FAST), PermissionError)
    assert isinstance(err, AuthenticationError)
    assert "client" in str(err).lower()
    assert "wrong-secret-123" not in str(err) and server.client_secret not in str(err)


def test_authentication_error_permission_denied(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "error", code="PERMISSION_DENIED", persistent=True)
    err = _send_expecting(server.config(table_name, **FAST), AuthenticationError)
    assert isinstance(err, PermissionError)
    assert table_name in str(err)


def test_connection_error_after_retries(server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, retry_max_attempts=2, **FAST)
    cfg.endpoint = "http://127.0.0.1:1"  # nothing listens there
    err = _send_expecting(cfg, ZerobusConnectionError)
    assert isinstance(err, builtins.ConnectionError)
    assert isinstance(err, zerobus_py.ConnectionError)
    # the retries were exhausted: it is also a RetryExhausted / TimeoutError
    assert isinstance(err, RetryExhausted) and isinstance(err, TimeoutError)
    assert err.cause_kind == "connection"
    assert "127.0.0.1:1" in str(err)


def test_conversion_error(server: LocalServer, table_name: str) -> None:
    batch = pa.record_batch({"id": pa.array([1, 2]), "bool": pa.array([True, False])})  # a protobuf keyword
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ValueError) as ei:
        w.send_batch(batch)
    assert isinstance(ei.value, ConversionError)
    assert '"bool"' in str(ei.value) and "rename" in str(ei.value)


def test_transmission_error(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "error", code="INVALID_ARGUMENT", message="schema mismatch x42", persistent=True)
    err = _send_expecting(server.config(table_name, **FAST), RuntimeError)
    assert isinstance(err, TransmissionError)
    assert "(INVALID_ARGUMENT)" in str(err) and "InvalidArgument" not in str(err) and "schema mismatch x42" in str(err)
    assert err.grpc_code == "INVALID_ARGUMENT"


def test_retry_exhausted(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "error", code="UNAVAILABLE", persistent=True)
    err = _send_expecting(server.config(table_name, retry_max_attempts=3, **FAST), TimeoutError)
    assert isinstance(err, RetryExhausted)
    assert "3 attempts" in str(err)
    assert server.stats()["faults_fired"] >= 3


def test_token_refresh_error(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "token_error", http_status=503, persistent=True)
    err = _send_expecting(server.config(table_name, retry_max_attempts=2, **FAST), TokenRefreshError)
    assert isinstance(err, builtins.ConnectionError) and isinstance(err, RetryExhausted)
    assert "HTTP 503" in str(err)
    assert server.client_secret not in str(err)


def test_wrapper_closed_error(config: WrapperConfiguration) -> None:
    w = ZerobusWrapper(config)
    w.close()  # shutdown() for good (shutdown() alone lets a later send open the wrapper again)
    w.close()  # idempotent
    w.shutdown()
    assert w.is_closed
    for call in (lambda: w.send_batch(id_batch(0, 1)), w.flush, w.debug_stats):
        with pytest.raises(RuntimeError) as ei:
            call()
        assert isinstance(ei.value, WrapperClosedError) and isinstance(ei.value, ZerobusError)
        assert "closed with close()" in str(ei.value)


def test_cancelled_error_on_timeout(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "stall_acks", persistent=True)
    w = ZerobusWrapper(server.config(table_name, **FAST))
    with pytest.raises(TimeoutError) as ei:
        w.send_batch(id_batch(0, 4), timeout=0.3)
    err = ei.value
    assert isinstance(err, CancelledError)
    assert err.result is not None and err.result.failed_count == 4
    # closing cannot flush stalled requests within its timeout either
    with pytest.raises(CancelledError):
        w.shutdown(timeout=0.3)
    assert w.is_closed


def test_flush_timeout_names_the_key(server: LocalServer, table_name: str) -> None:
    """flush() and shutdown() without a timeout are bounded by flush_timeout_ms: when it runs out (the server holds
    the acks back), the error is a CancelledError (a TimeoutError) naming the key; a caller's timeout is not blamed
    on it. The error was a bare "context deadline exceeded"."""
    server.inject_fault(table_name, "stall_acks", persistent=True)
    w = ZerobusWrapper(server.config(table_name, flush_timeout_ms=300, **FAST))
    with pytest.raises(CancelledError) as ei:
        w.send_batch(id_batch(0, 4), timeout=0.3)  # the 4 requests stay unacknowledged
    # the caller's timeout is named (it was a bare "context deadline exceeded")
    assert "ran out of time before the server acknowledged these rows: timeout=0.3 s passed" in str(ei.value), ei.value
    with pytest.raises(CancelledError) as ei:
        w.flush(timeout=0.3)
    assert "flush_timeout_ms" not in str(ei.value) and "timeout=0.3 s passed" in str(ei.value), ei.value
    for call in (w.flush, w.shutdown):
        with pytest.raises(TimeoutError) as ei:
            call()
        err = ei.value
        assert isinstance(err, CancelledError) and err.kind == "canceled" and not err.retryable, err
        assert "flush_timeout_ms (300 ms) passed" in str(err) and "raise flush_timeout_ms" in str(err), err
    assert w.is_closed


def test_native_messages_map_to_classes() -> None:
    from zerobus_py._errors import from_native

    cases = {
        "configuration": ConfigurationError,
        "authentication": AuthenticationError,
        "connection": ZerobusConnectionError,
        "conversion": ConversionError,
        "transmission": TransmissionError,
        "retry_exhausted": RetryExhausted,
        "token_refresh": TokenRefreshError,
        "closed": WrapperClosedError,
        "canceled": CancelledError,
    }
    for kind, cls in cases.items():
        details = {"kind": kind, "message": f"zerobus: something about {kind}", "row": -1}
        err = from_native(RuntimeError(json.dumps(details)))
        assert type(err) is cls, kind
        assert str(err) == f"zerobus: something about {kind}"
    assert type(from_native(RuntimeError("plain"))) is ZerobusError


def test_star_import_does_not_shadow_builtins() -> None:
    ns: dict[str, object] = {}
    exec("from zerobus_py import *", ns)
    assert "ConnectionError" not in ns
    assert ns["ZerobusConnectionError"] is zerobus_py.ConnectionError
    for name in zerobus_py.__all__:
        assert not hasattr(builtins, name), name


def _whole_batch_failures() -> dict[str, object]:
    import pandas as pd

    return {
        "pandas column pyarrow cannot convert": pd.DataFrame({"id": [1, 2, 3], "v": [1, "a", 2]}),
        "pandas duplicate columns": pd.DataFrame([[1, 2], [3, 4]], columns=["id", "id"]),
        "pandas Series": pd.Series([1, 2, 3], name="id"),
        "pyarrow Array": pa.array([1, 2, 3, 4]),
    }


@pytest.mark.parametrize("case", list(_whole_batch_failures()))
def test_whole_batch_failure_found_in_python_has_a_result(config: WrapperConfiguration, case: str) -> None:
    """A batch refused before Go has it (pyarrow cannot convert the DataFrame, one column is not a table) raises
    with ``err.result`` listing every row as not written, as the docs promise for any batch failing as a whole:
    ``result`` was None there, and the documented quarantine (``err.result.extract_failed_batch(batch)``) crashed
    with AttributeError."""
    batch = _whole_batch_failures()[case]
    n = len(batch)  # type: ignore[arg-type]
    with ZerobusWrapper(config) as w, pytest.raises(ConversionError) as ei:
        w.send_batch(batch)
    res = ei.value.result
    assert res is not None and res.error is ei.value and res.failure is ei.value
    assert (res.success, res.all_succeeded, res.total_rows, res.successful_count) == (False, False, n, 0)
    assert (res.failed_count, res.not_written_count, res.unknown_count) == (n, n, 0)
    assert res.get_not_written_row_indices() == list(range(n))
    assert [e for _, e in res.failed_row_errors] == [ei.value] * n
    if case.startswith("pandas column"):  # the documented pattern: quarantine from err.result
        assert res.extract_failed_batch(batch).equals(batch)


def test_send_after_close_has_a_result(config: WrapperConfiguration) -> None:
    """WrapperClosedError from ``send_batch`` (sync and async) lists every row of the batch as not written; a
    reader, whose length is not known without reading it, gets ``result`` None (as documented)."""
    import asyncio

    batch = id_batch(0, 3)
    w = ZerobusWrapper(config)
    w.close()
    with pytest.raises(WrapperClosedError) as ei:
        w.send_batch(batch)
    res = ei.value.result
    assert res is not None and res.error is ei.value
    assert (res.total_rows, res.not_written_count, res.successful_count) == (3, 3, 0)
    assert res.extract_not_written_batch(batch).equals(batch)

    with pytest.raises(WrapperClosedError) as ei:
        asyncio.run(w.send_batch_async(batch))
    assert ei.value.result is not None and ei.value.result.not_written_count == 3

    with pytest.raises(WrapperClosedError) as ei:
        w.send_batch(pa.RecordBatchReader.from_batches(batch.schema, [batch]))
    assert ei.value.result is None
