"""The local server stores DECIMAL as the service does, driven by the official Python SDK.

DECIMAL(4,2) text is stored rounded half-up to 2 places ("1.235" → "1.24"); a request
holding text that is not a number, or too large once rounded ("99.995"), is refused
whole (INVALID_ARGUMENT, not retried) and nothing of it is stored. Arrow Flight and
JSON streams.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import options
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.sync import ZerobusSdk

from zerobus_py.local import LocalServer

DDL = "id BIGINT NOT NULL, d DECIMAL(4,2)"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


def _stored(server: LocalServer, table: str) -> list[dict[str, object]]:
    """The rows read back, the DECIMAL(4,2) column (decimal128(4, 2) in server.table()) as its stored text."""
    t = server.table(table)
    assert t.schema.field("d").type == pa.decimal128(4, 2)
    return [{**r, "d": None if r["d"] is None else str(r["d"])} for r in t.to_pylist()]


def test_flight_decimal_text_rounded_or_refused(server: LocalServer) -> None:
    table = "main.decimal.flight"
    server.create_table(table, DDL)
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("d", pa.large_utf8())])
    stream = ZerobusSdk(server.endpoint, server.workspace_url).create_arrow_stream(
        table, schema, server.client_id, server.client_secret, ArrowStreamConfigurationOptions(recovery=False)
    )
    stream.ingest_batch(pa.record_batch({"id": [1, 2, 3], "d": ["1.235", "0.5", None]}, schema=schema))
    stream.flush()
    start = time.monotonic()
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.ingest_batch(pa.record_batch({"id": [4, 5], "d": ["1", "99.995"]}, schema=schema))
        stream.flush()
    assert "99.995 does not fit the table's DECIMAL(4,2)" in str(exc.value)
    assert time.monotonic() - start < 10
    assert _stored(server, table) == [
        {"id": 1, "d": "1.24"},
        {"id": 2, "d": "0.50"},
        {"id": 3, "d": None},
    ]


def test_json_decimal_text_rounded_or_refused(server: LocalServer) -> None:
    table = "main.decimal.json"
    server.create_table(table, DDL)
    sdk = zcore.sync.ZerobusSdk(server.endpoint, server.workspace_url)
    sdk.set_use_tls(False)
    stream = sdk.create_stream(server.client_id, server.client_secret, zcore.TableProperties(table), options())
    stream.wait_for_offset(
        stream.ingest_records_offset([json.dumps({"id": 1, "d": "-1.235"}), json.dumps({"id": 2, "d": "7"})])
    )
    with pytest.raises(zcore.ZerobusException) as exc:
        stream.wait_for_offset(stream.ingest_record_offset(json.dumps({"id": 3, "d": "abc"})))
        stream.flush()
    # Whole in the failure text (pytest cuts a long repr in the middle). When the stream has closed by the time
    # the SDK reports it ("Stream is closed: … message: \"…\""), the SDK quotes the server's message in Rust's
    # Debug form, its quotes escaped: unescaped here, so both forms read the same.
    message = str(exc.value).replace('\\"', '"')
    assert '"abc" is not a number for the table\'s DECIMAL(4,2)' in message, message
    assert _stored(server, table) == [{"id": 1, "d": "-1.24"}, {"id": 2, "d": "7.00"}]
