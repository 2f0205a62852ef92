"""LocalServer.drop_table and the rows_deleted counter (session 21, localmem L2)."""

from __future__ import annotations

import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def test_drop_table_removes_the_rows_and_counts_them(table_name: str) -> None:
    other = table_name + "_other"
    with LocalServer(max_stored_rows=25) as s:
        for name in (table_name, other):
            with ZerobusWrapper(s.config(name)) as w:
                for i in range(2):
                    assert w.send_batch(id_batch(i * 10, 10)).successful_count == 10
        # 40 rows sent, bound 25: the 15 oldest (all table_name's but 5) went.
        assert stored_ids(s, table_name) == list(range(15, 20))
        assert s.drop_table(table_name) is True
        assert s.tables() == [other]
        assert s.record_count(table_name) == 0
        assert s.drop_table(table_name) is False  # gone already
        stats = s.stats()
        assert (stats["records_stored"], stats["rows_dropped"], stats["rows_deleted"]) == (40, 15, 5)
        assert stats["records_stored"] - stats["rows_dropped"] - stats["rows_deleted"] == s.record_count(other) == 20
        assert stored_ids(s, other) == list(range(20))  # the other table untouched


def test_drop_table_refuses_an_impossible_name() -> None:
    with LocalServer() as s, pytest.raises(ValueError, match="invalid table name"):
        s.drop_table("not-a-table")
