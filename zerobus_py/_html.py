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


def plural(n: int, noun: str, *, thousands: bool = False) -> str:
    """``"1 row"``, ``"2 rows"``, ``"0 rows"``: ``n`` (with ``,`` between
    thousands when ``thousands``) and the noun, singular for exactly 1."""
    return (f"{n:,}" if thousands else str(n)) + " " + (noun if n == 1 else noun + "s")
