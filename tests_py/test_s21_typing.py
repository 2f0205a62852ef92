"""Typing a user's checker sees (session 21): the keyword TypedDict stays the constructor's keywords, and
``mypy --strict`` accepts the documented uses and reports the mistakes the pytyping review found."""

from __future__ import annotations

import typing
from typing import Any

from zerobus_py import WrapperConfiguration
from zerobus_py import _config as config_mod


def _typeddict_differences(settings: dict[str, Any], keywords: dict[str, Any]) -> list[str]:
    """How the TypedDict's keys and types (``settings``) differ from the constructor's (``keywords``)."""
    out = [f"{k}: a keyword, not in the TypedDict" for k in sorted(keywords.keys() - settings.keys())]
    out += [f"{k}: in the TypedDict, not a keyword" for k in sorted(settings.keys() - keywords.keys())]
    out += [
        f"{k}: TypedDict {settings[k]}, keyword {keywords[k]}"
        for k in sorted(settings.keys() & keywords.keys())
        if settings[k] != keywords[k]
    ]
    return out


def _keyword_hints() -> dict[str, Any]:
    hints = typing.get_type_hints(WrapperConfiguration.__init__)
    hints.pop("return")
    return hints


def test_settings_typeddict_is_the_constructor_keywords() -> None:
    """``ZerobusWrapper(**settings)``, ``LocalServer.config`` and ``copy`` are typed with a TypedDict written out
    again from WrapperConfiguration's signature: every keyword with the same type, and, for ``LocalServer.config``
    (whose ``table_name`` is positional), all of them but ``table_name``. The keywords are the Go core's settings
    (test_settings_table.py), checked here too, so the TypedDict cannot drift from Go's list."""
    settings = typing.get_type_hints(config_mod._Settings)
    keywords = _keyword_hints()
    assert _typeddict_differences(settings, keywords) == []
    but_table = typing.get_type_hints(config_mod._SettingsButTable)
    assert but_table == {k: v for k, v in settings.items() if k != "table_name"}
    go_keys = {row["key"] for row in config_mod.go_settings()}
    assert set(settings) == go_keys | {"observability_config"}
    assert config_mod._Settings.__required_keys__ == frozenset()  # every keyword may be left out


def test_typeddict_differences_are_found() -> None:
    """The comparison above fails on a missing, an extra and a retyped keyword."""
    keywords = _keyword_hints()
    drift = dict(keywords)
    del drift["retry_max_attempts"]
    drift["retry_max_attemps"] = int
    drift["log_level"] = int | None
    assert _typeddict_differences(drift, keywords) == [
        "retry_max_attempts: a keyword, not in the TypedDict",
        "retry_max_attemps: in the TypedDict, not a keyword",
        f"log_level: TypedDict {int | None}, keyword {str | None}",
    ]
