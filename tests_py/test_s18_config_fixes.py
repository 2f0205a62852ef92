"""Session 18 configuration fixes (s18 review-config): secrets in URL parse errors (H1), Spark options over a bad
environment (M1), YAML's second document (M2), one rule for unused export settings (M4)."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest

from zerobus_py import ConfigurationError, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer

_PW_A, _PW_B = "SEKRETa1", "SEKRETb2"
_SEPARATORS = ["/", "#", "?", "%zz", " "]
_ENV = {
    "endpoint": "ZEROBUS_ENDPOINT",
    "unity_catalog_url": "UNITY_CATALOG_URL",
    "proxy_url": "ZEROBUS_PROXY_URL",
    "otlp_endpoint": "OTLP_ENDPOINT",
}


def _bad_url(sep: str) -> str:
    return f"http://bob:{_PW_A}{sep}{_PW_B}@127.0.0.1:3128"


def _assert_hidden(err: BaseException) -> None:
    """No part of the password in the message, the repr, the details or the formatted traceback."""
    assert isinstance(err, ConfigurationError), repr(err)
    texts = [
        str(err),
        repr(err),
        err.message,
        json.dumps(err.details, default=str),
        "".join(traceback.format_exception(err)),
    ]
    for text in texts:
        assert "SEKRET" not in text, text
    assert "is not a valid URL" in err.message, err.message


def _settings(key: str, url: str) -> dict[str, Any]:
    base: dict[str, Any] = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1"}
    if key == "otlp_endpoint":
        return {**base, "observability_enabled": True, "observability_config": {"endpoint": url}}
    return {**base, key: url}


@pytest.mark.parametrize("sep", _SEPARATORS)
@pytest.mark.parametrize("key", list(_ENV))
def test_url_errors_never_show_the_password(
    key: str, sep: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H1: url.Parse's reason quoted part of a password holding / # ? %zz or a space (``invalid port ":hunter2"
    after host``), in the message and in ``details["message"]``. Every URL key, through validate(), the wrapper,
    from_yaml and from_env, is refused without any part of it."""
    url = _bad_url(sep)
    cfg = WrapperConfiguration(**_settings(key, url))
    with pytest.raises(ConfigurationError) as info:
        cfg.validate()
    _assert_hidden(info.value)
    with pytest.raises(ConfigurationError) as info:
        ZerobusWrapper(cfg)
    _assert_hidden(info.value)

    path = tmp_path / "c.yaml"
    lines = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1", key: url}
    if key == "otlp_endpoint":
        lines["observability_enabled"] = "true"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in lines.items()))
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration.from_yaml(path).validate()
    _assert_hidden(info.value)

    for name in [*_ENV.values(), "ZEROBUS_TABLE_NAME", "OTLP_ENABLED"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "main.default.t")
    monkeypatch.setenv("ZEROBUS_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTLP_ENABLED", "true")
    monkeypatch.setenv(_ENV[key], url)
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration.from_env().validate()
    _assert_hidden(info.value)


@pytest.mark.parametrize("sep", _SEPARATORS)
@pytest.mark.parametrize("key", ["endpoint", "unity_catalog_url", "proxy_url"])
def test_url_errors_never_show_the_password_spark(key: str, sep: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """H1 through the Spark data source's driver check (the options' path)."""
    pytest.importorskip("pyspark")
    from pyspark.sql.types import LongType, StructField, StructType

    from zerobus_py.spark import ZerobusDataSource

    for name in [*_ENV.values(), "ZEROBUS_TABLE_NAME", "OTLP_ENABLED"]:
        monkeypatch.delenv(name, raising=False)
    options = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1", key: _bad_url(sep)}
    schema = StructType([StructField("id", LongType())])
    with pytest.raises(ConfigurationError) as info:
        ZerobusDataSource(options).writer(schema, False)
    _assert_hidden(info.value)


def test_percent_encoded_password_is_accepted(server: LocalServer) -> None:
    """The same password percent-encoded is a valid proxy_url: only invalid URL syntax is refused."""
    cfg = server.config("main.default.s18_pw", proxy_url=f"http://bob:{_PW_A}%2F%23%3F%25zz%20{_PW_B}@127.0.0.1:3128")
    cfg.validate()


def _spark_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["ZEROBUS_TABLE_NAME", "ZEROBUS_ENDPOINT", "RETRY_MAX_ATTEMPTS", "OTLP_ENABLED", "DEBUG_ENABLED"]:
        monkeypatch.delenv(name, raising=False)


def test_spark_option_overrides_a_bad_environment_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """M1: the whole environment was parsed before the options applied, so RETRY_MAX_ATTEMPTS=lots failed the
    write even with the option retry_max_attempts given (or given as "" to unset it). The option's key's
    variables are not read; a bad variable the options leave in use is still reported, naming the option that
    would override it."""
    pytest.importorskip("pyspark")
    from zerobus_py.spark import _config_from_options

    _spark_env(monkeypatch)
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "lots")
    base = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1"}
    assert _config_from_options({**base, "retry_max_attempts": "3"}).retry_max_attempts == 3
    assert _config_from_options({**base, "retry_max_attempts": ""}).retry_max_attempts == 5  # the default
    with pytest.raises(ConfigurationError) as info:
        _config_from_options(base)
    text = info.value.message
    assert "RETRY_MAX_ATTEMPTS" in text and '"lots" is not an integer' in text, text
    assert "environment of the Python worker that Spark's driver started to plan the write" in text, text
    assert "option of the same key" in text, text
    assert info.value.keys == ["retry_max_attempts"]
    # an unrelated bad variable (OTLP_ENABLED=perhaps): overridden by its option too
    monkeypatch.delenv("RETRY_MAX_ATTEMPTS")
    monkeypatch.setenv("OTLP_ENABLED", "perhaps")
    assert _config_from_options({**base, "observability_enabled": "false"}).observability_enabled is False
    with pytest.raises(ConfigurationError, match="OTLP_ENABLED"):
        _config_from_options(base)
    # a fallback variable of a key (DATABRICKS_HOST for unity_catalog_url) is overridden as well
    monkeypatch.delenv("OTLP_ENABLED")
    monkeypatch.setenv("DATABRICKS_HOST", "http://bad host")
    monkeypatch.delenv("UNITY_CATALOG_URL", raising=False)
    cfg = _config_from_options({**base, "unity_catalog_url": "http://127.0.0.1:2"})
    assert cfg.unity_catalog_url == "http://127.0.0.1:2"


def test_spark_option_parse_error_names_no_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """L2: a problem of an option's value found while parsing said "(env DEBUG_ENABLED when loading from the
    environment)", a variable the user never set; it names the option's key alone."""
    pytest.importorskip("pyspark")
    from zerobus_py.spark import _config_from_options

    _spark_env(monkeypatch)
    base = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1"}
    for option, value, want in [("debug_enabled", "sure", '"sure" is not a boolean'), ("ack_timeout_ms", "0", "0")]:
        with pytest.raises(ConfigurationError) as info:
            _config_from_options({**base, option: value})
        text = info.value.message
        assert text.startswith("zerobus: in the zerobus data source options:"), text
        assert option in text and want in text, text
        assert "env " not in text and "when loading from the environment" not in text, text
        assert info.value.details["message"] == text


def test_yaml_second_document_refused(tmp_path: Path) -> None:
    """M2: everything after "---" was dropped (retry_max_attempts stayed 5, a bogus key was accepted)."""
    path = tmp_path / "multi.yaml"
    path.write_text("table_name: main.default.t\n---\nretry_max_attempts: 0\nbogus_key: 1\n")
    with pytest.raises(ConfigurationError, match=r"line 2: a second YAML document"):
        WrapperConfiguration.from_yaml(path)
    path.write_text("---\ntable_name: main.default.t\nretry_max_attempts: 3\n---\n")
    assert WrapperConfiguration.from_yaml(path).retry_max_attempts == 3


def test_invalid_unused_export_setting_is_an_error(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M4: with observability off, Python dropped a bad otlp_protocol (or a negative interval) with a warning where
    Go, the CLI and zerobus local refuse it. One rule now: an invalid value is an error, a valid unused one a
    warning."""
    path = tmp_path / "o.yaml"
    path.write_text("table_name: main.default.t\notlp_protocol: carrier-pigeon\n")
    cfg = WrapperConfiguration.from_yaml(path)
    with pytest.raises(ConfigurationError) as info:
        ZerobusWrapper(
            cfg.copy(
                endpoint=server.endpoint,
                client_id=server.client_id,
                client_secret=server.client_secret,
                unity_catalog_url=server.workspace_url,
            )
        )
    assert info.value.keys == ["otlp_protocol"] and "carrier-pigeon" in info.value.message
    for name in ["OTLP_ENABLED", "OTLP_PROTOCOL", "OTLP_INTERVAL_SECS", "ZEROBUS_TABLE_NAME", "ZEROBUS_ENDPOINT"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "main.default.t")
    monkeypatch.setenv("ZEROBUS_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTLP_PROTOCOL", "bogus")
    monkeypatch.setenv("OTLP_INTERVAL_SECS", "-5")
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration.from_env().validate()
    assert sorted(info.value.keys) == ["observability_interval_secs", "otlp_protocol"], info.value.message
    # valid but unused: a warning, no error
    monkeypatch.setenv("OTLP_PROTOCOL", "http")
    monkeypatch.setenv("OTLP_INTERVAL_SECS", "5")
    with pytest.warns(UserWarning, match="otlp_protocol and observability_interval_secs"):
        WrapperConfiguration.from_env().validate()


def test_observability_keys_are_keywords(server: LocalServer, tmp_path: Path) -> None:
    """M3: log_level and the other 7 observability YAML keys were not keywords, so
    ``WrapperConfiguration(**yaml.safe_load(f))`` failed with ``unexpected keyword argument 'log_level'`` and no
    pointer. They are keywords now, folded into observability_config (the keys Go's settings table gives)."""
    log = tmp_path / "z.log"
    out = tmp_path / "otel"
    flat = {
        "log_level": "debug",
        "log_file": str(log),
        "otlp_endpoint": "http://127.0.0.1:4317",
        "otlp_protocol": "http",
        "observability_output_dir": str(out),
        "observability_interval_secs": 7,
        "observability_max_file_mb": 3,
        "observability_max_backups": 2,
    }
    yaml_text = "".join(f"{k}: {json.dumps(v)}\n" for k, v in {"table_name": "main.default.t", **flat}.items())
    path = tmp_path / "z.yaml"
    path.write_text(yaml_text)
    from_yaml = WrapperConfiguration.from_yaml(path)
    cfg = WrapperConfiguration(table_name="main.default.t", **flat)
    assert cfg.to_settings() == from_yaml.to_settings()
    assert {k: cfg.to_settings()[k] for k in flat} == flat
    # the round trip of to_settings, and the dict and dataclass forms merged with the keywords
    assert WrapperConfiguration(**cfg.to_settings()).to_settings() == cfg.to_settings()
    merged = WrapperConfiguration(table_name="t", log_level="warn", observability_config={"output_dir": str(out)})
    assert merged.to_settings()["log_level"] == "warn"
    assert merged.to_settings()["observability_output_dir"] == str(out)
    from zerobus_py import ObservabilityConfig

    merged = WrapperConfiguration(
        table_name="t", log_level="warn", observability_config=ObservabilityConfig(max_backups=3)
    )
    assert isinstance(merged.observability_config, ObservabilityConfig)
    assert (merged.observability_config.log_level, merged.observability_config.max_backups) == ("warn", 3)
    # given both ways: refused, naming it
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration(table_name="t", log_level="warn", observability_config={"log_level": "debug"})
    assert info.value.keys == ["log_level"] and "both as a keyword and in observability_config" in str(info.value)
    # a wrong type is refused naming the key
    with pytest.raises(ConfigurationError, match="observability_max_backups"):
        WrapperConfiguration(table_name="t", observability_max_backups="many")
    # through ZerobusWrapper's keywords: Go's records reach the log file at debug
    with ZerobusWrapper(
        endpoint=server.endpoint,
        table_name="main.default.s18_kw",
        client_id=server.client_id,
        client_secret=server.client_secret,
        unity_catalog_url=server.workspace_url,
        log_level="debug",
        log_file=str(log),
    ) as w:
        import pyarrow as pa

        assert w.send_batch(pa.table({"id": pa.array([1, 2], pa.int64())})).successful_count == 2
    assert server.record_count("main.default.s18_kw") == 2
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(rec.get("level") == "DEBUG" for rec in lines), lines[:3]
    # the OTLP endpoint keyword's password is hidden like proxy_url's
    cfg = WrapperConfiguration(table_name="t", otlp_endpoint="http://u:SEKRETpw@127.0.0.1:4317")
    assert "SEKRET" not in repr(cfg) and "SEKRET" not in repr(vars(cfg))


def test_copy_changes_an_observability_key_of_the_copied_config() -> None:
    """s18 review diffb L1: ``copy(log_level=...)`` of a configuration whose observability_config set log_level
    was refused as "given both as a keyword and in observability_config"; it changes that field of the copy."""
    from zerobus_py import ObservabilityConfig, WrapperConfiguration

    base = WrapperConfiguration(
        endpoint="http://127.0.0.1:1",
        table_name="main.default.t",
        observability_config=ObservabilityConfig(log_level="debug", max_backups=3),
    )
    c = base.copy(log_level="info")
    assert c.observability_config is not None and base.observability_config is not None
    assert c.observability_config.log_level == "info" and c.observability_config.max_backups == 3
    assert base.observability_config.log_level == "debug"  # the original is unchanged
    assert base.copy().observability_config == base.observability_config
