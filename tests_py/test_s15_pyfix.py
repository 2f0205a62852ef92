"""Session 15 fixes of the Python layer: one source of truth for what Go owns (issue #15), and the review's
findings on Arrow C inputs, drop-in behaviour and secrets held in memory."""

from __future__ import annotations

import json
import pickle
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import (
    ConfigurationError,
    ConversionError,
    ObservabilityConfig,
    WrapperConfiguration,
    ZerobusWrapper,
    _bridge,
    _errors,
)
from zerobus_py.local import LocalServer

_STRUCT = pa.struct([("id", pa.int64())])


class ArrayOnly:
    """Another library's array: only ``__arrow_c_array__``."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self.array.__arrow_c_array__(requested_schema)


class StreamOf:
    """Another library's stream: ``__arrow_c_stream__`` handing on a pyarrow object's."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.obj.__arrow_c_stream__(requested_schema)


# -- 1. a null row of a struct array: Go's check only ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["__arrow_c_array__", "ChunkedArray", "foreign stream"])
def test_struct_null_rows_are_one_go_error(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str, kind: str
) -> None:
    """A struct array with a null row was a TypeError from Python as a ``__arrow_c_array__`` and a ConversionError
    from Go in a stream: now Go refuses it the same way whatever holds it, every row not written."""
    arr = pa.array([{"id": 1}, None, {"id": 3}], _STRUCT)
    data: Any = {
        "__arrow_c_array__": lambda: ArrayOnly(arr),
        "ChunkedArray": lambda: pa.chunked_array([arr]),
        "foreign stream": lambda: StreamOf(pa.chunked_array([arr])),
    }[kind]()
    with pytest.raises(ConversionError) as err:
        wrapper.send_batch(data)
    assert not isinstance(err.value, TypeError)
    assert "batch 0 of the Arrow stream (rows 0 to 2) is a struct array with 1 null rows, the first at row 1" in str(
        err.value
    ), str(err.value)
    assert server.record_count(table_name) == 0
    if kind != "foreign stream":  # a length known without reading: the result lists every row
        res = err.value.result
        assert res is not None and (res.total_rows, res.not_written_count) == (3, 3)


def test_struct_slice_without_nulls_still_sent(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    """A slice of a struct array (an offset pyarrow cannot import as a batch) is still sent, in place."""
    arr = pa.array([{"id": k} for k in range(6)], _STRUCT).slice(2, 3)
    res = wrapper.send_batch(ArrayOnly(arr))
    assert res.success and res.total_rows == 3
    assert stored_ids(server, table_name) == [2, 3, 4]


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_series_refused_by_go(wrapper: ZerobusWrapper, server: LocalServer, table_name: str, kind: str) -> None:
    """A Series was refused in Python with a rewording of Go's one-column refusal: now Go's refusal itself."""
    series = pd.Series([1, 2, 3], name="id") if kind == "pandas" else pl.Series("id", [1, 2, 3])
    with pytest.raises(ConversionError) as err:
        wrapper.send_batch(series)
    assert str(err.value).endswith(
        "the Arrow stream is one column (int64), not a table of columns: send a table or DataFrame, e.g. "
        'pyarrow.table({"name": column}) or series.to_frame()'
    ), str(err.value)
    res = err.value.result
    assert res is not None and (res.total_rows, res.not_written_count) == (3, 3)
    assert server.record_count(table_name) == 0


# -- 2. retryable and fatal from one table ----------------------------------------------------------------------


def test_error_flags_of_python_built_errors_are_go_s() -> None:
    """An exception built in Python took ``fatal`` from Go's kind table but had ``retryable`` hard-coded False."""
    go = {k["kind"]: k for k in json.loads(_bridge.call(_bridge.native.ErrorKinds))}
    assert {"connection", "token_refresh", "transmission", "retry_exhausted"} <= {k for k in go if go[k]["retryable"]}
    for kind, cls in _errors._BY_KIND.items():
        err = cls("x")
        assert (err.retryable, err.fatal) == (go[kind]["retryable"], go[kind]["fatal"]), kind
    parsed = _errors.error_for("connection", "endpoint down")
    assert parsed.retryable is True and parsed.fatal is True
    # Go's own flags win over the table for errors Go describes
    assert _errors.from_details({"kind": "connection", "message": "m", "retryable": False}).retryable is False


# -- 3. URL redaction: Go's rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://u:pw@127.0.0.1:1", "https://u@h:443/x", "u:pw@h:1", "http://a@b@c:1", "no-at-all", "://x@y", "@"],
)
def test_proxy_url_redacted_by_go(url: str) -> None:
    """The proxy URL getter, the repr and the stored value's repr show Go's redaction (``core.RedactURL``)."""
    shown = _bridge.call(_bridge.native.RedactURL, url)
    cfg = WrapperConfiguration("http://127.0.0.1:1", "c.s.t", proxy_url=url)
    assert cfg.proxy_url == shown
    assert f"proxy_url={shown!r}" in repr(cfg)
    assert repr(vars(cfg)["_proxy_url"]) == repr(shown)


# -- 4. "did you mean": one phrase, from Go ---------------------------------------------------------------------


def test_did_you_mean_is_go_s_phrase(tmp_path: Any) -> None:
    cfg = WrapperConfiguration("http://127.0.0.1:1", "c.s.t")
    with pytest.raises(AttributeError) as attr_err:
        cfg.retry_max_attemps = 1  # type: ignore[attr-defined]
    assert str(attr_err.value) == (
        "WrapperConfiguration has no setting 'retry_max_attemps'; did you mean \"retry_max_attempts\"?"
    )
    obs = ObservabilityConfig()
    with pytest.raises(AttributeError) as field_err:
        obs.enpoint = "x"  # type: ignore[attr-defined]
    assert str(field_err.value) == "ObservabilityConfig has no field 'enpoint'; did you mean \"endpoint\"?"
    # the Go loader's message says it alike
    path = tmp_path / "c.yaml"
    path.write_text("table_name: c.s.t\nretry_max_attemps: 2\n")
    with pytest.raises(ConfigurationError, match=r'unknown key; did you mean "retry_max_attempts"\?'):
        WrapperConfiguration.from_yaml(path)


def test_observability_mapping_unknown_key_gets_a_suggestion() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obs = ObservabilityConfig.from_mapping({"endpont": "http://127.0.0.1:4317", "log_level": "info"})
    assert obs.log_level == "info" and obs.endpoint is None
    [w] = [str(c.message) for c in caught]
    assert w.startswith("observability_config: ignoring unknown key 'endpont'; did you mean \"endpoint\"?; known keys:")


# -- 5. no Go number in Python's docs ----------------------------------------------------------------------------


def test_shutdown_doc_states_no_go_timeout() -> None:
    """The shutdown docstring said "at most 10 s" for a collector that does not answer, where Go's limit is 3 s:
    Go's numbers are stated where Go's docs are, not copied into Python's."""
    doc = ZerobusWrapper.shutdown.__doc__ or ""
    assert re.search(r"\d+(\.\d+)? ?s\b", doc) is None, doc


# -- 6. a ChunkedArray of structs has a total --------------------------------------------------------------------


def test_struct_chunked_array_progress_has_total(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    table = pa.Table.from_batches([id_batch(0, 40), id_batch(40, 60)])
    calls: list[tuple[int, int | None]] = []
    res = wrapper.send_batch(table.to_struct_array(), progress=lambda d, t: calls.append((d, t)))
    assert res.success and res.total_rows == 100
    assert calls and {t for _, t in calls} == {100} and calls[-1] == (100, 100), calls
    assert stored_ids(server, table_name) == list(range(100))


# -- 7. a producer's error behind a foreign stream: one line -----------------------------------------------------


def _failing_reader() -> pa.RecordBatchReader:
    def gen() -> Iterator[pa.RecordBatch]:
        for k in range(6):
            if k == 3:
                raise RuntimeError("boom at 3\nsecond line")
            yield id_batch(k * 10, 10)

    return pa.RecordBatchReader.from_batches(id_batch(0, 10).schema, gen())


def test_foreign_stream_producer_error_is_one_line(
    wrapper: ZerobusWrapper, server: LocalServer, table_name: str
) -> None:
    res = wrapper.send_batch(StreamOf(_failing_reader()))
    assert not res.success and res.error is not None
    message = str(res.error)
    assert "\n" not in message and "Traceback" not in message, message
    assert message.endswith("failed: reading the next batch: Unknown error: boom at 3 (...)"), message
    assert message.count("zerobus:") == 1, message  # one prefix, not one per layer (s18 errors L4)
    assert stored_ids(server, table_name) == list(range(30))


def test_direct_reader_error_unchanged(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    """A reader sent directly still reports its own line, the user's exception as ``__cause__``."""
    res = wrapper.send_batch(_failing_reader())
    assert res.error is not None
    assert str(res.error).endswith(
        "batch 3 of the RecordBatchReader (from row 30) raised RuntimeError: boom at 3 (...)"
    ), str(res.error)
    assert isinstance(res.error.__cause__, RuntimeError)
    assert stored_ids(server, table_name) == list(range(30))


# -- 8. __arrow_c_array__ returning something else ---------------------------------------------------------------


class ArrayBad:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self.value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ((1, 2), "(int, int)"),
        (None, "NoneType"),
        ((pa.schema([("id", pa.int64())]).__arrow_c_schema__(),), "(PyCapsule 'arrow_schema')"),
        (
            (pa.schema([("id", pa.int64())]).__arrow_c_schema__(), pa.schema([]).__arrow_c_schema__()),
            "(PyCapsule 'arrow_schema', PyCapsule 'arrow_schema')",
        ),
    ],
)
def test_array_capsules_checked(wrapper: ZerobusWrapper, value: Any, shown: str) -> None:
    with pytest.raises(TypeError) as err:
        wrapper.send_batch(ArrayBad(value))
    assert str(err.value) == (
        f"cannot send a ArrayBad: its __arrow_c_array__() returned {shown}, not a pair of 'arrow_schema' and "
        "'arrow_array' PyCapsules"
    )


# -- 9. observability_config's type at construction --------------------------------------------------------------


@pytest.mark.parametrize("value", [[("endpoint", "http://127.0.0.1:4317")], "endpoint=x", 5])
def test_observability_config_type_refused_at_construction(value: Any) -> None:
    with pytest.raises(ConfigurationError) as err:
        WrapperConfiguration("http://127.0.0.1:1", "c.s.t", observability_enabled=True, observability_config=value)
    assert isinstance(err.value, TypeError) and err.value.keys == ["observability_config"]
    assert str(err.value) == (
        f"observability_config must be an ObservabilityConfig or a dict, not {type(value).__name__}"
    )


# -- 11. secrets held in memory ----------------------------------------------------------------------------------

_SECRET = "SEKRIT-abc123"
_PROXY_PW = "PROXYPW-xyz789"


def _secret_config(server: LocalServer, table_name: str) -> WrapperConfiguration:
    cfg = server.config(table_name)
    cfg.proxy_url = f"http://user:{_PROXY_PW}@127.0.0.1:9"
    cfg.client_secret = _SECRET
    return cfg


def test_secrets_not_in_vars(server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, proxy_url=f"http://user:{_PROXY_PW}@127.0.0.1:9")
    for text in (repr(vars(cfg)), repr(cfg.copy().__dict__)):
        assert server.client_secret not in text and _PROXY_PW not in text, text
    assert "'_proxy_url': 'http://<redacted>@127.0.0.1:9'" in repr(vars(cfg))
    assert "'_client_secret': '<redacted>'" in repr(vars(cfg))
    # the values themselves are intact
    settings = cfg.to_settings(include_secret=True)
    assert settings["client_secret"] == server.client_secret
    assert settings["proxy_url"] == f"http://user:{_PROXY_PW}@127.0.0.1:9"
    assert type(settings["client_secret"]) is str  # asked for: plain text (yaml.safe_dump takes it)
    assert type(cfg._settings(include_secret=True, sealed=True)["client_secret"]) is not str  # passed to Go sealed
    cfg2 = _secret_config(server, table_name)
    assert cfg2.client_secret == "<redacted>" and _SECRET not in repr(vars(cfg2))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_config_with_secrets_pickles(server: LocalServer, table_name: str, protocol: int) -> None:
    cfg = _secret_config(server, table_name)
    back = pickle.loads(pickle.dumps(cfg, protocol=protocol))
    assert back == cfg
    assert back.to_settings(include_secret=True)["client_secret"] == _SECRET
    assert back.to_settings(include_secret=True)["proxy_url"] == f"http://user:{_PROXY_PW}@127.0.0.1:9"
    assert _SECRET not in repr(vars(back)) and _PROXY_PW not in repr(vars(back))


def test_sealed_secret_still_authenticates(server: LocalServer, table_name: str) -> None:
    """The sealed secret reaches Go as the value: the local server accepts it and stores the rows; the wrapper's
    own attributes show no secret either."""
    cfg = server.config(table_name)
    assert "'_client_secret': '<redacted>'" in repr(vars(cfg))
    with ZerobusWrapper(cfg) as w:
        assert server.client_secret not in repr(vars(w))
        res = w.send_batch(id_batch(0, 5))
        assert res.success and res.successful_count == 5
    assert stored_ids(server, table_name) == list(range(5))
