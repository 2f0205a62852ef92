"""Issue 17 "must show", driven with the official Python SDK (unchanged, TLS off) against the local server:

- a schema mismatch surfaces as the SDK's *typed* schema error: its own "Arrow schema does not match the target
  table" text, a NonRetriableException, and the stream refused once (not retried), on both stream kinds;
- an oversize batch fails non-retryably (NonRetriableException, no new stream).

Recovery on token_latency, a mid-stream INTERNAL and partial_ack is in test_official_sdk_flight.py's fault list.

tests_py/test_official_sdk_flight.py checks these with `ZerobusException` (the base class, which the SDK also raises
for retryable failures) and wall-clock bounds; here the class and the server's counters decide.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, LocalServer, make_order, options, order_descriptor, run_local
from test_official_sdk_flight import DDL, SCHEMA, arrow_options, ids, rows_batch, sdk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory, "-max-message-bytes", "65536") as s:
        yield s


def test_flight_schema_mismatch_is_the_sdks_typed_non_retriable_error(server: LocalServer) -> None:
    table = "main.s23sdk.flight_strict"
    server.create_table(table, DDL)
    wrong = pa.schema([pa.field("id", pa.int32(), nullable=False), ("name", pa.large_utf8())])
    before = server.stats()
    with pytest.raises(zcore.NonRetriableException) as exc:
        sdk(server).create_arrow_stream(
            table, wrong, server.client_id, server.client_secret, arrow_options(recovery=True, recovery_retries=3)
        )
    msg = str(exc.value)
    # the SDK's typed schema error (it reads the ErrorInfo's error_code), naming the columns
    assert msg.startswith("Arrow schema does not match the target table: "), msg
    assert "FIELD_COUNT_MISMATCH" in msg and 'field "id" has Arrow type int32' in msg, msg
    after = server.stats()
    assert after["streams_rejected"] - before["streams_rejected"] == 1  # refused once: not retried
    assert after["streams_created"] == before["streams_created"]
    assert server.rows(table) == []


def test_proto_schema_mismatch_is_non_retriable_and_not_retried(server: LocalServer) -> None:
    table = "main.s23sdk.proto_strict"
    first = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(),
    )
    first.ingest_record_offset(make_order(1).SerializeToString())
    first.flush()
    first.close()
    before = server.stats()
    other = order_descriptor(package="s23sdk.v2", extra_field=True)
    with pytest.raises(zcore.NonRetriableException) as exc:
        server.sdk().create_stream(
            table_properties=zcore.TableProperties(table, other),
            client_id=server.client_id,
            client_secret=server.client_secret,
            options=options(recovery=True, recovery_retries=3, recovery_backoff_ms=50),
        )
    assert "FIELD_NOT_IN_TABLE" in str(exc.value), str(exc.value)
    after = server.stats()
    assert after["streams_rejected"] - before["streams_rejected"] == 1
    assert len(server.rows(table)) == 1


def test_oversize_flight_batch_is_non_retriable(server: LocalServer) -> None:
    table = "main.s23sdk.oversize_arrow"
    server.create_table(table, DDL)
    stream = sdk(server).create_arrow_stream(
        table,
        SCHEMA,
        server.client_id,
        server.client_secret,
        arrow_options(recovery=True, recovery_retries=5, recovery_backoff_ms=50),
    )
    stream.ingest_batch(rows_batch(0, 3))
    stream.flush()
    before = server.stats()
    with pytest.raises(zcore.NonRetriableException) as exc:
        stream.ingest_batch(rows_batch(3, 5000))  # far over the 64 KiB cap
        stream.flush()
    assert "Batch size exceeds maximum allowed size" in str(exc.value)
    after = server.stats()
    assert after["streams_created"] == before["streams_created"]  # no reconnect
    assert ids(server, table) == [0, 1, 2]
