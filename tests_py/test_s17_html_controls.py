"""C0 control characters in a text put into HTML (a NUL or an ANSI escape in an error message, a path) are
replaced by U+FFFD: html.escape keeps them, and the HTML was not well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from zerobus_py import WrapperConfiguration
from zerobus_py._html import escape, table


def test_control_characters_in_html_are_replaced() -> None:
    out = table("cap\x00", [("name\x1b[31m", "value\x00\x07 tab\there\nline\x7f<&>")])
    root = ET.fromstring(out)
    # tab and newline are XML characters: kept; DEL too
    assert "".join(root.itertext()) == "cap\ufffdname\ufffd[31mvalue\ufffd\ufffd tab\there\nline\x7f<&>"
    assert escape("a\x1fb\x0bc<") == "a\ufffdb\ufffdc&lt;"
    cfg = WrapperConfiguration("http://127.0.0.1:1", "a.b.c", debug_output_dir="dbg\x1b[0m", debug_enabled=True)
    assert "dbg\ufffd[0m" in "".join(ET.fromstring(cfg._repr_html_()).itertext())


def test_lone_surrogates_and_noncharacters_in_html_are_replaced() -> None:
    # a lone surrogate (text decoded with errors="surrogateescape") and U+FFFE / U+FFFF are not XML characters
    out = table("c", [("n", "a\udc80b\ufffec\uffffd")])
    assert "".join(ET.fromstring(out.encode("utf-8", "surrogatepass")).itertext()) == "cna\ufffdb\ufffdc\ufffdd"
