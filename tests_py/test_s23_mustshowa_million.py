"""Issue 6 must-show "1M-row batch", inside ``make test``.

tests_go's TestSendBatchSizes sends 1,000,000 rows only without the race detector; ``make test`` runs Go tests with
``-race``, where it sends 100,000. The Python package is built without it, so here one 1,000,000-row batch goes through
the same Go core to the local server, and the server must hold each row exactly once with its own values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

N = 1_000_000


def test_one_million_row_batch(server: LocalServer, table_name: str) -> None:
    ids = np.arange(N, dtype=np.int64)
    names = pa.array([f"e{i % 97}" for i in range(N)])
    batch = pa.record_batch({"id": pa.array(ids), "name": names})
    try:
        with ZerobusWrapper(server.config(table_name)) as w:
            res = w.send_batch(batch)
        assert res.success, res
        assert (res.total_rows, res.successful_count, res.failed_count) == (N, N, 0)
        assert server.record_count(table_name) == N
        got = server.table(table_name).sort_by("id")
        assert np.array_equal(got.column("id").to_numpy(), ids)  # every id once: sorted ids are exactly 0..N-1
        assert pc.all(pc.equal(got.column("name"), names)).as_py()
    finally:
        server.drop_table(table_name)  # the session's server keeps its rows otherwise
