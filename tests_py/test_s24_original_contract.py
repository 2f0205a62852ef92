"""The 0.8.1 contract, part two: what the original's own Python-facing tests and specs assert that
tests_py/test_dropin.py did not yet check.

Everything goes through the original's import name. The original's tests that needed a Databricks
workspace (they were skipped there) run against the local server instead; nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyarrow as pa
import pytest

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

# (prefix given to the constructor, the original's display text of that error type, class)
_PREFIXES = [
    ("ConversionError", "Conversion error", ConversionError),
    ("TransmissionError", "Transmission error", TransmissionError),
    ("ConnectionError", "Connection error", ConnectionError),
    ("AuthenticationError", "Authentication error", AuthenticationError),
    ("ConfigurationError", "Configuration error", ConfigurationError),
    ("RetryExhausted", "Retry exhausted", RetryExhausted),
    ("TokenRefreshError", "Token refresh error", TokenRefreshError),
]


def _people() -> pa.RecordBatch:
    return pa.record_batch(
        {"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["Alice", "Bob", "Charlie"], pa.string())}
    )


# -- the two tests the original skipped without a workspace --------------------------------


def test_a_wrapper_with_credentials_sends_and_reports_every_field(server: LocalServer, table_name: str) -> None:
    cfg = WrapperConfiguration(
        endpoint=server.endpoint,
        table_name=table_name,
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
    )
    wrapper = ZerobusWrapper(cfg)
    result = wrapper.send_batch(_people())
    wrapper.shutdown()
    assert result.success is True and result.error is None
    assert result.attempts == 1
    assert isinstance(result.latency_ms, float) and result.latency_ms >= 0
    assert result.batch_size_bytes > 0
    assert (result.total_rows, result.successful_count, result.failed_count) == (3, 3, 0)
    assert result.successful_rows == [0, 1, 2] and result.failed_rows == []
    stored = server.table(table_name).sort_by("id")
    assert stored.column("id").to_pylist() == [1, 2, 3]
    assert stored.column("name").to_pylist() == ["Alice", "Bob", "Charlie"]


def test_wrappers_created_concurrently_from_coroutines(server: LocalServer, table_name: str) -> None:
    # The original created five wrappers in coroutines gathered at once: each either works or raises one of
    # ConfigurationError / ConnectionError. Without credentials every creation is refused the same way.
    async def create(cfg: WrapperConfiguration) -> ZerobusWrapper:
        return ZerobusWrapper(cfg)

    async def five(cfg: WrapperConfiguration) -> list[ZerobusWrapper | BaseException]:
        return list(await asyncio.gather(*(create(cfg) for _ in range(5)), return_exceptions=True))

    refused = asyncio.run(five(WrapperConfiguration("https://test.cloud.databricks.com", "test_table")))
    assert len(refused) == 5
    for err in refused:
        assert isinstance(err, ConfigurationError), err
        assert "client_id" in str(err) and "unity_catalog_url" in str(err)

    made = asyncio.run(five(server.config(table_name)))
    wrappers = [w for w in made if isinstance(w, ZerobusWrapper)]
    assert len(wrappers) == 5, made
    for k, w in enumerate(wrappers):
        with w:
            assert w.send_batch(pa.record_batch({"id": pa.array([k], pa.int64())})).successful_count == 1
    assert sorted(server.table(table_name).column("id").to_pylist()) == [0, 1, 2, 3, 4]


# -- writer disabled, as the original's test and spec 003 set it up ------------------------


def test_writer_disabled_with_debug_enabled_writes_both_files(tmp_path: Path) -> None:
    from zerobus_py.debug import read_file

    out = tmp_path / "debug"
    cfg = WrapperConfiguration(
        endpoint="https://test.cloud.databricks.com",
        table_name="test_table",
        debug_enabled=True,
        debug_output_dir=str(out),
        zerobus_writer_disabled=True,
    )
    assert cfg.zerobus_writer_disabled is True and cfg.debug_enabled is True
    cfg.validate()
    wrapper = ZerobusWrapper(cfg)  # no credentials: nothing is sent
    result = wrapper.send_batch(_people())
    wrapper.shutdown()
    assert result.success and result.error is None and result.successful_rows == [0, 1, 2]
    # the paths the original's spec checks with os.path.exists
    arrow = out / "zerobus" / "arrow" / "test_table.arrow"
    proto = out / "zerobus" / "proto" / "test_table.proto"
    assert arrow.is_file() and proto.is_file(), sorted(map(str, out.rglob("*")))
    assert read_file(arrow).column("name").to_pylist() == ["Alice", "Bob", "Charlie"]
    assert read_file(proto).column("id").to_pylist() == [1, 2, 3]


# -- WrapperConfiguration's getters ---------------------------------------------------------


def test_every_getter_of_the_original_reads_its_default_and_a_given_value(tmp_path: Path) -> None:
    plain = WrapperConfiguration("https://test.cloud.databricks.com", "test_table")
    assert {
        name: getattr(plain, name)
        for name in (
            "endpoint",
            "table_name",
            "client_id",
            "client_secret",
            "unity_catalog_url",
            "debug_enabled",
            "debug_output_dir",
            "debug_flush_interval_secs",
            "debug_max_file_size",
            "retry_max_attempts",
            "retry_base_delay_ms",
            "retry_max_delay_ms",
            "observability_enabled",
            "zerobus_writer_disabled",
        )
    } == {
        "endpoint": "https://test.cloud.databricks.com",
        "table_name": "test_table",
        "client_id": None,
        "client_secret": None,
        "unity_catalog_url": None,
        "debug_enabled": False,
        "debug_output_dir": None,
        "debug_flush_interval_secs": 5,
        "debug_max_file_size": None,
        "retry_max_attempts": 5,
        "retry_base_delay_ms": 100,
        "retry_max_delay_ms": 30000,
        "observability_enabled": False,
        "zerobus_writer_disabled": False,
    }
    given = WrapperConfiguration(
        "https://test.cloud.databricks.com",
        "main.default.events",
        client_id="the-client",
        client_secret="the-secret-value",
        unity_catalog_url="https://unity-catalog-url",
        observability_enabled=True,
        observability_config={"endpoint": "http://localhost:4317"},
        debug_enabled=True,
        debug_output_dir=str(tmp_path),
        debug_flush_interval_secs=10,
        debug_max_file_size=1024 * 1024,
        retry_max_attempts=10,
        retry_base_delay_ms=200,
        retry_max_delay_ms=60000,
    )
    given.validate()
    assert (given.endpoint, given.table_name) == ("https://test.cloud.databricks.com", "main.default.events")
    assert (given.client_id, given.unity_catalog_url) == ("the-client", "https://unity-catalog-url")
    assert (given.debug_enabled, given.debug_output_dir) == (True, str(tmp_path))
    assert (given.debug_flush_interval_secs, given.debug_max_file_size) == (10, 1024 * 1024)
    assert (given.retry_max_attempts, given.retry_base_delay_ms, given.retry_max_delay_ms) == (10, 200, 60000)
    assert given.observability_enabled is True and given.zerobus_writer_disabled is False
    # kept different: the original gave the secret back; here it is never readable
    assert given.client_secret == "<redacted>"
    assert "the-secret-value" not in repr(given) and "the-secret-value" not in str(given)


# -- TransmissionResult: the original's text of each error type ----------------------------


def test_every_error_prefix_reads_back_as_the_originals_text() -> None:
    rows = [(i, f"{prefix}: failure {i}") for i, (prefix, _, _) in enumerate(_PREFIXES)]
    result = TransmissionResult(False, failed_rows=rows, total_rows=len(rows), failed_count=len(rows))
    expected = [(i, f"{text}: failure {i}") for i, (_, text, _) in enumerate(_PREFIXES)]
    assert result.failed_rows == expected
    assert result.get_error_messages() == [m for _, m in expected]
    assert result.group_errors_by_type() == {prefix: [i] for i, (prefix, _, _) in enumerate(_PREFIXES)}
    stats = result.get_error_statistics()
    assert stats["error_type_counts"] == {prefix: 1 for prefix, _, _ in _PREFIXES}
    assert (stats["success_rate"], stats["failure_rate"]) == (0.0, 1.0)
    for i, (prefix, _, cls) in enumerate(_PREFIXES):
        assert result.get_failed_row_indices_by_error_type(prefix) == [i], prefix
        err = dict(result.failed_row_errors)[i]
        assert isinstance(err, cls) and str(err) == f"failure {i}"
    # the original's own display text given back is read the same way (a result rebuilt from another one)
    again = TransmissionResult(False, failed_rows=result.failed_rows, total_rows=len(rows))
    assert again.failed_rows == expected and again.group_errors_by_type() == result.group_errors_by_type()


def test_a_result_built_as_the_originals_rust_contract_tests_build_it() -> None:
    ok = TransmissionResult(True, attempts=3, latency_ms=150, batch_size_bytes=2048, message="ignored")
    assert ok.success and ok.error is None
    assert (ok.attempts, ok.latency_ms, ok.batch_size_bytes) == (3, 150, 2048)
    assert not hasattr(ok, "message")  # the original took message= and kept nothing of it

    failed = TransmissionResult(False, error="ConnectionError: test error", attempts=5, batch_size_bytes=1024)
    assert not failed.success and (failed.attempts, failed.batch_size_bytes) == (5, 1024)
    assert isinstance(failed.error, ConnectionError) and str(failed.error) == "test error"
    # kept different: latency_ms not given reads 0.0 (the original: None), so it is always a float
    assert failed.latency_ms == 0.0


def test_text_tests_on_error_keep_working(server: LocalServer, table_name: str) -> None:
    """The original's ``TransmissionResult.error`` was text, ``"Connection error: test error"``; here it is the
    exception. ``in`` on it searches that same text, so a check written as ``"test error" in result.error``
    still runs."""
    result = TransmissionResult(False, error="ConnectionError: test error", attempts=5)
    assert result.error is not None
    assert "test error" in result.error
    assert "Connection error: test error" in result.error
    assert "Connection error" in result.error
    assert "timeout" not in result.error
    assert "Transmission error" not in result.error
    for prefix, text, cls in _PREFIXES:
        err = cls("the message")
        assert f"{text}: the message" in err and "the message" in err and "other" not in err, prefix
    assert "" in ZerobusError("x")
    with pytest.raises(TypeError, match="requires a str"):
        5 in ConversionError("5")  # noqa: B015 - the comparison raises

    # an error raised by a send (built from the Go core's description) and the error of its result
    bad = WrapperConfiguration(
        server.endpoint,
        table_name,
        client_id=server.client_id,
        client_secret="not-the-secret",
        unity_catalog_url=server.workspace_url,
        retry_max_attempts=1,
    )
    with ZerobusWrapper(bad) as wrapper, pytest.raises(AuthenticationError) as ei:
        wrapper.send_batch(_people())
    raised = ei.value
    assert raised.result is not None and raised.result.error is raised
    assert f"Authentication error: {raised}" in raised.result.error
    assert "Conversion error" not in raised.result.error
    assert "not-the-secret" not in raised and "not-the-secret" not in str(raised)
    assert server.record_count(table_name) == 0


# -- validate(): each rule of the original, alone -------------------------------------------

_ENDPOINT = "https://test.cloud.databricks.com"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"endpoint": "invalid-endpoint"}, "endpoint"),
        ({"endpoint": "ftp://files.example.com"}, "endpoint"),
        ({"table_name": "a.b.c.d"}, "table_name"),
        ({"table_name": "main..events"}, "table_name"),
        ({"table_name": ".events"}, "table_name"),
        ({"table_name": "my-table"}, "table_name"),
        ({"retry_max_attempts": 0}, "retry_max_attempts"),
        ({"retry_base_delay_ms": 500, "retry_max_delay_ms": 100}, "retry_max_delay_ms"),
        (
            {"debug_enabled": True, "debug_output_dir": "out", "debug_flush_interval_secs": 0},
            "debug_flush_interval_secs",
        ),
        ({"zerobus_writer_disabled": True}, "zerobus_writer_disabled"),
    ],
)
def test_each_rule_of_the_originals_validate_names_its_setting(settings: dict[str, object], key: str) -> None:
    given: dict[str, object] = {"endpoint": _ENDPOINT, "table_name": "test_table", **settings}
    cfg = WrapperConfiguration(**given)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as ei:
        cfg.validate()
    assert ei.value.keys == [key], str(ei.value)
    assert key in str(ei.value)


def test_validate_accepts_the_originals_boundaries_and_sees_later_assignments() -> None:
    # the original refused retry_max_delay_ms below the base delay only: equal is accepted
    WrapperConfiguration(_ENDPOINT, "test_table", retry_base_delay_ms=250, retry_max_delay_ms=250).validate()
    WrapperConfiguration("http://127.0.0.1:8080", "test_table").validate()  # http:// too
    cfg = WrapperConfiguration(_ENDPOINT, "test_table")
    cfg.validate()
    cfg.debug_enabled = True  # a debug output without a directory, set after construction
    with pytest.raises(ConfigurationError) as ei:
        cfg.validate()
    assert ei.value.keys == ["debug_output_dir"]


# -- kept different, as the README's drop-in table says ------------------------------------


def test_an_empty_batch_and_configurations_differ_as_documented(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name)) as wrapper:
        empty = wrapper.send_batch(_people().slice(0, 0))
        one = wrapper.send_batch(_people().slice(0, 1))
    # an empty batch: a success with nothing in it, as in the original; nothing was sent, so attempts is 0
    # (the original: 1) and the success rate is 1.0 (the original: 0.0 and 0.0, which do not add up to 1)
    assert empty.success and empty.error is None and empty.attempts == 0
    assert (empty.total_rows, empty.successful_count, empty.failed_count) == (0, 0, 0)
    assert empty.failed_rows == [] and empty.successful_rows == []
    stats = empty.get_error_statistics()
    assert (stats["success_rate"], stats["failure_rate"]) == (1.0, 0.0)
    assert one.attempts == 1 and one.successful_rows == [0]
    assert server.table(table_name).column("id").to_pylist() == [1]

    # configurations compare by value, so they are not hashable (the original's: by identity)
    a = WrapperConfiguration(_ENDPOINT, "test_table", retry_max_attempts=3)
    b = WrapperConfiguration(_ENDPOINT, "test_table", retry_max_attempts=3)
    assert a == b and a != WrapperConfiguration(_ENDPOINT, "test_table")
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)
