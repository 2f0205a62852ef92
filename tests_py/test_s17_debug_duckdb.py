"""s17 L5: docs/debug-files.md said DuckDB opens the debug files, but stock
DuckDB has no Arrow IPC reader. The docs now show the way that works offline
(a pyarrow table read with zerobus_py.debug.read_file); this runs that
snippet as written, on an .arrow and a .proto file."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pyarrow as pa
import pytest

from zerobus_py import WrapperConfiguration, ZerobusWrapper

DOC = Path(__file__).resolve().parent.parent / "docs" / "debug-files.md"


def test_docs_duckdb_snippet_runs(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"```python\n(import duckdb\n.*?)```", text, re.S)
    assert m, "docs/debug-files.md shows no DuckDB snippet"
    snippet = m.group(1)
    doc_path = "DEBUGFILE.arrow"
    assert doc_path in snippet
    table = "main.default.events"
    cfg = WrapperConfiguration(
        table_name=table,
        zerobus_writer_disabled=True,
        debug_enabled=True,
        debug_arrow_compression="zstd",
        debug_output_dir=str(tmp_path / "debug"),
    )
    with ZerobusWrapper(cfg) as w:
        w.send_batch(pa.record_batch({"id": pa.array([5, 6, 7], pa.int64()), "s": pa.array(["a", None, "c"])}))
    for f in (
        tmp_path / "debug" / "zerobus" / "arrow" / f"{table}.arrow",
        tmp_path / "debug" / "zerobus" / "proto" / f"{table}.proto",
    ):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(snippet.replace(doc_path, str(f)), {})  # the documented snippet
        assert out.getvalue().strip() == "[(3, 5)]", (f, out.getvalue())
