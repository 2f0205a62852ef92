"""Errors cross from Go as data: exceptions expose kind, gRPC code, reason,
row, column, attempts, keys and causes as attributes, per-row errors of a
result carry them too, and exceptions survive pickle and copy with their
result."""

from __future__ import annotations

import contextlib
import copy
import http.server
import pickle
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from conftest import FAST, id_batch, send_raising, stored_ids

from zerobus_py import (
    AuthenticationError,
    ConfigurationError,
    ConversionError,
    RetryExhausted,
    TransmissionError,
    WrapperConfiguration,
    ZerobusConnectionError,
    ZerobusError,
    ZerobusWrapper,
)
from zerobus_py.local import LocalServer


def _bad_utf8_batch() -> pa.RecordBatch:
    """Three rows; the name of row 1 is not valid UTF-8."""
    names = pa.array([b"ok", b"bad\xff", b"fine"], pa.binary()).view(pa.string())
    return pa.record_batch({"id": pa.array([10, 11, 12], pa.int64()), "name": names})


def _raised(cfg: WrapperConfiguration, batch: pa.RecordBatch) -> ZerobusError:
    err = send_raising(cfg, batch, ZerobusError)
    assert isinstance(err, ZerobusError)
    return err


def test_conversion_error_of_one_row_names_row_and_column(server: LocalServer, table_name: str) -> None:
    batch = _bad_utf8_batch()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert (res.successful_count, res.failed_count) == (2, 1)
    assert stored_ids(server, table_name) == [10, 12]
    [(index, err)] = res.failed_row_errors
    assert index == 1 and isinstance(err, ConversionError)
    assert (err.kind, err.row, err.column, err.retryable, err.fatal) == ("conversion", 1, "name", False, False)
    assert err.grpc_code is None and err.attempts is None and err.key is None
    assert "UTF-8" in err.message and err.message.startswith("zerobus: conversion failed at row 1")
    # the result's failure (a summary naming the first failed row; not .error, which is batch-level only, as in
    # the original API) is structured too
    assert res.failure is not None and "1 of 3 rows failed" in res.failure.message
    assert (res.failure.kind, res.failure.row, res.failure.column) == ("conversion", 1, "name")


def test_schema_conversion_error_names_the_column(server: LocalServer, table_name: str) -> None:
    batch = pa.record_batch({"id": pa.array([1, 2]), "bool": pa.array([True, False])})  # a protobuf keyword
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ConversionError) as ei:
        w.send_batch(batch)
    err = ei.value
    assert err.column == "bool" and err.columns == ["bool"] and err.row is None
    assert err.result is not None and err.result.failed_count == 2


def test_retry_exhausted_carries_attempts_code_and_cause(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "error", code="UNAVAILABLE", message="down for x7", persistent=True)
    err = _raised(server.config(table_name, retry_max_attempts=3, **FAST), id_batch(0, 4))
    assert isinstance(err, RetryExhausted) and isinstance(err, ZerobusConnectionError)
    assert (err.kind, err.cause_kind) == ("retry_exhausted", "connection")
    assert (err.attempts, err.grpc_code) == (3, "UNAVAILABLE")
    assert err.retryable and err.fatal and err.row is None
    [cause] = err.causes
    assert isinstance(cause, ZerobusConnectionError) and not isinstance(cause, RetryExhausted)
    assert cause.grpc_code == "UNAVAILABLE" and "down for x7" in cause.message
    assert err.result is not None and err.result.failed_count == 4


@contextlib.contextmanager
def _catalog_refused(server: LocalServer) -> Iterator[str]:
    """A workspace URL whose Unity Catalog refuses every table lookup (403); the token endpoint is the server's."""

    class Front(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if self.path.startswith("/api/2.1/unity-catalog/tables/"):
                status, body = 403, b'{"error_code":"PERMISSION_DENIED","message":"no"}'
            else:
                n = int(self.headers.get("Content-Length") or 0)
                req = urllib.request.Request(
                    server.workspace_url + self.path,
                    data=self.rfile.read(n) if n else None,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")},
                )
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{front.server_address[1]}"
    finally:
        front.shutdown()
        front.server_close()


def test_schema_mismatch_against_the_catalog_names_the_columns(server: LocalServer, table_name: str) -> None:
    """With the table's columns read from Unity Catalog, columns the table lacks fail the batch before any stream
    opens, on protobuf as over Flight: a ConversionError naming them (it was the server's TransmissionError)."""
    server.create_table(table_name, "id BIGINT")
    err = _raised(server.config(table_name, retry_max_attempts=1, **FAST), id_batch(0, 2))
    assert isinstance(err, ConversionError) and err.kind == "conversion" and not err.retryable
    assert err.columns == ["name", "score"] and err.row is None
    assert err.result is not None and err.result.failed_count == 2
    assert server.record_count(table_name) == 0


def test_server_schema_rejection_carries_reason_and_server_causes(server: LocalServer, table_name: str) -> None:
    server.create_table(table_name, "id BIGINT")
    with _catalog_refused(server) as workspace:
        cfg = server.config(table_name, retry_max_attempts=1, unity_catalog_url=workspace, **FAST)
        err = _raised(cfg, id_batch(0, 2))
    assert isinstance(err, TransmissionError)
    assert (err.grpc_code, err.reason, err.retryable) == ("INVALID_ARGUMENT", "SCHEMA_VALIDATION_FAILED", False)
    assert "FIELD_NOT_IN_TABLE" in err.server_causes


def test_rejected_credentials_carry_http_status(server: LocalServer, table_name: str) -> None:
    err = _raised(server.config(table_name, client_secret="wrong-secret-d1", retry_max_attempts=1), id_batch(0, 1))
    assert isinstance(err, AuthenticationError)
    assert err.http_status == 401 and err.reason and not err.retryable and err.fatal
    assert "wrong-secret-d1" not in repr(err.details) and server.client_secret not in repr(err.details)


def test_go_config_error_names_python_keywords_and_units(server: LocalServer) -> None:
    cfg = WrapperConfiguration(server.endpoint, "a.b.c", retry_base_delay_ms=-1, retry_max_attempts=-1)
    with pytest.raises(ConfigurationError) as ei:
        cfg.validate()
    err = ei.value
    assert err.keys == ["retry_max_attempts", "retry_base_delay_ms"] and err.key == "retry_max_attempts"
    assert err.fatal and not err.retryable
    # durations in the key's unit (milliseconds), not Go's "-1ms"
    assert (
        "retry_base_delay_ms (env RETRY_BASE_DELAY_MS when loading from the environment): is -1; must not be negative"
        in err.message
    )


def test_python_config_error_names_the_keyword() -> None:
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration("http://127.0.0.1:1", "a.b.c", retry_max_attempts="5")  # type: ignore[arg-type]
    assert ei.value.key == "retry_max_attempts" and ei.value.keys == ["retry_max_attempts"]
    assert ei.value.fatal and ei.value.kind == "configuration"


def test_pickle_and_copy_keep_result_and_attributes(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "error", code="UNAVAILABLE", persistent=True)
    batch = id_batch(0, 5)
    err = _raised(server.config(table_name, retry_max_attempts=2, **FAST), batch)
    assert isinstance(err, RetryExhausted)
    copies = {"pickle": pickle.loads(pickle.dumps(err)), "copy": copy.copy(err), "deepcopy": copy.deepcopy(err)}
    for how, back in copies.items():
        assert type(back) is type(err) and isinstance(back, ZerobusConnectionError)
        assert str(back) == str(err) and repr(back) == repr(err)
        attrs = ("kind", "cause_kind", "attempts", "grpc_code", "retryable", "fatal", "row", "column", "keys")
        for attr in (*attrs, "details"):
            assert getattr(back, attr) == getattr(err, attr), attr
        assert [c.message for c in back.causes] == [c.message for c in err.causes]
        assert back.result is not None and err.result is not None
        assert (back.result.total_rows, back.result.failed_count, back.result.successful_count) == (5, 5, 0)
        assert back.result.get_failed_row_indices() == list(range(5))
        if how == "copy":  # shallow: the same result
            assert back.result is err.result
        else:  # the cycle result.error -> error is kept
            assert back.result.error is back and back.result is not err.result
        assert back.result.extract_failed_batch(batch).equals(batch)


def test_partial_result_pickles_with_row_errors(server: LocalServer, table_name: str) -> None:
    batch = _bad_utf8_batch()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    back = pickle.loads(pickle.dumps(res))
    assert (back.total_rows, back.successful_count, back.failed_count) == (3, 2, 1)
    assert back.successful_rows == [0, 2] and back.failed_rows == res.failed_rows
    [(index, err)] = back.failed_row_errors
    assert (index, err.row, err.column, type(err)) == (1, 1, "name", ConversionError)
    assert back.extract_failed_batch(batch).column("id").to_pylist() == [11]


def test_unknown_native_text_is_a_plain_error() -> None:
    from zerobus_py._errors import from_native

    for text in ("plain", "{not json", '{"no": "kind"}'):
        err = from_native(RuntimeError(text))
        assert type(err) is ZerobusError and err.message == text and err.row is None


def test_result_built_in_python_pickles() -> None:
    from zerobus_py import TransmissionResult

    res = TransmissionResult(False, failed_rows=[(1, "ConversionError: bad value")], successful_rows=[0, 2])
    back = pickle.loads(pickle.dumps(res))
    assert back.successful_rows == [0, 2] and back.failed_rows == res.failed_rows
    assert (back.total_rows, back.failed_count) == (3, 1)
    [(_, err)] = back.failed_row_errors
    assert isinstance(err, ConversionError) and err.message == "bad value"
    # still built without total_rows: a longer batch holding the listed rows is accepted
    assert back.extract_failed_batch(pa.record_batch({"id": [0, 1, 2, 3]})).column("id").to_pylist() == [1]


class QuarantineError(ConversionError):
    """A user's subclass whose ``__init__`` takes other arguments than the message."""

    def __init__(self, batch_id: int, cause: ConversionError) -> None:
        super().__init__(f"batch {batch_id}: {cause}", result=cause.result, details=cause.details)
        self.batch_id = batch_id


def test_user_subclass_pickles_as_itself() -> None:
    """A user's subclass of a zerobus exception comes back from pickle (a multiprocessing or concurrent.futures
    worker's exception, raised again in the parent) as its own class with its attributes: every error was rebuilt
    by its kind, as the base class, so ``except QuarantineError`` in the parent no longer matched."""
    err = QuarantineError(42, ConversionError("bad value", details={"row": 3, "column": "v"}))
    for back in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err), copy.copy(err)):
        assert type(back) is QuarantineError
        assert (back.batch_id, back.message, str(back), back.row, back.column) == (
            42,
            "batch 42: bad value",
            "batch 42: bad value",
            3,
            "v",
        )
        assert back.args == err.args
    # the package's own classes still come back as themselves
    for cls in (ConversionError, ZerobusError, TransmissionError):
        assert type(pickle.loads(pickle.dumps(cls("m")))) is cls
