"""NOT NULL fields inside STRUCTs take the table's nullability on both transports.

All-nullable data (pandas, Parquet) is sent into a table whose STRUCT fields (also
an ARRAY's STRUCT elements and a MAP's STRUCT values) are NOT NULL; a null there
fails its row alone with a ConversionError naming the field's path, and the other
rows are stored.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

DDL = (
    "id BIGINT NOT NULL, addr STRUCT<zip:STRING NOT NULL, city:STRING>, "
    "items ARRAY<STRUCT<sku:STRING NOT NULL>>, m MAP<STRING,STRUCT<x:INT NOT NULL>>"
)


def _batch() -> pa.RecordBatch:
    rows = []
    for i in range(8):
        rows.append(
            {
                "id": i,
                "addr": None if i == 6 else {"zip": None if i == 1 else f"z{i}", "city": f"c{i}"},
                "items": [{"sku": "a"}, {"sku": None if i == 3 else f"s{i}"}],
                "m": [("k", {"x": None if i == 5 else i})],
            }
        )
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("addr", pa.struct([("zip", pa.string()), ("city", pa.string())])),
            ("items", pa.list_(pa.struct([("sku", pa.string())]))),
            ("m", pa.map_(pa.string(), pa.struct([("x", pa.int32())]))),
        ]
    )
    return pa.RecordBatch.from_pylist(rows, schema=schema)


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_null_in_a_nested_not_null_field_fails_its_row(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, DDL)
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(_batch())
    assert res.get_not_written_row_indices() == [1, 3, 5]
    got = {i: (type(err), err.column) for i, err in res.failed_row_errors}
    assert got == {
        1: (ConversionError, "addr.zip"),
        3: (ConversionError, "items[1].sku"),
        5: (ConversionError, "m[0].value.x"),
    }
    assert all("NOT NULL" in str(err) for _, err in res.failed_row_errors)
    stored = server.table(table_name).sort_by("id").to_pylist()
    assert [r["id"] for r in stored] == [0, 2, 4, 6, 7]
    assert stored[1]["addr"] == {"zip": "z2", "city": "c2"} and stored[3]["addr"] is None
    assert stored[2]["items"] == [{"sku": "a"}, {"sku": "s4"}]
