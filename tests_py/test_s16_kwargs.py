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


# -- sizes and durations as text, read by the Go core's settings parser ------------------------------------------


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("debug_max_file_size", "64MiB"),
        ("max_inflight_bytes", "1GB"),
        ("max_message_bytes", " 2 KiB "),
        ("retry_base_delay_ms", "1.5s"),
        ("debug_flush_interval_secs", "1m"),
        ("debug_rotation_interval_secs", "30"),
    ],
)
def test_size_and_duration_keywords_take_what_yaml_takes(tmp_path: Any, key: str, text: str) -> None:
    """The keyword takes the text the YAML key takes, and the attribute holds the same int (Go parsed both)."""
    path = tmp_path / "c.yaml"
    path.write_text(f"{key}: {text.strip()!r}\n", encoding="utf-8")
    from_yaml = getattr(WrapperConfiguration.from_yaml(path), key)
    cfg = WrapperConfiguration(**_BASE, **{key: text})
    value = getattr(cfg, key)
    assert type(value) is int and value == from_yaml, (value, from_yaml)
    assert cfg.to_settings()[key] == value
    assert cfg == WrapperConfiguration(**_BASE, **{key: value})
    # assigned afterwards, the same
    cfg = WrapperConfiguration(**_BASE)
    setattr(cfg, key, text)
    assert getattr(cfg, key) == value and type(getattr(cfg, key)) is int


def test_size_keyword_value(tmp_path: Any) -> None:
    cfg = WrapperConfiguration(**_BASE, debug_max_file_size="64MiB", retry_base_delay_ms="1.5s")
    assert (cfg.debug_max_file_size, cfg.retry_base_delay_ms) == (64 << 20, 1500)
    debug = {"zerobus_writer_disabled": True, "debug_enabled": True, "debug_output_dir": tmp_path}
    with ZerobusWrapper(**_BASE, **debug, debug_max_file_size="1KiB") as w:
        assert w.config.debug_max_file_size == 1024


def test_bad_texts_get_gos_errors_naming_each_keyword() -> None:
    with pytest.raises(ConfigurationError) as info:
        WrapperConfiguration(**_BASE, debug_max_file_size="64XB", debug_flush_interval_secs="500ms")
    err = info.value
    assert sorted(err.keys) == ["debug_flush_interval_secs", "debug_max_file_size"]
    assert '"64XB" is not a byte size' in str(err) and "debug_max_file_size" in str(err), str(err)
    assert '"500ms" is not a whole number of seconds' in str(err), str(err)
    # with a value of the wrong type too: every problem at once, a TypeError as that one is
    with pytest.raises(TypeError) as typed:
        WrapperConfiguration(**_BASE, debug_max_file_size="64XB", retry_max_attempts=[3])  # type: ignore[arg-type]
    assert isinstance(typed.value, ConfigurationError)
    assert typed.value.keys == ["retry_max_attempts", "debug_max_file_size"], str(typed.value)
    assert "1 setting of the wrong type" in str(typed.value) and '"64XB"' in str(typed.value)
    # a bad text assigned: refused, the attribute unchanged
    cfg = WrapperConfiguration(**_BASE, debug_max_file_size=5)
    with pytest.raises(ConfigurationError, match="debug_max_file_size"):
        cfg.debug_max_file_size = "x"
    assert cfg.debug_max_file_size == 5


def test_other_int_keywords_still_refuse_text() -> None:
    """Only sizes and durations are read as text (as before, an int setting refuses a str)."""
    with pytest.raises(TypeError, match="retry_max_attempts: expected int, got str '3'"):
        WrapperConfiguration(**_BASE, retry_max_attempts="3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "given",
    [
        {"retry_base_delay_ms": "fast"},
        {"debug_max_file_size": ""},
        {"debug_max_file_size": "big"},
        {"debug_flush_interval_secs": "5.5"},
        {"retry_max_delay_ms": ""},
        {"debug_max_file_size": "64XB", "debug_flush_interval_secs": "500ms"},
    ],
)
def test_text_go_refuses_is_a_type_error_alone(given: dict[str, Any]) -> None:
    """A text Go cannot read for a size or duration is a TypeError (as in 0.8.1, whose u64 refused any str), not
    a ValueError only when it is the one problem: the class does not depend on the other arguments."""
    with pytest.raises(TypeError) as info:
        WrapperConfiguration(**_BASE, **given)
    err = info.value
    assert isinstance(err, ConfigurationError), repr(err)
    assert sorted(err.keys) == sorted(given), str(err)
    assert type(err).__name__ == "ConfigurationError"  # shown as the others of the wrong type
    # assigned afterwards: the same class
    cfg = WrapperConfiguration(**_BASE)
    key, text = next(iter(given.items()))
    with pytest.raises(TypeError) as assigned:
        setattr(cfg, key, text)
    assert isinstance(assigned.value, ConfigurationError) and assigned.value.keys == [key]


_TYPED = """\
from zerobus_py import ObservabilityConfig, WrapperConfiguration

cfg = WrapperConfiguration(
    "http://127.0.0.1:1",
    "a.b.c",
    debug_max_file_size="64MiB",
    retry_base_delay_ms="1.5s",
    debug_flush_interval_secs="2m",
    max_inflight_bytes="1GB",
    flush_timeout_ms=5000,
)
cfg.debug_max_file_size = "1GB"
cfg.ack_timeout_ms = "30s"
cfg.retry_max_delay_ms = 100
size: int | None = cfg.debug_max_file_size
delay: int = cfg.retry_base_delay_ms
cfg.retry_max_attempts = "3"  # line 17: not a size or duration
text: str = cfg.debug_max_file_size  # line 18: read as the int
WrapperConfiguration("e", "t", streams_per_schema="2")  # line 19: not a size or duration
obs = ObservabilityConfig(interval_secs="10s")
obs.interval_secs = "1m"
interval: int | None = obs.interval_secs
ObservabilityConfig(max_file_mb="5")  # line 23: not a size or duration
"""


def test_text_sizes_and_durations_type_check(tmp_path: Any) -> None:
    """mypy --strict accepts the text the keywords and attributes take at run time, reads them as int, and still
    refuses text for the other int settings (F4)."""
    import subprocess
    import sys

    (tmp_path / "typed_units.py").write_text(_TYPED)
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-pyarrow.*]\nignore_missing_imports = True\n")
    command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.run(
        [*command, "typed_units.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = sorted({line.split(":")[1] for line in proc.stdout.splitlines() if ": error:" in line})
    assert lines == ["17", "18", "19", "23"], proc.stdout + proc.stderr


_FORK = """\
import os, sys
from zerobus_py import WrapperConfiguration
base = dict(endpoint="http://127.0.0.1:1", table_name="main.default.t")
mode = sys.argv[1]
if mode == "text":
    WrapperConfiguration(**base, debug_max_file_size="64MiB")
elif mode == "int":
    cfg = WrapperConfiguration(**base, debug_max_file_size=64 << 20, retry_base_delay_ms=5)
    cfg.debug_max_file_size = 1024
elif mode == "typo":
    try:
        WrapperConfiguration(**base, debug_max_file_sz=1)
    except TypeError:
        pass
pid = os.fork()
if pid == 0:
    try:
        WrapperConfiguration(**base).validate()
        print("child: ok", flush=True)
    except Exception as err:
        print("child:", type(err).__name__, err, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no os.fork")
@pytest.mark.parametrize("mode", ["int", "text", "typo"])
def test_fork_row_says_which_constructions_call_go(tmp_path: Any, mode: str) -> None:
    """F5: a text size/duration or a mistyped keyword calls Go at construction (Go parses the text and gives the
    "did you mean"), so a process forked afterwards cannot use zerobus; ints do not. The README's drop-in fork
    row says so (each case runs in a fresh interpreter: this one has called Go long ago)."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "forked.py"
    script.write_text(_FORK)
    out = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    if mode == "int":
        assert out.strip() == "child: ok", out
    else:
        assert out.startswith("child: ZerobusError") and "forked" in out, out
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith("| worker processes forked")]
    assert 'a size or duration as text, `debug_max_file_size="64MiB"`' in row, row
    assert "mistyped keyword" in row and "built with ints and the right keywords calls no Go" in row, row
