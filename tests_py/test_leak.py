"""No leak: thousands of send cycles leave the Go handle table and RSS flat."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest
from conftest import id_batch

from zerobus_py import AuthenticationError, WrapperConfiguration, ZerobusWrapper, _bridge
from zerobus_py.local import LocalServer

CYCLES = 2000


def rss_bytes() -> int:
    """Current resident set size (psutil: the same on Linux, macOS and Windows)."""
    return int(psutil.Process().memory_info().rss)


def handles() -> int:
    gc.collect()
    return _bridge.num_handles()


@pytest.fixture(scope="module")
def remote_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WrapperConfiguration]:
    """A local server in another process (`python -m zerobus_py local`), so
    the rows it stores do not count in this process's RSS."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerobus_py", "local", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path_factory.mktemp("server"),
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield WrapperConfiguration(
            info["endpoint"],
            "main.pytest.leak",
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            unity_catalog_url=info["workspace_url"],
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_send_cycles_do_not_leak(remote_config: WrapperConfiguration) -> None:
    batch = id_batch(0, 20)
    baseline = handles()
    sent = 0
    with ZerobusWrapper(remote_config) as w:
        for _ in range(300):  # warm up: streams, buffers, allocator pools
            w.send_batch(batch)
        rss_warm = rss_bytes()
        for _ in range(CYCLES):
            res = w.send_batch(batch)
            assert res.success
            sent += res.successful_count
        gc.collect()
        rss_end = rss_bytes()
        assert handles() == baseline + 1  # the wrapper itself
    assert handles() == baseline
    assert sent == CYCLES * 20
    growth = rss_end - rss_warm
    # measured: about 1 MiB over 8,000 sends; a leak of one 20-row batch per
    # send would be 2,000 x ~1 KiB on top of Go's and Python's own slack.
    assert growth < 8 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over {CYCLES} sends"


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
