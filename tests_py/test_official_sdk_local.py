"""The in-process zerobus_py.local.LocalServer driven by the official Python
SDK: its max_message_bytes cap (INVALID_ARGUMENT, not retried) and an Arrow
Flight stream read back with LocalServer.table()."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, make_order, options
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.sync import ZerobusSdk

from zerobus_py.local import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(max_message_bytes=4096) as s:
        yield s


def test_max_message_bytes_cap(server: LocalServer) -> None:
    table = "main.local.capped"
    sdk = zcore.sync.ZerobusSdk(server.endpoint, server.workspace_url)
    sdk.set_use_tls(False)
    stream = sdk.create_stream(
        server.client_id,
        server.client_secret,
        zcore.TableProperties(table, ORDER),
        options(recovery=True, recovery_backoff_ms=200, recovery_retries=5),
    )
    small = [make_order(i) for i in range(1, 4)]
    stream.wait_for_offset(stream.ingest_records_offset([o.SerializeToString() for o in small]))
    big = [make_order(i) for i in range(10, 20)]
    for o in big:
        o.name = "y" * 500  # ten records of ~520 bytes: over 4096 together
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.wait_for_offset(stream.ingest_records_offset([o.SerializeToString() for o in big]))
        stream.flush()
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    assert time.monotonic() - start < 5
    assert server.record_count(table) == 3
    assert server.table(table).column("id").to_pylist() == [1, 2, 3]


def test_flight_into_in_process_server(server: LocalServer) -> None:
    table = "main.local.flight"
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.large_utf8()), ("ok", pa.bool_())])
    sdk = ZerobusSdk(server.endpoint, server.workspace_url)
    stream = sdk.create_arrow_stream(
        table, schema, server.client_id, server.client_secret, ArrowStreamConfigurationOptions(recovery=False)
    )
    stream.ingest_batch(pa.record_batch({"id": [1, 2], "name": ["a", None], "ok": [True, False]}, schema=schema))
    stream.ingest_batch(pa.record_batch({"id": [3], "name": ["c"], "ok": [None]}, schema=schema))
    stream.flush()
    stream.close()
    got = server.table(table)
    assert got.column("id").to_pylist() == [1, 2, 3]
    assert got.column("name").to_pylist() == ["a", None, "c"]
    assert got.column("ok").to_pylist() == [True, False, None]


def test_create_table_from_ddl(server: LocalServer) -> None:
    """LocalServer.create_table: a table in Unity Catalog types, which the
    official SDK's Arrow stream must match and the tables endpoint serves."""
    table = "main.local.ddl"
    server.create_table(table, "id BIGINT NOT NULL, at TIMESTAMP, tags ARRAY<STRING>")
    assert [(c["name"], c["type_text"], c["nullable"]) for c in server.columns(table)] == [
        ("id", "bigint", False),
        ("at", "timestamp", True),
        ("tags", "array<string>", True),
    ]
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            ("at", pa.timestamp("us", tz="UTC")),
            ("tags", pa.list_(pa.large_utf8())),
        ]
    )
    sdk = ZerobusSdk(server.endpoint, server.workspace_url)
    stream = sdk.create_arrow_stream(
        table, schema, server.client_id, server.client_secret, ArrowStreamConfigurationOptions(recovery=False)
    )
    stream.ingest_batch(
        pa.record_batch({"id": [7], "at": [1_700_000_000_000_000], "tags": [["x", "y"]]}, schema=schema)
    )
    stream.flush()
    stream.close()
    got = server.table(table)
    # the TIMESTAMP column reads back as the Arrow type the stream sent
    assert got.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert got.to_pylist() == [
        {"id": 7, "at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc), "tags": ["x", "y"]}
    ]

    with pytest.raises(ValueError, match="already exists"):
        server.create_table(table, "id BIGINT")
    with pytest.raises(ValueError, match="unknown type"):
        server.create_table("main.local.bad", "id WHATEVER")
    with pytest.raises(ValueError, match="invalid table name"):
        server.create_table("nodots", "id INT")
    assert server.columns("main.local.none") == []
