"""s24 uuidmap: pa.uuid() MAP keys and values, dictionary values (also in a STRUCT field) and run-end encoded
values, alone or inside a list of maps, go in from Python as they do from Go: their text into STRING, their 16
bytes into BINARY, on both transports. Before, arrow-go's C import lost their arrow.uuid type (Go saw
fixed_size_binary[16]) and both transports refused them."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

TRANSPORTS = ["protobuf", "arrow_flight"]

A, B, C, D = (uuid.UUID(int=(i + 1) * 0x0102030405060708090A0B0C0D0E0F10 % 2**128) for i in range(4))
# Bytes that are valid UTF-8 too: written raw into a STRING (the old cast), they would not fail.
E = uuid.UUID(bytes=b"0123456789abcdef")


def _uuids(*us: uuid.UUID | None) -> pa.ExtensionArray:
    storage = pa.array([None if u is None else u.bytes for u in us], pa.binary(16))
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def _send(server: LocalServer, table: str, transport: str, data: pa.Table) -> None:
    with ZerobusWrapper(server.config(table, transport=transport)) as w:
        result = w.send_batch(data)
    assert result.failed_count == 0, result
    assert result.successful_count == data.num_rows, result


def _refusal(server: LocalServer, table: str, transport: str, data: pa.Table) -> str:
    with ZerobusWrapper(server.config(table, transport=transport)) as w, pytest.raises(ConversionError) as info:
        w.send_batch(data)
    return str(info.value)


def _rows(server: LocalServer, table: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = server.table(table).sort_by("id").to_pylist()
    return rows


def _map(keys: pa.Array, items: pa.Array, offsets: list[int]) -> pa.MapArray:
    return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), keys, items)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_map_of_uuid_keys_and_values(server: LocalServer, table_name: str, transport: str) -> None:
    """map<uuid, uuid> into MAP<STRING, STRING> and MAP<STRING, BINARY>: was "map keys must be integers, booleans
    or strings" (protobuf) and "key: no safe cast" (arrow_flight)."""
    m = _map(_uuids(A, B, E), _uuids(C, A, D), [0, 2, 2, 3])
    assert m.type.key_type == pa.uuid() and m.type.item_type == pa.uuid()
    batch = pa.table({"id": pa.array([0, 1, 2], pa.int64()), "t": m, "b": m})
    server.create_table(table_name, "id BIGINT NOT NULL, t MAP<STRING, STRING>, b MAP<STRING, BINARY>")
    _send(server, table_name, transport, batch)
    rows = _rows(server, table_name)
    assert [r["id"] for r in rows] == [0, 1, 2]
    assert [r["t"] for r in rows] == [[(str(A), str(C)), (str(B), str(A))], [], [(str(E), str(D))]]
    assert [r["b"] for r in rows] == [[(str(A), C.bytes), (str(B), A.bytes)], [], [(str(E), D.bytes)]]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_map_of_string_to_uuid(server: LocalServer, table_name: str, transport: str) -> None:
    """map<string, uuid>: text into a STRING value, bytes into BINARY."""
    m = _map(pa.array(["a", "b", "c"]), _uuids(A, B, E), [0, 2, 3, 3])
    batch = pa.table({"id": pa.array([0, 1, 2], pa.int64()), "t": m, "b": m})
    server.create_table(table_name, "id BIGINT NOT NULL, t MAP<STRING, STRING>, b MAP<STRING, BINARY>")
    _send(server, table_name, transport, batch)
    rows = _rows(server, table_name)
    assert [r["t"] for r in rows] == [[("a", str(A)), ("b", str(B))], [("c", str(E))], []]
    assert [r["b"] for r in rows] == [[("a", A.bytes), ("b", B.bytes)], [("c", E.bytes)], []]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_dictionary_of_uuids(server: LocalServer, table_name: str, transport: str) -> None:
    """dictionary<uuid> (what pandas' categorical of UUIDs or pc.dictionary_encode gives): into STRING it was
    refused with advice to decode the dictionary first; now its text goes in, and its bytes into BINARY. Also a
    dictionary as a STRUCT field, and a run-end encoded column of UUIDs."""
    d = pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 2, 1], pa.int8()), _uuids(A, B, E))
    assert d.type.value_type == pa.uuid()
    s = pa.StructArray.from_arrays([d], fields=[pa.field("u", d.type)])
    r = pa.RunEndEncodedArray.from_arrays(pa.array([2, 3, 5], pa.int32()), _uuids(A, None, C))
    assert r.type.value_type == pa.uuid()
    batch = pa.table({"id": pa.array(range(5), pa.int64()), "t": d, "b": d, "s": s, "r": r})
    server.create_table(table_name, "id BIGINT NOT NULL, t STRING, b BINARY, s STRUCT<u: STRING>, r STRING")
    _send(server, table_name, transport, batch)
    rows = _rows(server, table_name)
    text = [str(B), str(A), None, str(E), str(B)]
    assert [r["t"] for r in rows] == text
    assert [r["b"] for r in rows] == [B.bytes, A.bytes, None, E.bytes, B.bytes]
    assert [r["s"] for r in rows] == [{"u": t} for t in text]
    assert [r["r"] for r in rows] == [str(A), str(A), None, str(C), str(C)]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_list_of_maps_of_uuids(server: LocalServer, table_name: str, transport: str) -> None:
    """MAPs of UUIDs nested in an ARRAY (of STRUCTs: protobuf has no list of maps): list<struct<v: map<string,
    uuid>, k: map<uuid, string>>> into ARRAY<STRUCT<v: MAP<STRING, STRING>, k: MAP<STRING, STRING>>>."""
    vals = _map(pa.array(["x", "y", "z"]), _uuids(A, B, E), [0, 1, 3, 3])
    keys = _map(_uuids(C, D, E), pa.array(["p", "q", "r"]), [0, 2, 2, 3])
    s = pa.StructArray.from_arrays([vals, keys], names=["v", "k"])
    batch = pa.table({"id": pa.array([0, 1, 2], pa.int64()), "l": pa.ListArray.from_arrays([0, 2, 2, 3], s)})
    assert batch.schema.field("l").type.value_type.field("k").type.key_type == pa.uuid()
    server.create_table(
        table_name, "id BIGINT NOT NULL, l ARRAY<STRUCT<v: MAP<STRING, STRING>, k: MAP<STRING, STRING>>>"
    )
    _send(server, table_name, transport, batch)
    rows = _rows(server, table_name)
    assert [r["l"] for r in rows] == [
        [{"v": [("x", str(A))], "k": [(str(C), "p"), (str(D), "q")]}, {"v": [("y", str(B)), ("z", str(E))], "k": []}],
        [],
        [{"v": [], "k": [(str(E), "r")]}],
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_uuids_where_they_cannot_go_are_named(server: LocalServer, table_name: str, transport: str) -> None:
    """A dictionary of UUIDs or a MAP's UUID values into BIGINT: the message names arrow.uuid (it said
    fixed_size_binary[16], and for the dictionary "cast the batch's column") and gives the UUID advice."""
    d = pa.DictionaryArray.from_arrays(pa.array([0], pa.int8()), _uuids(A))
    m = _map(pa.array(["a"]), _uuids(A), [0, 1])
    server.create_table(table_name, "id BIGINT NOT NULL, d BIGINT, m MAP<STRING, BIGINT>")
    msg = _refusal(server, table_name, transport, pa.table({"id": [0], "d": d, "m": m}))
    assert 'column "d" is dictionary<values=arrow.uuid (fixed_size_binary[16]), indices=int8' in msg, msg
    assert 'column "m" is map<utf8, arrow.uuid (fixed_size_binary[16]), items_nullable> in the batch' in msg, msg
    assert "value: a UUID column goes into a STRING column" in msg, msg
    assert msg.count("a UUID column goes into a STRING column") == 2, msg
    assert "cast the batch's column" not in msg, msg


def test_uuid_map_key_into_bigint_is_named(server: LocalServer, table_name: str) -> None:
    """Over arrow_flight a UUID key into a BIGINT key gets the UUID advice. (Over protobuf convert refuses it first,
    "protobuf map keys must be integers, booleans or strings", naming fixed_size_binary[16], as from Go.)"""
    server.create_table(table_name, "id BIGINT NOT NULL, m MAP<BIGINT, STRING>")
    m = _map(_uuids(A), pa.array(["a"]), [0, 1])
    msg = _refusal(server, table_name, "arrow_flight", pa.table({"id": [0], "m": m}))
    assert 'column "m" is map<arrow.uuid (fixed_size_binary[16]), utf8, items_nullable> in the batch' in msg, msg
    assert "key: a UUID column goes into a STRING column" in msg, msg
