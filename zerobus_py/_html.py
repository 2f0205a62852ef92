"""HTML tables for the ``_repr_html_`` of the objects notebooks display."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# The characters XML 1.0 does not allow (C0 controls but tab, newline and carriage return; lone surrogates; U+FFFE,
# U+FFFF): an error text may hold one (a NUL or an ANSI escape from the data), which html.escape keeps, making the
# HTML not well-formed.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """``text`` for HTML: escaped (``html.escape``), each character XML does not allow (C0 controls but tab, newline
    and carriage return, lone surrogates, U+FFFE and U+FFFF) replaced by U+FFFD (the HTML stays well-formed XML)."""
    return _CONTROLS.sub("\ufffd", html.escape(text))


def table(caption: str, rows: Iterable[tuple[str, object]]) -> str:
    """An HTML table: a caption, then one ``name | value`` row per pair, every text escaped (:func:`escape`)."""
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(name)}</th><td><code>{escape(str(value))}</code></td></tr>"
        for name, value in rows
    )
    return f"<table><caption>{escape(caption)}</caption>{body}</table>"


def plural(n: int, noun: str, *, thousands: bool = False) -> str:
    """``"1 row"``, ``"2 rows"``, ``"0 rows"``: ``n`` (with ``,`` between
    thousands when ``thousands``) and the noun, singular for exactly 1."""
    return (f"{n:,}" if thousands else str(n)) + " " + (noun if n == 1 else noun + "s")
