"""s22 review realinputs: inputs real tools produce. A pandas column of uuid.UUID (pyarrow infers the arrow.uuid
extension) goes into a STRING column as str(u) and into BINARY as u.bytes, on both transports (M1); the messages of
refused columns name extension types, say what to do about an extra column, and give intervals the same reason on
both transports (L1, L2, L4)."""

from __future__ import annotations

import uuid

import pandas as pd
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

TRANSPORTS = ["protobuf", "arrow_flight"]


def _send(server: LocalServer, table: str, transport: str, data: object) -> None:
    with ZerobusWrapper(server.config(table, transport=transport)) as w:
        result = w.send_batch(data)  # type: ignore[arg-type]
    assert result.failed_count == 0, result


def _refusal(server: LocalServer, table: str, transport: str, data: object) -> str:
    with ZerobusWrapper(server.config(table, transport=transport)) as w, pytest.raises(ConversionError) as info:
        w.send_batch(data)  # type: ignore[arg-type]
    return str(info.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pandas_uuid_column_into_string_is_its_text(server: LocalServer, table_name: str, transport: str) -> None:
    """M1: was refused ("fixed_size_binary[16] ... cast the batch's column to large_utf8", which pyarrow cannot)."""
    us = [uuid.uuid4() for _ in range(5)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    df = pd.DataFrame({"id": range(len(us) + 1), "u": [*us, None], "b": [*us, None]})
    assert pa.Table.from_pandas(df).schema.field("u").type == pa.uuid()  # what pyarrow infers
    server.create_table(table_name, "id BIGINT NOT NULL, u STRING, b BINARY")
    _send(server, table_name, transport, df)
    stored = server.table(table_name).sort_by("id")
    assert stored.column("id").to_pylist() == list(range(len(us) + 1))
    assert stored.column("u").to_pylist() == [*(str(u) for u in us), None]
    assert stored.column("b").to_pylist() == [*(u.bytes for u in us), None]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_uuid_in_struct_and_list(server: LocalServer, table_name: str, transport: str) -> None:
    """M1: a pa.uuid() STRUCT field and ARRAY element into STRING parts, both transports alike. (MAP keys and values,
    dictionary and run-end encoded values: test_s24_uuidmap.py.)"""
    a, b = uuid.uuid4(), uuid.uuid4()

    def uuids(*us: uuid.UUID) -> pa.ExtensionArray:
        return pa.ExtensionArray.from_storage(pa.uuid(), pa.array([u.bytes for u in us], pa.binary(16)))

    batch = pa.table(
        {
            "id": pa.array([0, 1], pa.int64()),
            "s": pa.StructArray.from_arrays([uuids(a, b)], fields=[pa.field("u", pa.uuid())]),
            "l": pa.ListArray.from_arrays(pa.array([0, 2, 2], pa.int32()), uuids(a, b)),
        }
    )
    assert batch.schema.field("l").type.value_type == pa.uuid()
    server.create_table(table_name, "id BIGINT NOT NULL, s STRUCT<u: STRING>, l ARRAY<STRING>")
    _send(server, table_name, transport, batch)
    rows = server.table(table_name).sort_by("id").to_pylist()
    assert [r["s"] for r in rows] == [{"u": str(a)}, {"u": str(b)}]
    assert [r["l"] for r in rows] == [[str(a), str(b)], []]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_uuid_into_bigint_names_the_extension(server: LocalServer, table_name: str, transport: str) -> None:
    """L4: the message named the storage type (fixed_size_binary[16]) and advised a cast to int64."""
    server.create_table(table_name, "id BIGINT NOT NULL, u BIGINT")
    msg = _refusal(server, table_name, transport, pa.table({"id": [1], "u": pa.array([uuid.uuid4().bytes], pa.uuid())}))
    assert 'column "u" is arrow.uuid (fixed_size_binary[16]) in the batch and BIGINT in the table' in msg, msg
    assert "a UUID column goes into a STRING column" in msg and "cast the batch's column" not in msg, msg


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bool8_into_boolean_names_the_extension(server: LocalServer, table_name: str, transport: str) -> None:
    """L4: arrow.bool8 was named int8; the advice (cast to bool) is one pyarrow can follow."""
    server.create_table(table_name, "id BIGINT NOT NULL, v BOOLEAN")
    v = pa.ExtensionArray.from_storage(pa.bool8(), pa.array([1, 0], pa.int8()))
    msg = _refusal(server, table_name, transport, pa.table({"id": [0, 1], "v": v}))
    assert 'column "v" is arrow.bool8 (int8) in the batch and BOOLEAN in the table' in msg, msg
    assert "cast the batch's column to bool" in msg, msg
    fixed = pa.table({"id": [0, 1], "v": v.cast(pa.bool_())})  # the advice works
    _send(server, table_name, transport, fixed)
    assert server.table(table_name).sort_by("id").column("v").to_pylist() == [True, False]


def test_interval_reason_is_the_same_on_both_transports(server: LocalServer, table_name: str) -> None:
    """L1: over arrow_flight the message advised a cast to large_utf8/int64 that pyarrow cannot do."""
    batch = pa.table({"id": [0], "v": pa.array([pa.MonthDayNano([1, 2, 3])], pa.month_day_nano_interval())})
    reason = "interval types have no Zerobus equivalent; convert to a duration (int64 microseconds) or a string first"
    for col in ["STRING", "BIGINT"]:
        for transport in TRANSPORTS:
            t = f"{table_name}_{col}_{transport}".lower()
            server.create_table(t, f"id BIGINT NOT NULL, v {col}")
            msg = _refusal(server, t, transport, batch)
            assert reason in msg and "cast the batch's column" not in msg, (col, transport, msg)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_extra_column_says_what_to_do(server: LocalServer, table_name: str, transport: str) -> None:
    """L2: the extra column was named with no next step."""
    server.create_table(table_name, "id BIGINT NOT NULL")
    msg = _refusal(server, table_name, transport, pa.table({"id": [1], "extra": [2]}))
    assert (
        'column "extra" (int64 in the batch) is not in the table: drop it from the batch '
        '(pandas: df.drop(columns=["extra"]); polars: df.drop("extra"); pyarrow: table.drop_columns(["extra"])), '
        "or add the column to the table"
    ) in msg, msg
