"""Session 16 (s16-diffb F3, F4, F5): a size or duration given as text is the same setting as the whole number it
reads; Python's ignored-settings warnings are the Go core's list.
"""

from __future__ import annotations

from typing import Any

import pytest

from zerobus_py import ConfigurationError, WrapperConfiguration

_BASE: dict[str, Any] = {"endpoint": "http://127.0.0.1:1", "table_name": "main.default.t"}


def _validate_error(cfg: WrapperConfiguration) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        cfg.validate()
    return info.value


@pytest.mark.parametrize(
    ("key", "text", "number"),
    [
        ("debug_flush_interval_secs", "0s", 0),  # 0 is not accepted (it would mean the default)
        ("ack_timeout_ms", "0ms", 0),
        ("max_message_bytes", "1099511627776", 1 << 40),  # above an int's range
        ("max_message_bytes", "4GiB", 4 << 30),
    ],
)
def test_text_out_of_range_is_the_same_int(key: str, text: str, number: int) -> None:
    """F3: a text Go parses but refuses by range behaves as the same int: accepted at construction (and by
    assignment), refused by validate() with the same error, a ValueError and not a TypeError (#20: ranges are
    validate()'s)."""
    as_int = WrapperConfiguration(**_BASE, **{key: number})
    as_text = WrapperConfiguration(**_BASE, **{key: text})
    assert getattr(as_text, key) == number
    assigned = WrapperConfiguration(**_BASE)
    setattr(assigned, key, text)
    assert getattr(assigned, key) == number
    want = _validate_error(as_int)
    assert not isinstance(want, TypeError)
    for cfg in (as_text, assigned):
        got = _validate_error(cfg)
        assert type(got) is type(want) and not isinstance(got, TypeError)
        assert str(got) == str(want) and got.keys == want.keys


def test_text_go_cannot_parse_is_named_alone_beside_one_out_of_range() -> None:
    """F3: with a text Go cannot parse and one it refuses by range, the TypeError names the first alone, with
    Go's words for it."""
    with pytest.raises(TypeError) as info:
        WrapperConfiguration(**_BASE, debug_flush_interval_secs="0s", debug_max_file_size="big")
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert err.keys == ["debug_max_file_size"], str(err)
    assert '"big" is not a byte size' in str(err) and "debug_flush_interval_secs" not in str(err)
