"""A constructor that fails leaves its frames in the traceback: error reporters that capture locals (Sentry,
``rich.traceback`` with ``show_locals``, ``pytest -l``, ``TracebackException(capture_locals=True)``) print every
variable of them. No frame of zerobus_py may show a secret there (``client_secret``, the password of a proxy URL,
the user information of the OTLP endpoint, the local server's ``inspect_token``), and printing them never raises.

The secrets come from the environment inline, as an application passes them: no frame of the test holds one.
"""

from __future__ import annotations

import os
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


@pytest.mark.parametrize("case", sorted(CASES))
def test_failed_constructor_frames_hold_no_secret(case: str, secret: str) -> None:
    with pytest.raises((zerobus_py.ZerobusError, TypeError, ValueError)) as ei:
        CASES[case]()
    assert secret not in str(ei.value)
    assert _library_locals_showing(ei.value, secret) == []
