"""gopy's handle release at interpreter teardown: skipped quietly while finalizing, never hidden otherwise."""

from __future__ import annotations

import pytest

from zerobus_py import _bridge


def test_release_failure_is_quiet_only_while_finalizing() -> None:
    def release(obj: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'DecRef'")

    _bridge._guarded_del(release, lambda: True)(object())  # at exit: skipped
    with pytest.raises(AttributeError):
        _bridge._guarded_del(release, lambda: False)(object())  # otherwise: a real bug, raised


def test_the_native_classes_are_guarded() -> None:
    mod = _bridge.native._load()
    guarded = [name for name, cls in vars(mod).items() if isinstance(cls, type) and "__del__" in vars(cls)]
    assert "Pending" in guarded
    for name in guarded:
        assert vars(getattr(mod, name))["__del__"].__qualname__.startswith("_guarded_del"), name
