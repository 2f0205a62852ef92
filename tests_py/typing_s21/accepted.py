"""Uses the docs show: mypy --strict must accept every line (test_s21_typing.py). Checked, never run."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from typing_extensions import assert_type

from zerobus_py import (
    AsyncZerobusWrapper,
    LogAttributes,
    ObservabilityConfig,
    ProgressCallback,
    SendInput,
    TransmissionResult,
    WrapperConfiguration,
    ZerobusWrapper,
    partial_result,
)
from zerobus_py.local import LocalServer


class Capsule:
    """Another library's data: anything with __arrow_c_stream__."""

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return None


class CArray:
    """Another library's array or batch (nanoarrow, ...): anything with __arrow_c_array__, which send_batch takes."""

    def __arrow_c_array__(self, requested_schema: object = None, /) -> tuple[object, object]:
        return (None, None)


class Bar:
    """tqdm's shape: update returns a value."""

    def update(self, n: int) -> bool | None:
        return None


def every_input(w: ZerobusWrapper, bar: Bar) -> None:
    t = pa.table({"id": [1]})
    batch = t.to_batches()[0]
    inputs: list[SendInput] = [
        t,
        batch,
        pa.RecordBatchReader.from_batches(t.schema, t.to_batches()),
        pq.ParquetFile("x.parquet"),
        ds.dataset("x.parquet"),
        ds.dataset("x.parquet").scanner(),
        pd.DataFrame({"id": [1]}),
        pl.DataFrame({"id": [1]}),
        pa.StructArray.from_arrays([pa.array([1])], names=["id"]),
        t.column(0),
        Capsule(),
    ]
    for data in inputs:
        w.send_batch(data, timeout=1.0, progress=lambda done, total: bar.update(done))
    w.send_batch(t, progress=lambda done, total: print(done, total))
    show: ProgressCallback = lambda done, total: None  # noqa: E731
    w.send_batch(batch, progress=show)


async def send_async(w: ZerobusWrapper, aw: AsyncZerobusWrapper, t: pa.Table) -> None:
    assert_type(await w.send_batch_async(t), TransmissionResult)
    assert_type(await aw.send_batch(pd.DataFrame({"id": [1]})), TransmissionResult)


def quarantine(r: TransmissionResult, t: pa.Table, df: pd.DataFrame, pf: pl.DataFrame) -> pa.Table:
    assert_type(r.extract_failed_batch(t), "pa.Table | Any")
    assert_type(r.extract_failed_batch(t.to_batches()[0]), "pa.RecordBatch | Any")
    assert_type(r.extract_failed_batch(df), "pd.DataFrame | Any")
    assert_type(r.extract_failed_batch(original_batch=pf), "pl.DataFrame | Any")
    assert_type(r.extract_successful_batch(pf), "pl.DataFrame | Any")
    assert_type(r.extract_not_written_batch(pq.ParquetFile("x.parquet")), "pa.Table | Any")
    assert_type(r.extract_unknown_batch(ds.dataset("x")), "pa.Table | Any")
    assert_type(r.extract_failed_batch(t.column(0)), "pa.Table | Any")
    # another library's __arrow_c_array__ object: its rows as a pyarrow RecordBatch (a batch) or Array, as at run time
    c = CArray()
    assert_type(r.extract_failed_batch(c), "pa.RecordBatch | pa.Array | Any")
    assert_type(r.extract_not_written_batch(c), "pa.RecordBatch | pa.Array | Any")
    assert_type(r.extract_unknown_batch(c), "pa.RecordBatch | pa.Array | Any")
    assert_type(r.extract_successful_batch(original_batch=c), "pa.RecordBatch | pa.Array | Any")
    frame: pd.DataFrame = r.extract_unknown_batch(df)
    print(frame, r.extract_failed_batch(t).num_rows)
    return r.extract_failed_batch(t)  # None when no row failed: not forced on the caller


def keywords(config: WrapperConfiguration, server: LocalServer, yaml_dict: dict[str, Any], env: dict[str, str]) -> None:
    attrs: LogAttributes = {"worker": 3, "host": "a"}
    ZerobusWrapper(
        endpoint="https://1.zerobus.us-west-2.cloud.databricks.com",
        table_name="main.default.events",
        client_id="id",
        client_secret="secret",
        unity_catalog_url="https://w.cloud.databricks.com",
        debug_enabled=False,
        max_inflight_bytes="64MiB",
        log_level="debug",
        log_attributes=attrs,
    )
    ZerobusWrapper(**yaml_dict)
    ZerobusWrapper(**env)  # settings read as text (the environment): checked at run time
    AsyncZerobusWrapper(**env)
    ZerobusWrapper(log_attributes=attrs, **yaml_dict)
    ZerobusWrapper(config, log_attributes=attrs)
    AsyncZerobusWrapper(endpoint="http://127.0.0.1:1", table_name="main.default.t", zerobus_writer_disabled=True)
    server.config("main.default.t", retry_max_attempts=2, endpoint="http://127.0.0.1:2", retry_base_delay_ms="1s")
    config.copy(table_name="main.default.other", log_level="info")
    WrapperConfiguration(
        "http://127.0.0.1:1",
        "main.default.t",
        log_level="debug",
        otlp_endpoint="http://c:4317",
        observability_output_dir="otel",
        observability_interval_secs="10s",
    )


def assignments(c: WrapperConfiguration, o: ObservabilityConfig) -> None:
    c.retry_max_attempts = 3
    c.max_inflight_bytes = "64MiB"
    c.client_secret = "s"
    c.debug_output_dir = "dbg"
    o.log_level = "debug"
    o.interval_secs = "10s"


def interrupted(w: ZerobusWrapper, aw: AsyncZerobusWrapper, t: pa.Table) -> TransmissionResult | None:
    try:
        w.send_batch(t)
    except KeyboardInterrupt as exc:  # Ctrl-C: the partial result on exc, typed through partial_result
        if (result := partial_result(exc)) is not None:
            print(result.extract_failed_batch(t).num_rows)
        raise
    return None


async def timed_out(aw: AsyncZerobusWrapper, t: pa.Table) -> TransmissionResult | None:
    try:
        return await asyncio.wait_for(aw.send_batch(t), 1)
    except TimeoutError as err:  # the partial result on err.__cause__
        return partial_result(err)
