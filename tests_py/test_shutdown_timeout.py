"""``shutdown(timeout=)`` bounds the whole call, the final telemetry export included, when the OTLP collector is
down: sends are not delayed by it, and the wrapper does not wait the 10 s a collector gets without a timeout. Without
a timeout, a collector that refuses connections (nothing listens) is given up on after 0.5 s, not 10 s."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from conftest import id_batch

from zerobus_py import ObservabilityConfig, ZerobusWrapper
from zerobus_py.local import LocalServer


def wrapper_with_collector_down(server: LocalServer, table_name: str, protocol: str | None = None) -> ZerobusWrapper:
    """A wrapper whose OTLP collector is a port nothing listens on: every export is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ZerobusWrapper(
        server.config(
            table_name,
            observability_enabled=True,
            observability_config=ObservabilityConfig(endpoint=f"http://127.0.0.1:{port}", protocol=protocol),
        )
    )


def test_shutdown_timeout_bounds_the_telemetry_export(
    server: LocalServer, table_name: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    wrapper = wrapper_with_collector_down(server, table_name)
    result = wrapper.send_batch(id_batch(0, 50))
    assert result.success and result.successful_count == 50
    start = time.monotonic()
    wrapper.shutdown(timeout=1.0)
    took = time.monotonic() - start
    assert took < 7.0, f"shutdown(timeout=1.0) took {took:.1f} s with the collector down"  # not the 10 s
    assert server.record_count(table_name) == 50
    # the failed exports are warnings of Python's logging, not Go log lines on stderr
    failed = [r for r in caplog.records if r.name == "zerobus_py" and "telemetry export failed" in r.getMessage()]
    assert failed and all(r.levelno == logging.WARNING for r in failed), [r.getMessage() for r in caplog.records]
    assert "export" not in capfd.readouterr().err


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_shutdown_without_timeout_does_not_wait_for_a_collector_that_is_down(
    server: LocalServer, table_name: str, protocol: str
) -> None:
    wrapper = wrapper_with_collector_down(server, table_name, protocol)
    assert wrapper.send_batch(id_batch(0, 20)).successful_count == 20
    start = time.monotonic()
    wrapper.shutdown()  # no timeout: was 10 s (the export's retries against a refusing collector)
    took = time.monotonic() - start
    assert took < 7.0, f"shutdown() took {took:.1f} s with the collector down"  # not the 10 s
    assert server.record_count(table_name) == 20
