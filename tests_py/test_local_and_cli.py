"""zerobus_py.local and the `python -m zerobus_py` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import id_batch

from zerobus_py import ZerobusError, ZerobusWrapper
from zerobus_py.__main__ import main
from zerobus_py.local import LocalServer


def test_local_server_api(server: LocalServer, table_name: str) -> None:
    assert server.endpoint.startswith("http://127.0.0.1:")
    assert server.workspace_url.startswith("http://127.0.0.1:")
    assert server.client_id == "local-client" and len(server.client_secret) >= 16
    assert server.ca_cert_pem == ""
    before = server.stats()["records_stored"]
    with ZerobusWrapper(server.config(table_name)) as w:
        w.send_batch(id_batch(0, 7))
    assert table_name in server.tables()
    assert server.record_count(table_name) == 7
    assert server.stats()["records_stored"] >= before + 7
    assert server.record_count("no.such.table") == 0
    with pytest.raises(ZerobusError, match=r"no\.such\.table"):
        server.table("no.such.table")
    with pytest.raises(ValueError, match="unknown fault kind"):
        server.inject_fault(table_name, "explode")


def test_local_server_options_and_close(table_name: str) -> None:
    s = LocalServer(client_id="me", client_secret="pw-123456789", tls=True)
    try:
        assert s.client_id == "me" and s.client_secret == "pw-123456789"
        assert s.endpoint.startswith("https://") and "BEGIN CERTIFICATE" in s.ca_cert_pem
        assert "pw-123456789" not in repr(s)
    finally:
        s.close()
        s.close()
    assert "closed" in repr(s)
    with pytest.raises(RuntimeError, match="closed"):
        s.record_count(table_name)


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert "zerobus-wrapper" in capsys.readouterr().out


def test_cli_send_and_debug_read(
    tmp_path: Path, server: LocalServer, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_batches([id_batch(0, 30)]), data, row_group_size=10)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"endpoint: {server.endpoint}\nunity_catalog_url: {server.workspace_url}\n"
        f"client_id: {server.client_id}\nclient_secret: {server.client_secret}\n"
        f"debug_arrow_enabled: true\ndebug_output_dir: {tmp_path / 'dbg'}\n"
    )
    assert main(["send", str(data), "--config", str(cfg), "--table", table_name]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["success"] and out["total_rows"] == 30
    assert server.record_count(table_name) == 30
    files = sorted((tmp_path / "dbg").rglob("*.arrow"))
    assert files
    assert main(["debug", "read", str(files[0]), "--format", "json", "--limit", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 2 and {"id", "name", "score"} <= set(rows[0])
    assert main(["send", str(tmp_path / "missing.arrow"), "--config", str(cfg)]) == 2


def test_cli_local_json_subprocess(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerobus_py", "local", "--json", "--table", "main.cli.t"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # not the repository root, whose zerobus_py/ is the unbuilt source tree
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["endpoint"].startswith("http://127.0.0.1:") and info["table"] == "main.cli.t"
        # another process can send to it
        from zerobus_py import WrapperConfiguration

        cfg = WrapperConfiguration(
            info["endpoint"],
            info["table"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            unity_catalog_url=info["workspace_url"],
        )
        with ZerobusWrapper(cfg) as w:
            assert w.send_batch(id_batch(0, 3)).success
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
