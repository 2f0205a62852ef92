"""Avro streams of the local server, driven with the official Python SDK
(unchanged, TLS off): single records and batches, as dicts (encoded by the
SDK with fastavro) and as pre-encoded bytes, a schema the table does not
accept, and a record that is not of the stream's schema."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import fastavro
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import LocalServer, run_local
from zerobus.sdk.sync import ZerobusSdk

DDL = (
    "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, day DATE, at TIMESTAMP, price DECIMAL(10,2), "
    "loc STRUCT<lat:DOUBLE>"
)
LOC = {"type": "record", "name": "Loc", "fields": [{"name": "lat", "type": ["null", "double"]}]}
SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
        {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "price", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]},
        {
            "name": "loc",
            "type": [
                "null",
                {"type": "record", "name": "Loc", "fields": [{"name": "lat", "type": ["null", "double"]}]},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory) as s:
        yield s


def event(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": None if i % 3 == 0 else f"n{i}",
        "tags": [f"t{i}"] * (i % 3),
        "day": date(2024, 1, 1 + i),
        "at": datetime(2024, 1, 2, 3, 4, 5, i, tzinfo=timezone.utc),
        "price": Decimal(f"{i}.25"),
        "loc": {"lat": i / 2},
    }


def expected(i: int) -> dict[str, Any]:
    """What the table must hold for event(i), in the server's protojson view."""
    rec: dict[str, Any] = {
        "id": str(i),
        "day": (date(2024, 1, 1 + i) - date(1970, 1, 1)).days,
        "at": str(int(datetime(2024, 1, 2, 3, 4, 5, i, tzinfo=timezone.utc).timestamp() * 1_000_000)),
        "price": f"{i}.25",
        "loc": {"lat": i / 2},
    }
    if i % 3:
        rec["name"] = f"n{i}"
        rec["tags"] = [f"t{i}"] * (i % 3)
    return rec


def options(**kw: Any) -> Any:
    kw.setdefault("recovery", False)
    kw.setdefault("flush_timeout_ms", 20000)
    return zcore.StreamConfigurationOptions(**kw)


def open_stream(server: LocalServer, table: str, schema: dict[str, Any] = SCHEMA, **kw: Any) -> Any:
    sdk = ZerobusSdk(server.endpoint, server.workspace_url)
    props = zcore.TableProperties(table, avro_schema=json.dumps(schema))
    return sdk.create_stream(server.client_id, server.client_secret, props, options(**kw))


def test_avro_single_and_batch(server: LocalServer) -> None:
    table = "main.avro.events"
    server.create_table(table, DDL)
    stream = open_stream(server, table)
    offsets = [stream.ingest_record_offset(event(1)), stream.ingest_record_offset(event(2))]
    offsets.append(stream.ingest_records_offset([event(i) for i in range(3, 7)]))
    # Pre-encoded Avro binary passes through the SDK unchanged.
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(SCHEMA), event(7))
    offsets.append(stream.ingest_record_offset(buf.getvalue()))
    stream.flush()
    stream.close()
    assert offsets == [0, 1, 2, 3]
    rows = server.rows(table)
    assert [r["record"] for r in rows] == [expected(i) for i in range(1, 8)]
    assert [(r["offset"], r["index"]) for r in rows] == [(0, 0), (1, 0)] + [(2, i) for i in range(4)] + [(3, 0)]


def test_avro_auto_created_table(server: LocalServer) -> None:
    table = "main.avro.auto"
    stream = open_stream(server, table)
    stream.ingest_records_offset([event(i) for i in range(1, 3)])
    stream.flush()
    stream.close()
    cols = server.get(f"/tables/{table}")["columns"]
    assert [(c["name"], c["type_text"], c["nullable"]) for c in cols] == [
        ("id", "bigint", False),
        ("name", "string", True),
        ("tags", "array<string>", False),
        ("day", "date", True),
        ("at", "timestamp", True),
        ("price", "decimal(10,2)", True),
        ("loc", "struct<lat:double>", True),
    ]
    assert [r["record"] for r in server.rows(table)] == [expected(1), expected(2)]


def test_avro_schema_mismatch(server: LocalServer) -> None:
    table = "main.avro.strict"
    server.create_table(table, DDL)
    wrong = dict(SCHEMA, fields=[{"name": "id", "type": "string"}, *SCHEMA["fields"][1:]])
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        open_stream(server, table, wrong, recovery=True)
    assert "TYPE_INCOMPATIBLE" in str(exc.value) or "schema validation failed" in str(exc.value)
    assert time.monotonic() - start < 10  # INVALID_ARGUMENT is not retried


def test_avro_bad_record_rejected(server: LocalServer) -> None:
    table = "main.avro.bad"
    server.create_table(table, DDL)
    stream = open_stream(server, table)
    stream.ingest_record_offset(event(1))
    stream.flush()
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.ingest_record_offset(b"\x02")  # truncated: not an Event
        stream.flush()
    assert "not Avro binary" in str(exc.value)
    assert [r["record"] for r in server.rows(table)] == [expected(1)]
