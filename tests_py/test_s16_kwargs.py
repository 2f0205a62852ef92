"""Session 16: the Python constructors' keywords as the other paths take settings.

A mistyped keyword gets the Go core's "did you mean" (as a mistyped attribute, YAML key, Spark option or flag
does), raised as ConfigurationError[TypeError] with the constructors' signatures unchanged (the drop-in contract).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from zerobus_py import ConfigurationError, ObservabilityConfig, WrapperConfiguration, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

_BASE: dict[str, Any] = {"endpoint": "http://127.0.0.1:1", "table_name": "main.default.t"}


def _raised(build: Callable[[], object]) -> ConfigurationError:
    with pytest.raises(TypeError) as info:  # the class Python raises for an unknown keyword, as before
        build()
    err = info.value
    assert isinstance(err, ConfigurationError), repr(err)
    return err


@pytest.mark.parametrize(
    ("build", "wrong", "right"),
    [
        (lambda: WrapperConfiguration(**_BASE, retry_max_attemps=3), "retry_max_attemps", "retry_max_attempts"),
        (lambda: ZerobusWrapper(**_BASE, debug_enabld=True), "debug_enabld", "debug_enabled"),
        (lambda: LocalServer(max_stored_row=3), "max_stored_row", "max_stored_rows"),
        (lambda: ObservabilityConfig(enpoint="http://127.0.0.1:4317"), "enpoint", "endpoint"),  # type: ignore[call-arg]
    ],
    ids=["WrapperConfiguration", "ZerobusWrapper", "LocalServer", "ObservabilityConfig"],
)
def test_unknown_keyword_suggests_the_keyword(build: Callable[[], object], wrong: str, right: str) -> None:
    err = _raised(build)
    assert f"got an unexpected keyword argument {wrong!r}" in str(err), str(err)
    # the Go core's phrase (core.DidYouMean), not one built in Python
    phrase = _bridge.call(_bridge.native.DidYouMean, wrong, f'["{right}"]')
    assert phrase == f'did you mean "{right}"?'
    assert str(err).endswith("; " + phrase), str(err)
    assert err.keys == [wrong]


def test_unknown_keyword_without_a_near_one() -> None:
    """Go's rule finds no keyword near max_row: Python's words alone, still a ConfigurationError."""
    err = _raised(lambda: LocalServer(max_row=3))  # type: ignore[call-arg]
    assert str(err) == "LocalServer.__init__() got an unexpected keyword argument 'max_row'"
    assert err.keys == ["max_row"]


def test_several_unknown_keywords_each_named() -> None:
    err = _raised(lambda: WrapperConfiguration(**_BASE, retry_max_attemps=3, zzz=1))
    assert "'retry_max_attemps' (did you mean \"retry_max_attempts\"?), 'zzz'" in str(err), str(err)
    assert err.keys == ["retry_max_attemps", "zzz"]


def test_other_argument_errors_are_pythons() -> None:
    """Only unknown keywords are caught: too many positionals, a keyword given twice stay Python's TypeError."""
    with pytest.raises(TypeError, match="positional arguments") as info:
        WrapperConfiguration("a", "b", "c")  # type: ignore[misc]
    assert not isinstance(info.value, ConfigurationError)
    with pytest.raises(TypeError, match="multiple values"):
        WrapperConfiguration("a", endpoint="b")  # type: ignore[misc]


@pytest.mark.parametrize("cls", [WrapperConfiguration, LocalServer, ObservabilityConfig])
def test_signature_kept(cls: type) -> None:
    """The signature is the explicit keyword list (the drop-in contract), not the checking wrapper's."""
    for sig in (inspect.signature(cls), inspect.signature(cls.__init__)):  # type: ignore[misc]
        kinds = {p.kind for p in sig.parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds, sig
    assert inspect.signature(cls.__init__) == inspect.signature(cls.__init__.__wrapped__)  # type: ignore[misc]
    params = list(inspect.signature(cls).parameters)
    assert "self" not in params
    if cls is WrapperConfiguration:
        assert params[:3] == ["endpoint", "table_name", "client_id"]
