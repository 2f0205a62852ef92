"""Session 16: every exception of zerobus_py survives pickle (issue #15), the ConfigurationError[TypeError] of a
keyword typo or a value of the wrong type included: a process pool's parent gets the error, not a PicklingError.
"""

from __future__ import annotations

import copy
import importlib
import pickle
from typing import Any

import pytest

import zerobus_py
from zerobus_py import ConfigurationError, WrapperConfiguration, ZerobusError
from zerobus_py._errors import ConfigurationTypeError, class_for_kind

_BASE: dict[str, Any] = {"endpoint": "http://127.0.0.1:1", "table_name": "main.default.t"}


def _exported_exceptions() -> list[type[BaseException]]:
    """Every exception class the public modules export (their ``__all__``), and ConfigurationError[TypeError]
    (raised, not exported: ``except TypeError`` / ``except ConfigurationError`` catch it)."""
    found: dict[type[BaseException], None] = {ConfigurationTypeError: None}
    for module_name in ("zerobus_py", "zerobus_py.local", "zerobus_py.debug", "zerobus_py.spark"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # zerobus_py.spark without pyspark
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                found[obj] = None
    assert zerobus_py.ConnectionError in found  # as ZerobusConnectionError
    return list(found)


def _same(got: BaseException, err: BaseException) -> None:
    assert type(got) is type(err), (type(got), type(err))
    assert str(got) == str(err) and got.args == err.args
    if isinstance(err, ZerobusError):
        assert isinstance(got, ZerobusError)
        assert got.details == err.details and got.keys == err.keys and got.kind == err.kind
        assert {k: v for k, v in vars(got).items() if k != "intact"} == {
            k: v for k, v in vars(err).items() if k != "intact"
        }


def _build(cls: type[BaseException]) -> BaseException:
    if not issubclass(cls, ZerobusError):
        return cls("a message")
    if cls.__name__ == "DamagedDebugFileError":
        import pyarrow as pa

        return cls("damaged", details={"kind": "unknown", "message": "damaged"}, intact=pa.table({"a": [1]}))  # type: ignore[call-arg]
    return cls("a message", keys=["table_name"], details={"retryable": True, "row": 3})


@pytest.mark.parametrize("cls", _exported_exceptions(), ids=lambda c: c.__qualname__)
def test_every_exported_exception_round_trips(cls: type[BaseException]) -> None:
    err = _build(cls)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        _same(pickle.loads(pickle.dumps(err, protocol)), err)
    _same(copy.deepcopy(err), err)


@pytest.mark.parametrize(
    "kind", ["retry_exhausted:connection", "retry_exhausted:token_refresh", "retry_exhausted:transmission"]
)
def test_combined_retry_exhausted_round_trips(kind: str) -> None:
    err = class_for_kind(kind)("gave up", keys=["retry_max_attempts"])
    _same(pickle.loads(pickle.dumps(err)), err)


@pytest.mark.parametrize(
    "given",
    [
        {"retry_max_attemps": 1},  # a keyword typo, with Go's "did you mean"
        {"retry_max_attempts": "3"},  # a value of the wrong type
        {"debug_max_file_size": "big"},  # a text Go cannot read
        {"retry_max_attempts": [3], "debug_max_file_size": "big"},  # several problems at once
    ],
    ids=["typo", "wrong-type", "bad-text", "combined"],
)
def test_configuration_type_error_round_trips(given: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as info:
        WrapperConfiguration(**_BASE, **given)
    err = info.value
    assert isinstance(err, ConfigurationError)
    assert type(err).__qualname__ == "ConfigurationError[TypeError]"  # shown as before
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        got = pickle.loads(pickle.dumps(err, protocol))
        _same(got, err)
        assert isinstance(got, TypeError) and isinstance(got, ConfigurationError)
    assert sorted(err.keys) == sorted(given)


def test_configuration_type_error_reaches_a_process_pool_parent() -> None:
    """As multiprocessing gives a worker's exception back: pickled in the child, unpickled in the parent (a fresh
    interpreter: the class is found by its module, not by this process's objects)."""
    import subprocess
    import sys

    code = (
        "import pickle, sys\n"
        "from zerobus_py import WrapperConfiguration\n"
        "try:\n"
        "    WrapperConfiguration('http://127.0.0.1:1', 'a.b.c', retry_max_attemps=1)\n"
        "except TypeError as err:\n"
        "    sys.stdout.buffer.write(pickle.dumps(err))\n"
    )
    data = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=120).stdout
    err = pickle.loads(data)
    assert isinstance(err, ConfigurationError) and isinstance(err, TypeError)
    assert err.keys == ["retry_max_attemps"]
    assert 'did you mean "retry_max_attempts"?' in str(err)
