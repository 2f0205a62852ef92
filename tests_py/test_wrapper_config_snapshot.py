"""``ZerobusWrapper`` snapshots its configuration (s14 review-diff 3): every configuration ``validate()`` accepts
is taken, including values :func:`copy.deepcopy` cannot copy."""

from __future__ import annotations

import os
import threading
import types
from pathlib import Path

from conftest import id_batch

from zerobus_py import AsyncZerobusWrapper, ObservabilityConfig, ZerobusWrapper
from zerobus_py.local import LocalServer


class _LockedPath(os.PathLike[str]):
    """A path object holding a lock: deepcopy (pickling) refuses it."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)
        self._lock = threading.Lock()

    def __fspath__(self) -> str:
        with self._lock:
            return self._path


def test_wrapper_takes_a_config_deepcopy_cannot_copy(server: LocalServer, table_name: str, tmp_path: Path) -> None:
    """A read-only ``MappingProxyType`` ``observability_config`` and a path object holding a lock pass
    ``validate()``; the wrapper snapshots them as a dict and the path's text (deepcopy raised a bare
    ``TypeError``), keeps that snapshot when the caller's objects change, and sends."""
    source = {"log_level": "error"}
    obs = types.MappingProxyType(source)
    log_dir = tmp_path / "logs"
    cfg = server.config(table_name, observability_config=obs, debug_output_dir=_LockedPath(log_dir))
    cfg.validate()
    w = ZerobusWrapper(cfg)
    aw = AsyncZerobusWrapper(cfg)
    try:
        source["log_level"] = "debug"  # the caller's mapping changes behind the read-only view
        for shown in (w.config, aw.config):
            assert shown.observability_config == {"log_level": "error"}
            assert shown.debug_output_dir == str(log_dir)
            assert shown.table_name == table_name
            assert shown.to_settings(include_secret=True)["client_secret"] == server.client_secret
        w.send_batch(id_batch(0, 3))
        assert server.record_count(table_name) == 3
    finally:
        w.shutdown()
        aw.sync.shutdown()


def test_snapshot_copies_an_observability_config_field_by_field(server: LocalServer, table_name: str) -> None:
    """An ``ObservabilityConfig`` whose path deepcopy cannot copy is copied field by field (the path as its
    text); changing the caller's object afterwards does not reach ``wrapper.config``."""
    oc = ObservabilityConfig(log_level="error", log_file=_LockedPath(Path("/tmp/difffix-never-written.log")))
    cfg = server.config(table_name, observability_config=oc)
    w = ZerobusWrapper(cfg)
    try:
        oc.log_level = "debug"
        shown = w.config.observability_config
        assert isinstance(shown, ObservabilityConfig) and shown is not oc
        assert shown.log_level == "error" and shown.log_file == "/tmp/difffix-never-written.log"
    finally:
        w.shutdown()
