"""Executes examples/quickstart.ipynb so the notebook can never rot, checks the committed copy (executed, with
its outputs, so it renders where it is read) and what notebooks display.

``python tests_py/test_notebook.py`` (``make notebook``) re-executes the notebook in place and normalises it.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from zerobus_py.local import LocalServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICKSTART = EXAMPLES / "quickstart.ipynb"
# The notebook's own LocalServer(client_secret="...") values: never in an output.
_SECRET = re.compile(r"""client_secret\s*=\s*["']([^"']+)["']""")


def _html(outputs: list[dict[str, Any]]) -> list[str]:
    return ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]


def read(text: str | None = None) -> Any:
    """The notebook, from text or the committed file (nbformat has no type hints)."""
    if text is None:
        text = QUICKSTART.read_text(encoding="utf-8")
    return nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]


def execute(nb: Any) -> None:
    """Run nb in examples/, so the kernel imports the installed zerobus_py, not the unbuilt source tree at the
    repository root; no timings recorded. matplotlib's font cache is built first, here: building it in the
    kernel prints a warning into the plot cell's outputs when it takes over 5 s (a fresh machine)."""
    import matplotlib.font_manager  # noqa: F401

    resources = {"metadata": {"path": str(EXAMPLES)}}
    NotebookClient(nb, timeout=180, kernel_name="python3", record_timing=False, resources=resources).execute()


def normalise(nb: Any) -> None:
    """Strip what changes on every run without saying anything (timings, kernel and interpreter details) and number
    the code cells from 1; outputs are kept as they came."""
    for key in set(nb.metadata) - {"kernelspec", "language_info"}:
        del nb.metadata[key]
    nb.metadata.get("language_info", {}).pop("version", None)
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        for o in cell.outputs:
            o.pop("transient", None)
            if o.output_type == "execute_result":
                o.execution_count = count


def output_kinds(nb: Any) -> list[list[str]]:
    """Per code cell, what each output is: a stream's name, a result's or display's MIME types, an error."""
    kinds = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            kinds.append(
                [
                    f"stream:{o.name}"
                    if o.output_type == "stream"
                    else f"{o.output_type}:{','.join(sorted(o.get('data', {})))}"
                    for o in cell.outputs
                ]
            )
    return kinds


def _secrets(nb: Any) -> set[str]:
    return {m for cell in nb.cells if cell.cell_type == "code" for m in _SECRET.findall(cell.source)}


def _outputs_text(nb: Any) -> str:
    return json.dumps([cell.get("outputs", []) for cell in nb.cells], ensure_ascii=False)


def test_committed_quickstart_is_executed_and_renders() -> None:
    """The committed notebook carries its outputs (GitHub shows them), normalised, without errors or secrets."""
    raw = QUICKSTART.read_text(encoding="utf-8")
    assert len(raw) < 80_000, f"{QUICKSTART} is {len(raw)} characters: keep its outputs (the plot) small"
    nb = read(raw)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs for c in code), [c.source.splitlines()[0] for c in code if not c.outputs]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    # the table is created with its columns, so server.table() gives placed_at typed: no conversion by hand
    assert not [c.source for c in code if 'unit="us"' in c.source]
    kinds = [k for cell in output_kinds(nb) for k in cell]
    assert not [k for k in kinds if k.startswith("error") or k == "stream:stderr"], kinds
    # normalised as `make notebook` leaves it: no timings, no interpreter version
    assert not [c.metadata for c in nb.cells if "execution" in c.metadata]
    assert "version" not in nb.metadata.get("language_info", {}), nb.metadata
    # the stored results are this notebook's: the data it sends, the plot
    stored = _outputs_text(nb)
    assert "2026-11-23 09:00:00+00:00" in stored and "408 rows in main.notebook.orders" in stored
    # the table's columns as table_schema() reads them from the catalog
    assert all(f in stored for f in ("order_id: int64", "customer: large_string", "placed_at: timestamp[us, tz=UTC]"))
    pngs = [o.data["image/png"] for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1 and 5000 < len(base64.b64decode(pngs[0])) < 30_000
    # no secret in what is shown: the notebook's fixed client secret, redacted wherever a credential is shown
    secrets = _secrets(nb)
    assert secrets, "the notebook no longer passes a fixed client_secret: nothing to check outputs against"
    assert not [s for s in secrets if s in stored]
    assert "&lt;redacted&gt;" in stored and "client_secret='<redacted>'" in stored
    # renders with nbconvert, outputs included
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nb)  # type: ignore[no-untyped-call]
    assert "<caption>TransmissionResult</caption>" in html and 'src="data:image/png;base64,' in html
    # a secret appears only where the source sets it
    assert [html.count(s) for s in secrets] == [sum(c.source.count(s) for c in code) for s in secrets]


@pytest.mark.slow
def test_quickstart_notebook_runs() -> None:
    committed, nb = read(), read()
    execute(nb)
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
    # The committed copy shows what a run shows now (`make notebook` refreshes it), and no secret.
    assert output_kinds(committed) == output_kinds(nb), "examples/quickstart.ipynb is stale: run `make notebook`"
    # ... and the same text and tables, but for ports, timings and the plot: a repr changed since the notebook was
    # executed shows there as it no longer prints (the committed "1 rows" after the plural was fixed)
    for i, (old, new) in enumerate(zip(_shown(committed), _shown(nb), strict=True)):
        assert old == new, f"examples/quickstart.ipynb is stale at code cell {i + 1}: run `make notebook`\n{old}\n{new}"
    secrets = _secrets(nb)
    assert secrets and not [s for s in secrets if s in _outputs_text(nb)]


# What changes from run to run without saying anything: ports, timings, latencies.
_VARYING = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\d+(\.\d+)? ms\b"), "N ms"),
    (re.compile(r"latency_ms=\d+(\.\d+)?"), "latency_ms=N"),
]


def _shown(nb: Any) -> list[str]:
    """Per code cell, its outputs' text and HTML (not images), with what varies from run to run replaced."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for o in cell.outputs:
            data = o.get("data", {})
            for part in (o.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")):
                parts.append("".join(part))
        text = "\n".join(parts)
        for pattern, repl in _VARYING:
            text = pattern.sub(repl, text)
        cells.append(text)
    return cells


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


def main() -> None:
    """Re-execute examples/quickstart.ipynb in place and normalise it (`make notebook`)."""
    nb = read()
    execute(nb)
    normalise(nb)
    nbformat.validate(nb)
    nbformat.write(nb, QUICKSTART)  # type: ignore[no-untyped-call]
    print(f"wrote {QUICKSTART} ({QUICKSTART.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
