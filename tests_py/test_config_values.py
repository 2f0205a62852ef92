"""Settings as data engineers hold them: values read from a DataFrame or computed with NumPy are NumPy scalars."""

from __future__ import annotations

import datetime
import decimal
import pathlib

import numpy as np
import pyarrow as pa
import pytest

from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_numpy_scalars_are_taken_as_the_values_they_hold(server: LocalServer, table_name: str) -> None:
    """``numpy.int64(3)`` / ``numpy.True_`` were refused ("retry_max_attempts: expected int, got int64",
    "zerobus_writer_disabled: expected bool, got bool"); an ObservabilityConfig field failed in json.dumps."""
    config = server.config(
        table_name,
        retry_max_attempts=np.int64(3),
        ack_timeout_ms=np.int32(5000),
        zerobus_writer_disabled=np.bool_(False),
        observability_config=ObservabilityConfig(interval_secs=np.int64(7)),
    )
    config.validate()
    settings = config.to_settings()
    assert settings["retry_max_attempts"] == 3 and type(settings["retry_max_attempts"]) is int
    assert settings["ack_timeout_ms"] == 5000 and settings["observability_interval_secs"] == 7
    assert settings["zerobus_writer_disabled"] is False
    with ZerobusWrapper(config) as w:
        assert w.send_batch(pa.record_batch({"id": [1, 2]})).successful_count == 2
    assert server.record_count(table_name) == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.float64(1.5), "ack_timeout_ms: expected int, got float 1.5"),
        (decimal.Decimal(3), r"ack_timeout_ms: expected int, got decimal.Decimal Decimal\('3'\)"),
    ],
)
def test_a_value_of_another_type_names_its_type(value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as err:
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", ack_timeout_ms=value).validate()  # type: ignore[arg-type]
    assert err.value.keys == ["ack_timeout_ms"]


def test_a_foreign_bool_is_not_expected_bool_got_bool() -> None:
    class Flag:  # a bool-like of another library that is not a NumPy scalar
        def __bool__(self) -> bool:
            return True

    with pytest.raises(ConfigurationError, match=r"debug_enabled: expected bool, got test_config_values\..*Flag"):
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", debug_enabled=Flag()).validate()  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [np.array([4]), np.array([1, 2]), np.array(4)])
def test_a_numpy_array_is_not_taken_as_a_value(value: object) -> None:
    """Only NumPy scalars are converted: ``np.array([4])`` was silently taken as 4 and ``np.array([1, 2])`` raised
    a bare ValueError ("can only convert an array of size 1 to a Python scalar") naming no setting."""
    with pytest.raises(ConfigurationError, match=r"max_inflight_requests: expected int, got numpy\.ndarray") as err:
        WrapperConfiguration("http://127.0.0.1:1", "main.s.t", max_inflight_requests=value).validate()  # type: ignore[arg-type]
    assert err.value.keys == ["max_inflight_requests"]
    with pytest.raises(
        ConfigurationError, match=r"observability_interval_secs: expected int, got numpy\.ndarray"
    ) as err:
        WrapperConfiguration(
            "http://127.0.0.1:1",
            "main.s.t",
            observability_config=ObservabilityConfig(interval_secs=value),  # type: ignore[arg-type]
        ).validate()
    assert err.value.keys == ["observability_interval_secs"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "interval_secs",
            decimal.Decimal(5),
            r"observability_interval_secs: expected int, got decimal\.Decimal Decimal\('5'\)",
        ),
        (
            "interval_secs",
            datetime.timedelta(seconds=5),
            r"observability_interval_secs: expected int, got datetime\.timedelta",
        ),
        ("max_backups", {3}, r"observability_max_backups: expected int, got set \{3\}"),
        ("max_file_mb", 1.5, r"observability_max_file_mb: expected int, got float 1\.5"),
        ("log_level", 3, r"log_level: expected str, got int 3"),
        ("output_dir", b"/tmp", r"observability_output_dir: expected str or path, got bytes b'/tmp'"),
    ],
)
def test_an_observability_value_of_another_type_names_its_key(field: str, value: object, message: str) -> None:
    """ObservabilityConfig values were not type-checked: a Decimal, timedelta or set escaped as a bare
    ``TypeError: Object of type Decimal is not JSON serializable`` naming no setting (a float or an int log level
    reached Go). They are checked as the WrapperConfiguration keywords are, with the same wording."""
    cfg = WrapperConfiguration("http://127.0.0.1:1", "main.s.t", observability_config={field: value})
    key = message.split(":", 1)[0]
    # the message names the dict's key as written (and the YAML key)
    message = (key if field == key else rf"observability_config\['{field}'\] \({key}\)") + message[len(key) :]
    with pytest.raises(ConfigurationError, match=message) as err:
        cfg.validate()
    assert err.value.keys == [key]
    with pytest.raises(ConfigurationError, match=message):
        ZerobusWrapper(cfg)


def test_observability_paths_and_numpy_scalars_are_taken(tmp_path: pathlib.Path) -> None:
    settings = ObservabilityConfig(
        output_dir=tmp_path, log_file=tmp_path / "z.log", max_backups=np.int32(2), log_level="debug"
    ).to_settings()
    assert settings == {
        "observability_output_dir": str(tmp_path),
        "log_file": str(tmp_path / "z.log"),
        "observability_max_backups": 2,
        "log_level": "debug",
    }
    assert type(settings["observability_max_backups"]) is int
