"""Drop-in use: code written for arrow-zerobus-sdk-wrapper 0.8.1 runs unchanged.

Every test goes through the import name of the original, ``arrow_zerobus_sdk_wrapper``,
and checks behaviour from the original's documented contract: the public names
of its module, ``TransmissionResult``'s constructor and helpers, where
configuration is checked, and ``async with ZerobusWrapper(config)``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import id_batch

import arrow_zerobus_sdk_wrapper as azw
from arrow_zerobus_sdk_wrapper import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,  # noqa: A004 - the original's name
    ConversionError,
    RetryExhausted,
    TokenRefreshError,
    TransmissionError,
    TransmissionResult,
    WrapperConfiguration,
    ZerobusError,
    ZerobusWrapper,
)
from zerobus_py.local import LocalServer

# The public names of the original's module (src/python/bindings.rs, register_module).
ORIGINAL_NAMES = (
    "ZerobusWrapper",
    "TransmissionResult",
    "WrapperConfiguration",
    "ZerobusError",
    "ConfigurationError",
    "AuthenticationError",
    "ConnectionError",
    "ConversionError",
    "TransmissionError",
    "RetryExhausted",
    "TokenRefreshError",
)


# -- the import name ---------------------------------------------------------


def test_alias_exports_the_same_objects_as_zerobus_py() -> None:
    import zerobus_py

    assert "site-packages" in azw.__file__, f"imported the source tree, not the installed package: {azw.__file__}"
    assert azw.__all__ == zerobus_py.__all__
    for name in [*zerobus_py.__all__, "ConnectionError", "native_version"]:
        assert getattr(azw, name) is getattr(zerobus_py, name), name
    for name in ORIGINAL_NAMES:
        assert isinstance(getattr(azw, name), type), name
    assert azw.native_version() == azw.__version__


def test_star_import_keeps_the_builtin_connection_error() -> None:
    ns: dict[str, object] = {}
    exec("from arrow_zerobus_sdk_wrapper import *", ns)
    assert set(zerobus_names := [n for n in ns if not n.startswith("__")]) == set(azw.__all__) - {"__version__"}, (
        zerobus_names
    )
    assert "ConnectionError" not in ns  # the builtin stays; ours is a subclass of it, so `except` still catches
    assert issubclass(ConnectionError, ZerobusError) and issubclass(ConnectionError, OSError)


def test_error_classes_match_the_original_names() -> None:
    for cls in (
        ConfigurationError,
        AuthenticationError,
        ConnectionError,
        ConversionError,
        TransmissionError,
        RetryExhausted,
        TokenRefreshError,
    ):
        assert issubclass(cls, ZerobusError) and issubclass(cls, Exception)
        err = cls("message text")  # the original's constructors take one message
        assert str(err) == "message text"
        assert cls.__name__ in ORIGINAL_NAMES


# -- TransmissionResult built by user code -------------------------------------------


def ten_rows() -> pa.RecordBatch:
    names = ["Alice", "Bob", "Charlie", "David", "Eve", "Frank", "Grace", "Henry", "Ivy", "Jack"]
    return pa.record_batch({"id": pa.array(range(1, 11), pa.int64()), "name": pa.array(names)})


def test_constructor_signature_is_the_original() -> None:
    params = inspect.signature(TransmissionResult).parameters
    assert list(params) == [
        "success",
        "error",
        "attempts",
        "latency_ms",
        "batch_size_bytes",
        "failed_rows",
        "successful_rows",
        "total_rows",
        "successful_count",
        "failed_count",
        "message",
    ]
    assert params["success"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["success"].default is inspect.Parameter.empty
    defaults = {n: p.default for n, p in params.items() if n != "success"}
    assert defaults == {
        "error": None,
        "attempts": 1,
        "latency_ms": None,
        "batch_size_bytes": 0,
        "failed_rows": None,
        "successful_rows": None,
        "total_rows": 0,
        "successful_count": 0,
        "failed_count": 0,
        "message": None,
    }
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in params.items() if n != "success")
    with pytest.raises(TypeError):
        TransmissionResult(True, None)  # type: ignore[misc]  # keyword-only, as in the original


def test_constructed_partial_result_and_every_helper() -> None:
    batch = ten_rows()
    result = TransmissionResult(
        True,
        message="ignored, as in the original",
        failed_rows=[
            (1, "ConversionError: Field 'name' type mismatch"),
            (3, "TransmissionError: Network timeout"),
            (7, "ConversionError: Field 'name' type mismatch"),
            (8, "ConnectionError: reset by peer"),
        ],
        successful_rows=[0, 2, 4, 5, 6, 9],
        total_rows=10,
        successful_count=6,
        failed_count=4,
        attempts=2,
        latency_ms=12,
        batch_size_bytes=345,
    )
    assert result.success is True
    assert (result.total_rows, result.successful_count, result.failed_count) == (10, 6, 4)
    assert (result.attempts, result.latency_ms, result.batch_size_bytes) == (2, 12.0, 345)
    assert result.error is None
    # failed_rows: (index, "Error type: message") in row order, as the original gives them
    assert result.failed_rows == [
        (1, "Conversion error: Field 'name' type mismatch"),
        (3, "Transmission error: Network timeout"),
        (7, "Conversion error: Field 'name' type mismatch"),
        (8, "Connection error: reset by peer"),
    ]
    # failed_row_errors: the exceptions; the prefix chose the class
    rows = result.failed_row_errors
    assert [i for i, _ in rows] == [1, 3, 7, 8]
    assert [type(e) for _, e in rows] == [ConversionError, TransmissionError, ConversionError, ConnectionError]
    assert [str(e) for _, e in rows] == [
        "Field 'name' type mismatch",
        "Network timeout",
        "Field 'name' type mismatch",
        "reset by peer",
    ]
    assert result.successful_rows == [0, 2, 4, 5, 6, 9]

    assert result.get_failed_row_indices() == [1, 3, 7, 8]
    assert result.get_successful_row_indices() == [0, 2, 4, 5, 6, 9]
    assert result.get_failed_row_indices_by_error_type("ConversionError") == [1, 7]
    assert result.get_failed_row_indices_by_error_type("TransmissionError") == [3]
    assert result.get_failed_row_indices_by_error_type("ConnectionError") == [8]
    assert result.get_failed_row_indices_by_error_type("AuthenticationError") == []
    assert result.group_errors_by_type() == {
        "ConversionError": [1, 7],
        "TransmissionError": [3],
        "ConnectionError": [8],
    }
    assert result.get_error_statistics() == {
        "total_rows": 10,
        "successful_count": 6,
        "failed_count": 4,
        "success_rate": 0.6,
        "failure_rate": 0.4,
        "error_type_counts": {"ConversionError": 2, "TransmissionError": 1, "ConnectionError": 1},
    }
    assert result.get_error_messages() == [m for _, m in result.failed_rows]
    assert result.is_partial_success() and result.has_failed_rows() and result.has_successful_rows()

    failed = result.extract_failed_batch(batch)
    assert isinstance(failed, pa.RecordBatch)
    assert failed.column("id").to_pylist() == [2, 4, 8, 9]
    assert failed.column("name").to_pylist() == ["Bob", "David", "Henry", "Ivy"]
    ok = result.extract_successful_batch(batch)
    assert ok.column("id").to_pylist() == [1, 3, 5, 6, 7, 10]
    assert failed.num_rows + ok.num_rows == result.total_rows
    with pytest.raises(ValueError, match="10"):
        result.extract_failed_batch(batch.slice(0, 5))  # not the batch this result describes
    assert "6/10 rows acknowledged" in repr(result)


def test_error_strings_follow_the_original_parsing() -> None:
    result = TransmissionResult(
        False,
        error="AuthenticationError: token rejected",
        failed_rows=[
            (0, "Error 1"),  # no prefix: a ConversionError with the whole text, as in the original
            (1, "Conversion error: the original's display form"),
            (2, "RetryExhausted: gave up"),
            (3, "TokenRefreshError: 503"),
            (4, "ConfigurationError: bad"),
            (5, "Unknown: text"),
        ],
    )
    assert isinstance(result.error, AuthenticationError) and str(result.error) == "token rejected"
    errors = dict(result.failed_row_errors)
    assert type(errors[0]) is ConversionError and str(errors[0]) == "Error 1"
    assert type(errors[1]) is ConversionError and str(errors[1]) == "the original's display form"
    assert isinstance(errors[2], RetryExhausted) and str(errors[2]) == "gave up"
    assert isinstance(errors[3], TokenRefreshError)
    assert isinstance(errors[4], ConfigurationError)
    assert type(errors[5]) is ConversionError and str(errors[5]) == "Unknown: text"
    assert result.group_errors_by_type()["ConversionError"] == [0, 1, 5]
    # an exception object is accepted as is
    boom = TransmissionError("boom")
    again = TransmissionResult(False, error=boom, failed_rows=[(0, boom)], total_rows=1, failed_count=1)
    assert again.error is boom and again.failed_row_errors == [(0, boom)]
    assert again.failed_rows == [(0, "Transmission error: boom")]


def test_extract_batches_take_the_originals_keyword() -> None:
    # The original's binding named the parameter original_batch (PyO3 takes it as a keyword too).
    result = TransmissionResult(False, failed_rows=[(1, "ConversionError: a")], successful_rows=[0, 2], total_rows=3)
    batch = ten_rows().slice(0, 3)
    assert result.extract_failed_batch(original_batch=batch).column("id").to_pylist() == [2]  # ids start at 1
    assert result.extract_successful_batch(original_batch=batch).column("id").to_pylist() == [1, 3]
    assert result.extract_failed_batch(batch=batch).column("id").to_pylist() == [2]
    with pytest.raises(TypeError, match="once"):
        result.extract_failed_batch(batch, original_batch=batch)
    with pytest.raises(TypeError, match="once"):
        result.extract_successful_batch()


def test_counts_are_derived_only_when_not_given() -> None:
    # Only the lists: counts are their lengths, total_rows their sum.
    only_lists = TransmissionResult(
        False, failed_rows=[(3, "ConversionError: a"), (1, "ConversionError: a")], successful_rows=[0]
    )
    assert (only_lists.total_rows, only_lists.successful_count, only_lists.failed_count) == (3, 1, 2)
    assert only_lists.get_failed_row_indices() == [3, 1]  # the order given, as the original
    # Without total_rows, extraction takes the listed rows of a batch of any length.
    assert only_lists.extract_failed_batch(ten_rows()).column("id").to_pylist() == [2, 4]
    assert only_lists.extract_successful_batch(ten_rows()).column("id").to_pylist() == [1]
    with pytest.raises(ValueError, match="row 3"):
        only_lists.extract_failed_batch(ten_rows().slice(0, 2))

    # Counts given are kept as given, even where the lists say otherwise (as in the original).
    given = TransmissionResult(
        True, successful_rows=[0, 1, 2, 5, 10], total_rows=11, successful_count=5, failed_count=6
    )
    assert (given.total_rows, given.successful_count, given.failed_count) == (11, 5, 6)
    assert given.get_successful_row_indices() == [0, 1, 2, 5, 10]
    assert given.get_failed_row_indices() == [] and not given.has_failed_rows()

    # Nothing but success: an empty result, every helper answers.
    empty = TransmissionResult(True)
    assert (empty.total_rows, empty.successful_count, empty.failed_count, empty.attempts) == (0, 0, 0, 1)
    assert empty.failed_rows == [] and empty.successful_rows == []
    assert empty.get_error_messages() == [] and empty.group_errors_by_type() == {}
    assert not empty.is_partial_success() and not empty.has_failed_rows() and not empty.has_successful_rows()
    assert empty.extract_failed_batch(ten_rows().slice(0, 0)) is None  # no rows: None, as the original
    # the lists decide has_*_rows, as in the original
    counts_only = TransmissionResult(True, total_rows=3, successful_count=3)
    assert not counts_only.has_successful_rows() and counts_only.get_successful_row_indices() == []


def test_all_failed_and_all_successful_results() -> None:
    batch = ten_rows()
    all_failed = TransmissionResult(
        False, failed_rows=[(i, f"Error {i}") for i in range(10)], total_rows=10, failed_count=10
    )
    assert all_failed.extract_failed_batch(batch).equals(batch)
    assert all_failed.extract_successful_batch(batch) is None  # as the original
    assert all_failed.get_error_statistics()["failure_rate"] == 1.0
    assert len(all_failed.get_error_messages()) == 10
    all_ok = TransmissionResult(True, successful_rows=list(range(10)), total_rows=10, successful_count=10)
    assert all_ok.extract_successful_batch(batch).equals(batch)
    assert all_ok.extract_failed_batch(batch) is None  # as the original
    assert all_ok.get_error_statistics()["success_rate"] == 1.0


def test_bad_constructor_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match="failed_rows: row indices must not be negative"):
        TransmissionResult(False, failed_rows=[(-1, "ConversionError: x")])
    with pytest.raises(TypeError, match="failed_rows: row indices must be ints"):
        TransmissionResult(False, failed_rows=[("1", "ConversionError: x")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="failed_rows: expected a str"):
        TransmissionResult(False, failed_rows=[(1, 5)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="failed_rows: expected \\(row_index"):
        TransmissionResult(False, failed_rows=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="successful_rows"):
        TransmissionResult(True, successful_rows=[0.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="total_rows"):
        TransmissionResult(True, total_rows=-1)


def test_constructed_from_a_real_results_rows(server: LocalServer, table_name: str) -> None:
    # uint64 values above int64's range fail conversion per row
    batch = pa.record_batch(
        {"id": pa.array(range(6), pa.int64()), "big": pa.array([0, 2**63, 2, 2**63 + 1, 4, 5], pa.uint64())}
    )
    with ZerobusWrapper(server.config(table_name)) as w:
        real = w.send_batch(batch)
    mock = TransmissionResult(
        real.success,
        failed_rows=real.failed_rows,
        successful_rows=real.successful_rows,
        total_rows=real.total_rows,
        successful_count=real.successful_count,
        failed_count=real.failed_count,
    )
    for name in (
        "get_failed_row_indices",
        "get_successful_row_indices",
        "group_errors_by_type",
        "get_error_statistics",
        "get_error_messages",
        "is_partial_success",
        "has_failed_rows",
        "has_successful_rows",
    ):
        assert getattr(mock, name)() == getattr(real, name)(), name
    assert mock.get_failed_row_indices() == [1, 3]
    assert mock.extract_failed_batch(batch).equals(real.extract_failed_batch(batch))
    assert mock.extract_successful_batch(batch).equals(real.extract_successful_batch(batch))
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 2, 4, 5]


# -- configuration: where each check happens ---------------------------------------------


def test_validate_accepts_one_two_and_three_part_table_names() -> None:
    for name in ("events", "default.events", "main.default.events", "Main_1.s2.T_3"):
        WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", name).validate()  # no credentials needed
    for name, fragment in (
        ("a.b.c.d", "4 dot-separated parts"),
        ("my-table", "'-' in the table part"),
        ("main..events", "empty schema part"),
        ("main.default.évents", "in the table part"),
    ):
        with pytest.raises(ConfigurationError, match="table_name") as ei:
            WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", name).validate()
        assert fragment in str(ei.value), (name, str(ei.value))


def test_validate_checks_formats_and_combinations_all_at_once() -> None:
    cfg = WrapperConfiguration(
        "ftp://host", "a.b.c.d", retry_max_attempts=-1, retry_base_delay_ms=50, retry_max_delay_ms=10
    )
    with pytest.raises(ConfigurationError) as ei:
        cfg.validate()
    msg = str(ei.value)
    for fragment in ("endpoint", "https://", "table_name", "retry_max_delay_ms", "retry_max_attempts"):
        assert fragment in msg, fragment
    assert "client_id" not in msg and "client_secret" not in msg  # credentials: checked when a writer is created
    # the endpoint needs a scheme (a schemeless name with a domain or port is taken as https)
    with pytest.raises(ConfigurationError, match="has no scheme"):
        WrapperConfiguration("invalid-endpoint", "test_table").validate()
    WrapperConfiguration("1234.zerobus.us-west-2.cloud.databricks.com", "test_table").validate()


def test_an_explicit_zero_is_refused_not_taken_as_the_default() -> None:
    # The original refused retry_max_attempts=0 and debug_flush_interval_secs=0 at validate(); here a 0 was
    # silently replaced by the Go default (5 attempts, 5 s), also for the timeouts and limits.
    for kw in ({"retry_max_attempts": 0}, {"debug_flush_interval_secs": 0}, {"ack_timeout_ms": 0}):
        (key,) = kw
        cfg = WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "events", **kw)
        with pytest.raises(ConfigurationError, match=f"{key} .*0 is not accepted") as ei:
            cfg.validate()
        assert ei.value.keys == [key], ei.value.keys
        with pytest.raises(ConfigurationError, match=key):
            ZerobusWrapper(cfg)


def test_writer_disabled_requires_a_debug_output(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"zerobus_writer_disabled .*no debug output") as ei:
        WrapperConfiguration(
            "https://1.zerobus.x.cloud.databricks.com", "events", zerobus_writer_disabled=True
        ).validate()
    assert "ZEROBUS_WRITER_DISABLED" in str(ei.value)
    for flag in ("debug_enabled", "debug_arrow_enabled", "debug_protobuf_enabled"):
        WrapperConfiguration(
            "https://1.zerobus.x.cloud.databricks.com",
            "events",
            zerobus_writer_disabled=True,
            debug_output_dir=str(tmp_path),
            **{flag: True},
        ).validate()


def test_debug_without_output_dir_raises_at_construction() -> None:
    for flag in ("debug_enabled", "debug_arrow_enabled", "debug_protobuf_enabled"):
        with pytest.raises(ConfigurationError, match=r"debug_output_dir .*is required when debug output is enabled"):
            WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c", **{flag: True})
    # that problem alone, as the original: the others are validate()'s, so a configuration completed after
    # construction (Spark's options over the environment) is not refused early (s14 review-config 2)
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c.d", debug_enabled=True)
    assert ei.value.keys == ["debug_output_dir"] and "table_name" not in str(ei.value)


def test_original_keyword_values() -> None:
    cfg = WrapperConfiguration(
        "https://1.zerobus.x.cloud.databricks.com",
        "a.b.c",
        observability_enabled=True,
        observability_config={"endpoint": "http://127.0.0.1:4317", "write_interval_secs": 7, "log_level": "info"},
        debug_max_files_retained=None,  # the original: keep every rotated file
    )
    cfg.validate()
    settings = cfg.to_settings()
    assert settings["observability_interval_secs"] == 7 and settings["otlp_endpoint"] == "http://127.0.0.1:4317"
    assert settings["debug_max_files_retained"] == -1  # the Go core's "keep all"
    assert cfg.debug_flush_interval_secs == 5 and cfg.retry_max_attempts == 5


def test_credentials_are_checked_when_a_writing_wrapper_is_created(server: LocalServer) -> None:
    cfg = WrapperConfiguration(server.endpoint, "main.default.events")
    cfg.validate()
    with pytest.raises(ConfigurationError) as ei:
        ZerobusWrapper(cfg)
    msg = str(ei.value)
    assert "3 problems" in msg
    for fragment in (
        "unity_catalog_url",
        "client_id (env ZEROBUS_CLIENT_ID when loading from the environment)",
        "client_secret",
    ):
        assert fragment in msg, fragment


def test_writing_needs_a_three_part_table_name(server: LocalServer) -> None:
    for name, fragment in (
        ("events", '"events" names no catalog or schema'),
        ("default.events", '"default.events" names no catalog;'),
    ):
        cfg = WrapperConfiguration(
            server.endpoint,
            name,
            client_id=server.client_id,
            client_secret=server.client_secret,
            unity_catalog_url=server.workspace_url,
        )
        cfg.validate()
        with pytest.raises(ConfigurationError, match=r"sending needs the full name catalog\.schema\.table") as ei:
            ZerobusWrapper(cfg)
        assert fragment in str(ei.value)


def test_writer_disabled_wrapper_with_a_short_table_name(tmp_path: Path) -> None:
    from zerobus_py.debug import read_file

    cfg = WrapperConfiguration(
        "https://1.zerobus.x.cloud.databricks.com",
        "events",
        zerobus_writer_disabled=True,
        debug_arrow_enabled=True,
        debug_output_dir=str(tmp_path),
    )
    cfg.validate()
    with ZerobusWrapper(cfg) as w:  # no credentials: nothing is sent
        result = w.send_batch(id_batch(0, 7))
    assert result.success and result.successful_count == 7 and result.writer_disabled
    files = sorted((tmp_path / "zerobus" / "arrow").glob("events*.arrow"))
    assert files, list(tmp_path.rglob("*"))
    assert read_file(files[0]).column("id").to_pylist() == list(range(7))


# The original 0.8.1's rule (bindings.rs, config/loader.rs; specs/005-debug-config-fixes,
# "Configuration Precedence"), every combination: (debug_enabled, debug_arrow_enabled,
# debug_protobuf_enabled) -> (Arrow files written, protobuf files written, valid with
# zerobus_writer_disabled). A per-kind flag given (not None; also False) decides with the
# other one (None = off) and debug_enabled adds nothing; otherwise debug_enabled writes both.
# The original counted debug_enabled=True as a debug output for zerobus_writer_disabled even when the flags
# turned every kind off (nothing sent, nothing written); that is refused now (s14 review-config 5).
_DEBUG_PRECEDENCE = [
    (False, None, None, False, False, False),
    (False, None, False, False, False, False),
    (False, None, True, False, True, True),
    (False, False, None, False, False, False),
    (False, False, False, False, False, False),
    (False, False, True, False, True, True),
    (False, True, None, True, False, True),
    (False, True, False, True, False, True),
    (False, True, True, True, True, True),
    (True, None, None, True, True, True),
    (True, None, False, False, False, False),
    (True, None, True, False, True, True),
    (True, False, None, False, False, False),
    (True, False, False, False, False, False),
    (True, False, True, False, True, True),
    (True, True, None, True, False, True),
    (True, True, False, True, False, True),
    (True, True, True, True, True, True),
]


@pytest.mark.parametrize("source", ["keywords", "wrapper_keywords", "yaml", "env"])
@pytest.mark.parametrize(("debug", "arrow_flag", "proto_flag", "arrow", "protobuf", "valid"), _DEBUG_PRECEDENCE)
def test_explicit_debug_flags_take_precedence_over_debug_enabled(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    debug: bool,
    arrow_flag: bool | None,
    proto_flag: bool | None,
    arrow: bool,
    protobuf: bool,
    valid: bool,
) -> None:
    # The original's contract: debug_arrow_enabled / debug_protobuf_enabled, when given (also
    # as False: a keyword not None, a YAML key, a set variable), say which files are written;
    # debug_enabled alone enables both. So debug_enabled=True, debug_protobuf_enabled=False
    # writes nothing. Through this module's keywords, ZerobusWrapper's keywords, from_yaml and
    # from_env (the Go loaders), with the same configuration, repr and files each way.
    out = tmp_path / "out"
    flags: dict[str, bool] = {"debug_enabled": debug}
    for key, value in (("debug_arrow_enabled", arrow_flag), ("debug_protobuf_enabled", proto_flag)):
        if value is not None:
            flags[key] = value
    base = {"zerobus_writer_disabled": True, "debug_output_dir": str(out)}
    endpoint, table = "https://1.zerobus.x.cloud.databricks.com", "main.default.kinds"
    given = WrapperConfiguration(endpoint, table, **base, **flags)  # type: ignore[arg-type]
    if source == "yaml":
        path = tmp_path / "c.yaml"
        lines = [f"endpoint: {endpoint}", f"table_name: {table}", "zerobus_writer_disabled: true"]
        lines += [f"debug_output_dir: {out}"] + [
            f"{k}: {str(v).lower()}" for k, v in flags.items() if v or k != "debug_enabled"
        ]
        path.write_text("\n".join(lines) + "\n")
        cfg = WrapperConfiguration.from_yaml(path)
    elif source == "env":
        for name in ("DEBUG_ENABLED", "DEBUG_ARROW_ENABLED", "DEBUG_PROTOBUF_ENABLED"):
            monkeypatch.delenv(name, raising=False)
        env = {"ZEROBUS_ENDPOINT": endpoint, "ZEROBUS_TABLE_NAME": table, "ZEROBUS_WRITER_DISABLED": "true"}
        env["DEBUG_OUTPUT_DIR"] = str(out)
        env.update({k.upper(): str(v).lower() for k, v in flags.items() if v or k != "debug_enabled"})
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        cfg = WrapperConfiguration.from_env()
    else:
        cfg = given
    assert cfg == given and cfg.copy() == given and repr(cfg) == repr(given)
    assert (cfg.debug_arrow_enabled, cfg.debug_protobuf_enabled) == (arrow_flag, proto_flag)
    for key, value in (("debug_arrow_enabled", arrow_flag), ("debug_protobuf_enabled", proto_flag)):
        if value is None:  # not given: not shown (the html row says what is written)
            assert key not in repr(cfg), repr(cfg)
        else:
            assert f"{key}={value!r}" in repr(cfg), repr(cfg)
    shown = " + ".join(name for name, on in (("Arrow IPC", arrow), ("protobuf", protobuf)) if on) or "off"
    assert f"<td><code>{shown}</code></td>" in cfg._repr_html_()
    assert f"<td><code>{shown}</code></td>" in cfg.copy()._repr_html_()
    if valid:
        cfg.validate()
    else:
        with pytest.raises(ConfigurationError, match=r"zerobus_writer_disabled .*(no debug output|writes no file)"):
            cfg.validate()
    # The wrapper writes exactly those files (core.New accepts the writer disabled without a
    # debug output, for conversion-only checks).
    wrapper = (
        ZerobusWrapper(endpoint=endpoint, table_name=table, **base, **flags)
        if source == "wrapper_keywords"
        else ZerobusWrapper(cfg)
    )
    with wrapper as w:
        assert w.send_batch(id_batch(0, 4)).successful_count == 4
    written = {
        kind: any(p.stat().st_size > 0 for p in (out / "zerobus" / kind).glob("main.default.kinds*." + ext))
        for kind, ext in (("arrow", "arrow"), ("proto", "proto"))
    }
    assert written == {"arrow": arrow, "proto": protobuf}


def test_debug_enabled_with_explicit_false_still_needs_an_output_dir() -> None:
    # As in the original: debug_enabled=True raises without debug_output_dir at construction,
    # even when the explicit flags turn every kind off.
    for off in ({"debug_protobuf_enabled": False}, {"debug_arrow_enabled": False}):
        with pytest.raises(ConfigurationError, match=r"debug_output_dir .*is required when debug output is enabled"):
            WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c", debug_enabled=True, **off)
    # and the flags alone, False, need none
    WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c", debug_arrow_enabled=False)


def test_wrapper_from_keywords_as_in_the_original_readme(server: LocalServer, table_name: str) -> None:
    # The original's README and examples/python_example.py create the wrapper from the
    # configuration's keywords: ZerobusWrapper(endpoint=..., table_name=..., client_id=..., ...).
    wrapper = ZerobusWrapper(
        endpoint=server.endpoint,
        table_name=table_name,
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
        debug_enabled=False,
    )
    assert isinstance(wrapper.config, WrapperConfiguration)
    assert wrapper.config.table_name == table_name and wrapper.config.client_secret == "<redacted>"
    result = wrapper.send_batch(id_batch(0, 5))
    assert result.success and result.successful_rows == [0, 1, 2, 3, 4]
    wrapper.shutdown()
    assert sorted(server.table(table_name).column("id").to_pylist()) == list(range(5))
    with pytest.raises(TypeError, match="either a WrapperConfiguration or its keywords"):
        ZerobusWrapper(WrapperConfiguration(server.endpoint, table_name), table_name=table_name)
    with pytest.raises(TypeError, match="unexpected keyword argument 'tabel_name'"):
        ZerobusWrapper(endpoint=server.endpoint, tabel_name=table_name)

    async def main() -> TransmissionResult:  # the asyncio form takes the same keywords
        async with azw.AsyncZerobusWrapper(
            endpoint=server.endpoint,
            table_name=table_name,
            client_id=server.client_id,
            client_secret=server.client_secret,
            unity_catalog_url=server.workspace_url,
        ) as aw:
            return await aw.send_batch(id_batch(5, 3))

    assert asyncio.run(main()).successful_rows == [0, 1, 2]
    assert sorted(server.table(table_name).column("id").to_pylist()) == list(range(8))


# -- async with on the wrapper itself ------------------------------------------------------


def test_async_with_on_the_sync_wrapper(server: LocalServer, table_name: str) -> None:
    config = WrapperConfiguration(
        server.endpoint,
        table_name,
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
    )

    async def main() -> tuple[ZerobusWrapper, list[TransmissionResult]]:
        async with ZerobusWrapper(config) as wrapper:
            assert isinstance(wrapper, ZerobusWrapper)
            first = wrapper.send_batch(id_batch(0, 5))  # the original's calls are blocking
            second = await wrapper.send_batch_async(id_batch(5, 5))
            wrapper.flush()
        return wrapper, [first, second]

    wrapper, results = asyncio.run(main())
    assert wrapper.is_closed  # __aexit__ shut it down
    assert [r.successful_count for r in results] == [5, 5]
    assert sorted(server.table(table_name).column("id").to_pylist()) == list(range(10))


def test_async_with_shuts_down_on_error(server: LocalServer, table_name: str) -> None:
    async def main() -> ZerobusWrapper:
        w = ZerobusWrapper(server.config(table_name))
        with pytest.raises(KeyError):
            async with w:
                w.send_batch(id_batch(0, 3))
                raise KeyError("user code failed")
        return w

    assert asyncio.run(main()).is_closed
    assert server.record_count(table_name) == 3


# -- the original's result-handling code, unchanged (session 13) ---------------------

# specs/004-per-row-errors/contracts/python-api.md of the original, "Partial Success Handling", verbatim but for
# `await` before send_batch: the original's send_batch is not a coroutine either (awaiting its result fails there).
PARTIAL_SUCCESS_SNIPPET = """
result = wrapper.send_batch(batch)

if result.success and result.failed_rows:
    # Partial success
    print(f"Partial success: {result.successful_count} succeeded, {result.failed_count} failed")

    # Write successful rows to main table
    if result.successful_rows:
        await write_rows_to_table(batch, result.successful_rows)

    # Quarantine failed rows
    for row_idx, error_msg in result.failed_rows:
        await quarantine_row(batch, row_idx, error_msg)

elif result.success:
    # All rows succeeded
    print(f"All {result.total_rows} rows succeeded")

else:
    # All rows failed or batch-level error
    if result.error:
        print(f"Batch-level error: {result.error}")
    await quarantine_batch(batch)
"""


def _run_partial_success_snippet(wrapper: ZerobusWrapper, batch: pa.RecordBatch) -> tuple[list[int], list[int]]:
    """Run the original's snippet; the ids it quarantined and the ids it wrote "to the main table"."""
    quarantined: list[int] = []
    written: list[int] = []
    ids = batch.column("id").to_pylist()

    async def write_rows_to_table(b: pa.RecordBatch, rows: list[int]) -> None:
        written.extend(ids[i] for i in rows)

    async def quarantine_row(b: pa.RecordBatch, row_idx: int, error_msg: str) -> None:
        assert error_msg.startswith("Conversion error: "), error_msg
        quarantined.append(ids[row_idx])

    async def quarantine_batch(b: pa.RecordBatch) -> None:
        quarantined.extend(ids)

    ns = {
        "wrapper": wrapper,
        "batch": batch,
        "write_rows_to_table": write_rows_to_table,
        "quarantine_row": quarantine_row,
        "quarantine_batch": quarantine_batch,
    }
    body = "".join("    " + line + "\n" for line in PARTIAL_SUCCESS_SNIPPET.splitlines())
    exec("async def main():\n" + body, ns)
    asyncio.run(ns["main"]())  # type: ignore[operator]
    return sorted(quarantined), sorted(written)


def test_the_originals_partial_success_handling_quarantines_only_the_failed_rows(
    server: LocalServer, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``.success`` is the original's: some rows stored. With it meaning "every row", the snippet quarantined
    the whole batch (and a replay re-sent the rows the server had stored)."""
    n = pa.array([1, 2**64 - 1, 3, 4], pa.uint64())  # row 1 does not fit the table's BIGINT
    batch = pa.record_batch({"id": pa.array([1, 2, 3, 4], pa.int64()), "n": n})
    with ZerobusWrapper(server.config(table_name)) as wrapper:
        quarantined, written = _run_partial_success_snippet(wrapper, batch)
    stored = sorted(server.table(table_name).column("id").to_pylist())
    assert quarantined == [2]  # the failed row only
    assert stored == [1, 3, 4] == written  # the rows the server stored are the successful ones
    assert "Partial success: 3 succeeded, 1 failed" in capsys.readouterr().out

    # every row failed, one by one: nothing stored, the whole batch quarantined, no batch-level error
    bad = pa.record_batch({"id": pa.array([5, 6], pa.int64()), "n": pa.array([2**64 - 1, 2**64 - 2], pa.uint64())})
    with ZerobusWrapper(server.config(table_name)) as wrapper:
        assert _run_partial_success_snippet(wrapper, bad) == ([5, 6], [])
        res = wrapper.send_batch(bad)
    assert not res.success and res.error is None and not res.is_partial_success() and res.failed_count == 2
    assert "Batch-level error" not in capsys.readouterr().out
    assert sorted(server.table(table_name).column("id").to_pylist()) == [1, 3, 4]

    # a one-row batch (a per-event producer) whose row fails: returned like the two-row one, not raised
    one = pa.record_batch({"id": pa.array([9], pa.int64()), "n": pa.array([2**64 - 1], pa.uint64())})
    with ZerobusWrapper(server.config(table_name)) as wrapper:
        assert _run_partial_success_snippet(wrapper, one) == ([9], [])
        res = wrapper.send_batch(one)
    assert not res.success and res.error is None and res.failed_count == 1 and res.successful_count == 0
    assert res.get_failed_row_indices() == [0] and "row 0" in str(res.failed_rows[0][1]).lower()
    assert "Batch-level error" not in capsys.readouterr().out
    assert sorted(server.table(table_name).column("id").to_pylist()) == [1, 3, 4]


def test_success_error_and_partial_keep_the_originals_meaning(server: LocalServer, table_name: str) -> None:
    batch = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64()), "n": pa.array([1, 2**64 - 1, 3], pa.uint64())})
    with ZerobusWrapper(server.config(table_name)) as wrapper:
        partial = wrapper.send_batch(batch)
        whole = wrapper.send_batch(batch.slice(0, 1))

        def broken() -> Iterator[pa.RecordBatch]:
            yield pa.record_batch({"id": pa.array([7, 8], pa.int64()), "n": pa.array([7, 8], pa.uint64())})
            raise ValueError("producer broke")

        unread = wrapper.send_batch(pa.RecordBatchReader.from_batches(batch.schema, broken()))
    # some rows stored: success, no batch-level error, partial (the original's mod.rs and bindings.rs)
    assert partial.success and partial.error is None and partial.is_partial_success()
    assert not partial.all_succeeded and partial.get_failed_row_indices() == [1]
    assert whole.success and whole.all_succeeded and not whole.is_partial_success() and whole.error is None
    # the input could not be read to its end: a batch-level error, not a success, though every row read is stored
    assert not unread.success and not unread.all_succeeded and isinstance(unread.error, ConversionError)
    assert "producer broke" in str(unread.error) and unread.successful_count == 2 and unread.failed_count == 0
    # a batch that fails as a whole still raises (documented difference); its result has the batch-level error
    bad = WrapperConfiguration(
        server.endpoint,
        table_name,
        client_id=server.client_id,
        client_secret="wrong-secret",
        unity_catalog_url=server.workspace_url,
        retry_max_attempts=1,
    )
    with ZerobusWrapper(bad) as wrapper, pytest.raises(AuthenticationError) as ei:
        wrapper.send_batch(batch.slice(0, 1))
    res = ei.value.result
    assert res is not None and not res.success and not res.all_succeeded and res.error is ei.value
    assert res.failure is ei.value and res.failed_count == 1
    assert sorted(server.table(table_name).column("id").to_pylist()) == [1, 1, 3, 7, 8]


def test_constructed_results_follow_the_originals_is_partial_success() -> None:
    # the original: success && successful_count > 0 && failed_count > 0
    rows = {"failed_rows": [(1, "ConversionError: a")], "successful_rows": [0], "total_rows": 2}
    assert TransmissionResult(True, **rows).is_partial_success()  # type: ignore[arg-type]
    assert not TransmissionResult(False, **rows).is_partial_success()  # type: ignore[arg-type]
    assert not TransmissionResult(True, **rows).all_succeeded  # type: ignore[arg-type]
    assert TransmissionResult(True, successful_rows=[0, 1], total_rows=2).all_succeeded
    assert not TransmissionResult(True, error="ConnectionError: x").all_succeeded


# -- the wrapper after shutdown() / async with (session 13) ----------------------------


def test_a_wrapper_sends_again_after_shutdown_as_the_original(server: LocalServer, table_name: str) -> None:
    """The original's shutdown() only closed the stream: the next send_batch opened a new one and flush() after
    it did nothing. Ours raised WrapperClosedError for both."""
    wrapper = ZerobusWrapper(server.config(table_name))

    async def step(start: int) -> None:
        async with wrapper as w:
            w.send_batch(id_batch(start, 3))

    asyncio.run(step(0))
    assert wrapper.is_closed
    wrapper.flush()  # nothing to flush: does nothing
    assert wrapper.send_batch(id_batch(3, 2)).all_succeeded and not wrapper.is_closed
    wrapper.flush()
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 1, 2, 3, 4]
    wrapper.shutdown()
    asyncio.run(step(5))  # async with again on the same object
    with wrapper:
        wrapper.send_batch(id_batch(8, 1))
    assert sorted(server.table(table_name).column("id").to_pylist()) == list(range(9))
    wrapper.close()  # for good
    with pytest.raises(azw.WrapperClosedError, match="close"):
        wrapper.send_batch(id_batch(9, 1))
    assert server.record_count(table_name) == 9


# -- observability_config dicts (session 13) -------------------------------------------


def test_observability_dict_unknown_keys_warn_and_type_errors_name_the_key() -> None:
    # the original read endpoint, output_dir, write_interval_secs and log_level and ignored other keys
    with pytest.warns(UserWarning, match="ignoring unknown key 'service_name'"):
        cfg = WrapperConfiguration(
            "http://127.0.0.1:1",
            "main.s.t",
            observability_enabled=True,
            observability_config={"endpoint": "http://127.0.0.1:4317", "service_name": "svc", "write_interval_secs": 7},
        )
        settings = cfg.to_settings()
        cfg.validate()
    assert settings["otlp_endpoint"] == "http://127.0.0.1:4317" and settings["observability_interval_secs"] == 7
    assert "service_name" not in settings
    wrong = WrapperConfiguration(
        "http://127.0.0.1:1", "main.s.t", observability_enabled=True, observability_config={"write_interval_secs": "10"}
    )
    with pytest.raises(ConfigurationError) as ei:
        wrong.validate()
    assert str(ei.value).startswith(
        "observability_config['write_interval_secs'] (observability_interval_secs): expected int, got str '10'"
    )
    assert isinstance(ei.value, TypeError)  # a wrong type is a TypeError, as the original's PyO3 extraction


# -- smaller differences (session 13) ----------------------------------------------------


def test_results_are_read_only() -> None:
    r = TransmissionResult(True, successful_rows=[0], total_rows=1)
    for name in (
        "success",
        "error",
        "attempts",
        "latency_ms",
        "batch_size_bytes",
        "total_rows",
        "successful_count",
        "failed_count",
        "all_succeeded",
        "failed_rows",
        "successful_rows",
    ):
        with pytest.raises(AttributeError):
            setattr(r, name, 0)
    assert r.success is True and r.total_rows == 1


def test_constructed_results_take_numpy_and_keep_the_order_given() -> None:
    np = pytest.importorskip("numpy")
    ok = np.flatnonzero(np.array([True, False, True, False]))
    r = TransmissionResult(
        np.bool_(True),
        failed_rows=[(np.int64(3), "ConversionError: a"), (np.int32(1), "ConversionError: b")],
        successful_rows=ok,
        total_rows=np.int64(4),
        attempts=np.uint8(2),
    )
    assert (r.total_rows, r.successful_count, r.failed_count, r.attempts) == (4, 2, 2, 2)
    assert type(r.total_rows) is int and r.successful_rows == [0, 2]
    # the original kept the order of the lists given (a send's result lists rows in row order)
    assert r.get_failed_row_indices() == [3, 1] and [i for i, _ in r.failed_rows] == [3, 1]
    assert r.get_error_messages() == ["Conversion error: a", "Conversion error: b"]
    assert TransmissionResult(True, successful_rows=[2, 0], total_rows=3).successful_rows == [2, 0]
    # extraction is in row order, as the original's (it sorted the indices)
    assert r.extract_failed_batch(ten_rows().slice(0, 4)).column("id").to_pylist() == [2, 4]
    with pytest.raises(TypeError, match="row indices must be ints"):
        TransmissionResult(True, successful_rows=[1.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="total_rows: expected an int"):
        TransmissionResult(True, total_rows=np.bool_(True))


def test_keep_every_rotated_file_reads_back_as_none() -> None:
    cfg = WrapperConfiguration("http://127.0.0.1:1", "main.s.t", debug_max_files_retained=None)
    assert cfg.debug_max_files_retained is None
    assert cfg.to_settings()["debug_max_files_retained"] == -1  # the Go core's "keep all"
    assert "debug_max_files_retained=None" in repr(cfg) and cfg.copy().debug_max_files_retained is None


def test_the_redacted_placeholder_is_refused_as_a_secret(server: LocalServer, table_name: str) -> None:
    real = server.config(table_name)
    rebuilt = WrapperConfiguration(  # from the getters, as code written for the original's getters does
        real.endpoint,
        real.table_name,
        client_id=real.client_id,
        client_secret=real.client_secret,
        unity_catalog_url=real.unity_catalog_url,
    )
    assert rebuilt.client_secret == "<redacted>"
    for call in (rebuilt.validate, lambda: ZerobusWrapper(rebuilt)):
        with pytest.raises(ConfigurationError, match=r"client_secret: '<redacted>' is the placeholder.*config\.copy"):
            call()
    proxy = real.copy(proxy_url="http://<redacted>@127.0.0.1:3128")
    with pytest.raises(ConfigurationError, match="proxy_url: '<redacted>' is the placeholder"):
        proxy.validate()
    with ZerobusWrapper(real.copy(retry_max_attempts=2)) as wrapper:  # copy keeps the secret
        assert wrapper.send_batch(id_batch(0, 2)).all_succeeded


def test_retry_exhausted_keeps_the_originals_class_name() -> None:
    from zerobus_py._errors import error_for

    err = error_for("retry_exhausted:token_refresh", "gave up")
    assert isinstance(err, RetryExhausted) and isinstance(err, TokenRefreshError)
    assert type(err).__name__ == "RetryExhausted" and repr(err) == "RetryExhausted('gave up')"
    assert type(err).__qualname__ == "RetryExhausted[TokenRefreshError]"


def test_a_config_of_another_type_is_a_type_error() -> None:
    for bad in ({"endpoint": "http://127.0.0.1:1"}, "https://x.com"):
        with pytest.raises(TypeError, match="config must be a WrapperConfiguration"):
            ZerobusWrapper(bad)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="retry_max_attempts: expected int, got str '5'") as ei:
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", retry_max_attempts="5").validate()  # type: ignore[arg-type]
    assert isinstance(ei.value, ConfigurationError)


def test_a_wrong_type_is_refused_at_construction() -> None:
    """The original's constructor took typed arguments (PyO3): a value of the wrong type raised TypeError there,
    not at the first validate() or send. A secret's value is never shown."""
    with pytest.raises(TypeError, match="retry_max_attempts: expected int, got str '5'") as ei:
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", retry_max_attempts="5")  # type: ignore[arg-type]
    assert isinstance(ei.value, ConfigurationError)
    with pytest.raises(TypeError, match="endpoint: expected str, got int 8080"):
        WrapperConfiguration(8080, "main.s.t")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="debug_enabled: expected bool, got str 'yes'"):
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", debug_enabled="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^client_secret: expected str, got int$") as ei:
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", client_secret=987654)  # type: ignore[arg-type]
    assert "987654" not in repr(ei.value)
    # the same values of the right type (a NumPy scalar included) construct
    np = pytest.importorskip("numpy")
    cfg = WrapperConfiguration("http://127.0.0.1:1", "main.s.t", retry_max_attempts=np.int64(3))
    assert cfg.to_settings()["retry_max_attempts"] == 3


def test_every_wrong_type_is_named_at_construction() -> None:
    """Construction named only the first setting of the wrong type; like validate(), it names them all."""
    with pytest.raises(TypeError) as ei:
        WrapperConfiguration(
            "http://127.0.0.1:1",
            "main.s.t",
            retry_base_delay_ms=0.5,  # type: ignore[arg-type]
            max_message_bytes=1e5,  # type: ignore[arg-type]  (a size as text is read by Go: tests_py/test_s16_kwargs.py)
            debug_enabled="yes",  # type: ignore[arg-type]
        )
    err = ei.value
    assert isinstance(err, ConfigurationError)
    assert err.keys == ["retry_base_delay_ms", "debug_enabled", "max_message_bytes"]
    text = str(err)
    assert text.startswith("invalid configuration (3 settings of the wrong type):")
    for part in (
        "retry_base_delay_ms: expected int, got float 0.5",
        "debug_enabled: expected bool, got str 'yes'",
        "max_message_bytes: expected int, got float 100000.0",
    ):
        assert f"\n  - {part}" in text
