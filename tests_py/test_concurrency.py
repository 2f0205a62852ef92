"""Many Python threads sending on one wrapper (the GIL is released during Go calls)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import id_batch, stored_ids

from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer

THREADS, BATCHES, ROWS = 8, 20, 50


def test_threads_share_one_wrapper(wrapper: ZerobusWrapper, server: LocalServer, table_name: str) -> None:
    start = threading.Barrier(THREADS)

    def worker(t: int) -> int:
        start.wait(timeout=30)
        rows = 0
        for b in range(BATCHES):
            first = (t * BATCHES + b) * ROWS
            res = wrapper.send_batch(id_batch(first, ROWS, tag=f"t{t}"))
            assert res.success, res
            rows += res.successful_count
        return rows

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(worker, range(THREADS)))
    assert counts == [BATCHES * ROWS] * THREADS
    wrapper.flush()
    total = THREADS * BATCHES * ROWS
    # exactly those rows: no loss, no duplicate
    assert stored_ids(server, table_name) == list(range(total))
    names = server.table(table_name).sort_by("id").column("name").to_pylist()
    assert names[0] == "t0-0" and names[-1] == f"t{THREADS - 1}-{total - 1}"


def test_threads_progress_together(table_name: str) -> None:
    # A dedicated server that holds every ack back 500 ms. If the GIL were
    # held during Go calls, each thread would wait for its ack before the next
    # could send. With it released, all six batches reach the server (rows
    # stored) before the first ack goes out, which a poller thread observes.
    with LocalServer(ack_delay_ms=500) as s, ZerobusWrapper(s.config(table_name)) as w:
        barrier = threading.Barrier(6)
        results = []
        done = threading.Event()
        overlap_seen = threading.Event()

        def poll() -> None:
            while not done.is_set():
                st = s.stats()
                if st["records_stored"] >= 60 and st["acks_sent"] == 0:
                    overlap_seen.set()
                    return
                done.wait(0.002)

        def send(i: int) -> None:
            barrier.wait(timeout=30)
            results.append(w.send_batch(id_batch(i * 10, 10)))

        poller = threading.Thread(target=poll)
        poller.start()
        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        done.set()
        poller.join(timeout=10)
        assert len(results) == 6 and all(r.success for r in results)
        assert sorted(s.table(table_name).column("id").to_pylist()) == list(range(60))
        assert overlap_seen.is_set(), s.stats()
