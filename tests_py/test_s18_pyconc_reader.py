"""s18 review pyconc L3: a reader whose generator raises KeyboardInterrupt / SystemExit gets the one-line error
naming it, with the producer's exception as the cause (it got pyarrow's "Unknown error" text and no cause)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConversionError, ZerobusWrapper
from zerobus_py.local import LocalServer


def _reader(fail_at: int, exc: BaseException) -> pa.RecordBatchReader:
    schema = id_batch(0, 1).schema

    def gen() -> Iterator[pa.RecordBatch]:
        for k in range(5):
            if k == fail_at:
                raise exc
            yield id_batch(k * 100, 100)

    return pa.RecordBatchReader.from_batches(schema, gen())


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_reader_raising_a_base_exception_part_way(server: LocalServer, table_name: str, exc_type: type) -> None:
    raised = exc_type("in the generator")
    with ZerobusWrapper(server.config(table_name)) as w:
        res = w.send_batch(_reader(2, raised))
    assert not res.success and not res.all_succeeded  # a reader failing part-way (the documented result)
    assert res.successful_count == 200 and res.total_rows == 200
    assert res.error is not None
    message = res.error.message
    want = f"batch 2 of the RecordBatchReader (from row 200) raised {exc_type.__name__}: in the generator"
    assert want in message, message
    assert "Unknown error" not in message and "Traceback" not in message
    assert res.error.__cause__ is raised
    assert stored_ids(server, table_name) == list(range(200))


def test_reader_raising_keyboard_interrupt_at_the_first_batch(server: LocalServer, table_name: str) -> None:
    raised = KeyboardInterrupt("before any batch")
    with ZerobusWrapper(server.config(table_name)) as w, pytest.raises(ConversionError) as info:
        w.send_batch(_reader(0, raised))
    assert "batch 0 of the RecordBatchReader (from row 0) raised KeyboardInterrupt: before any batch" in str(info.value)
    assert info.value.__cause__ is raised
    assert table_name not in server.tables()  # nothing was sent
