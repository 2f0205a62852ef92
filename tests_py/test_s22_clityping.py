"""Session 22 (review-s21diff 3-5): what the signatures type is what the run time takes.

- ``observability_interval_secs`` given as text is read by the Go core's settings parser, as
  ``ObservabilityConfig(interval_secs=...)`` and ``copy()`` read it (it raised "expected int, got str" before).
"""

from __future__ import annotations

from typing import Any

import pytest

from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration

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
