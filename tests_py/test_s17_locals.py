"""A constructor that fails leaves its frames in the traceback: error reporters that capture locals (Sentry,
``rich.traceback`` with ``show_locals``, ``pytest -l``, ``TracebackException(capture_locals=True)``) print every
variable of them. No frame of zerobus_py may show a secret there (``client_secret``, the password of a proxy URL,
the user information of the OTLP endpoint, the local server's ``inspect_token``), and printing them never raises.

The secrets come from the environment inline, as an application passes them: no frame of the test holds one.
"""

from __future__ import annotations

import os
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import zerobus_py
from zerobus_py import AsyncZerobusWrapper, ObservabilityConfig, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer

ENV = "S17_LOCALS_SECRET"
PACKAGE_DIR = str(Path(zerobus_py.__file__).resolve().parent)


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "S3CR3T-" + uuid.uuid4().hex
    monkeypatch.setenv(ENV, value)
    return value


def _safe_repr(value: Any) -> str:
    # pytest -l and Sentry print a value whose repr raises as such: only the secret is looked for here
    try:
        return repr(value)
    except Exception as e:
        return f"<repr raised {type(e).__name__}>"


def _library_locals_showing(err: BaseException, secret: str) -> list[tuple[str, str, str]]:
    """(function, local, repr) of every local of a zerobus_py frame in ``err``'s traceback whose repr shows
    ``secret``."""
    hits = []
    tb = err.__traceback__
    seen = 0
    while tb is not None:
        frame = tb.tb_frame
        if str(Path(frame.f_code.co_filename).resolve()).startswith(PACKAGE_DIR + os.sep):
            seen += 1
            for name, value in frame.f_locals.items():
                shown = _safe_repr(value)
                if secret in shown:
                    hits.append((frame.f_code.co_name, name, shown[:200]))
        tb = tb.tb_next
    assert seen, "the error was raised outside zerobus_py: the test checks nothing"
    return hits


def _proxy() -> str:
    return "http://user:" + os.environ[ENV] + "@127.0.0.1:3"


CASES: dict[str, Callable[[], object]] = {
    # refused by Go once every attribute is set (the debug output needs a directory)
    "config debug without dir": lambda: WrapperConfiguration(
        "http://127.0.0.1:1", "a.b.c", client_secret=os.environ[ENV], proxy_url=_proxy(), debug_enabled=True
    ),
    # refused before any attribute is set
    "config unknown keyword": lambda: WrapperConfiguration(
        "http://127.0.0.1:1", "a.b.c", client_secret=os.environ[ENV], proxy_url=_proxy(), retry_max_attemps=3
    ),
    "config wrong type": lambda: WrapperConfiguration(
        "http://127.0.0.1:1", "a.b.c", client_secret=os.environ[ENV], proxy_url=_proxy(), retry_max_attempts="x"
    ),
    "wrapper keywords": lambda: ZerobusWrapper(
        endpoint="http://127.0.0.1:1",
        table_name="a.b.c",
        client_id="x",
        unity_catalog_url="http://127.0.0.1:2",
        client_secret=os.environ[ENV],
        proxy_url=_proxy(),
        retry_max_attempts=0,
    ),
    "wrapper keyword of the wrong type": lambda: ZerobusWrapper(
        endpoint="http://127.0.0.1:1", table_name="a.b.c", client_secret=os.environ[ENV], retry_max_attempts="x"
    ),
    "async wrapper keywords": lambda: AsyncZerobusWrapper(
        endpoint="http://127.0.0.1:1",
        table_name="a.b.c",
        client_id="x",
        unity_catalog_url="http://127.0.0.1:2",
        client_secret=os.environ[ENV],
        proxy_url=_proxy(),
        create_timeout_ms=0,
    ),
    "async wrapper keyword of the wrong type": lambda: AsyncZerobusWrapper(
        endpoint="http://127.0.0.1:1", table_name="a.b.c", client_secret=os.environ[ENV], retry_max_attempts="x"
    ),
    "local server out of range": lambda: LocalServer(
        client_secret=os.environ[ENV], inspect_token=os.environ[ENV] + "-inspect", max_message_bytes=-1
    ),
    "local server bad port": lambda: LocalServer(client_secret=os.environ[ENV], port=99999999),
    "local server wrong type": lambda: LocalServer(client_secret=os.environ[ENV], ack_every="x"),
    "local server unknown keyword": lambda: LocalServer(client_secret=os.environ[ENV], ack_evry=1),
    "observability endpoint": lambda: ObservabilityConfig(
        endpoint="http://user:" + os.environ[ENV] + "@127.0.0.1:4317", interval_secs="abc"
    ),
    "observability endpoint positional": lambda: ObservabilityConfig(
        "http://user:" + os.environ[ENV] + "@127.0.0.1:4317", interval_secs="abc"
    ),
}


def _raised(make: Callable[[], object]) -> BaseException:
    """The error ``make`` raises, caught here: its traceback starts at this frame, which holds no secret."""
    with pytest.raises((zerobus_py.ZerobusError, TypeError, ValueError)) as ei:
        make()
    return ei.value


@pytest.mark.parametrize("case", sorted(CASES))
def test_failed_constructor_frames_hold_no_secret(case: str, secret: str) -> None:
    with pytest.raises((zerobus_py.ZerobusError, TypeError, ValueError)) as ei:
        CASES[case]()
    assert secret not in str(ei.value)
    assert _library_locals_showing(ei.value, secret) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_failed_constructor_renders_with_capture_locals(case: str, secret: str) -> None:
    # Python < 3.12's traceback prints each local with plain repr: the half-built self of the failing constructor
    # must print, or the error reporter fails and the user's error is lost.
    err = _raised(CASES[case])
    text = "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())
    assert text.endswith(traceback.format_exception_only(type(err), err)[-1])  # the user's error, whole
    # the object being built is printed (as self, or in the args of the keyword check), not an error about it
    assert any(
        marker in text
        for marker in ("incomplete", "not created", "not started", "Configuration(", "ObservabilityConfig(")
    )
    assert secret not in text


@pytest.mark.parametrize(
    ("cls", "shown"),
    [
        (WrapperConfiguration, "<WrapperConfiguration incomplete>"),
        (ZerobusWrapper, "<ZerobusWrapper not created>"),
        (AsyncZerobusWrapper, "<AsyncZerobusWrapper not created>"),
        (LocalServer, "<LocalServer not started>"),
    ],
)
def test_unconstructed_object_shows_without_raising(cls: type, shown: str) -> None:
    obj = cls.__new__(cls)
    assert repr(obj) == str(obj) == shown
    html = getattr(obj, "_repr_html_", None)
    if html is not None:
        out = html()
        assert out.startswith(f"<table><caption>{cls.__name__}</caption>")
        assert ("incomplete" if cls is WrapperConfiguration else "not started") in out


def test_partially_set_configuration_shows_what_is_set(secret: str) -> None:
    cfg = WrapperConfiguration.__new__(WrapperConfiguration)
    object.__setattr__(cfg, "endpoint", "http://127.0.0.1:1")
    object.__setattr__(cfg, "_client_secret", os.environ[ENV])
    assert repr(cfg) == "<WrapperConfiguration incomplete: endpoint='http://127.0.0.1:1', client_secret='<redacted>'>"


def test_wrapper_whose_go_side_failed_says_not_created(server: LocalServer) -> None:
    # Go refuses the settings when the wrapper is created: its self (in the traceback) says so
    with pytest.raises(zerobus_py.ConfigurationError) as ei:
        ZerobusWrapper(server.config("main.s17.not_created", retry_max_attempts=0))
    text = "".join(traceback.TracebackException.from_exception(ei.value, capture_locals=True).format())
    assert f"self = <ZerobusWrapper table='main.s17.not_created' endpoint={server.endpoint!r} not created>" in text
