"""The Python settings and error kinds agree with the Go core's tables.

``WrapperConfiguration`` keeps an explicit keyword signature (for typing and
docs); these tests fail when a keyword, a type, a default or a secret flag
differs from ``core.Settings`` or an error kind from ``core.ErrorKinds``.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import pytest

from zerobus_py import WrapperConfiguration, _bridge
from zerobus_py import _config as config_mod
from zerobus_py import _errors as errors_mod

# The ObservabilityConfig fields and the Go keys they set.
_OBS_PARAMS = {
    "endpoint": "otlp_endpoint",
    "protocol": "otlp_protocol",
    "output_dir": "observability_output_dir",
    "interval_secs": "observability_interval_secs",
    "log_level": "log_level",
    "log_file": "log_file",
    "max_file_mb": "observability_max_file_mb",
    "max_backups": "observability_max_backups",
}
_PY_TYPE = {"string": str, "bool": bool, "int": int, "duration": int, "size": int}


def mismatches(table: list[dict[str, Any]]) -> list[str]:
    """Every difference between the Python configuration classes and ``table``."""
    go = {row["key"]: row for row in table}
    out: list[str] = []
    params = inspect.signature(WrapperConfiguration.__init__).parameters
    keywords = {name for name in params if name not in ("self", "observability_config")}
    obs_keys = set(_OBS_PARAMS.values())
    for name in sorted(keywords - set(go)):
        out.append(f"keyword {name}: not a Go setting")
    for key in sorted(set(go) - keywords - obs_keys):
        out.append(f"Go setting {key}: no WrapperConfiguration keyword")
    for key in sorted(obs_keys - set(go)):
        out.append(f"ObservabilityConfig key {key}: not a Go setting")
    obs_params = set(inspect.signature(config_mod.ObservabilityConfig).parameters)
    if obs_params != set(_OBS_PARAMS):
        out.append(f"ObservabilityConfig fields {sorted(obs_params)} != {sorted(_OBS_PARAMS)}")
    fields = {attr: (key, typ) for attr, key, typ in config_mod._FIELDS}
    for attr, (key, typ) in fields.items():
        if attr != key:
            out.append(f"_FIELDS {attr}: maps to {key}, not its own name")
        row = go.get(key)
        if row is None:
            out.append(f"_FIELDS {attr}: not a Go setting")
            continue
        want = _PY_TYPE[row["type"]]
        first = typ[0] if isinstance(typ, tuple) else typ
        if first is not want:
            out.append(f"{attr}: Python type {first.__name__}, Go type {row['type']}")
    obs_fields = {attr: (key, typ) for attr, key, typ in config_mod._OBS_FIELDS}
    if {attr: key for attr, (key, _) in obs_fields.items()} != _OBS_PARAMS:
        out.append(f"_OBS_FIELDS {sorted(obs_fields)} do not map the ObservabilityConfig fields to {_OBS_PARAMS}")
    for attr, (key, typ) in obs_fields.items():
        first = typ[0] if isinstance(typ, tuple) else typ
        if key in go and first is not _PY_TYPE[go[key]["type"]]:
            out.append(f"ObservabilityConfig.{attr}: Python type {first.__name__}, Go type {go[key]['type']}")
    if set(fields) | obs_keys != set(go):
        out.append(f"_FIELDS + observability keys != Go keys: {sorted(set(go) ^ (set(fields) | obs_keys))}")
    for name in sorted(keywords & set(go)):
        default = params[name].default
        if default is None:  # "the Go core's default"
            continue
        if default != go[name]["default"] or type(default) is not type(go[name]["default"]):
            out.append(f"{name}: Python default {default!r}, Go default {go[name]['default']!r}")
    secrets = {key for key, row in go.items() if row["secret"]}
    if set(config_mod._SECRETS) != secrets:
        out.append(f"secret keys: Python {sorted(config_mod._SECRETS)}, Go {sorted(secrets)}")
    return out


@pytest.fixture(scope="module")
def table() -> list[dict[str, Any]]:
    return config_mod.go_settings()


def test_python_matches_go_settings_table(table: list[dict[str, Any]]) -> None:
    assert len(table) >= 36
    assert {"transport", "client_secret", "retry_base_delay_ms"} <= {row["key"] for row in table}
    assert mismatches(table) == []


def test_check_detects_drift(table: list[dict[str, Any]]) -> None:
    """The check fails on a renamed key, a changed default, a changed secret flag and an observability type."""
    drift = json.loads(json.dumps(table))
    for row in drift:
        if row["key"] == "table_name":
            row["key"] = "table"
        elif row["key"] == "retry_max_attempts":
            row["default"] = 7
        elif row["key"] == "client_id":
            row["secret"] = True
        elif row["key"] == "observability_max_backups":
            row["type"] = "string"
    found = "\n".join(mismatches(drift))
    assert "keyword table_name: not a Go setting" in found
    assert "Go setting table: no WrapperConfiguration keyword" in found
    assert "retry_max_attempts: Python default 5, Go default 7" in found
    assert "secret keys" in found and "client_id" in found
    assert "ObservabilityConfig.max_backups: Python type int, Go type string" in found


def test_defaults_reach_go_unchanged(table: list[dict[str, Any]]) -> None:
    """An empty environment sets no key (the Go loader returns only the keys set), and the values a default
    WrapperConfiguration spells out are Go's defaults."""
    assert json.loads(_bridge.call(_bridge.native.ConfigFromEnv, json.dumps({}))) == {}
    defaults = {row["key"]: row["default"] for row in table}
    explicit = WrapperConfiguration().to_settings()
    assert explicit
    for key, value in explicit.items():
        assert value == defaults[key], key


def test_settings_errors_name_python_keywords(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(errors_mod.ConfigurationError) as ei:
        WrapperConfiguration(table_name="bad name", retry_max_attempts=-2).validate()
    msg = str(ei.value)
    assert "table_name (env ZEROBUS_TABLE_NAME when loading from the environment): " in msg
    assert "TableName" not in msg


def test_error_kinds_match_go() -> None:
    kinds = json.loads(_bridge.call(_bridge.native.ErrorKinds))
    go = {k["kind"] for k in kinds}
    assert go - {"unknown"} == set(errors_mod._BY_KIND)
    assert {k["kind"] for k in kinds if k["fatal"]} == {
        "authentication",
        "configuration",
        "token_refresh",
        "connection",
        "retry_exhausted",
        "closed",
        "canceled",
    }


def test_every_url_setting_of_the_go_table_is_printed_without_its_password() -> None:
    # the Python list of URL keys was a copy of Config.String's: a URL setting added in Go would have
    # printed its password from Python; now it is the table's "url" flag
    table = json.loads(_bridge.call(_bridge.native.SettingsTable))
    url_keys = {row["key"] for row in table if row["url"]}
    assert url_keys >= {"endpoint", "unity_catalog_url", "proxy_url", "otlp_endpoint"}, url_keys
    obs_key = {v: k for k, v in _OBS_PARAMS.items()}
    for key in sorted(url_keys):
        value = f"https://user:pw-{key}@h.example.com:1"
        if key in obs_key:
            cfg = WrapperConfiguration(
                "https://1.zerobus.x.cloud.databricks.com", "a.b.c", observability_config={obs_key[key]: value}
            )
        else:
            base = {"endpoint": "https://1.zerobus.x.cloud.databricks.com", "table_name": "a.b.c"}
            cfg = WrapperConfiguration(**{**base, key: value})
        for shown in (repr(cfg), str(cfg), json.dumps(cfg.to_settings())):
            assert f"pw-{key}" not in shown and "h.example.com" in shown, (key, shown)
