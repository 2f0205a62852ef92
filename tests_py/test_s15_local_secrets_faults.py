"""s15 local server: the secret options come from Go (one list: the secret:"true" tags of zerobuslocal.Options),
and inject_fault refuses values out of range, naming the keyword."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import ConfigurationError, ZerobusWrapper
from zerobus_py import local as local_mod
from zerobus_py.local import LocalServer


@pytest.fixture
def fresh_secret_list() -> Iterator[None]:
    local_mod._secret_keywords.cache_clear()
    yield
    local_mod._secret_keywords.cache_clear()


def test_go_lists_the_secret_options() -> None:
    pybind = importlib.import_module("zerobus_py._native.pybind")
    keys = json.loads(pybind.LocalSecretOptions())
    assert keys == ["client_secret", "inspect_token"]
    # each is a LocalServer keyword, so the Python side can redact it
    assert [local_mod._KEYWORD_OF[k] for k in keys] == ["client_secret", "inspect_token"]


def test_python_redacts_what_go_lists(monkeypatch: pytest.MonkeyPatch, fresh_secret_list: None) -> None:
    # Python has no list of its own: were Go to tag client_id secret, errors and repr would hide it.
    pybind = importlib.import_module("zerobus_py._native.pybind")
    monkeypatch.setattr(pybind, "LocalSecretOptions", lambda: '["client_id", "inspect_token"]')
    with pytest.raises(ConfigurationError) as ei:
        LocalServer(client_id=1234567)  # type: ignore[arg-type]
    assert "client_id=<redacted> must be a string" in str(ei.value) and "1234567" not in str(ei.value)
    with LocalServer(client_id="visible-id-9", inspect_token="tok-77") as s:
        r = repr(s)
        # client_secret is no longer listed as secret, so repr leaves it out; client_id is shown redacted
        assert "client_id='<redacted>'" in r and "inspect_token='<redacted>'" in r and "client_secret" not in r
        assert "tok-77" not in r


def test_repr_redacts_each_secret_set(fresh_secret_list: None) -> None:
    with LocalServer(inspect_token="itok-5150") as s:
        r, html = repr(s), s._repr_html_()
        assert "client_secret='<redacted>'" in r and "inspect_token='<redacted>'" in r
        assert s.client_secret not in r and "itok-5150" not in r
        assert s.client_secret not in html and "itok-5150" not in html
    with LocalServer() as s:
        r = repr(s)
        assert "client_secret='<redacted>'" in r and "inspect_token" not in r and s.client_secret not in r


@pytest.mark.parametrize(
    ("kind", "keyword", "value"),
    [
        ("error", "after_ms", -1),
        ("error", "after_messages", -3),
        ("close_signal", "close_after_ms", -1000),
        ("create_delay", "latency_ms", -5000),
        ("error", "records", -1),
        ("token_error", "http_status", 42),
    ],
)
def test_inject_fault_refuses_out_of_range(kind: str, keyword: str, value: Any) -> None:
    table = f"main.default.s15_fault_{keyword}"
    with LocalServer() as s:
        with pytest.raises(ConfigurationError) as ei:
            s.inject_fault(table, kind, **{keyword: value})
        assert ei.value.keys == [keyword]
        assert str(ei.value).startswith(f"zerobus: fault: {keyword}={value!r} must "), str(ei.value)
        # nothing was armed: a send succeeds and stores its rows, no fault fired
        batch = pa.record_batch([pa.array([1, 2, 3], pa.int64())], names=["id"])
        with ZerobusWrapper(s.config(table)) as w:
            w.send_batch(batch)
        assert s.table(table).column("id").to_pylist() == [1, 2, 3]
        assert s.stats()["faults_fired"] == 0
