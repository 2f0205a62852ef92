"""s14 secrets and leaks: a dropped LocalServer is closed; secrets are neither in captured frame locals nor in
LocalServer's errors; OTEL_* values the OpenTelemetry SDK cannot parse are never printed."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from zerobus_py import ConfigurationError, WrapperConfiguration, ZerobusWrapper
from zerobus_py._secret import SecretText
from zerobus_py.local import LocalServer

SECRET = "S3cr3t-XYZZY-frames-77"
SOURCE_TREE = Path(__file__).resolve().parents[1]


def _ports(server: LocalServer) -> list[int]:
    return [urllib.parse.urlsplit(u).port or 0 for u in (server.endpoint, server.workspace_url)]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_dropped_local_server_is_closed() -> None:
    # Nothing could stop a server dropped without close(): its ports, goroutines and rows stayed for the life
    # of the process (a notebook cell re-run leaves one per run). Now it is warned about and closed.
    servers = [LocalServer(), LocalServer(tls=True)]
    ports = [p for s in servers for p in _ports(s)]
    ca_file = servers[1].ca_file
    assert ca_file is not None and all(_listening(p) for p in ports)
    with pytest.warns(ResourceWarning, match=r"unclosed <LocalServer endpoint='http://127\.0\.0\.1:\d+'>") as rec:
        del servers
        gc.collect()
    assert len([w for w in rec if issubclass(w.category, ResourceWarning)]) == 2
    assert [p for p in ports if _listening(p)] == []
    assert not os.path.exists(ca_file)


def test_closed_local_server_is_not_warned_about() -> None:
    import warnings

    s = LocalServer()
    s.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del s
        gc.collect()


def test_local_server_alive_at_exit_is_quiet() -> None:
    # A server still referenced when the interpreter ends is closed (or skipped while modules are torn down)
    # without "Exception ignored" noise.
    code = "from zerobus_py.local import LocalServer\ns = LocalServer()\nt = LocalServer(tls=True)\nprint(s.endpoint)\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=SOURCE_TREE, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("http://127.0.0.1:")
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("client_secret", 98765432109), ("inspect_token", 424242424242), ("client_secret", [SECRET])],
)
def test_local_server_secret_of_wrong_type_not_echoed(keyword: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as ei:
        LocalServer(**{keyword: value})
    err = ei.value
    shown = str(value).strip("[]'")
    texts = [str(err), repr(err), str(err.args), str(err.details), "".join(traceback.format_exception(err))]
    assert all(shown not in t for t in texts), texts
    assert f"{keyword}=<redacted> must be a string" in str(err)
    assert err.keys == [keyword]


def _frames(exc: BaseException | None) -> Iterator[Any]:
    """Every frame of exc's traceback and of its cause and context chains, but this file's (the test's own)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:
                yield tb.tb_frame
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__


def _plain_secrets(value: Any, depth: int = 0) -> list[str]:
    """The plain str values holding SECRET in value, looking into tuples, lists and dicts."""
    if type(value) is str:
        return [value] if SECRET in value else []
    if depth < 4 and isinstance(value, (tuple, list)):
        return [s for v in value for s in _plain_secrets(v, depth + 1)]
    if depth < 4 and isinstance(value, dict):
        return [s for v in list(value.keys()) + list(value.values()) for s in _plain_secrets(v, depth + 1)]
    return []


def _check_locals(err: BaseException) -> None:
    for frame in _frames(err):
        for name, value in frame.f_locals.items():
            assert not _plain_secrets(value), f"{frame.f_code.co_name}: local {name} holds the secret"
            assert SECRET not in repr(value), f"{frame.f_code.co_name}: repr of local {name} shows the secret"
    text = "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())
    assert SECRET not in text


def _config_error(make: Callable[[], object]) -> BaseException:
    with pytest.raises(ConfigurationError) as ei:
        make()
    return ei.value


def _bad_config() -> WrapperConfiguration:
    return WrapperConfiguration(
        "http://127.0.0.1:1",
        "main.default.loc",
        client_id="x",
        client_secret=SECRET,
        unity_catalog_url="http://127.0.0.1:2",
        retry_max_attempts=0,
    )


def test_validate_error_frames_hold_no_secret() -> None:
    # Error reporters capture frame locals (Sentry's local variables, rich, pytest -l): the settings JSON with
    # the secret was a plain str argument of _bridge.call in every configuration error.
    _check_locals(_config_error(lambda: _bad_config().validate()))


def test_wrapper_constructor_error_frames_hold_no_secret() -> None:
    _check_locals(_config_error(lambda: ZerobusWrapper(_bad_config())))


def test_from_env_error_frames_hold_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # the environment passed to Go holds ZEROBUS_CLIENT_SECRET (and whatever else the process has)
    monkeypatch.setenv("ZEROBUS_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "main.default.loc")
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "many")
    _check_locals(_config_error(WrapperConfiguration.from_env))


def test_wrapper_settings_are_redacted_text(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name, client_secret=SECRET)) as w:
        settings = w._settings
        assert isinstance(settings, SecretText)
        assert SECRET in str(settings)  # what Go gets
        assert SECRET not in repr(settings) and SECRET not in repr(vars(w))


def test_otel_env_values_never_printed() -> None:
    # The OpenTelemetry SDK printed an OTEL_EXPORTER_OTLP_HEADERS it cannot parse (the collector's API key)
    # raw to stderr, past Python logging; now it is a redacted record on the zerobus_py logger.
    code = (
        "import logging, pyarrow as pa, zerobus_py as z\n"
        "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s')\n"
        "cfg = z.WrapperConfiguration(table_name='main.default.t', zerobus_writer_disabled=True,"
        " debug_enabled=True, debug_output_dir=__import__('tempfile').mkdtemp(), observability_enabled=True)\n"
        "with z.ZerobusWrapper(cfg) as w:\n"
        "    w.send_batch(pa.record_batch({'id': pa.array([1], pa.int64())}))\n"
    )
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_HEADERS": f"api-key {SECRET}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"https://collector:{SECRET}@[otel.example",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=SOURCE_TREE, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stderr and SECRET not in proc.stdout, proc.stderr
    assert "ERROR zerobus_py zerobus: OpenTelemetry: parse headers" in proc.stderr, proc.stderr
    assert "ERROR zerobus_py zerobus: OpenTelemetry: parse url" in proc.stderr, proc.stderr
