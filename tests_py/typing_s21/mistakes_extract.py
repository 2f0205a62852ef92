"""Each line marked ``# E: code`` must be reported with that code (test_s21_typing.py)."""

import pandas as pd
import polars as pl
import pyarrow as pa

from zerobus_py import TransmissionResult


def wrong_kind(r: TransmissionResult, df: pd.DataFrame) -> pl.DataFrame:
    return r.extract_failed_batch(df)  # E: arg-type


def no_such_attribute(r: TransmissionResult, t: pa.Table) -> None:
    r.extract_failed_batch(t).no_such_method()  # E: union-attr


class CArray:
    def __arrow_c_array__(self, requested_schema: object = None, /) -> tuple[object, object]:
        return (None, None)


def not_a_batch(r: TransmissionResult, c: CArray) -> int:
    return r.extract_failed_batch(c).num_rows  # E: union-attr
