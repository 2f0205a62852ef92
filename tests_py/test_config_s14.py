"""Session 14 configuration fixes (s14 review-config): settings that were accepted and then ignored, or refused
with the wrong problems."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import ConfigurationError, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_env_debug_switch_completed_by_spark_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DEBUG_ENABLED in the planner's environment without DEBUG_OUTPUT_DIR: the options may give the directory or
    turn debug output off (the environment and options were each built into a configuration, whose construction
    reported table_name and endpoint as missing and failed every write)."""
    pytest.importorskip("pyspark")
    from zerobus_py.spark import _config_from_options

    monkeypatch.setenv("DEBUG_ENABLED", "true")
    monkeypatch.delenv("DEBUG_OUTPUT_DIR", raising=False)
    base = {"table_name": "main.default.t", "endpoint": "http://127.0.0.1:9"}
    cfg = _config_from_options({**base, "debug_output_dir": str(tmp_path)})
    assert (cfg.debug_enabled, cfg.debug_output_dir, cfg.table_name) == (True, str(tmp_path), "main.default.t")
    assert _config_from_options({**base, "debug_enabled": "false"}).debug_enabled is False
    assert _config_from_options({**base, "debug_enabled": ""}).debug_enabled is False
    # the other way round: the directory from the environment, the switch from the options
    monkeypatch.delenv("DEBUG_ENABLED")
    monkeypatch.setenv("DEBUG_OUTPUT_DIR", str(tmp_path))
    cfg = _config_from_options({**base, "debug_protobuf_enabled": "true"})
    assert (cfg.debug_protobuf_enabled, cfg.debug_output_dir) == (True, str(tmp_path))
    # neither gives it: the one problem, named
    monkeypatch.delenv("DEBUG_OUTPUT_DIR")
    with pytest.raises(ConfigurationError) as info:
        _config_from_options({**base, "debug_enabled": "true"})
    assert info.value.keys == ["debug_output_dir"]


def test_from_env_reports_only_debug_output_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """A partial environment builds a configuration that code completes; construction reports only the missing
    debug_output_dir of a debug switch (as the original did), not every problem validate() finds."""
    for name in ("ZEROBUS_TABLE_NAME", "ZEROBUS_ENDPOINT", "DEBUG_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "3")
    cfg = WrapperConfiguration.from_env()
    assert cfg.retry_max_attempts == 3 and cfg.table_name is None
    monkeypatch.setenv("DEBUG_ENABLED", "true")
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration.from_env()
    assert info.value.keys == ["debug_output_dir"]
    assert "table_name" not in str(info.value) and "endpoint" not in str(info.value)


def test_a_mistyped_attribute_is_refused() -> None:
    """``cfg.retry_max_attemps = 1`` raised AttributeError in the original (a read-only configuration); it was
    kept and ignored. The settings stay assignable (and reach the Go core), private names too."""
    cfg = WrapperConfiguration("http://127.0.0.1:1", "main.default.t")
    with pytest.raises(AttributeError, match=r"no setting 'retry_max_attemps'; did you mean \"retry_max_attempts\"\?"):
        cfg.retry_max_attemps = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"'debug_max_file_sise'; did you mean \"debug_max_file_size\"\?"):
        cfg.debug_max_file_sise = 1000  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"^WrapperConfiguration has no setting 'colour'$"):
        cfg.colour = "blue"  # type: ignore[attr-defined]
    assert not hasattr(cfg, "retry_max_attemps") and not hasattr(cfg, "colour")
    cfg.retry_max_attempts = 2
    cfg.client_secret = "s3cret"
    cfg.proxy_url = "http://u:pw@proxy:3128"
    cfg.observability_config = {"log_level": "warn"}
    cfg._private = 1
    settings = cfg.to_settings(include_secret=True)
    assert (settings["retry_max_attempts"], settings["client_secret"]) == (2, "s3cret")
    assert (settings["proxy_url"], settings["log_level"]) == ("http://u:pw@proxy:3128", "warn")
    assert cfg.copy(retry_max_attempts=4).retry_max_attempts == 4


def test_a_subclass_keeps_attributes_of_its_own() -> None:
    """A subclass that sets an attribute of its own in its __init__ was refused ("has no setting 'tag'")."""

    class Tagged(WrapperConfiguration):
        def __init__(self, *args: Any, tag: str, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tag = tag

    cfg = Tagged("http://127.0.0.1:1", "main.default.t", tag="blue", retry_max_attempts=3)
    assert (cfg.tag, cfg.to_settings()["retry_max_attempts"]) == ("blue", 3)


def test_a_mistyped_observability_field_is_refused() -> None:
    from zerobus_py import ObservabilityConfig

    obs = ObservabilityConfig()
    with pytest.raises(AttributeError, match=r"no field 'enpoint'; did you mean \"endpoint\"\?"):
        obs.enpoint = "http://127.0.0.1:4317"  # type: ignore[attr-defined]
    obs.endpoint = "http://127.0.0.1:4317"
    assert obs.to_settings() == {"otlp_endpoint": "http://127.0.0.1:4317"}


def test_export_settings_without_observability_warn_and_are_dropped(server: LocalServer, tmp_path: Path) -> None:
    """observability_config's export fields with observability_enabled=False were accepted and silently ignored.
    The original ignored the dict then, so drop-in code gets a UserWarning naming them, and they are not passed
    on; a value Go refuses (an endpoint without a scheme) is refused as in Go and the CLI (s18 review-config M4).
    log_level still applies."""
    out = tmp_path / "otel"
    obs = {"endpoint": "http://localhost:4317", "output_dir": out, "interval_secs": 1, "log_level": "warn"}
    cfg = server.config("main.default.s14_export_off", observability_config=obs)
    with pytest.warns(UserWarning) as rec:
        cfg.validate()
    assert [str(w.message) for w in rec] == [
        "observability_enabled is False, so otlp_endpoint and observability_output_dir and "
        "observability_interval_secs of observability_config are ignored: set observability_enabled=True to export"
    ]
    with pytest.warns(UserWarning, match="observability_enabled is False, so otlp_endpoint"):
        w = ZerobusWrapper(cfg)
    with w:
        assert w.send_batch(pa.table({"id": pa.array([1, 2, 3], pa.int64())})).successful_count == 3
    assert not out.exists()
    assert server.record_count("main.default.s14_export_off") == 3
    # observability on: no warning, the files are written
    on = cfg.copy(observability_enabled=True, observability_config={"output_dir": out, "interval_secs": 3600})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on.validate()
        repr(on), on._repr_html_()
    # a repr in a notebook does not warn either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg._repr_html_()


def test_writer_disabled_with_no_debug_kind_is_refused(tmp_path: Path) -> None:
    """zerobus_writer_disabled with debug_enabled whose per-kind switch turns the only other kind off sends
    nothing and writes nothing, yet validated and reported success (s14 review-config 5). validate() refuses it,
    as it refuses the writer disabled without any debug switch (a wrapper still accepts both, for conversion-only
    checks)."""
    cfg = WrapperConfiguration(
        None,
        "main.default.t",
        zerobus_writer_disabled=True,
        debug_enabled=True,
        debug_arrow_enabled=False,
        debug_protobuf_enabled=False,
        debug_output_dir=str(tmp_path),
    )
    with pytest.raises(ConfigurationError, match=r"zerobus_writer_disabled .*is true and debug_enabled writes no file"):
        cfg.validate()
    cfg.debug_arrow_enabled = True
    cfg.validate()
    with ZerobusWrapper(cfg) as w:
        assert w.send_batch(pa.table({"id": pa.array([1, 2], pa.int64())})).successful_count == 2
    assert [p.name for p in (tmp_path / "zerobus" / "arrow").iterdir()] == ["main.default.t.arrow"]


def test_a_mistyped_spark_source_option_gets_a_suggestion() -> None:
    """quarantine_pth / reportpath got "unknown key; see the package documentation": the loader knows the settings'
    keys only, not the data source's own options (s14 review-config 14)."""
    pytest.importorskip("pyspark")
    from zerobus_py.spark import _config_from_options

    for typo, meant in (
        ("quarantine_pth", "quarantine_path"),
        ("reportpath", "report_path"),
        ("Report_Pth", "report_path"),
    ):
        with pytest.raises(ConfigurationError, match=f'option {typo.lower()} is unknown; did you mean "{meant}"') as ei:
            _config_from_options({"table_name": "a.b.c", typo: "/tmp/x"})
        assert ei.value.keys == [typo.lower()]
    # a setting's typo keeps the loader's suggestion
    typo_msg = 'retry_max_attemps: unknown setting; did you mean "retry_max_attempts"'
    with pytest.raises(ConfigurationError, match=typo_msg):
        _config_from_options({"table_name": "a.b.c", "retry_max_attemps": "1"})
    assert _config_from_options({"table_name": "a.b.c", "quarantine_path": "/tmp/q"}).table_name == "a.b.c"


def test_export_settings_at_their_defaults_do_not_warn_as_in_go(server: LocalServer) -> None:
    """Which export settings observability_enabled=False ignores is the Go core's rule
    (core.Config.IgnoredExportSettings), not a Python copy of it: a value equal to the default (otlp_protocol,
    observability_interval_secs) is not one, so Python warns about exactly what Go logs (s15: Python kept its own
    key list and warned about defaults)."""
    from zerobus_py._config import go_settings

    defaults = {row["key"]: row["default"] for row in go_settings()}
    at_defaults = {"protocol": defaults["otlp_protocol"], "interval_secs": defaults["observability_interval_secs"]}
    cfg = server.config("main.default.s15_export_defaults", observability_config=at_defaults)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg.validate()
        with ZerobusWrapper(cfg) as w:
            assert w.send_batch(pa.table({"id": pa.array([1, 2], pa.int64())})).successful_count == 2
    assert server.record_count("main.default.s15_export_defaults") == 2
    # a value other than the default is ignored and named, as Go names it
    interval = defaults["observability_interval_secs"]
    other = cfg.copy(observability_config={"protocol": "http", "interval_secs": interval})
    with pytest.warns(UserWarning) as rec:
        other.validate()
    assert [str(w.message) for w in rec] == [
        "observability_enabled is False, so otlp_protocol of observability_config is ignored: "
        "set observability_enabled=True to export"
    ]


def test_ignored_export_settings_are_refused_when_invalid(server: LocalServer) -> None:
    """With observability off, valid export settings are dropped with a warning; an invalid one is refused, as Go
    and the CLI refuse it (s18 review-config M4: one rule on every surface, an invalid value is an error, a valid
    unused one a warning). The s15 review-diffpy M1 case (an interval of 0 made Go's list call fail) now names the
    interval, with the other problems, and no longer warns about it."""
    obs = {"endpoint": "http://localhost:4317", "write_interval_secs": 0}
    cfg = server.config("main.default.s15_export_invalid", observability_config=obs)
    with pytest.raises(ConfigurationError) as ei, pytest.warns(UserWarning) as rec:
        cfg.copy(retry_max_attempts=0).validate()
    assert [str(w.message) for w in rec] == [
        "observability_enabled is False, so otlp_endpoint of observability_config is ignored: set "
        "observability_enabled=True to export"
    ]
    assert sorted(ei.value.keys) == ["observability_interval_secs", "retry_max_attempts"]
    # valid values only: a warning and no error
    with pytest.warns(UserWarning, match="otlp_endpoint and observability_interval_secs"):
        cfg.copy(observability_config={"endpoint": "http://localhost:4317", "interval_secs": 5}).validate()
    # an endpoint Go refuses (no scheme) is refused too, used or not
    with pytest.raises(ConfigurationError) as ei:
        cfg.copy(observability_config={"endpoint": "localhost:4317"}).validate()
    assert ei.value.keys == ["otlp_endpoint"]


def test_to_settings_gives_plain_strings(server: LocalServer) -> None:
    """The attributes keep secrets as str subclasses with a redacted repr; to_settings(include_secret=True) gives
    the plain values (s15 review-diffpy M2: yaml.safe_dump and marshal refused the subclass)."""
    import marshal

    cfg = server.config("main.default.s15_plain", proxy_url="http://user:pw-s15@127.0.0.1:9")
    out = cfg.to_settings(include_secret=True)
    assert type(out["client_secret"]) is str and out["client_secret"] == server.client_secret
    assert type(out["proxy_url"]) is str and out["proxy_url"] == "http://user:pw-s15@127.0.0.1:9"
    assert marshal.loads(marshal.dumps(out)) == out
    assert "<redacted>" in repr(vars(cfg)) and "pw-s15" not in repr(vars(cfg))
