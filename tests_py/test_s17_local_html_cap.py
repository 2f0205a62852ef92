"""LocalServer._repr_html_ lists the first 20 tables by name, then one line for the rest (a long-lived server may
hold thousands: the HTML was one row per table)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pyarrow as pa

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def test_html_lists_the_first_20_tables_then_the_rest_in_one_line() -> None:
    with LocalServer() as s:
        names = [f"main.s17.t{i:03d}" for i in range(45)]
        for name in reversed(names[:20]):
            s.create_table(name, "id BIGINT")
        out = s._repr_html_()
        assert [n for n in names if f"table {n}<" in out] == names[:20]  # 20: every one
        assert "more table" not in out
        for name in reversed(names[20:]):
            s.create_table(name, "id BIGINT")
        with ZerobusWrapper(s.config(names[44])) as w:  # rows in a table not listed are counted in all
            w.send_batch(pa.record_batch({"id": pa.array([1, 2, 3], pa.int64())}))
        out = s._repr_html_()
        ET.fromstring(out)  # well-formed
        assert [n for n in names if f"table {n}<" in out] == names[:20]
        assert "<th style='text-align:left'>…</th><td><code>25 more tables; 3 rows in all 45 tables</code>" in out
