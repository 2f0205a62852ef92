"""ZerobusWrapper.table_schema / AsyncZerobusWrapper.table_schema: the table's Arrow schema as the Go core maps
its Unity Catalog columns (core.Wrapper.TableSchema), read against the local server; a batch built with it sends;
the errors of a missing table, wrong credentials, a disabled writer, a timeout and an unreachable catalog."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pyarrow as pa
import pytest
from conftest import FAST, as_stored

import zerobus_py
from zerobus_py import AsyncZerobusWrapper, ZerobusWrapper
from zerobus_py.local import LocalServer

DDL = (
    "id BIGINT NOT NULL, name STRING, price DECIMAL(10,2) NOT NULL, at TIMESTAMP, ntz TIMESTAMP_NTZ, day DATE, "
    "ok BOOLEAN, i INT, small SMALLINT, tiny TINYINT, f FLOAT, d DOUBLE, raw BINARY, tags ARRAY<STRING>, "
    "attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>"
)

#: DDL's columns as the Go core maps them (the mapping of core.Wrapper.TableSchema's doc).
WANT = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.large_string()),
        pa.field("price", pa.large_string(), nullable=False, metadata={b"zerobus.decimal": b"10,2"}),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("ntz", pa.timestamp("us")),
        pa.field("day", pa.date32()),
        pa.field("ok", pa.bool_()),
        pa.field("i", pa.int32()),
        pa.field("small", pa.int16()),
        pa.field("tiny", pa.int8()),
        pa.field("f", pa.float32()),
        pa.field("d", pa.float64()),
        pa.field("raw", pa.large_binary()),
        pa.field("tags", pa.list_(pa.field("element", pa.large_string()))),
        pa.field("attrs", pa.map_(pa.large_string(), pa.int64())),
        pa.field("loc", pa.struct([pa.field("lat", pa.float64()), pa.field("lon", pa.float64())])),
    ]
)


def _fields(schema: pa.Schema) -> list[tuple[str, str, bool, dict[bytes, bytes] | None]]:
    return [(f.name, str(f.type), f.nullable, f.metadata) for f in schema]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_table_schema_types(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, DDL)
    cfg = server.config(table_name, transport=transport, **FAST)
    with ZerobusWrapper(cfg) as w:
        got = w.table_schema()
        assert isinstance(got, pa.Schema)
        assert _fields(got) == _fields(WANT)
        assert got.equals(WANT, check_metadata=True)
        assert w.table_schema(timeout=10) == got  # kept: read again without a new lookup

    async def read() -> pa.Schema:
        async with AsyncZerobusWrapper(cfg) as aw:
            return await aw.table_schema(timeout=10)

    assert _fields(asyncio.run(read())) == _fields(WANT)
    assert server.record_count(table_name) == 0


ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "a",
        "price": "12.30",
        "at": datetime.datetime(2024, 3, 1, 12, 34, 56, tzinfo=datetime.timezone.utc),
        "ntz": datetime.datetime(2024, 3, 1, 1, 2, 3),
        "day": datetime.date(2024, 2, 29),
        "ok": True,
        "i": 7,
        "small": -2,
        "tiny": 3,
        "f": 1.5,
        "d": 2.25,
        "raw": b"\x00\x01",
        "tags": ["x", "y"],
        "attrs": [("k", 5)],
        "loc": {"lat": 1.0, "lon": -2.0},
    },
    {"id": 2, "price": "-0.05"},
]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_batch_built_with_table_schema_sends(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, DDL)
    with ZerobusWrapper(server.config(table_name, transport=transport, **FAST)) as w:
        batch = pa.Table.from_pylist(ROWS, schema=w.table_schema())
        result = w.send_batch(batch)
    assert result.all_succeeded and result.successful_count == 2, result
    stored = sorted(as_stored(server.table(table_name)), key=lambda r: r["id"])
    # as the server stores them: TIMESTAMP(_NTZ) in µs since the epoch, DATE in days, DECIMAL as its text; a null
    # ARRAY or MAP is stored empty (a protobuf repeated field has no null)
    first = ROWS[0] | {"at": 1709296496000000, "ntz": 1709254923000000, "day": 19782}
    second = dict.fromkeys(first) | {"id": 2, "price": "-0.05", "tags": [], "attrs": []}
    assert stored == [first, second]


def test_missing_table(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name, **FAST)) as w, pytest.raises(zerobus_py.ConfigurationError) as ei:
        w.table_schema()
    assert isinstance(ei.value, ValueError)
    assert str(ei.value) == (
        f"zerobus: the columns of table {table_name} cannot be read from Unity Catalog: "
        "no such table (HTTP 404): check table_name, or create the table"
    )
    assert ei.value.key == "table_name"


def test_wrong_secret(server: LocalServer, table_name: str) -> None:
    secret = "wrong-secret-5b7e31"
    cfg = server.config(table_name, client_secret=secret, **FAST)
    with ZerobusWrapper(cfg) as w, pytest.raises(zerobus_py.AuthenticationError) as ei:
        w.table_schema()
    assert "client_secret" in str(ei.value)
    assert secret not in str(ei.value) and secret not in repr(ei.value) and secret not in str(ei.value.details)


def test_writer_disabled(server: LocalServer, table_name: str) -> None:
    server.create_table(table_name, "id BIGINT")
    cfg = server.config(table_name, zerobus_writer_disabled=True)
    with ZerobusWrapper(cfg) as w, pytest.raises(zerobus_py.ConfigurationError) as ei:
        w.table_schema()
    assert ei.value.key == "zerobus_writer_disabled"
    assert str(ei.value) == (
        f"zerobus: the columns of table {table_name} cannot be read from Unity Catalog: "
        "zerobus_writer_disabled is set, so nothing is contacted; read them with a Wrapper without it"
    )


def test_timeout_and_close(server: LocalServer, table_name: str) -> None:
    server.create_table(table_name, "id BIGINT")
    server.inject_fault(table_name, "token_latency", latency_ms=5000)
    try:
        with ZerobusWrapper(server.config(table_name, **FAST)) as w, pytest.raises(zerobus_py.CancelledError) as ei:
            w.table_schema(timeout=0.2)
        assert isinstance(ei.value, TimeoutError)
        assert "timeout=0.2 s" in str(ei.value)
    finally:
        server.clear_faults(table_name)
    w = ZerobusWrapper(server.config(table_name, **FAST))
    w.close()
    with pytest.raises(zerobus_py.WrapperClosedError):
        w.table_schema()


def test_unreachable_catalog(server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, unity_catalog_url="http://127.0.0.1:9", create_timeout_ms=2000, **FAST)
    with ZerobusWrapper(cfg) as w, pytest.raises(zerobus_py.TokenRefreshError) as ei:
        w.table_schema()
    assert isinstance(ei.value, ConnectionError)  # the builtin, as zerobus_py.ConnectionError is too
    assert "http://127.0.0.1:9/oidc/v1/token" in str(ei.value) and "unity_catalog_url" in str(ei.value)
