"""The Spark data source's options reach the Go core's settings loader as data: its problems quote the value as
given (no YAML line number cut out of it, nor out of the value), and ``${NAME}`` references are expanded by the YAML
loader's rule."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from zerobus_py import ConfigurationError, _bridge
from zerobus_py.spark import _config_from_options, _expand


def test_a_bad_option_is_quoted_whole_and_named_by_key() -> None:
    """A value that looks like a YAML loader's line prefix used to lose it: `"5" is not an integer`."""
    with pytest.raises(ConfigurationError) as info:
        _config_from_options({"table_name": "a.b.c", "retry_max_attempts": "line 7: 5"})
    err = info.value
    assert '"line 7: 5" is not an integer' in str(err)
    assert "zerobus data source options" in str(err)
    assert err.keys == ["retry_max_attempts"] and err.kind == "configuration"
    # the same value in the environment: Go's message quotes it the same way
    with pytest.raises(ConfigurationError) as env:
        _bridge.call(_bridge.native.ConfigFromEnv, json.dumps({"RETRY_MAX_ATTEMPTS": "line 7: 5"}))
    assert '"line 7: 5" is not an integer' in str(env.value)


def test_every_problem_of_the_options_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        _config_from_options({"table_name": "a.b.c", "retry_max_attempts": "x", "max_inflight_requests": "line 2: y"})
    assert sorted(info.value.keys) == ["max_inflight_requests", "retry_max_attempts"]
    assert '"line 2: y"' in str(info.value) and "line" not in str(info.value).replace('"line 2: y"', "")


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "a${ZB_OPT_A}b",
        "${ZB_OPT_A}${ZB_OPT_B}",
        "$${ZB_OPT_A}",
        "$$${ZB_OPT_A}",
        "a$b$",
        "${ZB_OPT_EMPTY}x",
        "${ZB_OPT_NOT_SET}",
        "${}",
        "abc${def",
        "${ZB_OPT_A",
        "}${ZB_OPT_B}}",
    ],
)
def test_expansion_is_the_yaml_loaders(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """_expand gives what the Go core's YAML loader gives for the same value (client_id, a string setting), or
    fails where it fails."""
    monkeypatch.setenv("ZB_OPT_A", "<a>")
    monkeypatch.setenv("ZB_OPT_B", "$x}")
    monkeypatch.setenv("ZB_OPT_EMPTY", "")
    monkeypatch.delenv("ZB_OPT_NOT_SET", raising=False)
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"client_id": value}))
    try:
        go: str | None = json.loads(
            _bridge.call(_bridge.native.LoadConfigYAML, str(path), json.dumps(dict(os.environ)))
        ).get("client_id", "")
    except ConfigurationError:
        go = None
    try:
        py: str | None = _expand("client_id", value)
    except ConfigurationError as err:
        assert err.keys == ["client_id"]
        py = None
    assert py == go
    if go is not None and go != "":
        assert _config_from_options({"client_id": value}).client_id == go
