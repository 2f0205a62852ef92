"""Arrow Flight, oversize requests and the Unity Catalog endpoint of the
local server, driven with the official Python SDK (unchanged, TLS off).

Uses the ``zerobus local`` process helpers of test_official_sdk_conformance.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, LocalServer, make_order, options, run_local
from zerobus.sdk.aio import ZerobusSdk as AsyncSdk
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.sync import ZerobusSdk

DDL = "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, at TIMESTAMP, loc STRUCT<lat:DOUBLE>"
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        ("name", pa.large_utf8()),
        ("tags", pa.list_(pa.large_utf8())),
        ("at", pa.timestamp("us", tz="UTC")),
        ("loc", pa.struct([("lat", pa.float64())])),
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory, "-max-message-bytes", "65536") as s:
        yield s


def rows_batch(first: int, n: int) -> pa.RecordBatch:
    ids = list(range(first, first + n))
    return pa.record_batch(
        {
            "id": ids,
            "name": [None if i % 3 == 0 else f"n{i}" for i in ids],
            "tags": [[f"t{i}"] for i in ids],
            "at": [1_700_000_000_000_000 + i for i in ids],
            "loc": [{"lat": i / 2} for i in ids],
        },
        schema=SCHEMA,
    )


def expected_record(i: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": str(i), "tags": [f"t{i}"], "at": str(1_700_000_000_000_000 + i), "loc": {"lat": i / 2}}
    if i % 3:
        rec["name"] = f"n{i}"
    return rec


def arrow_options(**kw: Any) -> Any:
    kw.setdefault("recovery", False)
    kw.setdefault("flush_timeout_ms", 20000)
    kw.setdefault("server_lack_of_ack_timeout_ms", 20000)
    return ArrowStreamConfigurationOptions(**kw)


def sdk(server: LocalServer) -> ZerobusSdk:
    return ZerobusSdk(server.endpoint, server.workspace_url)


def ids(server: LocalServer, table: str) -> list[int]:
    return [int(r["record"]["id"]) for r in server.rows(table)]


def test_flight_sync(server: LocalServer) -> None:
    table = "main.flight.sync"
    server.create_table(table, DDL)
    stream = sdk(server).create_arrow_stream(table, SCHEMA, server.client_id, server.client_secret, arrow_options())
    offsets = [stream.ingest_batch(rows_batch(0, 3)), stream.ingest_batch(rows_batch(3, 1))]
    offsets.append(stream.ingest_batch(pa.Table.from_batches([rows_batch(4, 5)])))
    stream.wait_for_offset(offsets[-1])
    stream.flush()
    stream.close()
    assert offsets == [0, 1, 2]
    rows = server.rows(table)
    assert [r["record"] for r in rows] == [expected_record(i) for i in range(9)]
    assert [(r["offset"], r["index"]) for r in rows] == [(0, 0), (0, 1), (0, 2), (1, 0)] + [(2, i) for i in range(5)]
    assert len({r["stream_id"] for r in rows}) == 1


@pytest.mark.parametrize("codec", ["ZSTD", "LZ4_FRAME"])
def test_flight_compressed_ipc(server: LocalServer, codec: str) -> None:
    table = f"main.flight.compressed_{codec.lower()}"
    server.create_table(table, DDL)
    compression = getattr(zcore.arrow.IPCCompression, codec)
    stream = sdk(server).create_arrow_stream(
        table, SCHEMA, server.client_id, server.client_secret, arrow_options(ipc_compression=compression)
    )
    for i in range(3):
        stream.ingest_batch(rows_batch(i * 100, 100))
    stream.flush()
    stream.close()
    assert [r["record"] for r in server.rows(table)] == [expected_record(i) for i in range(300)]


def test_flight_async(server: LocalServer) -> None:
    table = "main.flight.async"
    server.create_table(table, DDL)

    async def run() -> list[int]:
        client = AsyncSdk(server.endpoint, server.workspace_url)
        stream = await client.create_arrow_stream(
            table, SCHEMA, server.client_id, server.client_secret, arrow_options()
        )
        got = [await stream.ingest_batch(rows_batch(i * 4, 4)) for i in range(3)]
        await stream.flush()
        await stream.close()
        return got

    assert asyncio.run(run()) == [0, 1, 2]
    assert ids(server, table) == list(range(12))


def test_flight_partial_ack_and_rotation(server: LocalServer) -> None:
    """The server acknowledges 2 records of the second batch with
    close_stream_duration_ms and drops the rest: the SDK rotates and replays
    exactly the unacknowledged suffix, so every row lands once."""
    table = "main.flight.partial"
    server.create_table(table, DDL)
    server.fault(table, "partial_ack", after_messages=1, records=2, close_after="300ms")
    before = server.stats()
    stream = sdk(server).create_arrow_stream(
        table,
        SCHEMA,
        server.client_id,
        server.client_secret,
        arrow_options(recovery=True, recovery_backoff_ms=50, recovery_retries=5, recovery_timeout_ms=5000),
    )
    stream.ingest_batch(rows_batch(0, 3))
    stream.wait_for_offset(0)
    for i in range(1, 4):
        stream.ingest_batch(rows_batch(i * 5 - 2, 5))
    stream.flush()
    stream.close()
    rows = server.rows(table)
    assert [int(r["record"]["id"]) for r in rows] == list(range(18))
    assert len({r["stream_id"] for r in rows}) >= 2
    after = server.stats()
    assert after["faults_fired"] > before["faults_fired"]
    assert after["close_signals"] > before["close_signals"]


def test_flight_async_partial_ack_and_rotation(server: LocalServer) -> None:
    """The same partial acknowledgement through the asyncio client."""
    table = "main.flight.partial_async"
    server.create_table(table, DDL)
    server.fault(table, "partial_ack", after_messages=1, records=1, close_after="200ms")

    async def run() -> None:
        client = AsyncSdk(server.endpoint, server.workspace_url)
        opts = arrow_options(recovery=True, recovery_backoff_ms=50, recovery_retries=5, recovery_timeout_ms=5000)
        stream = await client.create_arrow_stream(table, SCHEMA, server.client_id, server.client_secret, opts)
        await stream.wait_for_offset(await stream.ingest_batch(rows_batch(0, 2)))
        for i in range(1, 4):
            await stream.ingest_batch(rows_batch(i * 4 - 2, 4))
        await stream.flush()
        await stream.close()

    asyncio.run(run())
    rows = server.rows(table)
    assert [int(r["record"]["id"]) for r in rows] == list(range(14))
    assert len({r["stream_id"] for r in rows}) >= 2


@pytest.mark.parametrize(
    "kind,opts",
    [
        ("error", {"after_messages": 1, "code": "UNAVAILABLE"}),
        ("end_stream", {"after_messages": 1}),
        ("drop_connection", {"after_messages": 1}),
        ("close_signal", {"after_messages": 1, "close_after": "200ms"}),
        ("error", {"code": "INTERNAL"}),  # at create: the SDK retries the create
        ("stall_acks", {"after_messages": 1}),  # the SDK's lack-of-ack timeout fires
        ("create_delay", {"latency": "3s"}),  # READY later than connection_timeout_ms
        ("token_error", {"http_status": 503}),  # a 5xx from the token endpoint is retried
        ("token_latency", {"latency": "300ms"}),  # a slow token endpoint: the create waits, then succeeds
        ("error", {"after_messages": 2, "code": "INTERNAL"}),  # mid-stream, another retryable code
        ("partial_ack", {"after_messages": 1}),
    ],
)
def test_flight_recovery_on_faults(server: LocalServer, kind: str, opts: dict[str, Any]) -> None:
    table = f"main.flight.fault_{kind}_{len(opts)}_{opts.get('after_messages', 0)}"
    server.create_table(table, DDL)
    server.fault(table, kind, **opts)
    before = server.stats()["faults_fired"]
    stream = sdk(server).create_arrow_stream(
        table,
        SCHEMA,
        server.client_id,
        server.client_secret,
        arrow_options(
            recovery=True,
            recovery_backoff_ms=50,
            recovery_retries=5,
            recovery_timeout_ms=5000,
            server_lack_of_ack_timeout_ms=1000,
            connection_timeout_ms=1000,
        ),
    )
    for i in range(4):
        stream.ingest_batch(rows_batch(i * 3, 3))
        time.sleep(0.05)
    stream.flush()
    stream.close()
    assert server.stats()["faults_fired"] == before + 1
    got = ids(server, table)
    # At least once: every row, duplicates only of whole batches resent after a lost ack.
    assert set(got) == set(range(12)), got
    assert (len(got) - 12) % 3 == 0, got


def test_flight_expired_token_is_not_retried(server: LocalServer) -> None:
    """UNAUTHENTICATED mid-stream (the expire_token fault) ends an Arrow
    stream for good in the official client: no retry, the first batch stays
    stored and acknowledged."""
    table = "main.flight.expired"
    server.create_table(table, DDL)
    server.fault(table, "expire_token", after_messages=1)
    before = server.stats()
    stream = sdk(server).create_arrow_stream(
        table, SCHEMA, server.client_id, server.client_secret, arrow_options(recovery=True, recovery_backoff_ms=50)
    )
    stream.wait_for_offset(stream.ingest_batch(rows_batch(0, 3)))
    with pytest.raises(zcore.ZerobusException) as exc:
        for i in range(1, 4):
            stream.ingest_batch(rows_batch(i * 3, 3))
            time.sleep(0.05)
        stream.flush()
    assert "access token expired" in str(exc.value) or "closed" in str(exc.value)
    assert ids(server, table) == [0, 1, 2]
    assert server.stats()["streams_created"] - before["streams_created"] == 1


def test_flight_schema_mismatch_is_typed(server: LocalServer) -> None:
    table = "main.flight.strict"
    server.create_table(table, DDL)
    wrong = pa.schema([pa.field("id", pa.int32(), nullable=False), ("name", pa.large_utf8())])
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        sdk(server).create_arrow_stream(
            table, wrong, server.client_id, server.client_secret, arrow_options(recovery=True)
        )
    assert "Arrow schema does not match the target table" in str(exc.value)
    assert "FIELD_COUNT_MISMATCH" in str(exc.value) or "columns" in str(exc.value)
    assert time.monotonic() - start < 10  # not retried


def test_oversize_batch_fails_fast(server: LocalServer) -> None:
    """A request over the server's cap (64 KiB here) is INVALID_ARGUMENT: the
    SDK fails at once instead of reconnecting (with RESOURCE_EXHAUSTED it
    retried for 20 s)."""
    table = "main.flight.oversize"
    before = server.stats()
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(recovery=True, recovery_backoff_ms=200, recovery_retries=5),
    )
    stream.ingest_record_offset(make_order(1).SerializeToString())
    stream.flush()
    big = [make_order(i) for i in range(2, 2000)]
    for o in big:
        o.name = "x" * 64
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        off = stream.ingest_records_offset([o.SerializeToString() for o in big])
        stream.wait_for_offset(off)
        stream.flush()
    elapsed = time.monotonic() - start
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    assert elapsed < 5, elapsed
    after = server.stats()
    assert after["streams_created"] - before["streams_created"] == 1  # no new stream attempted
    assert len(server.rows(table)) == 1

    # The same for a Flight batch over the cap.
    table = "main.flight.oversize_arrow"
    server.create_table(table, DDL)
    fs = sdk(server).create_arrow_stream(
        table, SCHEMA, server.client_id, server.client_secret, arrow_options(recovery=True)
    )
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        fs.ingest_batch(rows_batch(0, 5000))
        fs.flush()
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    assert time.monotonic() - start < 5


def test_generate_proto_matches_table(server: LocalServer, tmp_path: Path) -> None:
    """The SDK's own generate_proto tool reads the Unity Catalog tables
    endpoint with a scope=all-apis token and writes a .proto for the table."""
    table = "main.flight.generated"
    server.create_table(
        table, "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, attrs MAP<STRING,BIGINT>, day DATE, at TIMESTAMP"
    )
    out = tmp_path / "gen.proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "zerobus.tools.generate_proto",
            "--uc-endpoint",
            server.workspace_url,
            "--client-id",
            server.client_id,
            "--client-secret",
            server.client_secret,
            "--table",
            table,
            "--proto-msg",
            "Generated",
            "--output",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    text = out.read_text()
    fields = [
        " ".join(line.split()) for line in text.splitlines() if line.strip().endswith(";") and "syntax" not in line
    ]
    assert fields == table_descriptor_lines(server.get(f"/tables/{table}")["descriptor"]), text
    assert fields == [
        "required int64 id = 1;",
        "optional string name = 2;",
        "repeated string tags = 3;",
        "map<string, int64> attrs = 4;",
        "optional int32 day = 5;",
        "optional int64 at = 6;",
    ], text
    assert "message Generated" in text


def test_token_exchange_grant(server: LocalServer) -> None:
    """Federated identity: the SDK exchanges an IdP JWT (RFC 8693 grant, no
    client secret) for the Zerobus token."""
    from zerobus.sdk.shared.auth import FederatedToken

    table = "main.flight.federated"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln"
    calls: list[int] = []

    def supplier() -> str:
        calls.append(1)
        return jwt

    before = server.stats()
    for auth in (FederatedToken(supplier), FederatedToken(supplier, databricks_client_id=server.client_id)):
        stream = sdk(server).create_stream(
            table_properties=zcore.TableProperties(table, ORDER), options=options(), auth=auth
        )
        stream.ingest_record_offset(make_order(len(calls)).SerializeToString())
        stream.flush()
        stream.close()
    assert len(calls) >= 2
    assert server.stats()["tokens_issued"] - before["tokens_issued"] >= 2
    assert len(server.rows(table)) == 2

    with pytest.raises(zcore.ZerobusException):
        sdk(server).create_stream(
            table_properties=zcore.TableProperties(table, ORDER),
            options=options(),
            auth=FederatedToken(lambda: "not-a-jwt"),
        )


def table_descriptor_lines(desc: dict[str, Any]) -> list[str]:
    """The server's descriptor of a table as .proto field lines."""
    entries = {n["name"]: n for n in desc.get("nested_type", []) if n.get("options", {}).get("map_entry")}

    def kind(f: dict[str, Any]) -> str:
        return str(f["type"]).removeprefix("TYPE_").lower()

    out = []
    for f in desc["field"]:
        entry = entries.get(f.get("type_name", "").rsplit(".", 1)[-1])
        if entry is not None:
            k, v = entry["field"]
            out.append(f"map<{kind(k)}, {kind(v)}> {f['name']} = {f['number']};")
        else:
            out.append(f"{str(f['label']).removeprefix('LABEL_').lower()} {kind(f)} {f['name']} = {f['number']};")
    return out
