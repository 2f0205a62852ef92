"""HTML tables for the ``_repr_html_`` of the objects notebooks display."""

from __future__ import annotations

import html
from collections.abc import Iterable


def table(caption: str, rows: Iterable[tuple[str, object]]) -> str:
    """An HTML table: a caption, then one ``name | value`` row per pair, every text escaped."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(name)}</th><td><code>{html.escape(str(value))}</code></td></tr>"
        for name, value in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption>{body}</table>"
