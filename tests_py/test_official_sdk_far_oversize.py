"""Requests far over a lowered server cap, driven with the official Python
SDK: gRPC's own message limit of the local server stays far above the cap
(at least 64 MiB), so such a request reaches the cap check and gets
INVALID_ARGUMENT "Batch size exceeds maximum allowed size" (not retried),
never gRPC's RESOURCE_EXHAUSTED, which the SDK retries until it times out.

Uses the ``zerobus local`` process helpers of test_official_sdk_conformance.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, LocalServer, make_order, options, run_local
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.sync import ZerobusSdk

MiB = 1 << 20


@pytest.fixture(scope="module")
def server_4mib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    # The 4 MiB cap of older servers (protocol notes §6).
    with run_local(tmp_path_factory, "-max-message-bytes", str(4 * MiB)) as s:
        yield s


@pytest.fixture(scope="module")
def server_64kib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory, "-max-message-bytes", "65536") as s:
        yield s


def test_proto_batch_of_9_5_mib_against_4_mib_cap(server_4mib: LocalServer) -> None:
    """A 9.5 MiB batch (under the SDK's own 10 MiB - 64 KiB limit, over
    2 x 4 MiB + 1 MiB): INVALID_ARGUMENT naming the limit, at once, on the
    one stream."""
    server = server_4mib
    table = "main.far.proto"
    before = server.stats()
    sdk = zcore.sync.ZerobusSdk(server.endpoint, server.workspace_url)
    sdk.set_use_tls(False)
    stream = sdk.create_stream(
        server.client_id,
        server.client_secret,
        zcore.TableProperties(table, ORDER),
        options(recovery=True, recovery_backoff_ms=200, recovery_retries=5, flush_timeout_ms=10000),
    )
    records = []
    for i in range(int(9.5 * 1024)):
        o = make_order(i + 1)
        o.name = "x" * 1000
        records.append(o.SerializeToString())
    assert 9 * MiB + MiB // 4 < sum(map(len, records)) < 10 * MiB - 64 * 1024
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.wait_for_offset(stream.ingest_records_offset(records))
        stream.flush()
    elapsed = time.monotonic() - start
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    assert f"the limit is {4 * MiB}" in str(exc.value)
    assert elapsed < 5, elapsed
    assert server.stats()["streams_created"] - before["streams_created"] == 1  # not retried
    assert server.rows(table) == []


def test_flight_batch_over_2x_cap_plus_1_mib(server_64kib: LocalServer) -> None:
    """An Arrow batch of about 1.2 MiB against a 64 KiB cap (over
    2 x cap + 1 MiB): INVALID_ARGUMENT, at once, on the one stream."""
    server = server_64kib
    table = "main.far.flight"
    server.create_table(table, "id BIGINT NOT NULL, name STRING")
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.large_utf8())])
    before = server.stats()
    stream = ZerobusSdk(server.endpoint, server.workspace_url).create_arrow_stream(
        table,
        schema,
        server.client_id,
        server.client_secret,
        ArrowStreamConfigurationOptions(
            recovery=True, recovery_backoff_ms=200, recovery_retries=5, flush_timeout_ms=10000
        ),
    )
    rows = (2 * 65536 + MiB + 65536) // 1000
    batch = pa.record_batch({"id": list(range(rows)), "name": ["x" * 1000] * rows}, schema=schema)
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.ingest_batch(batch)
        stream.flush()
    elapsed = time.monotonic() - start
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    assert "the limit is 65536" in str(exc.value)
    assert elapsed < 5, elapsed
    assert server.stats()["streams_created"] - before["streams_created"] == 1  # not retried
    assert server.rows(table) == []
