"""s18 OpenTelemetry review (otelreal): what a collector and the OTLP files receive from Python wrappers.

- Two wrappers in one process export their own series (distinct ``service.instance.id``), with host, process and
  version attributes.
- A collector that refuses every export gives one WARNING, not one per export; the final export's failure at
  shutdown is one more line counting the failures that were not logged.
- No row value reaches a span: the conversion error's value stays in the result, not in traces.jsonl.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import ObservabilityConfig, ZerobusWrapper
from zerobus_py.local import LocalServer


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _attrs(attributes: list[dict[str, Any]]) -> dict[str, str]:
    return {a["key"]: str(next(iter(a["value"].values()))) for a in attributes}


def _last_resource(path: Path) -> dict[str, str]:
    requests = _lines(path / "metrics.jsonl")
    assert requests, f"{path} has no metrics export"
    return _attrs(requests[-1]["resourceMetrics"][0]["resource"]["attributes"])


def test_two_wrappers_export_distinct_instances(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    ids = []
    for i, n in enumerate([100, 7]):
        out = tmp_path / f"otel{i}"
        config = server.config(
            table_name,
            observability_enabled=True,
            observability_config=ObservabilityConfig(output_dir=out, interval_secs=3600),
        )
        with ZerobusWrapper(config) as w:
            assert w.send_batch(id_batch(i * 1000, n)).successful_count == n
        res = _last_resource(out)
        assert len(res["service.instance.id"]) == 36, res
        for key in ("host.name", "process.pid", "service.version", "process.runtime.name"):
            assert res.get(key), (key, res)
        rows = [
            int(dp["asInt"])
            for m in _lines(out / "metrics.jsonl")[-1]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
            if m["name"] == "zerobus.rows.sent"
            for dp in m["sum"]["dataPoints"]
        ]
        assert sum(rows) == n
        ids.append(res["service.instance.id"])
    assert ids[0] != ids[1]
    assert server.record_count(table_name) == 107


class _Refusing(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that refuses every export (400), counting them."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.refused[self.path] = self.server.refused.get(self.path, 0) + 1  # type: ignore[attr-defined]
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    srv.refused = {}  # type: ignore[attr-defined]
    srv.lock = threading.Lock()  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_refusing_collector_is_one_warning_not_one_per_export(
    server: LocalServer,
    table_name: str,
    refusing: http.server.ThreadingHTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host, port = refusing.server_address[:2]
    config = server.config(
        table_name,
        observability_enabled=True,
        observability_config=ObservabilityConfig(endpoint=f"http://{host!s}:{port}", protocol="http", interval_secs=1),
    )

    def refused_metrics() -> int:
        with refusing.lock:  # type: ignore[attr-defined]
            n: int = refusing.refused.get("/v1/metrics", 0)  # type: ignore[attr-defined]
            return n

    with caplog.at_level(logging.INFO, logger="zerobus_py"):
        w = ZerobusWrapper(config)
        assert w.send_batch(id_batch(0, 10)).successful_count == 10
        deadline = time.monotonic() + 60
        while refused_metrics() < 4:
            assert time.monotonic() < deadline, f"only {refused_metrics()} metric exports in 60 s"
            time.sleep(0.05)
        w.shutdown()
    refused = refused_metrics()
    msgs = [r.getMessage() for r in caplog.records if r.name == "zerobus_py" and "telemetry export" in r.getMessage()]
    first = [m for m in msgs if m.startswith("zerobus: telemetry export failed") and "at close" not in m]
    # one per exporter that failed (metrics, and traces if its batch went out before shutdown)
    assert 1 <= len(first) <= 2, msgs
    assert not [m for m in msgs if "still failing" in m], msgs  # within the minute
    close = [r for r in caplog.records if r.getMessage().startswith("zerobus: telemetry export failed at close")]
    assert len(close) == 1, msgs
    assert close[0].levelno == logging.WARNING
    # the metric failures not logged one by one are counted (all but the first, and the final one)
    assert close[0].zerobus_attrs["failed_exports"] >= refused - 2, (refused, msgs)  # type: ignore[attr-defined]
    assert len(msgs) <= 3 < refused, (refused, msgs)


def test_spans_carry_no_row_values(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, n INT")
    out = tmp_path / "otel"
    config = server.config(
        table_name,
        observability_enabled=True,
        observability_config=ObservabilityConfig(output_dir=out, interval_secs=3600),
    )
    batch = pa.record_batch({"id": pa.array([1, 2, 3], pa.int64()), "n": pa.array([5, 98765432101, 6], pa.int64())})
    with ZerobusWrapper(config) as w:
        result = w.send_batch(batch)
    assert result.failed_count == 1 and result.successful_count == 2
    assert "98765432101" in str(result.failed_rows[0][1])  # the value is in the result
    assert server.record_count(table_name) == 2
    text = (out / "traces.jsonl").read_text()
    assert "98765432101" not in text
    spans = [
        s
        for req in _lines(out / "traces.jsonl")
        for rs in req["resourceSpans"]
        for ss in rs["scopeSpans"]
        for s in ss["spans"]
        if s["name"] == "zerobus.SendBatch"
    ]
    assert len(spans) == 1
    msg = spans[0]["status"]["message"]
    assert "row 1" in msg and 'column "n"' in msg, msg
    (event,) = spans[0]["events"]
    attrs = _attrs(event["attributes"])
    assert event["name"] == "exception"
    assert attrs == {"exception.type": "conversion", "exception.message": msg}
