"""Access to the native (gopy-built) module, with error translation.

The extension lives in ``zerobus_py._native`` (``pybind.py``, ``go.py`` and
``_zbnative*.so``, produced by ``go tool gopy build`` from the Go package
``pybind``). It is imported lazily so the pure-Python parts of the package
(exceptions, configuration objects) import even from a source checkout that
was never built. Type checkers see the stubs ``_native/*.pyi``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import ZerobusError, from_native

__all__ = ["call", "go", "native", "num_handles"]

_T = TypeVar("_T")


class _Lazy:
    """A module proxy that imports ``zerobus_py._native.<name>`` on first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._mod: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._mod is None:
            try:
                self._mod = importlib.import_module(f"{__package__}._native.{self._name}")
                _quiet_teardown(self._mod)
            except ImportError as exc:
                raise ImportError(
                    "zerobus_py's native extension is missing or cannot be loaded "
                    f"({exc}). Install the package with `pip install zerobus-wrapper` "
                    "(or `pip install .` from a checkout, which needs Go >= 1.24); "
                    "a source tree that was never built cannot send data."
                ) from exc
        return self._mod

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)


def _quiet_teardown(mod: ModuleType) -> None:
    """gopy's classes release their Go handle in ``__del__`` through a module global that the interpreter sets
    to None while it tears modules down at exit: an object still alive then (a send left running in a daemon
    thread) printed "Exception ignored in ... __del__ ... 'NoneType' object has no attribute 'DecRef'". The
    process is ending, and Go's memory with it: that release is skipped quietly; any other failure is not."""
    for cls in vars(mod).values():
        release = vars(cls).get("__del__") if isinstance(cls, type) else None
        if release is not None:
            cls.__del__ = _guarded_del(release, sys.is_finalizing)


def _guarded_del(release: Callable[[Any], None], finalizing: Callable[[], bool]) -> Callable[[Any], None]:
    def __del__(self: Any) -> None:
        try:
            release(self)
        except AttributeError:
            if not finalizing():
                raise

    return __del__


if TYPE_CHECKING:
    from ._native import _zbnative as raw
    from ._native import go
    from ._native import pybind as native
else:
    native = _Lazy("pybind")
    go = _Lazy("go")
    raw = _Lazy("_zbnative")


#: What a forked child is told when it uses the Go runtime its parent started.
FORKED_MESSAGE = (
    "zerobus_py: this process was forked (os.fork(), or multiprocessing's 'fork' start method, the default on "
    "Linux before Python 3.14) from one where zerobus_py's Go runtime had started; Go cannot run in such a child "
    "(every call would hang). Start worker processes with multiprocessing.get_context('spawn') or "
    "'forkserver', or fork before zerobus_py is first used (a wrapper, a LocalServer or validate())"
)


def _refuse(*args: object, **kwargs: object) -> Any:
    raise ZerobusError(FORKED_MESSAGE)


def _ignore(*args: object, **kwargs: object) -> None:
    return None


def _after_fork_in_child() -> None:
    """In a child forked after the extension was loaded, the Go runtime's
    threads are gone: any call into Go blocks forever. Every function of the
    extension then raises :data:`FORKED_MESSAGE` instead, and releasing a
    handle (gopy's ``__del__`` of inherited objects) does nothing. A child
    forked before the extension was loaded starts Go afresh and is unaffected."""
    ext = sys.modules.get(f"{__package__}._native._zbnative")
    if ext is None:
        return
    for name in dir(ext):
        if not name.startswith("_") and callable(getattr(ext, name)):
            setattr(ext, name, _ignore if name in ("IncRef", "DecRef") else _refuse)


def forked_child() -> bool:
    """Whether Go is unusable in this process (see :func:`_after_fork_in_child`)."""
    ext = sys.modules.get(f"{__package__}._native._zbnative")
    return ext is not None and getattr(ext, "DecRef", None) is _ignore


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


def num_handles() -> int:
    """Number of Go objects currently referenced from Python (gopy's handle
    table). It returns to its baseline once results and wrappers are garbage
    collected; the leak tests check that."""
    return int(raw.NumHandles())


def call(fn: Callable[..., _T], *args: object) -> _T:
    """Call a native function, translating gopy's ``RuntimeError`` (whose
    message is the Go error's details as JSON) into the matching
    :class:`~zerobus_py.ZerobusError` subclass.

    The extension releases the GIL for the duration of the Go call.

    On an error ``args`` (the settings JSON with the client secret, the environment) is not left in this
    frame's locals, which error reporters capture with the traceback, and the gopy error, whose traceback
    holds the extension's frames and their arguments, is not chained.
    """
    try:
        return fn(*args)
    except ZerobusError as exc:
        err: ZerobusError = exc
    except RuntimeError as exc:
        err = from_native(exc)
    del args
    raise err.with_traceback(None)
