"""pandas' int64 and float64 columns into a table's DECIMAL columns (ids into DECIMAL(18,0), prices into
DECIMAL(10,2)): an integer is stored as its value, a float by its shortest decimal text rounded half-up to the
column's scale (as Spark casts a double: 0.1 is 0.10, 1.005 is 1.01, 2.675 is 2.68); a value too large, NaN or
±Inf fails its row alone. Both transports, rows read back."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_pandas_int64_and_float64_into_decimal(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, n DECIMAL(5,2), price DECIMAL(10,2), big DECIMAL(38,0)")
    df = pd.DataFrame(
        {
            "id": [0, 1, 2, 3, 4, 5],
            "n": [123, 12345, -999, 0, 7, 1],  # row 1: more than 3 digits before the point
            "price": [0.1, 1.005, 2.675, -0.0, math.nan, 1e300],  # row 4 (NaN) is null; row 5 too large
            "big": [1e20, 5.0, 1.5, 2.5, -1e37, 0.0],
        }
    )
    assert list(df.dtypes) == [np.dtype("int64")] * 2 + [np.dtype("float64")] * 2
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.get_not_written_row_indices() == [1, 5] and res.unknown_count == 0
    errs = dict(res.failed_row_errors)
    assert all(isinstance(e, ConversionError) for e in errs.values())
    assert errs[1].column == "n" and "12345 does not fit the table's DECIMAL(5,2)" in str(errs[1])
    assert errs[5].column == "price" and "1e+300 does not fit the table's DECIMAL(10,2)" in str(errs[5])
    landed = server.table(table_name).sort_by("id")
    assert [f.type for f in landed.schema][1:] == [pa.decimal128(5, 2), pa.decimal128(10, 2), pa.decimal128(38, 0)]
    stored = [{k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in landed.to_pylist()]
    assert stored == [
        {"id": 0, "n": "123.00", "price": "0.10", "big": "100000000000000000000"},
        {"id": 2, "n": "-999.00", "price": "2.68", "big": "2"},
        {"id": 3, "n": "0.00", "price": "0.00", "big": "3"},
        {"id": 4, "n": "7.00", "price": None, "big": "-10000000000000000000000000000000000000"},
    ]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_float64_infinity_into_decimal_fails_its_row(server: LocalServer, table_name: str, transport: str) -> None:
    """pyarrow keeps ±Inf (only NaN becomes null): the row fails alone, saying what to do."""
    server.create_table(table_name, "id BIGINT NOT NULL, price DECIMAL(10,2)")
    df = pd.DataFrame({"id": [0, 1], "price": [math.inf, 19.999]})
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.get_not_written_row_indices() == [0]
    (err,) = (e for _, e in res.failed_row_errors)
    assert err.column == "price" and "float64 value +Inf is not a number a DECIMAL can hold" in str(err)
    assert server.table(table_name).to_pylist() == [{"id": 1, "price": Decimal("20.00")}]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_bool_into_decimal_names_the_decimal(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, d DECIMAL(10,2)")
    df = pd.DataFrame({"id": [0, 1], "d": [True, False]})
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w, pytest.raises(ConversionError) as e:
        w.send_batch(df)
    msg = str(e.value)
    assert e.value.column == "d" and "the table's column is DECIMAL(10,2)" in msg and "large_utf8" not in msg
    assert server.table(table_name).num_rows == 0
