"""s18 review errors: the messages of real failures say what happened and what to check, in core's words (the
same text Go and the CLI print), through the Python classes."""

from __future__ import annotations

import socket

import pyarrow as pa
import pytest
from conftest import FAST, id_batch, send_raising

from zerobus_py import (
    ConfigurationError,
    ConversionError,
    RetryExhausted,
    TokenRefreshError,
    TransmissionError,
    ZerobusConnectionError,
    ZerobusError,
    ZerobusWrapper,
)
from zerobus_py.local import LocalServer

GRPC_RAW = (
    "server returned",
    "Unavailable",
    "desc =",
    "transport:",
    "error reading from server",
    "connection failed (",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _error(cfg: object, exc: type[BaseException]) -> ZerobusError:
    err = send_raising(cfg, id_batch(0, 3), exc)  # type: ignore[arg-type]
    assert isinstance(err, ZerobusError)
    return err


def test_refused_port_says_cannot_connect(server: LocalServer, table_name: str) -> None:
    """H1: was "server returned Unavailable: connection error: desc = \"transport: Error while dialing: ...\"."""
    port = _closed_port()
    cfg = server.config(table_name, endpoint=f"http://127.0.0.1:{port}", retry_max_attempts=2, **FAST)
    err = _error(cfg, ZerobusConnectionError)
    msg = str(err)
    assert (
        f"gave up after 2 attempts: cannot reach http://127.0.0.1:{port}: cannot connect to 127.0.0.1:{port}: "
        "connection refused (check the endpoint URL, network and TLS settings)"
    ) in msg, msg
    for raw in (*GRPC_RAW, "raise retry_max_attempts"):
        assert raw not in msg, (raw, msg)
    assert isinstance(err, RetryExhausted) and err.retryable and err.grpc_code == "UNAVAILABLE"
    assert err.cause_kind == "connection"


def test_dropped_connection_says_closed(server: LocalServer, table_name: str) -> None:
    server.inject_fault(table_name, "drop_connection", persistent=True)
    err = _error(server.config(table_name, retry_max_attempts=1, **FAST), ZerobusConnectionError)
    msg = str(err)
    assert (
        f"the connection to {server.endpoint} closed (EOF) while creating the stream "
        "(check the endpoint URL, network and TLS settings)"
    ) in msg, msg
    assert not any(raw in msg for raw in GRPC_RAW), msg
    assert err.retryable and err.grpc_code == "UNAVAILABLE"


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_create_timeout_names_the_setting(server: LocalServer, table_name: str, transport: str) -> None:
    """M1: was "cannot reach ...: no stream id within CreateTimeout (200ms) (check the endpoint URL, ...)"."""
    server.inject_fault(table_name, "create_delay", latency_ms=30_000, persistent=True)
    cfg = server.config(table_name, create_timeout_ms=200, retry_max_attempts=1, transport=transport, **FAST)
    err = _error(cfg, ZerobusConnectionError)
    msg = str(err)
    what = "no stream id" if transport == "protobuf" else "no READY from the Flight service"
    assert (
        f"gave up after 1 attempt: {server.endpoint}: {what} within create_timeout_ms (200 ms) "
        "(raise create_timeout_ms, env ZEROBUS_CREATE_TIMEOUT_MS, or check the endpoint and network)"
    ) in msg, msg
    for bad in ("CreateTimeout", "cannot reach", "200ms", "raise retry_max_attempts"):
        assert bad not in msg, (bad, msg)
    server.clear_faults(table_name)


def test_refused_proxy_names_proxy_url(server: LocalServer, table_name: str) -> None:
    """M5: was "... proxyconnect tcp: dial tcp ...: connection refused (check unity_catalog_url, ...)"."""
    port = _closed_port()
    cfg = server.config(
        table_name, proxy_url=f"http://user:S18pw-secret@127.0.0.1:{port}", retry_max_attempts=1, **FAST
    )
    err = _error(cfg, TokenRefreshError)
    msg = str(err)
    assert (
        f"cannot reach the proxy 127.0.0.1:{port} (proxy_url): connection refused "
        "(check proxy_url and that the proxy is running)"
    ) in msg, msg
    for bad in ("proxyconnect", "unity_catalog_url", "S18pw-secret", "dial tcp"):
        assert bad not in msg and bad not in repr(err), (bad, msg)
    keys = set(err.keys) | {k for c in err.causes for k in c.keys}
    assert "proxy_url" in keys, (err.keys, err.causes)


def test_code_names_as_grpc_code(table_name: str) -> None:
    """M2: the message said "(NotFound)" while grpc_code said NOT_FOUND."""
    with LocalServer(auto_create_tables=False) as srv:
        err = _error(srv.config(table_name, **FAST), TransmissionError)
    assert "server rejected the stream (NOT_FOUND): " in str(err) and "NotFound" not in str(err), str(err)
    assert err.grpc_code == "NOT_FOUND" and err.keys == ["table_name"]


def test_schema_mismatch_in_table_types(server: LocalServer, table_name: str) -> None:
    """M3: the table's types were Arrow's (int32, large_utf8) and "no safe cast" had no remedy."""
    server.create_table(table_name, "id INT NOT NULL, name STRING NOT NULL")
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ConversionError) as ei:
        w.check_schema(pa.schema({"id": pa.string()}))
    msg = str(ei.value)
    assert (
        'column "id" is utf8 in the batch and INT in the table: no safe cast; cast the batch\'s column to int32, '
        'or change the table\'s column; column "name" (STRING in the table) is missing from the batch: '
        "the column is NOT NULL: add it to the batch"
    ) in msg, msg
    assert "large_utf8" not in msg and "int32 in the table" not in msg
    assert ei.value.columns == ["id", "name"]


def test_inject_fault_unknown_option_lists_the_options(server: LocalServer, table_name: str) -> None:
    """L12: was "zerobus: fault: zerobuslocal: invalid fault: json: unknown field ..." (two prefixes, no list)."""
    with pytest.raises(ConfigurationError) as ei:
        server.inject_fault(table_name, "create_delay", latency=3.0)
    assert str(ei.value) == (
        "zerobus: fault: unknown option latency=3.0; the options are after_messages, after_ms, code, message, "
        "persistent, close_after_ms, http_status, latency_ms, records"
    )
    assert ei.value.keys == ["latency"]
    # every option listed is one the server takes
    server.inject_fault(
        table_name,
        "error",
        after_messages=5,
        after_ms=60_000,
        code="UNAVAILABLE",
        message="m",
        persistent=False,
        close_after_ms=1000,
        http_status=500,
        latency_ms=1,
        records=1,
    )
    server.clear_faults(table_name)
