"""DECIMAL given as Decimals or strings, and STRUCT fields that are always None, from pandas.

A pandas object column of ``Decimal`` (pyarrow makes a decimal128 of it) or of ``str`` (a
string column) sent into a DECIMAL(4,2) column is checked on both transports by one rule:
text that is not a number, or a value that needs more than 2 integer digits once rounded
half-up to 2 places, fails its row alone naming the column and the value; the table (the
local server, as the service) stores the others rounded to 2 places. A column of dicts
whose ``x`` is always None (pyarrow: ``struct<x: null>``) goes into a STRUCT as all nulls
of the table's type.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_decimal_and_string_objects_into_decimal(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, d DECIMAL(4,2), t DECIMAL(4,2)")
    df = pd.DataFrame(
        {
            "id": [0, 1, 2, 3, 4, 5],
            "d": pd.Series(
                [Decimal("1.235"), Decimal("99.995"), None, Decimal("99.99"), Decimal("-1.235"), Decimal("0.005")],
                dtype=object,
            ),
            "t": pd.Series(["1.235", "2", "abc", None, "1e1", "99.999"], dtype=object),
        }
    )
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.get_not_written_row_indices() == [1, 2, 5]
    errs = dict(res.failed_row_errors)
    assert all(isinstance(e, ConversionError) for e in errs.values())
    assert errs[1].column == "d" and "99.995 does not fit the table's DECIMAL(4,2)" in str(errs[1])
    assert errs[2].column == "t" and '"abc" is not a number for the table\'s DECIMAL(4,2)' in str(errs[2])
    assert errs[5].column == "t" and "99.999 does not fit the table's DECIMAL(4,2)" in str(errs[5])
    landed = server.table(table_name).sort_by("id")
    # a table created with DECIMAL columns reads back decimal128, holding the stored rounded value
    assert landed.schema.field("d").type == landed.schema.field("t").type == pa.decimal128(4, 2)
    stored = [{k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in landed.to_pylist()]
    assert stored == [
        {"id": 0, "d": "1.24", "t": "1.24"},
        {"id": 3, "d": "99.99", "t": None},
        {"id": 4, "d": "-1.24", "t": "10.00"},
    ]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
@pytest.mark.parametrize("not_null", [False, True])
def test_dicts_with_an_always_none_key_into_a_struct(
    server: LocalServer, table_name: str, transport: str, not_null: bool
) -> None:
    x = "DECIMAL(10,2) NOT NULL" if not_null else "DECIMAL(10,2)"
    server.create_table(table_name, f"id BIGINT NOT NULL, s STRUCT<x: {x}, y: STRING>")
    df = pd.DataFrame({"id": [0, 1, 2], "s": [{"x": None, "y": "a"}, None, {"x": None, "y": "b"}]})
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    stored = server.table(table_name).sort_by("id").to_pylist()
    if not_null:
        assert res.get_not_written_row_indices() == [0, 2]
        assert all(e.column == "s.x" and "NOT NULL" in str(e) for _, e in res.failed_row_errors)
        assert stored == [{"id": 1, "s": None}]
    else:
        assert res.get_not_written_row_indices() == []
        assert stored == [
            {"id": 0, "s": {"x": None, "y": "a"}},
            {"id": 1, "s": None},
            {"id": 2, "s": {"x": None, "y": "b"}},
        ]
