"""Streams end by themselves after the server's stream lifetime (the service:
about 15 minutes) with a CloseStreamSignal; the official SDK rotates to a new
stream and nothing is lost. Here ``zerobus local -stream-lifetime 800ms``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
import zerobus._zerobus_core as zcore
from test_official_sdk_conformance import ORDER, LocalServer, decode_rows, make_order, options, run_local
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.sync import ZerobusSdk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory, "-stream-lifetime", "800ms") as s:
        yield s


def test_proto_stream_rotates_at_end_of_lifetime(server: LocalServer) -> None:
    table = "main.lifetime.proto"
    before = server.stats()["close_signals"]
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(recovery=True, recovery_backoff_ms=50, recovery_retries=5, recovery_timeout_ms=5000),
    )
    sent = [make_order(i) for i in range(1, 21)]
    for o in sent:
        stream.ingest_record_offset(o.SerializeToString())
        time.sleep(0.1)  # 2 s: past two lifetimes
    stream.flush()
    stream.close()
    rows = server.rows(table)
    assert {o.id for o in decode_rows(rows)} == {o.id for o in sent}
    assert len({r["stream_id"] for r in rows}) >= 2
    assert server.stats()["close_signals"] - before >= 2


def wait_between_rotations(server: LocalServer, created0: int, signals0: int) -> None:
    """Wait until the newest stream (counted from created0 and signals0) was
    seen being opened by a rotation 200 ms ago and has had no CloseStreamSignal
    since: the client has taken it over, and about 400 ms are left before its
    signal (at 600 ms of its lifetime)."""
    deadline = time.monotonic() + 10
    rotating = False  # the last poll saw a signalled stream with no successor yet
    fresh: tuple[tuple[int, int], float] | None = None  # (counts, when) of a stream seen being opened
    while True:
        st = server.stats()
        now = time.monotonic()
        counts = (st["streams_created"] - created0, st["close_signals"] - signals0)
        if counts[0] == counts[1] + 1:
            if rotating:
                fresh = (counts, now)
            elif fresh is not None and fresh[0] == counts and now - fresh[1] >= 0.2:
                return
        else:
            fresh = None
        rotating = counts[0] == counts[1]
        assert now < deadline, f"{counts[0]} streams opened and {counts[1]} close signals sent after 10 s"
        time.sleep(0.005)


def test_flight_stream_rotates_at_end_of_lifetime(server: LocalServer) -> None:
    table = "main.lifetime.flight"
    server.create_table(table, "id BIGINT NOT NULL")
    st = server.stats()
    created0, signals0 = st["streams_created"], st["close_signals"]
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    sdk = ZerobusSdk(server.endpoint, server.workspace_url)
    stream = sdk.create_arrow_stream(
        table,
        schema,
        server.client_id,
        server.client_secret,
        ArrowStreamConfigurationOptions(recovery=True, recovery_backoff_ms=50, recovery_timeout_ms=5000),
    )
    for i in range(20):
        stream.ingest_batch(pa.record_batch({"id": [2 * i, 2 * i + 1]}, schema=schema))
        time.sleep(0.1)
    stream.flush()  # every record is acknowledged
    # Close between rotations, as the test means to. The official Arrow
    # client's close() fails with the rotation's cause when it comes while the
    # client is still taking over the next stream (its own race, after a
    # successful flush; 4 times in 40 under load without the wait). Only that
    # error is accepted, should a stalled machine still hit it; the rows below
    # prove nothing was lost.
    wait_between_rotations(server, created0, signals0)
    try:
        stream.close()
    except zcore.ZerobusException as e:
        assert "Server requested graceful stream rotation" in str(e), e
    rows = server.rows(table)
    assert sorted(int(r["record"]["id"]) for r in rows) == list(range(40))
    assert len({r["stream_id"] for r in rows}) >= 2
