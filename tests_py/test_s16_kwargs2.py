"""Session 16 (s16-diffb F3, F4, F5): a size or duration given as text is the same setting as the whole number it
reads; Python's ignored-settings warnings are the Go core's list.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration

_BASE: dict[str, Any] = {"endpoint": "http://127.0.0.1:1", "table_name": "main.default.t"}


def _validate_error(cfg: WrapperConfiguration) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        cfg.validate()
    return info.value


@pytest.mark.parametrize(
    ("key", "text", "number"),
    [
        ("debug_flush_interval_secs", "0s", 0),  # 0 is not accepted (it would mean the default)
        ("ack_timeout_ms", "0ms", 0),
        ("max_message_bytes", "1099511627776", 1 << 40),  # above an int's range
        ("max_message_bytes", "4GiB", 4 << 30),
    ],
)
def test_text_out_of_range_is_the_same_int(key: str, text: str, number: int) -> None:
    """F3: a text Go parses but refuses by range behaves as the same int: accepted at construction (and by
    assignment), refused by validate() with the same error, a ValueError and not a TypeError (#20: ranges are
    validate()'s)."""
    as_int = WrapperConfiguration(**_BASE, **{key: number})
    as_text = WrapperConfiguration(**_BASE, **{key: text})
    assert getattr(as_text, key) == number
    assigned = WrapperConfiguration(**_BASE)
    setattr(assigned, key, text)
    assert getattr(assigned, key) == number
    want = _validate_error(as_int)
    assert not isinstance(want, TypeError)
    for cfg in (as_text, assigned):
        got = _validate_error(cfg)
        assert type(got) is type(want) and not isinstance(got, TypeError)
        assert str(got) == str(want) and got.keys == want.keys


def test_text_go_cannot_parse_is_named_alone_beside_one_out_of_range() -> None:
    """F3: with a text Go cannot parse and one it refuses by range, the TypeError names the first alone, with
    Go's words for it."""
    with pytest.raises(TypeError) as info:
        WrapperConfiguration(**_BASE, debug_flush_interval_secs="0s", debug_max_file_size="big")
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert err.keys == ["debug_max_file_size"], str(err)
    assert '"big" is not a byte size' in str(err) and "debug_flush_interval_secs" not in str(err)


def _warnings_of(cfg: WrapperConfiguration) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg.validate()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("enabled", [False, True])
def test_rotation_without_a_file_warns_whatever_observability_enabled_says(enabled: bool) -> None:
    """F4: the UserWarnings are exactly the Go core's ignored settings (IgnoredExportSettingsOf), with its reason:
    observability_max_file_mb with no file written is one with observability_enabled=True too."""
    cfg = WrapperConfiguration(
        **_BASE,
        observability_enabled=enabled,
        observability_config=ObservabilityConfig(endpoint="http://127.0.0.1:9", max_file_mb=5),
    )
    got = _warnings_of(cfg)
    rotation = [m for m in got if "observability_max_file_mb" in m]
    assert len(rotation) == 1 and "no log or telemetry file is written" in rotation[0], got
    assert "observability_enabled is False" not in rotation[0]
    export = [m for m in got if "otlp_endpoint" in m]
    assert len(export) == (0 if enabled else 1), got
    assert len(got) == len(rotation) + len(export), got


def test_no_warning_when_a_file_is_written(tmp_path: Any) -> None:
    """F4: Go names nothing, so Python warns about nothing (a file written: rotation settings are used)."""
    for obs in (
        ObservabilityConfig(output_dir=str(tmp_path), max_file_mb=5, max_backups=2),
        ObservabilityConfig(log_file=str(tmp_path / "z.log"), max_file_mb=5),
    ):
        assert _warnings_of(WrapperConfiguration(**_BASE, observability_enabled=True, observability_config=obs)) == []


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10), ("2m", 120), ("7", 7), ("0s", 0)])
def test_interval_secs_takes_text_as_the_other_durations(text: str, seconds: int) -> None:
    """F5: ObservabilityConfig.interval_secs (Go's observability_interval_secs, a duration) takes the text YAML,
    the environment and WrapperConfiguration's *_secs keywords take, read by Go at construction and assignment;
    a value out of range ("0s") is the same int, refused by validate()."""
    obs = ObservabilityConfig(interval_secs=text)
    assert obs.interval_secs == seconds and type(obs.interval_secs) is int
    assigned = ObservabilityConfig()
    assigned.interval_secs = text
    assert assigned.interval_secs == seconds
    cfg = WrapperConfiguration(**_BASE, observability_enabled=True, observability_config=obs)
    as_int = WrapperConfiguration(
        **_BASE, observability_enabled=True, observability_config=ObservabilityConfig(interval_secs=seconds)
    )
    assert cfg == as_int and cfg.to_settings()["observability_interval_secs"] == seconds
    if seconds == 0:
        want, got = _validate_error(as_int), _validate_error(cfg)
        assert str(got) == str(want) and not isinstance(got, TypeError)
    else:
        cfg.validate()


@pytest.mark.parametrize("value", ["fast", "1.5s", "", 10.5])
def test_interval_secs_refuses_at_construction(value: Any) -> None:
    """F5: what the duration keywords refuse at construction (a text Go cannot parse, another type) is a
    ConfigurationError[TypeError] from ObservabilityConfig's construction, not from validate() later."""
    with pytest.raises(TypeError) as info:
        ObservabilityConfig(interval_secs=value)
    err = info.value
    assert isinstance(err, ConfigurationError) and err.keys == ["observability_interval_secs"], str(err)
    if isinstance(value, str):
        with pytest.raises(TypeError):
            ObservabilityConfig().interval_secs = value


def test_interval_secs_text_in_the_dict_form_is_still_a_type_error() -> None:
    """The dict form keeps its contract (test_dropin pins {"write_interval_secs": "10"}): a str there is the
    wrong type, refused when the configuration is used."""
    cfg = WrapperConfiguration(**_BASE, observability_enabled=True, observability_config={"interval_secs": "10s"})
    with pytest.raises(TypeError):
        cfg.validate()
