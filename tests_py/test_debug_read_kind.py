"""zerobus_py.debug.read_file decides a file's kind as `zerobus debug read`
does (core.DebugFileKind): a descriptor sidecar or another file is refused
saying what to pass, instead of being parsed as Arrow IPC ("corrupt Arrow IPC
metadata: the schema: 1702497290 bytes of metadata ...")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import id_batch

from zerobus_py import ZerobusError, ZerobusWrapper
from zerobus_py.debug import read_file
from zerobus_py.local import LocalServer


def test_read_file_names_what_to_pass(tmp_path: Path) -> None:
    table = "main.default.debug_kind"
    with LocalServer() as server:
        cfg = server.config(table, debug_enabled=True, debug_output_dir=str(tmp_path))
        with ZerobusWrapper(cfg) as w:
            w.send_batch(id_batch(0, 3))
    proto = tmp_path / "zerobus" / "proto" / f"{table}.proto"
    assert read_file(proto).column("id").to_pylist() == [0, 1, 2]
    assert read_file(tmp_path / "zerobus" / "arrow" / f"{table}.arrow").num_rows == 3
    for sidecar in (proto.with_suffix(".descriptor.pb"), proto.with_suffix(".descriptor.textproto")):
        with pytest.raises(ZerobusError, match=r"is a descriptor sidecar; pass the \.proto file beside it"):
            read_file(sidecar)
    other = tmp_path / "notes.txt"
    other.write_text("not a debug file\n")
    with pytest.raises(ZerobusError, match=r"not a debug file; expected a \.arrow or \.proto file") as ei:
        read_file(other)
    assert "Arrow IPC" not in str(ei.value)
