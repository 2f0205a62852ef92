"""shutdown() while other threads send: the wrapper is reusable after shutdown() (the original API's meaning), so a
send that overlaps it is never refused as closed; every send returns its rows stored."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
from conftest import stored_ids

from zerobus_py import WrapperClosedError, ZerobusWrapper
from zerobus_py.local import LocalServer


def test_sends_overlapping_shutdown_are_not_refused(server: LocalServer, table_name: str) -> None:
    w = ZerobusWrapper(server.config(table_name))
    stop = threading.Event()
    sent: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def sender(k: int) -> None:
        i = k
        while not stop.is_set():
            try:
                res = w.send_batch(pa.table({"id": pa.array([i], pa.int64())}))
                assert res.all_succeeded, res
                with lock:
                    sent.append(i)
            except WrapperClosedError as exc:
                with lock:
                    refused.append(str(exc))
            i += 3

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(150):
            time.sleep(0.001)
            w.shutdown()
    finally:
        stop.set()
        for t in threads:
            t.join()
        w.close()
    assert refused == [], f"{len(refused)} sends refused while shutdown() ran: {refused[:2]}"
    assert len(sent) > 150
    assert stored_ids(server, table_name) == sorted(sent)
