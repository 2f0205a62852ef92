"""Option errors of the Spark data source found when the settings are built together (a combination) are said to be
the options' and name the key alone, like those the settings loader finds (s18 sparkfault L4)."""

from __future__ import annotations

import pytest

from zerobus_py import ConfigurationError
from zerobus_py.spark import _config_and_env

BASE = {
    "endpoint": "http://127.0.0.1:1",
    "table_name": "main.default.t",
    "client_id": "id",
    "client_secret": "s",
    "unity_catalog_url": "http://127.0.0.1:1",
}


def test_debug_enabled_without_a_directory_is_the_options_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DEBUG_OUTPUT_DIR", "DEBUG_ENABLED", "DEBUG_ARROW_ENABLED", "DEBUG_PROTOBUF_ENABLED"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigurationError) as info:
        _config_and_env({**BASE, "debug_enabled": "true"})
    text = str(info.value)
    assert text.startswith("zerobus: in the zerobus data source options: invalid configuration: debug_output_dir"), text
    assert "when loading from the environment" not in text and "DEBUG_OUTPUT_DIR" not in text, text
    assert info.value.details["message"] == text
    # the same with the directory given works
    config, _ = _config_and_env({**BASE, "debug_enabled": "true", "debug_output_dir": "/tmp/x"})
    assert config.debug_output_dir == "/tmp/x"
