"""Executes examples/quickstart.ipynb so the notebook can never rot, and checks what notebooks display."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from zerobus_py.local import LocalServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _html(outputs: list[dict[str, Any]]) -> list[str]:
    return ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]


@pytest.mark.slow
def test_quickstart_notebook_runs() -> None:
    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    # Run in examples/ so the kernel imports the installed zerobus_py, not the
    # unbuilt source tree at the repository root.
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "rows in main.notebook.orders" in text
    html = _html(outputs)
    # The TransmissionResult, the configuration and the local server rendered as HTML tables, secrets redacted.
    assert any("<caption>TransmissionResult</caption>" in h for h in html)
    config = [h for h in html if "<caption>WrapperConfiguration</caption>" in h]
    assert config and "main.notebook.orders" in config[0] and "&lt;redacted&gt;" in config[0]
    servers = [h for h in html if "<caption>LocalServer</caption>" in h]
    assert len(servers) == 2  # when started, and with its tables before closing
    assert "table main.notebook.orders</th><td><code>408 rows" in servers[1]
    # Stored timestamps shown as times, not microseconds since the epoch.
    landed = [h for h in html if "placed_at" in h and "dataframe" in h]
    assert any("2026-11-23 09:00:00+00:00" in h for h in landed), landed
    assert not any("1795424400000000" in h for h in landed)
    # The latency plot rendered inline: a real PNG in the executed notebook.
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    png = base64.b64decode(pngs[0])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_html_reprs_show_effective_settings_and_no_secrets(server: LocalServer) -> None:
    secret = server.client_secret
    config = server.config("main.pytest.html", debug_enabled=True, debug_output_dir="/tmp/dbg")
    html = config._repr_html_()
    assert secret not in html and "&lt;redacted&gt;" in html
    assert "<th style='text-align:left'>debug files</th><td><code>Arrow IPC + protobuf</code>" in html
    assert "debug_enabled" not in html and "debug_arrow_enabled" not in html  # one row says what is on
    assert "/tmp/dbg" in html
    arrow_only = server.config("main.pytest.html", debug_arrow_enabled=True, debug_output_dir="/tmp/dbg")._repr_html_()
    assert "<code>Arrow IPC</code>" in arrow_only
    off = server.config("main.pytest.html")._repr_html_()
    assert "<code>off</code>" in off and "debug_flush_interval_secs" not in off
    assert "&lt;script&gt;" in server.config("main.pytest.html", client_id="<script>")._repr_html_()

    with LocalServer(client_secret="local-html-secret") as s:
        running = s._repr_html_()
        assert "<code>running</code>" in running and s.endpoint in running
        assert "local-html-secret" not in running
    assert "<code>closed</code>" in s._repr_html_()
