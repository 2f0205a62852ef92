"""A plain pandas DataFrame (int64 and float64, its default dtypes) into a table of INT,
SMALLINT and FLOAT columns: the rows are stored, and a value the table's type cannot hold
fails its row alone, "not written", on both transports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_pandas_default_dtypes_into_narrower_columns(server: LocalServer, table_name: str, transport: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, n INT, s SMALLINT, f FLOAT")
    df = pd.DataFrame(
        {
            "id": [0, 1, 2, 3, 4],
            "n": [-(2**31), 2**31 - 1, 7, 2**31, 0],  # row 3 is over the INT maximum
            "s": [-32768, 32767, 1, 2, 3],
            "f": [0.1, -3.4028234663852886e38, 1e39, 2.5, float("nan")],  # row 2 is beyond FLOAT's range
        }
    )
    assert list(df.dtypes) == [np.dtype("int64")] * 3 + [np.dtype("float64")]
    with ZerobusWrapper(server.config(table_name, transport=transport)) as w:
        res = w.send_batch(df)
    assert res.total_rows == 5 and res.successful_rows == [0, 1, 4]
    assert res.get_not_written_row_indices() == [2, 3] and res.unknown_count == 0
    errors = dict(res.failed_row_errors)
    assert isinstance(errors[3], ConversionError) and isinstance(errors[2], ConversionError)
    assert 'column "n": int64 value 2147483648 is over the INT maximum 2147483647' in str(errors[3])
    assert "give the table's column a wider type" in str(errors[3])
    assert 'column "f": float64 value 1e+39 is outside the FLOAT range' in str(errors[2])
    assert "row 2" in str(errors[2]) and "row 3" in str(errors[3])

    got = server.table(table_name).sort_by("id").to_pydict()
    assert got["id"] == [0, 1, 4]
    assert got["n"] == [-(2**31), 2**31 - 1, 0]
    assert got["s"] == [-32768, 32767, 3]
    f = got["f"]
    # 0.1 rounded to the nearest FLOAT; the FLOAT minimum as it is; pandas' NaN is a null.
    assert f == [float(np.float32(0.1)), -3.4028234663852886e38, None]
    # The failed rows, extracted for a fix and a re-send, are the DataFrame's own.
    bad = res.extract_not_written_batch(df)
    assert list(bad["id"]) == [2, 3]
