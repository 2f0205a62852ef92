"""WrapperConfiguration: keywords, validation (Go rules), YAML and environment loading."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from conftest import id_batch

import zerobus_py._bridge
from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration, ZerobusWrapper, debug
from zerobus_py._config import go_settings
from zerobus_py.local import LocalServer


def test_defaults_match_the_original_api() -> None:
    cfg = WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c")
    assert cfg.debug_flush_interval_secs == 5
    assert cfg.debug_max_files_retained == 10
    assert (cfg.retry_max_attempts, cfg.retry_base_delay_ms, cfg.retry_max_delay_ms) == (5, 100, 30000)
    assert cfg.zerobus_writer_disabled is False and cfg.debug_enabled is False
    assert cfg.client_secret is None


def test_validate_reports_every_problem() -> None:
    kw: dict[str, Any] = dict(
        client_id="id",
        client_secret="sec",
        unity_catalog_url="https://w.cloud.databricks.com",
        retry_base_delay_ms=500,
        retry_max_delay_ms=100,
        debug_enabled=True,
    )
    with pytest.raises(ConfigurationError) as ei:  # debug output without a directory: raised at construction
        WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c.d", **kw)
    # that problem alone, as the original did: the others wait for validate() (s14 review-config 2)
    assert str(ei.value) == (
        "zerobus: invalid configuration: debug_output_dir (env DEBUG_OUTPUT_DIR when loading from the environment): is "
        "required when debug output is "
        "enabled: a writable directory"
    )
    assert ei.value.keys == ["debug_output_dir"]
    cfg = WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "a.b.c.d", **kw, debug_output_dir="d")
    cfg.debug_output_dir = None
    with pytest.raises(ConfigurationError) as ei:
        cfg.validate()
    msg = str(ei.value)
    assert "3 problems" in msg
    # each problem is named by its Python keyword (= YAML key) and env variable, never the Go field
    # (a configuration built in code: the variable is where the setting can be given, not what was read)
    assert "table_name (env ZEROBUS_TABLE_NAME when loading from the environment)" in msg
    assert "retry_max_delay_ms (env RETRY_MAX_DELAY_MS when loading from the environment)" in msg
    assert "debug_output_dir (env DEBUG_OUTPUT_DIR when loading from the environment)" in msg
    assert "TableName" not in msg and "DebugOutputDir" not in msg


def test_valid_config_passes(server: LocalServer) -> None:
    server.config("a.b.c").validate()
    WrapperConfiguration(
        None, "a.b.c", zerobus_writer_disabled=True, debug_protobuf_enabled=True, debug_output_dir="dbg"
    ).validate()


def test_from_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LocalServer, table_name: str) -> None:
    monkeypatch.setenv("ZB_TEST_SECRET", server.client_secret)
    path = tmp_path / "zerobus.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "endpoint": server.endpoint,
                "table_name": table_name,
                "unity_catalog_url": server.workspace_url,
                "client_id": server.client_id,
                "client_secret": "${ZB_TEST_SECRET}",
                "retry_max_attempts": 7,
                "retry_base_delay_ms": 20,
                "debug_flush_interval_secs": 2,
                "otlp_endpoint": "http://127.0.0.1:4317",
                "max_inflight_requests": 50,
            }
        )
    )
    cfg = WrapperConfiguration.from_yaml(path)
    assert cfg.endpoint == server.endpoint and cfg.table_name == table_name
    assert cfg.retry_max_attempts == 7 and cfg.retry_base_delay_ms == 20 and cfg.retry_max_delay_ms == 30000
    assert cfg.debug_flush_interval_secs == 2 and cfg.max_inflight_requests == 50
    assert isinstance(cfg.observability_config, ObservabilityConfig)
    assert cfg.observability_config.endpoint == "http://127.0.0.1:4317"
    assert cfg.client_secret == "<redacted>"
    assert server.client_secret not in repr(cfg)
    # the ${ENV} secret was expanded by the Go loader and works
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(id_batch(0, 3)).success
    assert server.record_count(table_name) == 3


def test_from_yaml_errors_name_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("endpoint: http://127.0.0.1:1\ntable_nmae: a.b.c\nretry_max_attempts: many\n")
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration.from_yaml(path)
    msg = str(ei.value)
    assert str(path) in msg
    assert "table_nmae" in msg and 'did you mean "table_name"' in msg
    assert "retry_max_attempts" in msg and "many" in msg
    # named by key, as Python's keywords (it said "RetryMaxAttempts (yaml retry_max_attempts, ...)"), and not by
    # an environment variable the file does not read
    assert "RetryMaxAttempts" not in msg and "retry_max_attempts: line 3" in msg and "env " not in msg, msg
    with pytest.raises(ConfigurationError, match="cannot read"):
        WrapperConfiguration.from_yaml(tmp_path / "missing.yaml")


def test_from_env(monkeypatch: pytest.MonkeyPatch, server: LocalServer, table_name: str) -> None:
    env = {
        "ZEROBUS_ENDPOINT": server.endpoint,
        "ZEROBUS_TABLE_NAME": table_name,
        "UNITY_CATALOG_URL": server.workspace_url,
        "ZEROBUS_CLIENT_ID": server.client_id,
        "ZEROBUS_CLIENT_SECRET": server.client_secret,
        "RETRY_MAX_ATTEMPTS": "3",
        "DEBUG_MAX_FILES_RETAINED": "4",
        "ZEROBUS_WRITER_DISABLED": "false",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cfg = WrapperConfiguration.from_env()
    assert cfg.table_name == table_name and cfg.retry_max_attempts == 3 and cfg.debug_max_files_retained == 4
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(id_batch(0, 2)).success
    assert server.record_count(table_name) == 2


def test_from_env_fallbacks_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("ZEROBUS_CLIENT_ID", "ZEROBUS_CLIENT_SECRET", "UNITY_CATALOG_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", "https://w.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "fallback-id")
    cfg = WrapperConfiguration.from_env()
    assert cfg.unity_catalog_url == "https://w.cloud.databricks.com" and cfg.client_id == "fallback-id"
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "lots")
    monkeypatch.setenv("DEBUG_ENABLED", "perhaps")
    with pytest.raises(ConfigurationError) as ei:
        WrapperConfiguration.from_env()
    assert "RETRY_MAX_ATTEMPTS" in str(ei.value) and "DEBUG_ENABLED" in str(ei.value)
    assert "RetryMaxAttempts" not in str(ei.value) and "DebugEnabled" not in str(ei.value), str(ei.value)
    assert "retry_max_attempts (env RETRY_MAX_ATTEMPTS)" in str(ei.value), str(ei.value)


def test_secret_with_dollar_brace_is_literal(server: LocalServer, table_name: str) -> None:
    # "${" in a value given in code is not an environment reference
    cfg = server.config(table_name, client_secret="a${NOT_A_VAR}b")
    cfg.validate()
    assert cfg.to_settings(include_secret=True)["client_secret"] == "a${NOT_A_VAR}b"


def test_observability_config_dict_and_copy() -> None:
    cfg = WrapperConfiguration(
        None,
        "a.b.c",
        zerobus_writer_disabled=True,
        debug_enabled=True,
        debug_output_dir="dbg",
        observability_enabled=True,
        observability_config={"endpoint": "http://127.0.0.1:4318", "protocol": "http"},
    )
    s = cfg.to_settings()
    assert s["otlp_endpoint"] == "http://127.0.0.1:4318" and s["otlp_protocol"] == "http"
    cfg.validate()
    other = cfg.copy(table_name="x.y.z")
    assert other.table_name == "x.y.z" and other.observability_config == cfg.observability_config
    assert other != cfg and cfg.copy() == cfg
    # an unknown key of a dict is skipped with a warning naming it (the original ignored it silently)
    with pytest.warns(UserWarning, match="ignoring unknown key 'endpiont'"):
        settings = WrapperConfiguration(None, "a.b.c", observability_config={"endpiont": "x"}).to_settings()
    assert "otlp_endpoint" not in settings and "endpiont" not in settings


PROXY_PASSWORD = "pr0xy-Passw0rd-55"


def test_proxy_url_round_trips_and_hides_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZB_TEST_PROXY_PW", PROXY_PASSWORD)
    path = tmp_path / "zerobus.yaml"
    path.write_text("table_name: a.b.c\nproxy_url: http://proxy-user:${ZB_TEST_PROXY_PW}@127.0.0.1:3128\n")
    from_yaml = WrapperConfiguration.from_yaml(path)
    monkeypatch.setenv("ZEROBUS_PROXY_URL", f"https://proxy-user:{PROXY_PASSWORD}@proxy.example.com:8443")
    from_env = WrapperConfiguration.from_env()
    given = WrapperConfiguration(
        "http://127.0.0.1:1",
        "a.b.c",
        client_id="id",
        client_secret="sec",
        unity_catalog_url="http://127.0.0.1:2",
        proxy_url=f"http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:3128",
    )
    given.validate()  # user:password is allowed in a proxy URL
    for cfg, want in (
        (from_yaml, f"http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:3128"),
        (from_env, f"https://proxy-user:{PROXY_PASSWORD}@proxy.example.com:8443"),
        (given, f"http://proxy-user:{PROXY_PASSWORD}@127.0.0.1:3128"),
    ):
        # the full value reaches the Go core, and survives copy()
        assert cfg.to_settings(include_secret=True)["proxy_url"] == want
        assert cfg.copy().to_settings(include_secret=True)["proxy_url"] == want
        shown = want.replace(f"proxy-user:{PROXY_PASSWORD}", "<redacted>")
        assert cfg.proxy_url == shown
        assert cfg.to_settings()["proxy_url"] == shown
        assert f"proxy_url={shown!r}" in repr(cfg)
        for text in (repr(cfg), str(cfg), f"{cfg}", str(cfg.to_settings()), str(cfg.proxy_url)):
            assert PROXY_PASSWORD not in text and "proxy-user" not in text
    # unset means the environment's proxies (None), not an empty string
    assert WrapperConfiguration(None, "a.b.c").proxy_url is None


def test_proxy_url_errors_name_the_setting_not_the_password() -> None:
    bad = WrapperConfiguration(
        "http://127.0.0.1:1",
        "a.b.c",
        client_id="id",
        client_secret="sec",
        unity_catalog_url="http://127.0.0.1:2",
        proxy_url=f"socks5://proxy-user:{PROXY_PASSWORD}@127.0.0.1:1080",
    )
    with pytest.raises(ConfigurationError) as ei:
        bad.validate()
    msg = str(ei.value)
    assert "proxy_url (env ZEROBUS_PROXY_URL when loading from the environment)" in msg and "http:// or https://" in msg
    assert PROXY_PASSWORD not in msg and PROXY_PASSWORD not in repr(bad)
    # a value of the wrong type is named but not echoed
    odd_url = f"http://u:{PROXY_PASSWORD}@h".encode()
    with pytest.raises(ConfigurationError) as ci:  # at construction, as the original's typed constructor
        WrapperConfiguration(None, "a.b.c", proxy_url=odd_url)  # type: ignore[arg-type]
    assert "proxy_url" in str(ci.value) and PROXY_PASSWORD not in str(ci.value)
    odd = WrapperConfiguration(None, "a.b.c")
    odd.proxy_url = odd_url  # type: ignore[assignment]  # assigned later: refused when used
    with pytest.raises(ConfigurationError) as ti:
        odd.validate()
    assert "proxy_url" in str(ti.value) and PROXY_PASSWORD not in str(ti.value)
    assert PROXY_PASSWORD not in repr(odd)


def test_debug_arrow_compression_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # default: not set, so the Go core's default (no compression)
    assert WrapperConfiguration(None, "a.b.c").debug_arrow_compression is None
    assert "debug_arrow_compression" not in WrapperConfiguration(None, "a.b.c").to_settings()
    given = WrapperConfiguration(
        None,
        "a.b.c",
        zerobus_writer_disabled=True,
        debug_arrow_enabled=True,
        debug_output_dir=str(tmp_path),
        debug_arrow_compression="zstd",
    )
    assert given.to_settings()["debug_arrow_compression"] == "zstd"
    assert given.copy().debug_arrow_compression == "zstd"
    given.validate()
    path = tmp_path / "zerobus.yaml"
    path.write_text("table_name: a.b.c\ndebug_arrow_compression: ${ZB_TEST_CODEC}\n")
    monkeypatch.setenv("ZB_TEST_CODEC", "zstd")
    from_yaml = WrapperConfiguration.from_yaml(path)
    assert from_yaml.debug_arrow_compression == "zstd"
    monkeypatch.setenv("DEBUG_ARROW_COMPRESSION", "lz4")
    assert WrapperConfiguration.from_env().debug_arrow_compression == "lz4"
    with pytest.raises(ConfigurationError) as ei:
        given.copy(debug_arrow_compression="gzip").validate()
    msg = str(ei.value)
    assert "debug_arrow_compression (env DEBUG_ARROW_COMPRESSION when loading from the environment)" in msg
    assert '"gzip"' in msg and '"zstd"' in msg and '"lz4"' in msg
    with pytest.raises(ConfigurationError, match="debug_arrow_compression"):
        WrapperConfiguration(None, "a.b.c", debug_arrow_compression=1).validate()  # type: ignore[arg-type]


def test_repr_shows_debug_switches_without_contradiction(tmp_path: Path) -> None:
    on = WrapperConfiguration("http://127.0.0.1:1", "main.a.b", debug_enabled=True, debug_output_dir=str(tmp_path))
    assert "debug_enabled=True" in repr(on) and "debug_arrow_enabled" not in repr(on)
    arrow = WrapperConfiguration(
        "http://127.0.0.1:1", "main.a.b", debug_arrow_enabled=True, debug_output_dir=str(tmp_path)
    )
    assert "debug_arrow_enabled=True" in repr(arrow) and "debug_protobuf_enabled" not in repr(arrow)
    # an explicit False is shown as given (it decides: no debug files here; the html row says "off")
    off = on.copy(debug_protobuf_enabled=False)
    assert "debug_enabled=True" in repr(off) and "debug_protobuf_enabled=False" in repr(off)
    assert "debug_arrow_enabled" not in repr(off)


def test_reprs_display_the_go_cores_debug_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which debug files are written is the Go core's rule (core.Config.DebugKinds); the reprs only display it."""
    row = "debug files</th><td><code>{}</code>"
    for kw, want in [
        ({"debug_enabled": True}, "Arrow IPC + protobuf"),
        ({"debug_enabled": True, "debug_protobuf_enabled": True}, "protobuf"),
        ({"debug_arrow_enabled": True}, "Arrow IPC"),
        ({"debug_enabled": False}, "off"),
        ({"debug_enabled": True, "debug_protobuf_enabled": False}, "off"),
        ({"debug_enabled": True, "debug_arrow_enabled": False, "debug_protobuf_enabled": True}, "protobuf"),
    ]:
        cfg = WrapperConfiguration("http://127.0.0.1:1", "main.a.b", debug_output_dir=str(tmp_path), **kw)
        assert row.format(want) in cfg._repr_html_(), kw

    real = zerobus_py._bridge.native

    class GoSays:
        @staticmethod
        def DebugKinds(config_json: str) -> str:
            assert json.loads(config_json)["debug_enabled"] is True
            return '["protobuf"]'

        def __getattr__(self, name: str) -> object:  # everything else: the real Go core
            return getattr(real, name)

    monkeypatch.setattr(zerobus_py._bridge, "native", GoSays())
    on = WrapperConfiguration("http://127.0.0.1:1", "main.a.b", debug_enabled=True, debug_output_dir=str(tmp_path))
    assert row.format("protobuf") in on._repr_html_()


def test_code_yaml_and_env_give_the_same_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same settings from code, a YAML file and the environment are one configuration:
    # equal, with the same repr (a loaded file does not spell out the defaults it left unset).
    settings = {
        "endpoint": "https://1.zerobus.x.cloud.databricks.com",
        "table_name": "main.default.events",
        "client_id": "cid",
        "client_secret": "s3cret",
        "unity_catalog_url": "https://w.cloud.databricks.com",
        "retry_max_attempts": 7,
        "ack_timeout_ms": 4000,
        "debug_arrow_enabled": True,
        "debug_output_dir": str(tmp_path),
        "transport": "arrow_flight",
    }
    env = {
        "ZEROBUS_ENDPOINT": "https://1.zerobus.x.cloud.databricks.com",
        "ZEROBUS_TABLE_NAME": "main.default.events",
        "ZEROBUS_CLIENT_ID": "cid",
        "ZEROBUS_CLIENT_SECRET": "s3cret",
        "UNITY_CATALOG_URL": "https://w.cloud.databricks.com",
        "RETRY_MAX_ATTEMPTS": "7",
        "ZEROBUS_ACK_TIMEOUT_MS": "4000",
        "DEBUG_ARROW_ENABLED": "true",
        "DEBUG_OUTPUT_DIR": str(tmp_path),
        "ZEROBUS_TRANSPORT": "arrow_flight",
    }
    code = WrapperConfiguration(**settings)  # type: ignore[arg-type]
    path = tmp_path / "zerobus.yaml"
    path.write_text(yaml.safe_dump(settings))
    from_yaml = WrapperConfiguration.from_yaml(path)
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from_env = WrapperConfiguration.from_env()
    assert repr(from_yaml) == repr(code) == repr(from_env)
    assert from_yaml == code == from_env
    assert from_yaml.max_message_bytes is None  # the default, left unset
    assert from_yaml.retry_max_attempts == 7 and from_yaml.ack_timeout_ms == 4000


def test_from_yaml_and_env_keep_a_key_set_to_its_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Go loader says which keys are set: one set to its default value is set, the others are not.
    default = next(row["default"] for row in go_settings() if row["key"] == "retry_max_attempts")
    path = tmp_path / "zerobus.yaml"
    path.write_text(f"table_name: main.a.b\nretry_max_attempts: {default}\nendpoint: null\n")
    from_yaml = WrapperConfiguration.from_yaml(path)
    assert from_yaml.retry_max_attempts == default and from_yaml.table_name == "main.a.b"
    assert from_yaml.endpoint is None and from_yaml.max_message_bytes is None
    for key in list(os.environ):
        monkeypatch.delenv(key)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "main.a.b")
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", str(default))
    from_env = WrapperConfiguration.from_env()
    assert from_env == from_yaml
    assert f"retry_max_attempts={default!r}" in repr(from_env)


def test_zeros_the_original_accepted_keep_its_meaning(tmp_path: Path) -> None:
    # 0.8.1 accepted retry_base_delay_ms=0 / retry_max_delay_ms=0 (retry without waiting) and
    # debug_max_file_size=0 (rotate whenever the file is not empty); the explicit-zero rule refused all three.
    cfg = WrapperConfiguration(
        "http://127.0.0.1:1",
        "main.a.b",
        retry_base_delay_ms=0,
        retry_max_delay_ms=0,
        zerobus_writer_disabled=True,
        debug_arrow_enabled=True,
        debug_output_dir=str(tmp_path),
        debug_max_file_size=0,
        debug_max_files_retained=None,
    )
    cfg.validate()
    assert (cfg.retry_base_delay_ms, cfg.retry_max_delay_ms, cfg.debug_max_file_size) == (0, 0, 0)
    with ZerobusWrapper(cfg) as w:
        for i in range(3):
            w.send_batch(id_batch(10 * i, 2))
            w.flush()
    files = [p for p in debug.list_files(tmp_path) if p.suffix == ".arrow"]
    assert len(files) == 3, files  # one file per write (the 128 MiB default keeps them in one)
    # the original refused retry_max_delay_ms below retry_base_delay_ms: 0 with the default base still is
    with pytest.raises(ConfigurationError, match="retry_max_delay_ms"):
        WrapperConfiguration("https://1.zerobus.x.cloud.databricks.com", "events", retry_max_delay_ms=0).validate()
    # YAML and the environment give the same meaning (they go through SettingsOf, which gives 0 back)
    path = tmp_path / "zeros.yaml"
    path.write_text(
        "endpoint: https://1.zerobus.x.cloud.databricks.com\ntable_name: a.b.c\n"
        "retry_base_delay_ms: 0\nretry_max_delay_ms: 0\ndebug_max_file_size: 0\n"
    )
    y = WrapperConfiguration.from_yaml(str(path))
    y.validate()
    assert (y.retry_base_delay_ms, y.retry_max_delay_ms, y.debug_max_file_size) == (0, 0, 0)


def test_debug_max_files_retained_zero_keeps_no_rotated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.8.1 accepted debug_max_files_retained=0: each rotation deleted every rotated file (its cleanup kept the
    # newest 0), leaving only the file being written. It was refused here ("keep at least 1").
    cfg = WrapperConfiguration(
        "http://127.0.0.1:1",
        "main.a.b",
        zerobus_writer_disabled=True,
        debug_arrow_enabled=True,
        debug_output_dir=str(tmp_path),
        debug_max_files_retained=0,
    )
    cfg.validate()
    assert cfg.debug_max_files_retained == 0 and cfg.to_settings()["debug_max_files_retained"] == 0
    with ZerobusWrapper(cfg) as w:
        w.send_batch(id_batch(0, 2))
        w.flush()
        w.send_batch(pa.record_batch({"id": pa.array([7], pa.int64())}))  # another schema: the file rotates
        w.flush()
        w.send_batch(id_batch(10, 2))  # and again
    arrow_dir = tmp_path / "zerobus" / "arrow"
    assert sorted(p.name for p in arrow_dir.iterdir()) == ["main.a.b.arrow"]
    assert debug.read_file(arrow_dir / "main.a.b.arrow").column("id").to_pylist() == [10, 11]
    # YAML and the environment take 0 the same way
    path = tmp_path / "retain.yaml"
    path.write_text(
        "endpoint: https://1.zerobus.x.cloud.databricks.com\ntable_name: a.b.c\ndebug_max_files_retained: 0\n"
    )
    y = WrapperConfiguration.from_yaml(str(path))
    y.validate()
    assert y.debug_max_files_retained == 0
    for key in list(os.environ):
        monkeypatch.delenv(key)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "a.b.c")
    monkeypatch.setenv("DEBUG_MAX_FILES_RETAINED", "0")
    assert WrapperConfiguration.from_env().debug_max_files_retained == 0


@pytest.mark.parametrize(
    ("key", "value", "unit"),
    [
        ("debug_flush_interval_secs", "500ms", "seconds"),
        ("debug_flush_interval_secs", "1500ms", "seconds"),
        ("ack_timeout_ms", "500us", "milliseconds"),
    ],
)
def test_a_duration_below_the_keys_unit_is_refused_as_go_refuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str, unit: str
) -> None:
    # Go loaded 500ms for a _secs key, but from_yaml/from_env read it back through SettingsOf as 0 and
    # validate() said "0 is not accepted"; 1500ms was 1.5 s in Go and 1 s in Python.
    path = tmp_path / "c.yaml"
    path.write_text(f"endpoint: https://1.zerobus.x.cloud.databricks.com\ntable_name: a.b.c\n{key}: {value}\n")
    with pytest.raises(ConfigurationError, match=f"{key}: .*not a whole number of {unit}") as ei:
        WrapperConfiguration.from_yaml(str(path))
    assert "0 is not accepted" not in str(ei.value)
    env = {"debug_flush_interval_secs": "DEBUG_FLUSH_INTERVAL_SECS", "ack_timeout_ms": "ZEROBUS_ACK_TIMEOUT_MS"}[key]
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=f"{key} .*not a whole number of {unit}"):
        WrapperConfiguration.from_env()
    # a whole number of the unit written as a duration loads, with the same value in Python
    path.write_text(f"endpoint: https://1.zerobus.x.cloud.databricks.com\ntable_name: a.b.c\n{key}: 2000ms\n")
    assert getattr(WrapperConfiguration.from_yaml(str(path)), key) == (2 if unit == "seconds" else 2000)


def test_wrapper_config_is_the_one_it_was_created_with(server: LocalServer, table_name: str) -> None:
    """``wrapper.config`` and ``repr(wrapper)`` say which settings the wrapper uses: a snapshot taken at creation
    (secret included), not the caller's object, which a loop reusing one config for the next table changes. Both
    read the live object: they named the next table while the wrapper wrote to its own."""
    from zerobus_py import AsyncZerobusWrapper

    cfg = server.config(table_name)
    other = table_name + "_other"
    w = ZerobusWrapper(cfg)
    aw = AsyncZerobusWrapper(cfg)
    try:
        cfg.table_name = other  # the caller reuses its config object for the next table
        cfg.observability_config = {"log_level": "error"}
        for shown in (w.config, aw.config):
            assert shown.table_name == table_name and shown.observability_config is None
            assert shown == server.config(table_name)  # the secret too (== compares it)
        assert f"table={table_name!r}" in repr(w) and f"table={table_name!r}" in repr(aw)
        w.config.table_name = other  # a copy: changing it changes nothing either
        assert w.config.table_name == table_name and f"table={table_name!r}" in repr(w)
        w.send_batch(id_batch(0, 2))
        assert server.record_count(table_name) == 2 and other not in server.tables()
    finally:
        w.shutdown()
        aw.sync.shutdown()
