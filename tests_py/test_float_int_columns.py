"""pandas' integer column holding a missing value is float64 ([1, None, 3] is [1.0, NaN, 3.0]; pyarrow makes the NaN
null): into a table's INT and BIGINT columns its whole numbers are stored as integers and the missing values as
nulls; a value with a fraction fails its row alone. An int64 column into a DOUBLE column: stored exactly, an integer
a DOUBLE would round (over 2^53) failing its row alone. Both transports, rows read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_pandas_int_column_with_none_into_int_and_bigint(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, n INT, b BIGINT, d DOUBLE")
    df = pd.DataFrame(
        {
            "id": [0, 1, 2, 3, 4],
            "n": [-(2**31), None, 2**31 - 1, 7, 2**31],  # row 4 is over the INT maximum
            "b": [2**53, 5, None, 1.5, -(2**62)],  # row 3 is not a whole number
            "d": [2**53, -(2**53), 2**53 + 1, 1, 2**62],  # row 2: a DOUBLE would round it
        }
    )
    assert list(df.dtypes) == [np.dtype("int64"), np.dtype("float64"), np.dtype("float64"), np.dtype("int64")]
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.total_rows == 5 and res.successful_rows == [0, 1]
    assert res.get_not_written_row_indices() == [2, 3, 4] and res.unknown_count == 0
    errors = dict(res.failed_row_errors)
    assert all(isinstance(errors[i], ConversionError) for i in (2, 3, 4))
    assert 'column "n": float64 value 2147483648 is over the INT maximum 2147483647' in str(errors[4])
    assert 'column "b": float64 value 1.5 is not a whole number' in str(errors[3])
    assert "round or filter the row" in str(errors[3])
    assert 'column "d": int64 value 9007199254740993 is not exact as a DOUBLE' in str(errors[2])
    assert "row 2" in str(errors[2]) and "row 4" in str(errors[4])

    got = server.table(table_name).sort_by("id").to_pydict()
    assert got["id"] == [0, 1]
    assert got["n"] == [-(2**31), None]  # the missing value a null, the whole number an INT
    assert got["b"] == [2**53, 5]
    assert got["d"] == [float(2**53), float(-(2**53))]
    bad = res.extract_not_written_batch(df)
    assert list(bad["id"]) == [2, 3, 4]


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_pandas_int_with_none_whole_frame_stored(server: LocalServer, table_name: str, transport: str) -> None:
    """The everyday case: every value a whole number or missing; all rows stored, values compared."""
    server.create_table(table_name, "id INT NOT NULL, qty INT, total BIGINT, score DOUBLE")
    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "qty": [10, None, -3],
            "total": [None, 2**40, 0],
            "score": [3, 4, 5],
        }
    )
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.successful_rows == [0, 1, 2] and res.failed_row_errors == []
    got = server.table(table_name).sort_by("id").to_pydict()
    assert got == {"id": [1, 2, 3], "qty": [10, None, -3], "total": [None, 2**40, 0], "score": [3.0, 4.0, 5.0]}


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_pandas_nullable_int64_keeps_large_integers_exact(server: LocalServer, table_name: str, transport: str) -> None:
    """What the README advises for integers over 2^53 with missing values: pandas' nullable Int64 dtype arrives as
    int64 with nulls, so 2^53+1 is stored as sent (as float64 pandas would have made it 2^53)."""
    server.create_table(table_name, "id INT NOT NULL, n BIGINT")
    df = pd.DataFrame({"id": [1, 2], "n": pd.array([2**53 + 1, None], dtype="Int64")})
    assert float(2**53 + 1) == 2**53  # what the float64 column would have held
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.successful_rows == [0, 1] and res.failed_row_errors == []
    assert server.table(table_name).sort_by("id").to_pydict() == {"id": [1, 2], "n": [2**53 + 1, None]}
