"""VARIANTs inside a STRUCT, ARRAY or MAP, given as JSON text, over Arrow Flight and over protobuf."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pyarrow as pa

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

DDL = (
    "id BIGINT NOT NULL, payload STRUCT<v: VARIANT, items: ARRAY<STRUCT<v: VARIANT>>>, "
    "vs ARRAY<VARIANT>, m MAP<STRING, VARIANT>"
)


def nested_batch() -> pa.RecordBatch:
    item = pa.struct([("v", pa.string())])
    payload = pa.struct([("v", pa.string()), ("items", pa.list_(item))])
    rows: list[dict[str, Any]] = [
        {
            "id": 0,
            "payload": {"v": '{"a": [1, 2.5, "é"], "b": {"c": null}}', "items": [{"v": "1"}, {"v": "[true]"}]},
            "vs": ["{}", '"s"'],
            "m": [("k", '{"z": -3}')],
        },
        {"id": 1, "payload": None, "vs": None, "m": None},
        {"id": 2, "payload": {"v": None, "items": [{"v": None}]}, "vs": [], "m": []},
        {"id": 3, "payload": {"v": "2", "items": [{"v": "3"}, {"v": "not json"}]}, "vs": ["4"], "m": []},
        {"id": 4, "payload": None, "vs": ["5", None], "m": []},
    ]
    return pa.RecordBatch.from_pylist(
        rows,
        schema=pa.schema(
            [
                pa.field("id", pa.int64(), nullable=False),
                pa.field("payload", payload),
                pa.field("vs", pa.list_(pa.string())),
                pa.field("m", pa.map_(pa.string(), pa.string())),
            ]
        ),
    )


def parsed(value: Any) -> Any:
    """A stored row with every JSON text parsed (spacing and key order do not count); other text stays text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [parsed(v) for v in value]
    if isinstance(value, tuple):  # a map entry
        return (value[0], parsed(value[1]))
    if isinstance(value, dict):
        return {k: parsed(v) for k, v in value.items()}
    return value


def test_nested_variant_round_trips_over_flight(server: LocalServer, table_name: str) -> None:
    batch = nested_batch()
    stored: dict[str, dict[int, Any]] = {}
    failed: dict[str, dict[int, str | None]] = {}
    reasons: dict[str, dict[int, str]] = {"protobuf": {}, "arrow_flight": {}}
    for transport in ("protobuf", "arrow_flight"):
        table = f"{table_name}_{transport}"
        server.create_table(table, DDL)
        with ZerobusWrapper(server.config(table, transport=transport)) as w:
            res = w.send_batch(batch)
        assert res.total_rows == 5
        failed[transport] = {}
        for row, err in res.failed_row_errors:
            assert isinstance(err, ConversionError) and err.row == row, err
            failed[transport][row] = err.column
            reasons[transport][row] = str(err)
        rows = server.table(table).to_pylist()
        stored[transport] = {r["id"]: parsed(r) for r in rows}

    # A null array element, and text that is not JSON (the protobuf path checks the text of a column the
    # catalog declares VARIANT, by Flight's rule), fail their row on both transports, with the same reason.
    assert failed["protobuf"] == failed["arrow_flight"] == {3: "payload.items[1].v", 4: "vs[1]"}
    assert "VARIANT value is not valid JSON" in reasons["protobuf"][3]
    assert reasons["protobuf"][3] == reasons["arrow_flight"][3]
    assert sorted(stored["arrow_flight"]) == sorted(stored["protobuf"]) == [0, 1, 2]
    for i, row in stored["arrow_flight"].items():
        assert row == stored["protobuf"][i], (i, row, stored["protobuf"][i])
    assert stored["arrow_flight"][0]["payload"]["v"] == {"a": [1, 2.5, "é"], "b": {"c": None}}
    assert stored["arrow_flight"][0]["payload"]["items"] == [{"v": 1}, {"v": [True]}]
    assert stored["arrow_flight"][0]["vs"] == [{}, "s"]
    assert stored["arrow_flight"][0]["m"] == [("k", {"z": -3})]


def test_flight_fails_the_rows_protobuf_fails(server: LocalServer, table_name: str) -> None:
    """Out-of-range and non-UTF-8 values fail their row only over Flight too, and the other rows are stored alike."""
    tags = pa.array([[b"a"], [b"b"], [b"\xff"], [b"d"]], pa.list_(pa.binary())).view(pa.list_(pa.string()))
    batch = pa.record_batch(
        [
            pa.array(range(4), pa.int64()),
            pa.array([1, 2**64 - 1, 3, 4], pa.uint64()),
            tags,
            pa.array([86_400_000 * 3, 0, 0, -1], pa.date64()),
        ],
        schema=pa.schema(
            [
                pa.field("id", pa.int64(), nullable=False),
                pa.field("u", pa.uint64()),
                pa.field("tags", tags.type),
                pa.field("day", pa.date64()),
            ]
        ),
    )
    got: dict[str, Any] = {}
    for transport in ("protobuf", "arrow_flight"):
        table = f"{table_name}_{transport}"
        server.create_table(table, "id BIGINT NOT NULL, u BIGINT, tags ARRAY<STRING>, day DATE")
        with ZerobusWrapper(server.config(table, transport=transport)) as w:
            res = w.send_batch(batch)
        failed = {row: err.column for row, err in res.failed_row_errors}
        got[transport] = (failed, server.table(table).sort_by("id").to_pylist())
    assert got["arrow_flight"] == got["protobuf"], got
    failed, rows = got["arrow_flight"]
    assert failed == {1: "u", 2: "tags[0]"}
    assert [r["id"] for r in rows] == [0, 3]
    # a date64 of -1 ms is the day before the epoch (day -1); the DATE column reads back as date32
    assert rows[1]["day"] == datetime.date(1969, 12, 31), rows[1]
