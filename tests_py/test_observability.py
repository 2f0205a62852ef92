"""Telemetry and logs from Python: the observability settings set up the Go
core's OpenTelemetry export (OTLP JSON files, an OTLP/HTTP collector), and Go's
log records reach Python ``logging`` on the ``zerobus_py`` logger."""

from __future__ import annotations

import gc
import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ObservabilityConfig, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

# What one successful send records (core/telemetry_test.go has the same lists).
WRAPPER_SPANS = {
    "zerobus.SendBatch",
    "zerobus.convert",
    "zerobus.stream.create",
    "zerobus.token.fetch",
    "zerobus.transmit",
    "zerobus.wait_acks",
}
WRAPPER_METRICS = {
    "zerobus.ack.duration",
    "zerobus.batches.sent",
    "zerobus.bytes.sent",
    "zerobus.conversion.duration",
    "zerobus.rows.sent",
    "zerobus.send.duration",
    "zerobus.stream.creations",
    "zerobus.token.fetches",
}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _spans(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        span
        for req in requests
        for rs in req.get("resourceSpans", [])
        for ss in rs.get("scopeSpans", [])
        for span in ss.get("spans", [])
    ]


def _metrics(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        m
        for req in requests
        for rm in req.get("resourceMetrics", [])
        for sm in rm.get("scopeMetrics", [])
        for m in sm.get("metrics", [])
    ]


def _int_sum(metric: dict[str, Any]) -> int:
    # OTLP/JSON writes 64-bit integers as decimal strings.
    return sum(int(dp.get("asInt", 0)) for dp in metric.get("sum", {}).get("dataPoints", []))


def test_observability_writes_otlp_files(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    out = tmp_path / "otel"
    config = server.config(
        table_name,
        observability_enabled=True,
        observability_config=ObservabilityConfig(output_dir=out, interval_secs=3600, log_level="debug"),  # a Path
    )
    sent = [id_batch(0, 120), id_batch(120, 80)]
    with ZerobusWrapper(config) as w:
        for batch in sent:
            assert w.send_batch(batch).success
    # shutdown exported the last metrics and spans (the interval is an hour)
    assert stored_ids(server, table_name) == list(range(200))

    traces = _lines(out / "traces.jsonl")
    spans = _spans(traces)
    names = {s["name"] for s in spans}
    assert names >= WRAPPER_SPANS, f"missing spans {WRAPPER_SPANS - names}"
    roots = [s for s in spans if s["name"] == "zerobus.SendBatch"]
    assert len(roots) == 2
    for root in roots:
        assert len(root["traceId"]) == 32 and len(root["spanId"]) == 16  # hex ids
        attrs = {a["key"]: a["value"] for a in root.get("attributes", [])}
        assert attrs["zerobus.table"] == {"stringValue": table_name}
    rows = sorted(int(a["value"]["intValue"]) for r in roots for a in r["attributes"] if a["key"] == "zerobus.rows")
    assert rows == [80, 120]

    metrics = _metrics(_lines(out / "metrics.jsonl"))
    by_name = {m["name"]: m for m in metrics}  # one export (at shutdown): each metric once
    assert set(by_name) >= WRAPPER_METRICS, f"missing metrics {WRAPPER_METRICS - set(by_name)}"
    assert _int_sum(by_name["zerobus.rows.sent"]) == 200
    assert _int_sum(by_name["zerobus.batches.sent"]) == 2
    assert by_name["zerobus.rows.sent"]["unit"] == "{row}"

    # Go's log records: JSON lines in logs.jsonl, correlated with the spans.
    logs = _lines(out / "logs.jsonl")
    created = [r for r in logs if r["msg"] == "zerobus: stream created"]
    assert created and created[0]["trace_id"] in {s["traceId"] for s in spans}


class _Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps each request's path and body."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    srv.received = []  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_observability_exports_to_otlp_endpoint(
    server: LocalServer, table_name: str, collector: http.server.ThreadingHTTPServer
) -> None:
    host, port = collector.server_address[:2]
    config = server.config(
        table_name,
        observability_enabled=True,
        observability_config={"endpoint": f"http://{host!s}:{port}", "protocol": "http", "interval_secs": 3600},
    )
    with ZerobusWrapper(config) as w:
        assert w.send_batch(id_batch(0, 50)).success
    received: list[tuple[str, bytes]] = collector.received  # type: ignore[attr-defined]
    paths = {p for p, _ in received}
    assert paths == {"/v1/traces", "/v1/metrics"}
    traces = b"".join(b for p, b in received if p == "/v1/traces")
    metrics = b"".join(b for p, b in received if p == "/v1/metrics")
    # protobuf bodies (not compressed): the names are there verbatim
    for name in WRAPPER_SPANS:
        assert name.encode() in traces, name
    for name in WRAPPER_METRICS:
        assert name.encode() in metrics, name


def test_retry_warning_reaches_logging(server: LocalServer, table_name: str, caplog: pytest.LogCaptureFixture) -> None:
    server.inject_fault(table_name, "error", code="UNAVAILABLE")  # the first stream creation fails once
    config = server.config(table_name, retry_base_delay_ms=5, retry_max_delay_ms=50)
    with caplog.at_level(logging.DEBUG, logger="zerobus_py"), ZerobusWrapper(config) as w:
        assert w.send_batch(id_batch(0, 10)).success
    # shutdown() drained every record logged before it returned
    retries = [r for r in caplog.records if "stream creation failed; retrying" in r.getMessage()]
    assert len(retries) == 1, [r.getMessage() for r in caplog.records]
    rec = retries[0]
    assert rec.name == "zerobus_py"
    assert rec.levelno == logging.WARNING
    attrs = rec.zerobus_attrs  # type: ignore[attr-defined]
    assert attrs["table"] == table_name
    assert "UNAVAILABLE" in attrs["error"] or "Unavailable" in attrs["error"]
    assert f"table={table_name}" in rec.getMessage()
    assert abs(rec.created - time.time()) < 60
    # the default log_level is info: no debug record crossed
    assert all(r.levelno >= logging.INFO for r in caplog.records if r.name == "zerobus_py")
    assert stored_ids(server, table_name) == list(range(10))


def test_log_level_and_log_file(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger("zerobus_py")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    log_file = tmp_path / "logs" / "zerobus.log"
    try:
        config = server.config(
            table_name, observability_config={"log_level": "debug", "log_file": str(log_file), "max_file_mb": 1}
        )
        with ZerobusWrapper(config) as w:
            assert w.send_batch(id_batch(0, 5)).success
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    messages = [r.getMessage() for r in captured]
    assert any(m.startswith("zerobus: stream created") for m in messages), messages
    assert any(r.levelno == logging.DEBUG for r in captured)
    secret = server.client_secret
    assert secret and all(secret not in m for m in messages)
    written = _lines(log_file)
    assert {r["msg"] for r in written} >= {"zerobus: stream created", "zerobus wrapper created"}
    assert secret not in log_file.read_text()


def _sample() -> int:
    time.sleep(0.01)
    return _bridge.native.Goroutines()


def test_no_goroutine_leak_after_close(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    def run() -> None:
        config = server.config(
            table_name,
            observability_enabled=True,
            observability_config={"output_dir": tmp_path, "log_file": tmp_path / "z.log", "interval_secs": 3600},
        )
        with ZerobusWrapper(config) as w:
            assert w.send_batch(id_batch(0, 20)).success
        gc.collect()

    run()  # warm-up: goroutines started once per process
    # The log drain thread counts as a goroutine while it waits in Go: sample
    # a few times so the baseline includes it.
    base = max(_sample() for _ in range(5))
    for _ in range(3):
        run()
    deadline = time.monotonic() + 30  # a poll: ends as soon as they are gone
    while _bridge.native.Goroutines() > base and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _bridge.native.Goroutines() <= base
    rows = sum(_int_sum(m) for m in _metrics(_lines(tmp_path / "metrics.jsonl")) if m["name"] == "zerobus.rows.sent")
    assert rows == 4 * 20  # each wrapper's final export holds its own 20 rows


def test_token_retry_warning_reaches_logging(
    server: LocalServer, table_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.inject_fault(table_name, "token_error", http_status=503)  # the first token request fails once
    config = server.config(table_name, retry_base_delay_ms=5, retry_max_delay_ms=50)
    with caplog.at_level(logging.WARNING, logger="zerobus_py"), ZerobusWrapper(config) as w:
        assert w.send_batch(id_batch(0, 3)).success
    retries = [r for r in caplog.records if r.getMessage().startswith("zerobus: token http: retrying")]
    assert len(retries) == 1, [r.getMessage() for r in caplog.records]
    assert retries[0].levelno == logging.WARNING
    assert retries[0].zerobus_attrs["status"] == 503  # type: ignore[attr-defined]
    assert server.client_secret not in caplog.text


def test_dropped_records_are_counted(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # What Go's queue reports when Python fell behind by a full queue.
    from zerobus_py import _logs

    replies = iter(
        [json.dumps({"records": [{"time": time.time(), "level": 4, "msg": "kept", "attrs": {"n": 1}}], "dropped": 7})]
    )
    monkeypatch.setattr(_logs._bridge, "call", lambda fn, *args: next(replies))
    with caplog.at_level(logging.DEBUG, logger="zerobus_py"):
        _logs.drain()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "kept n=1"),
        (logging.WARNING, _logs_dropped_message(7)),
    ]


def _logs_dropped_message(n: int) -> str:
    return f"zerobus_py: {n} Go log records were dropped: the queue was full (Python drained it too slowly)"
