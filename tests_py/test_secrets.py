"""Secrets never appear in reprs, getters, results or exceptions."""

from __future__ import annotations

import pickle

import pytest
from conftest import id_batch

from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

SECRET = "sup3r-s3cret-Value-42"


def test_config_never_shows_the_secret() -> None:
    cfg = WrapperConfiguration(
        "https://1.zerobus.x.cloud.databricks.com",
        "a.b.c",
        client_id="cid",
        client_secret=SECRET,
        unity_catalog_url="https://w.cloud.databricks.com",
    )
    assert cfg.client_secret == "<redacted>"
    for text in (repr(cfg), str(cfg), f"{cfg}", str(cfg.to_settings()), str(vars(cfg).get("client_secret"))):
        assert SECRET not in text
    assert "client_secret='<redacted>'" in repr(cfg)
    # it still reaches the Go core
    assert cfg.to_settings(include_secret=True)["client_secret"] == SECRET


def test_wrapper_and_server_reprs(server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name)
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(id_batch(0, 2))
        for text in (repr(w), repr(res), res._repr_html_(), repr(server), repr(cfg)):
            assert server.client_secret not in text


def test_errors_never_contain_the_secret(server: LocalServer, table_name: str) -> None:
    # rejected by the token endpoint
    cfg = server.config(table_name, client_secret=SECRET, retry_max_attempts=1)
    w = ZerobusWrapper(cfg)
    with pytest.raises(ZerobusError) as ei:
        w.send_batch(id_batch(0, 2))
    w.shutdown()
    err = ei.value
    texts = [str(err), repr(err), repr(err.result), str(pickle.loads(pickle.dumps(err)))]
    assert err.result is not None
    texts += [str(e) for _, e in err.result.failed_row_errors] + err.result.get_error_messages()
    for t in texts:
        assert SECRET not in t
    # invalid configuration with a secret set
    bad = WrapperConfiguration("ftp://x", "bad", client_secret=SECRET)
    with pytest.raises(ConfigurationError) as ci:
        bad.validate()
    assert SECRET not in str(ci.value)
    # a secret of the wrong type is named but not echoed
    with pytest.raises(ConfigurationError) as ci:  # at construction, as the original's typed constructor
        WrapperConfiguration("http://127.0.0.1:1", "a.b.c", client_secret=12345)  # type: ignore[arg-type]
    assert "client_secret" in str(ci.value) and "12345" not in str(ci.value)
    odd = WrapperConfiguration("http://127.0.0.1:1", "a.b.c")
    odd.client_secret = 12345  # type: ignore[assignment]  # assigned later: refused when used
    with pytest.raises(ConfigurationError) as ti:
        odd.validate()
    assert "client_secret" in str(ti.value) and "12345" not in str(ti.value)
    assert "12345" not in repr(odd) and "client_secret='<redacted>'" in repr(odd)


def test_passwords_in_urls_are_redacted_in_repr() -> None:
    # endpoint and unity_catalog_url refuse user information, but repr, str and _repr_html_ (a notebook shows
    # the config before validate() runs) printed 'http://eve:PASSWORD@host' where Go's Config.String redacts it.
    cfg = WrapperConfiguration(
        "https://eve:PASSW1RD@1.zerobus.x.cloud.databricks.com",
        "a.b.c",
        unity_catalog_url="https://bob:PASSW0RD@w.cloud.databricks.com",
        proxy_url="http://p:PASSW2RD@proxy:3128",
        observability_config={"endpoint": "http://o:PASSW3RD@collector:4317"},
    )
    for text in (
        repr(cfg),
        str(cfg),
        cfg._repr_html_(),
        str(cfg.to_settings()),
        repr(ObservabilityConfig(endpoint="http://o:PASSW3RD@collector:4317")),
    ):
        for pw in ("PASSW0RD", "PASSW1RD", "PASSW2RD", "PASSW3RD"):
            assert pw not in text, (pw, text)
    assert "endpoint='https://<redacted>@1.zerobus.x.cloud.databricks.com'" in repr(cfg)
    # the Go core still gets them (and refuses the first two, redacted)
    full = cfg.to_settings(include_secret=True)
    assert "PASSW1RD" in full["endpoint"] and "PASSW3RD" in full["otlp_endpoint"]
    with pytest.raises(ConfigurationError, match="must not contain user information") as ei:
        cfg.validate()
    assert "PASSW" not in str(ei.value)
    # a value of the wrong type elsewhere: repr falls back to the raw attributes, still redacted
    cfg.retry_max_attempts = "5"  # type: ignore[assignment]
    assert "PASSW1RD" not in repr(cfg) and "PASSW0RD" not in repr(cfg)
