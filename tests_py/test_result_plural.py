"""TransmissionResult's text and HTML reprs count in the singular for one row (or byte), the plural otherwise."""

from __future__ import annotations

import pyarrow as pa

from zerobus_py import TransmissionResult, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_one_row_is_singular() -> None:
    res = TransmissionResult(True, successful_rows=[0], total_rows=1)
    assert "1/1 row acknowledged" in repr(res) and "rows" not in repr(res).split(":", 1)[1].split(",")[0]
    h = res._repr_html_()
    assert "1/1 row acknowledged" in h and "1/1 rows" not in h


def test_one_failed_row_html_is_singular() -> None:
    res = TransmissionResult(False, failed_rows=[(0, "ConversionError: bad value")], total_rows=1)
    h = res._repr_html_()
    assert "0/1 row acknowledged" in h
    assert "<td>1 row: 0</td>" in h and "1 rows" not in h


def test_several_rows_stay_plural() -> None:
    res = TransmissionResult(
        True, failed_rows=[(1, "ConversionError: bad"), (2, "ConversionError: bad")], successful_rows=[0], total_rows=3
    )
    assert "1/3 rows acknowledged (2 not acknowledged: ConversionError=2; 2 unknown (may be stored))" in repr(res)
    h = res._repr_html_()
    assert "<td>2 rows: 1, 2</td>" in h
    assert "0 bytes" in h  # batch_size_bytes left at 0: plural


def test_plural_helper() -> None:
    from zerobus_py._html import plural

    assert plural(1, "row") == "1 row"
    assert plural(0, "row") == "0 rows"
    assert plural(1234, "byte", thousands=True) == "1,234 bytes"
    assert plural(1, "byte", thousands=True) == "1 byte"


def test_local_server_html_counts_rows_in_the_singular(server: LocalServer) -> None:
    table = "main.default.plural_one"
    with ZerobusWrapper(server.config(table)) as w:
        w.send_batch(pa.table({"id": pa.array([7], pa.int64())}))
    html = server._repr_html_()
    assert f"table {table}</th><td><code>1 row</code>" in html, html
