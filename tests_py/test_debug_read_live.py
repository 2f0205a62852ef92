"""zerobus_py.debug.read_file of an Arrow debug file still being written (the
active name, ending inside a batch: the writer is mid-write) returns the
complete batches instead of raising DamagedDebugFileError; the same bytes under
a rotated name are damage (s13 review-obs 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import hold_writer_lock, id_batch

from zerobus_py import ZerobusWrapper
from zerobus_py.debug import DamagedDebugFileError, read_file
from zerobus_py.local import LocalServer


def test_read_file_of_a_file_being_written(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    table = "main.default.debug_live"
    with LocalServer() as server:
        cfg = server.config(table, debug_arrow_enabled=True, debug_output_dir=str(tmp_path))
        with ZerobusWrapper(cfg) as w:
            for k in range(3):
                w.send_batch(id_batch(3 * k, 3))
    active = tmp_path / "zerobus" / "arrow" / f"{table}.arrow"
    whole = active.read_bytes()
    active.write_bytes(whole[: len(whole) - 8 - 20])  # closed by its writer: a cut is damage
    with pytest.raises(DamagedDebugFileError, match="batch 2"):
        read_file(active)
    hold_writer_lock(request, active)  # as its writer, still writing it
    cut = whole[: len(whole) - 8 - 20]  # without the end-of-stream marker, 20 bytes into batch 2
    active.write_bytes(cut)
    assert read_file(active).column("id").to_pylist() == list(range(6))

    rotated = active.with_name(f"{table}-20261206T170000.000Z-0000.arrow")
    shutil.copyfile(active, rotated)
    with pytest.raises(DamagedDebugFileError, match="batch 2") as ei:
        read_file(rotated)
    assert ei.value.intact.column("id").to_pylist() == list(range(6))
