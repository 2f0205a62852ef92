"""No leak: thousands of send cycles leave the Go handle table and RSS flat."""

from __future__ import annotations

import gc
import os
import resource
import sys

import pytest
from conftest import id_batch

from zerobus_py import AuthenticationError, WrapperConfiguration, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

CYCLES = 2000


def rss_bytes() -> int:
    """Current resident set size (peak RSS where /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def handles() -> int:
    gc.collect()
    return _bridge.num_handles()


@pytest.mark.slow
def test_send_cycles_do_not_leak(config: WrapperConfiguration, server: LocalServer, table_name: str) -> None:
    batch = id_batch(0, 20)
    baseline = handles()
    with ZerobusWrapper(config) as w:
        for _ in range(200):  # warm up: streams, buffers, allocator pools
            w.send_batch(batch)
        rss_warm = rss_bytes()
        for _ in range(CYCLES):
            res = w.send_batch(batch)
            assert res.success
        gc.collect()
        rss_end = rss_bytes()
    assert handles() == baseline
    assert server.record_count(table_name) == (CYCLES + 200) * 20
    growth = rss_end - rss_warm
    assert growth < 32 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over {CYCLES} sends"


@pytest.mark.slow
def test_wrapper_and_failure_cycles_release_handles(server: LocalServer, table_name: str) -> None:
    baseline = handles()
    batch = id_batch(0, 5)
    for i in range(100):
        with ZerobusWrapper(server.config(f"{table_name}_{i % 3}")) as w:
            w.send_batch(batch)
    # failing sends (exceptions with results attached) and reader/async paths
    bad = server.config(table_name, client_secret="wrong", retry_max_attempts=1)
    with ZerobusWrapper(bad) as w:
        for _ in range(200):
            with pytest.raises(AuthenticationError):
                w.send_batch(batch)
    assert handles() == baseline
    assert server.table(f"{table_name}_0").num_rows == 34 * 5
