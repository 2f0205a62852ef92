"""A resolved send releases its Go Pending (so a kept exception does not keep it); nothing may use it afterwards.

The asyncio waiter could step a send again after its coroutine had read the outcome and released it (news taken
while a progress callback ran), raising AssertionError in the waiter's pool, where nobody saw it (s22 review)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pyarrow as pa
import pytest

from zerobus_py import AsyncZerobusWrapper, _wrapper
from zerobus_py.local import LocalServer


def test_async_waiter_never_steps_a_released_send(
    server: LocalServer, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException] = []
    step = _wrapper._AsyncWaiter._step

    def recording_step(self: Any, watch: Any) -> None:
        try:
            step(self, watch)
        except BaseException as exc:
            errors.append(exc)
            raise

    monkeypatch.setattr(_wrapper._AsyncWaiter, "_step", recording_step)
    table = pa.table({"id": pa.array(range(5000), pa.int64())})
    calls = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal calls
        calls += 1
        time.sleep(0.002)  # news comes while the callback runs

    async def main() -> list[Any]:
        results: list[Any] = []
        async with AsyncZerobusWrapper(server.config(table_name)) as w:
            for _ in range(6):
                results += await asyncio.gather(*[w.send_batch(table, progress=progress) for _ in range(30)])
        return results

    results = asyncio.run(main())
    assert errors == []
    assert calls >= 180
    assert all(r.success and r.successful_count == 5000 for r in results)
    assert server.table(table_name).num_rows == 180 * 5000
