"""Columns and STRUCT fields are matched to the table's by name on both transports.

A pandas DataFrame whose columns come in another order than the table's, with a
column of Python dicts whose keys come in another order than the table STRUCT's
(also as a list of dicts), and a column spelled ``ID`` for the
table's ``id``, is stored as the table has it, every row durable.
"""

from __future__ import annotations

import pandas as pd
import pytest

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

DDL = (
    "id BIGINT NOT NULL, name STRING, addr STRUCT<zip:STRING, city:STRING, n:BIGINT>, "
    "items ARRAY<STRUCT<sku:STRING, qty:BIGINT>>"
)


def _frame() -> pd.DataFrame:
    # Columns reversed and "ID" for id; every dict's keys in another order than
    # the table STRUCT's fields.
    return pd.DataFrame(
        {
            "items": [[{"qty": i, "sku": f"s{i}"}, {"qty": None, "sku": "t"}] for i in range(5)],
            "addr": [None if i == 2 else {"n": i * 10, "city": f"c{i}", "zip": f"z{i}"} for i in range(5)],
            "name": [f"n{i}" for i in range(5)],
            "ID": list(range(5)),
        }
    )


def _want(i: int) -> dict[str, object]:
    return {
        "id": i,
        "name": f"n{i}",
        "addr": None if i == 2 else {"zip": f"z{i}", "city": f"c{i}", "n": i * 10},
        "items": [{"sku": f"s{i}", "qty": i}, {"sku": "t", "qty": None}],
    }


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_columns_and_dict_keys_in_another_order_are_stored_as_the_table_has_them(
    server: LocalServer, table_name: str, transport: str
) -> None:
    server.create_table(table_name, DDL)
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(_frame())
    assert res.successful_count == 5 and res.failed_count == 0, res.failed_row_errors
    assert res.get_successful_row_indices() == [0, 1, 2, 3, 4]
    stored = server.table(table_name)
    assert stored.column_names == ["id", "name", "addr", "items"]
    rows = stored.sort_by("id").to_pylist()
    assert rows == [_want(i) for i in range(5)]
