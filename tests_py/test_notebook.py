"""Executes examples/quickstart.ipynb so the notebook can never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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
    # The TransmissionResult rendered as HTML for notebooks.
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert any("TransmissionResult" in "".join(o["data"]["text/html"]) for o in html)
