"""Every configuration problem in one round (s14 review-docs M1): a value the
loading refuses (retry_max_attempts=0, "abc" for an integer) no longer hides
the problems validate() finds in the other settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from zerobus_py import ConfigurationError, WrapperConfiguration


def test_validate_reports_load_and_validate_problems_together() -> None:
    c = WrapperConfiguration("", "bad name", retry_max_attempts=0)
    with pytest.raises(ConfigurationError) as ei:
        c.validate()
    text = str(ei.value)
    assert "(3 problems)" in text, text
    assert "retry_max_attempts (env RETRY_MAX_ATTEMPTS when loading from the environment): 0 is not accepted" in text
    assert "table_name (env ZEROBUS_TABLE_NAME when loading from the environment): \"bad name\" has ' '" in text
    assert "endpoint (env ZEROBUS_ENDPOINT when loading from the environment): is required" in text
    assert sorted(ei.value.keys) == ["endpoint", "retry_max_attempts", "table_name"]
    # With the refused value fixed, the same other problems remain: nothing new appears.
    c.retry_max_attempts = 5
    with pytest.raises(ConfigurationError) as ei2:
        c.validate()
    assert sorted(ei2.value.keys) == ["endpoint", "table_name"]


def test_from_env_reports_the_other_variables_problems_too(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"ZEROBUS_TABLE_NAME": "bad name", "RETRY_MAX_ATTEMPTS": "abc", "ZEROBUS_ENDPOINT": "https://x.example.com"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration.from_env()
    assert sorted(ei.value.keys) == ["retry_max_attempts", "table_name"], str(ei.value)
    assert '"abc" is not an integer' in str(ei.value)
    assert "\"bad name\" has ' '" in str(ei.value)


def test_from_yaml_reports_the_files_other_values_too(tmp_path: Path) -> None:
    p = tmp_path / "typo.yaml"
    p.write_text("endpoint: https://x.example.com\ntable_name: bad name\nretry_max_attemps: 3\n")
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration.from_yaml(str(p))
    text = str(ei.value)
    assert 'line 3: unknown key; did you mean "retry_max_attempts"?' in text, text
    assert "line 2: \"bad name\" has ' '" in text, text
    # A key the file leaves out is not reported missing (code may still set it).
    assert "client_id" not in text
