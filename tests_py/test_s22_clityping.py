"""Session 22 (review-s21diff 3-5): what the signatures type is what the run time takes.

- ``observability_interval_secs`` given as text is read by the Go core's settings parser, as
  ``ObservabilityConfig(interval_secs=...)`` and ``copy()`` read it (it raised "expected int, got str" before).
- ``ZerobusWrapper(**d)`` with ``d: dict[str, str]`` (typed since s22, test_s21_typing.py) sends.
- ``extract_*`` of another library's ``__arrow_c_array__`` object (typed since s22) returns its rows as a pyarrow
  RecordBatch (a batch) or Array, as the overload says.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import (
    ConfigurationError,
    ObservabilityConfig,
    TransmissionResult,
    WrapperConfiguration,
    ZerobusWrapper,
)
from zerobus_py.local import LocalServer

BASE: dict[str, Any] = {
    "endpoint": "http://127.0.0.1:1",
    "table_name": "main.default.t",
    "zerobus_writer_disabled": True,
}


@pytest.mark.parametrize(("text", "secs"), [("5s", 5), ("2m", 120), ("1h", 3600)])
def test_observability_interval_secs_text_keyword(text: str, secs: int) -> None:
    """The keyword, ObservabilityConfig and copy() all read the text as the Go core does, to the same int, which
    the settings Go gets carry."""
    by_keyword = WrapperConfiguration(**BASE, observability_interval_secs=text)
    by_field = WrapperConfiguration(**BASE, observability_config=ObservabilityConfig(interval_secs=text))
    by_copy = WrapperConfiguration(**BASE, observability_config=ObservabilityConfig()).copy(
        observability_interval_secs=text
    )
    for cfg in (by_keyword, by_field, by_copy):
        oc = cfg.observability_config
        assert isinstance(oc, ObservabilityConfig)
        assert oc.interval_secs == secs
        assert cfg.to_settings()["observability_interval_secs"] == secs


def test_observability_interval_secs_text_beside_a_dict() -> None:
    """Beside observability_config given as a dict (whose own interval_secs takes an int only), the keyword's
    text is read too; the dict's other fields stay."""
    cfg = WrapperConfiguration(**BASE, observability_config={"log_level": "debug"}, observability_interval_secs="1m")
    settings = cfg.to_settings()
    assert settings["observability_interval_secs"] == 60
    assert settings["log_level"] == "debug"
    with pytest.raises(ConfigurationError, match="given both as a keyword and in observability_config"):
        WrapperConfiguration(**BASE, observability_config={"interval_secs": 5}, observability_interval_secs="5s")


def test_observability_interval_secs_bad_text_names_the_keyword() -> None:
    """A text the Go core cannot read is a ConfigurationError (also a TypeError) naming the keyword, as for the
    other duration keywords."""
    with pytest.raises(ConfigurationError) as err:
        WrapperConfiguration(**BASE, observability_interval_secs="5 parsecs")
    assert isinstance(err.value, TypeError)
    assert err.value.keys == ["observability_interval_secs"]
    assert "5 parsecs" in str(err.value)


def test_wrapper_from_a_str_dict_sends(server: LocalServer, table_name: str) -> None:
    """``ZerobusWrapper(**d)`` with ``d: dict[str, str]`` (settings read as text) sends: the server stores the
    rows, with their values."""
    d: dict[str, str] = {
        "endpoint": server.endpoint,
        "table_name": table_name,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "unity_catalog_url": server.workspace_url,
        "retry_base_delay_ms": "10ms",
    }
    with ZerobusWrapper(**d) as w:
        result = w.send_batch(pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
    assert result.success and result.successful_count == 3
    assert server.record_count(table_name) == 3
    assert sorted(server.table(table_name).column("id").to_pylist()) == [1, 2, 3]


class CArray:
    """Another library's array or batch: only ``__arrow_c_array__``."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[object, object]:
        return self._data.__arrow_c_array__(requested_schema)  # type: ignore[no-any-return]


def test_extract_from_an_arrow_c_array_object(server: LocalServer, table_name: str) -> None:
    """A batch sent as an ``__arrow_c_array__`` object, with one row that cannot be converted (a null in a NOT
    NULL column): extract_failed_batch / extract_not_written_batch return that row, extract_successful_batch
    the others, as a pyarrow RecordBatch; a non-struct array's rows come back as a pyarrow Array."""
    server.create_table(table_name, "id BIGINT NOT NULL, name STRING")
    batch = pa.record_batch(
        {"id": pa.array([1, None, 3], pa.int64()), "name": pa.array(["a", "b", "c"])},
    )
    with ZerobusWrapper(server.config(table_name, retry_base_delay_ms=10)) as w:
        result = w.send_batch(CArray(batch))
    assert isinstance(result, TransmissionResult)
    assert result.failed_count == 1 and result.successful_count == 2
    assert server.record_count(table_name) == 2
    failed = result.extract_failed_batch(CArray(batch))
    not_written = result.extract_not_written_batch(CArray(batch))
    ok = result.extract_successful_batch(original_batch=CArray(batch))
    assert isinstance(failed, pa.RecordBatch) and isinstance(not_written, pa.RecordBatch)
    assert isinstance(ok, pa.RecordBatch)
    assert failed.to_pylist() == [{"id": None, "name": "b"}] == not_written.to_pylist()
    assert ok.column("name").to_pylist() == ["a", "c"]
    column = result.extract_failed_batch(CArray(pa.array(["x", "y", "z"])))
    assert isinstance(column, pa.Array) and column.to_pylist() == ["y"]
