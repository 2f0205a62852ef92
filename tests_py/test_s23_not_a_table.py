"""One column is not a table: issue #16 asks for a ``TypeError`` naming what to pass (a pyarrow ``Array`` or
``ChunkedArray`` raised pyarrow's ``ArrowInvalid``). Session 10 made every one-column input Go's
``ConversionError`` (one check, in Go); it is now also a ``TypeError``, so both ``except TypeError`` and ``except
ConversionError`` catch it, on every send path, and it pickles as itself."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer

COLUMNS: dict[str, Any] = {
    "Array": lambda: pa.array([1, 2, 3]),
    "ChunkedArray": lambda: pa.chunked_array([[1, 2], [3]]),
    "pandas.Series": lambda: pd.Series([1, 2, 3], name="id"),
    "polars.Series": lambda: pl.Series("id", [1, 2, 3]),
}


@pytest.fixture(scope="module")
def server() -> Any:
    with LocalServer() as s:
        yield s


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_one_column_is_a_type_error_and_a_conversion_error(server: Any, kind: str) -> None:
    table = f"main.default.not_a_table_{kind.replace('.', '_').lower()}"
    with ZerobusWrapper(server.config(table)) as w:
        with pytest.raises(TypeError) as err:
            w.send_batch(COLUMNS[kind]())
        e = err.value
        assert isinstance(e, ConversionError)
        assert isinstance(e, ValueError)  # what ConversionError was: code catching it keeps working
        assert type(e).__name__ == "ConversionError"
        assert e.kind == "conversion"
        assert e.details["reason"] == "NOT_A_TABLE"
        assert "is one column (int64), not a table of columns: send a table or DataFrame" in str(e)
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e) and back.details == e.details
    assert server.record_count(table) == 0


def test_async_send_of_a_column_is_a_type_error(server: Any) -> None:
    table = "main.default.not_a_table_async"
    with ZerobusWrapper(server.config(table)) as w:

        async def send() -> None:
            await w.send_batch_async(pa.array([1, 2, 3]))

        with pytest.raises(TypeError, match="not a table of columns"):
            asyncio.run(send())
    assert server.record_count(table) == 0


def test_a_table_mistake_is_not_a_type_error(server: Any) -> None:
    # only the one-column refusal is a TypeError: a value problem stays a ConversionError (ValueError)
    table = "main.default.not_a_table_values"
    with ZerobusWrapper(server.config(table)) as w:
        w.send_batch(pa.table({"id": pa.array([1], pa.int64())}))
        with pytest.raises(ConversionError) as err:
            w.send_batch(pa.table({"id": pa.array(["x"])}))
        assert not isinstance(err.value, TypeError)
