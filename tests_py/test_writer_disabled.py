"""Writer-disabled mode (no network, no credentials) and debug files read back from Python."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pyarrow as pa
from conftest import id_batch

from zerobus_py import WrapperConfiguration, ZerobusWrapper, debug
from zerobus_py.local import LocalServer


class CountingListener:
    """A loopback TCP listener that counts accepted connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.accepts = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepts += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._t.join(timeout=5)
        self.sock.close()


def test_writer_disabled_sends_nothing(tmp_path: Path) -> None:
    listener = CountingListener()
    try:
        cfg = WrapperConfiguration(
            listener.url,  # an endpoint that counts connections
            "main.pytest.disabled",
            unity_catalog_url=listener.url,
            zerobus_writer_disabled=True,  # no credentials needed
        )
        with ZerobusWrapper(cfg) as w:
            res = w.send_batch(id_batch(0, 20))
            w.flush()
        assert res.success and res.writer_disabled
        assert res.successful_count == 20 and res.batch_size_bytes > 0 and res.attempts == 0
        assert "converted (writer disabled)" in repr(res)
    finally:
        listener.close()
    assert listener.accepts == 0


def test_writer_disabled_still_reports_conversion_failures() -> None:
    cfg = WrapperConfiguration(None, "main.pytest.disabled2", zerobus_writer_disabled=True)
    batch = pa.record_batch({"id": pa.array([0, 1, 2]), "u": pa.array([1, 2**64 - 1, 3], pa.uint64())})
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(batch)
    assert res.get_failed_row_indices() == [1] and res.successful_count == 2 and res.writer_disabled


def test_debug_files_read_back(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    cfg = server.config(table_name, debug_enabled=True, debug_output_dir=str(tmp_path), debug_flush_interval_secs=1)
    batches = [id_batch(0, 10), id_batch(10, 5)]
    with ZerobusWrapper(cfg) as w:
        for b in batches:
            assert w.send_batch(b).success
    files = debug.list_files(tmp_path)
    arrow_files = [f for f in files if f.suffix == ".arrow"]
    assert arrow_files, files
    got = pa.concat_tables([debug.read_file(f) for f in arrow_files]).sort_by("id")
    assert got.equals(pa.Table.from_batches(batches))
    # the protobuf files hold the records as sent, decoded with their descriptor
    proto_files = [f for f in files if f.suffix == ".proto"]
    assert proto_files, files
    sent = pa.concat_tables([debug.read_file(f) for f in proto_files]).sort_by("id")
    assert sent.column("id").to_pylist() == list(range(15))
    assert sent.column("name").to_pylist() == got.column("name").to_pylist()
