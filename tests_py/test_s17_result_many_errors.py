"""s17 (review M4): a batch whose failed rows each have their own message (a conversion error names its row)
costs no Python exception per row until one is asked for: Go folds the errors that differ only in the row number
into one group, the counts are exact, and every row's text still names its row."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pyarrow as pa

from zerobus_py import ConversionError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer

N = 200_000  # every second row holds invalid UTF-8: 100,000 failed rows, each message naming its row


def _batch() -> pa.RecordBatch:
    vals = np.full(N, ord("a"), dtype=np.uint8)
    vals[::2] = 0xFF
    offsets = np.arange(N + 1, dtype=np.int32)
    s = pa.Array.from_buffers(pa.string(), N, [None, pa.py_buffer(offsets), pa.py_buffer(vals)])
    return pa.record_batch({"id": pa.array(np.arange(N), pa.int64()), "s": s})


def _live_errors() -> int:
    return sum(isinstance(o, ZerobusError) for o in gc.get_objects())


def test_many_row_naming_errors_build_no_exception_per_row(server: LocalServer, table_name: str) -> None:
    batch = _batch()
    before = _live_errors()
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(batch)
    assert server.record_count(table_name) == N // 2
    assert len(res._groups) == 1  # one group for 100,000 rows whose messages differ only in the row named
    r, h, stats = repr(res), res._repr_html_(), res.get_error_statistics()
    rows = res.failed_rows
    assert _live_errors() - before < 10  # nothing per row so far
    assert (res.failed_count, res.not_written_count, res.unknown_count) == (N // 2, N // 2, 0)
    assert stats["error_type_counts"] == {"ConversionError": N // 2}
    assert "100,000/200,000 rows acknowledged (100,000 not acknowledged: ConversionError=100,000; 100,000 not" in r
    assert "99,999 more rows like it" in h and len(h) < 5000
    assert [i for i, _ in rows] == list(range(0, N, 2)) == res.get_failed_row_indices()
    assert all(m.startswith("Conversion error: ") and f"at row {i}," in m for i, m in rows)
    assert res.get_error_messages()[3] == rows[3][1] and "at row 6," in rows[3][1]
    assert res.group_errors_by_type() == {"ConversionError": list(range(0, N, 2))}
    assert res.get_failed_row_indices_by_error_type(ConversionError) == list(range(0, N, 2))
    failed = res.extract_failed_batch(batch)
    assert failed.column("id").to_pylist() == list(range(0, N, 2))
    back = pickle.loads(pickle.dumps(res))
    assert back.failed_rows == rows and repr(back) == r
    errs = res.failed_row_errors  # asked for: one exception per row, each naming its row
    assert [i for i, _ in errs] == list(range(0, N, 2))
    e = errs[5][1]
    assert isinstance(e, ConversionError) and e.row == 10 and "at row 10," in str(e) and e.column == "s"
    assert errs[0][1] is res._groups[0].error and errs[0][1].row == 0
