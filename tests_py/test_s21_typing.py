"""Typing a user's checker sees (session 21): the keyword TypedDict stays the constructor's keywords, and
``mypy --strict`` accepts the documented uses and reports the mistakes the pytyping review found."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path
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


# -- what mypy --strict makes of user code ------------------------------------------------------------------------

CASES = Path(__file__).resolve().parent / "typing_s21"
_MARK = re.compile(r"#\s*E:\s*([\w-]+(?:\s*,\s*[\w-]+)*)\s*$")
_REPORT = re.compile(r"^(?P<file>[^:\s]+\.pyi?):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def _expected(files: list[Path]) -> set[tuple[str, int, str]]:
    """``(file, line, code)`` of every line marked ``# E: code[, code]``."""
    out = set()
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if m := _MARK.search(line):
                out |= {(path.name, n, code.strip()) for code in m.group(1).split(",")}
    return out


def test_mypy_strict_accepts_the_documented_uses_and_reports_the_mistakes(tmp_path: Path) -> None:
    """One ``mypy --strict`` run, from outside the source tree against the installed package, over
    typing_s21/accepted.py (every documented input of send_batch, extract_* returning what they were given or,
    for another library's ``__arrow_c_array__`` object, a pyarrow RecordBatch or Array (s22),
    the keyword form, the YAML keys as keywords, the keywords as a ``**dict[str, str]`` (s22), assignments,
    progress callbacks returning a value: no error) and the mistakes_*.py files of the pytyping review (a path, a
    number or a list sent; extract_* results used as another kind; mistyped keywords and attributes, also beside
    a ``**dict``; a wrong progress callback), each line reported
    with the code it is marked with and nothing else. pyarrow, pandas and polars are the small stubs in
    typing_s21/stubs (pandas and polars without __arrow_c_stream__, as older versions)."""
    work = tmp_path / "user"
    shutil.copytree(CASES, work)
    cases = sorted(work.glob("*.py"))
    assert [p.name for p in cases if p.name.startswith("mistakes_")], "no mistake files"
    (work / "mypy.ini").write_text(f"[mypy]\nstrict = True\nmypy_path = stubs\ncache_dir = {tmp_path / 'cache'}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *(p.name for p in cases)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    reported = {
        (m["file"], int(m["line"]), m["code"]) for line in proc.stdout.splitlines() if (m := _REPORT.match(line))
    }
    unparsed = [line for line in proc.stdout.splitlines() if ": error:" in line and not _REPORT.match(line)]
    assert unparsed == [], proc.stdout + proc.stderr
    expected = _expected(cases)
    assert len(expected) >= 20
    assert sorted(reported - expected) == [], "unexpected errors:\n" + proc.stdout
    assert sorted(expected - reported) == [], "mistakes mypy did not report:\n" + proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr
