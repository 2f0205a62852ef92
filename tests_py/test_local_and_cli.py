"""zerobus_py.local and the `python -m zerobus_py` command line (the Go CLI, package cli, run in-process).

The command line writes to file descriptors 1 and 2 from Go, so these tests read its output with ``capfd``.
tests_py/test_cli_parity.py checks that it prints exactly what the Go binary prints."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConfigurationError, ZerobusError, ZerobusWrapper, _bridge, local
from zerobus_py._cli import main
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
    with pytest.raises(ValueError, match="kind='explode' must be one of error, end_stream, "):
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


def _core_version() -> str:
    text = (Path(__file__).resolve().parents[1] / "core" / "version.go").read_text(encoding="utf-8")
    m = re.search(r'^const Version = "([^"]+)"$', text, re.M)
    assert m
    return m.group(1)


def test_cli_version(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capfd.readouterr().out.startswith(f"zerobus-wrapper {_core_version()} (go")


def test_cli_help_and_usage_errors(capfd: pytest.CaptureFixture[str]) -> None:
    for argv in (["-h"], ["--help"], ["help"], ["local", "-h"], ["send", "--help"], ["debug", "-h"], ["version", "-h"]):
        assert main(argv) == 0, argv
        captured = capfd.readouterr()
        assert "usage: zerobus" in captured.out and captured.err == "", argv
    assert main(["send", "--nope", "x.csv"]) == 2
    assert (
        capfd.readouterr().err
        == "zerobus send: flag provided but not defined: -nope\nrun 'zerobus send -h' for usage\n"
    )
    assert main(["lcoal"]) == 2
    assert 'did you mean "local"?' in capfd.readouterr().err


def test_cli_send_and_debug_read(
    tmp_path: Path, server: LocalServer, table_name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 30)]), data, row_group_size=10)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"endpoint: {server.endpoint}\nunity_catalog_url: {server.workspace_url}\n"
        f"client_id: {server.client_id}\nclient_secret: {server.client_secret}\n"
        f"debug_arrow_enabled: true\ndebug_output_dir: {tmp_path / 'dbg'}\n"
    )
    assert main(["send", str(data), "--config", str(cfg), "--table", table_name, "--json"]) == 0
    out = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert out["success"] and out["rows_sent"] == out["rows_read"] == 30
    assert server.record_count(table_name) == 30
    files = sorted((tmp_path / "dbg").rglob("*.arrow"))
    assert files
    assert main(["debug", "read", str(files[0]), "--format", "json", "--limit", "2"]) == 0
    rows = [json.loads(line) for line in capfd.readouterr().out.strip().splitlines()]
    assert len(rows) == 2 and {"id", "name", "score"} <= set(rows[0])
    assert main(["send", str(tmp_path / "missing.arrow"), "--config", str(cfg)]) == 2


def test_cli_send_sees_python_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # os.environ changed after the extension loaded reaches the Go command line (passed as data)
    data = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 5)]), data)
    monkeypatch.setenv("ZEROBUS_TABLE_NAME", "main.from.env")
    assert main(["send", "--dry-run", "--json", str(data)]) == 0
    assert json.loads(capfd.readouterr().out)["table"] == "main.from.env"


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
        proc.terminate()  # SIGTERM: the server shuts down, exit status 0
        assert proc.wait(timeout=30) == 0


# -- python -m zerobus_py send ---------------------------------------------------


def _send(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """Run `send ... --json` in-process: exit status, summary, stderr."""
    status = main(["send", *args, "--json"])
    captured = capfd.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1, captured.out
    return status, json.loads(lines[0]), captured.err


def _big_table(n: int) -> pa.Table:
    ids = pa.array(range(n), pa.int64())
    return pa.table(
        {
            "id": ids,
            "name": pc.cast(ids, pa.string()),
            "score": pc.multiply(pc.cast(ids, pa.float64()), 0.5),
            "ts": pc.cast(pc.multiply(ids, 1000), pa.timestamp("us", tz="UTC")),
        }
    )


def _progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.replace("\n", "\r").split("\r") if "rows" in line]


def test_cli_send_million_rows_local_progress(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    n = 1_000_000
    data = tmp_path / "big.parquet"
    pq.write_table(_big_table(n), data, row_group_size=200_000)
    started = time.monotonic()
    status, out, err = _send(capfd, str(data), "--local", "--progress", "always")
    took = time.monotonic() - started
    assert status == 0, err
    assert out["success"] and out["stored_rows"] == n
    assert out["rows_read"] == out["rows_sent"] == n and out["rows_failed"] == 0
    assert out["files"] == [str(data)] and out["files_done"] == 1 and out["table"] == "main.default.zerobus_send"
    assert out["batches"] == -(-n // 65536) and out["bytes"] > n * 10
    assert out["failed_by_kind"] == {} and out["failed_rows"] == [] and out["quarantine"] == []
    assert "error" not in out and "stopped" not in out and not out["interrupted"]
    assert 0 < out["duration_s"] <= took and out["rows_per_s"] > 0
    # the bar: redrawn in place on stderr, at most 5 times a second, ending at 100% with a newline
    assert err.endswith("\n") and err.count("\n") == 1
    redraws = err.count("\r")
    assert 1 <= redraws <= took * 5 + 3, err
    lines = _progress_lines(err)
    assert "100%" in lines[-1] and "1,000,000/1,000,000 rows" in lines[-1] and "rows/s" in lines[-1]
    assert all("%" in line for line in lines)
    assert took < 30


def _list_table() -> pa.Table:
    xs: list[list[int | None]] = [[i, i + 1] for i in range(10)]
    xs[3] = [3, None]
    xs[7] = [None]
    return pa.table({"id": pa.array(range(10), pa.int64()), "xs": pa.array(xs, pa.list_(pa.int64()))})


def test_cli_send_quarantine(
    tmp_path: Path, server: LocalServer, table_name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "lists.parquet"
    pq.write_table(_list_table(), data)
    q = tmp_path / "q.arrow"
    status, out, err = _send(capfd, str(data), "--local", "--quarantine", str(q), "--progress", "never")
    assert status == 1
    assert out["rows_sent"] == 8 and out["rows_failed"] == 2 and out["stored_rows"] == 8 and not out["success"]
    assert out["quarantine"] == [{"path": str(q), "rows": 2}]
    assert out["failed_by_kind"] == {"conversion": 2}
    assert [(r["first_row"], r["last_row"], r["kind"]) for r in out["failed_rows"]] == [
        (3, 3, "conversion"),
        (7, 7, "conversion"),
    ]
    assert out["failed_rows"][0]["reason"].startswith('column "xs[1]": null list element')
    assert "2 of 10 rows failed" in err and "\r" not in err
    failed = pa.ipc.open_stream(q.read_bytes()).read_all()
    assert failed.column("id").to_pylist() == [3, 7]
    assert failed.column("xs").to_pylist() == [[3, None], [None]]

    # the same to the session server, to check which rows landed; text summary
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"endpoint: {server.endpoint}\nunity_catalog_url: {server.workspace_url}\n"
        f"client_id: {server.client_id}\nclient_secret: {server.client_secret}\n"
    )
    q.unlink()
    assert main(["send", str(data), "--config", str(cfg), "--table", table_name, "--quarantine", str(q)]) == 1
    text = capfd.readouterr().out
    assert "rows sent:    8 of 10" in text and "rows failed:  2 (conversion=2)" in text
    assert f"2 failed rows written to {q}" in text
    assert 'lists.parquet row 3: [conversion] column "xs[1]"' in text and "lists.parquet row 7:" in text
    assert stored_ids(server, table_name) == [0, 1, 2, 4, 5, 6, 8, 9]

    # no failed row: no quarantine file is written, and a file already at that path is left as it was (it was
    # truncated, then deleted: -quarantine could destroy an unrelated file or an input)
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 5)]), good)
    q.write_bytes(b"stale")
    status, out, _ = _send(capfd, str(good), "--local", "--quarantine", str(q))
    assert status == 0 and out["quarantine"] == [] and q.read_bytes() == b"stale"
    assert not list(tmp_path.glob(".q.arrow.*")), "a temporary quarantine file was left behind"
    # the path of an input is refused (2), the input intact
    before = good.read_bytes()
    assert main(["send", str(good), "--local", "--quarantine", str(good)]) == 2
    assert f"-quarantine {good} is the input file {good}" in capfd.readouterr().err
    assert good.read_bytes() == before


def test_cli_send_dry_run_needs_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("ZEROBUS_", "DATABRICKS_")) or name == "UNITY_CATALOG_URL":
            monkeypatch.delenv(name)
    data = tmp_path / "lists.parquet"
    pq.write_table(_list_table(), data)
    status, out, _ = _send(capfd, str(data), "--dry-run", "--batch-rows", "4")
    assert status == 1  # the two rows with null list elements do not convert
    assert out["dry_run"] and "stored_rows" not in out and out["table"] == "main.default.zerobus_send"
    assert out["rows_sent"] == 8 and out["rows_failed"] == 2 and out["batches"] == 3 and out["bytes"] > 0
    assert [r["first_row"] for r in out["failed_rows"]] == [3, 7]

    ok = tmp_path / "ok.arrow"
    with pa.OSFile(str(ok), "wb") as f, pa.ipc.new_file(f, id_batch(0, 1).schema) as w:
        for i in range(3):
            w.write_batch(id_batch(i * 100, 100))
    assert main(["send", str(ok), "--dry-run", "--table", "main.dry.run"]) == 0
    text = capfd.readouterr().out
    assert f"converted (-dry-run, nothing sent) {ok} to main.dry.run" in text
    assert "converted:    300 of 300" in text and "rows failed:  0" in text

    # without --dry-run the missing settings are a configuration error (2) naming them
    assert main(["send", str(ok)]) == 2
    err = capfd.readouterr().err
    assert "ZEROBUS_ENDPOINT" in err and "-dry-run" in err


def test_cli_send_unreadable_files(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_batches([id_batch(0, 5)]), good)
    for name in ("garbage.bin", "garbage.parquet", "garbage.arrow"):
        path = tmp_path / name
        path.write_bytes(garbage.read_bytes())
        # every file is checked before anything is sent
        assert main(["send", str(good), str(path), "--dry-run"]) == 1, name
        captured = capfd.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"zerobus send: {path}: "), captured.err

    # a file that breaks in the middle: what was read is sent, the error names the file and the row
    bad_csv = tmp_path / "broken.csv"
    with bad_csv.open("w") as f:
        f.write("id,name,score\n")
        f.writelines(f"{i},n{i},{i * 0.5}\n" for i in range(100_000))
        f.write("100000,too,many,columns\n")
    status, out, err = _send(capfd, str(bad_csv), "--dry-run", "--batch-rows", "10000")
    assert status == 1 and not out["success"]
    assert 0 < out["rows_sent"] == out["rows_read"] < 100_001
    assert out["error"] == (
        f"{bad_csv}: reading CSV row 100000: record on line 100002: wrong number of fields (4 cells, the header has 3)"
    )
    assert f"zerobus send: {bad_csv}: reading CSV row 100000: record on line 100002" in err

    # usage errors: exit status 2, one line and a hint
    for argv in (
        [str(tmp_path / "missing.csv"), "--dry-run"],
        [str(tmp_path), "--dry-run"],
        [str(good), "--dry-run", "--batch-rows", "0"],
        [str(good), "--dry-run", "--local"],
        [str(good), "--local", "--quarantine", str(tmp_path / "no" / "dir" / "q.arrow")],
        ["--dry-run"],  # no file
    ):
        assert main(["send", *argv]) == 2, argv
        err = capfd.readouterr().err
        assert err.startswith("zerobus send: ") and err.endswith("run 'zerobus send -h' for usage\n"), err


def test_cli_send_several_files_add_up(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pq.write_table(pa.Table.from_batches([id_batch(0, 1000)]), tmp_path / "a.parquet", row_group_size=300)
    pcsv.write_csv(pa.Table.from_batches([id_batch(1000, 2000)]), tmp_path / "b.csv")
    with pa.OSFile(str(tmp_path / "c.arrow"), "wb") as f, pa.ipc.new_file(f, id_batch(0, 1).schema) as w:
        w.write_batch(id_batch(3000, 500))
        w.write_batch(id_batch(3500, 500))
    with pa.OSFile(str(tmp_path / "d.data"), "wb") as f, pa.ipc.new_stream(f, id_batch(0, 1).schema) as w:
        w.write_batch(id_batch(4000, 700))  # no known extension: an IPC stream, told by its first bytes
    files = [str(tmp_path / n) for n in ("a.parquet", "b.csv", "c.arrow", "d.data")]
    status, out, err = _send(capfd, *files, "--local", "--batch-rows", "256", "--progress", "always")
    assert status == 0, err
    assert out["files"] == files and out["files_done"] == 4
    assert out["rows_sent"] == out["stored_rows"] == 4700 and out["rows_failed"] == 0
    assert out["batches"] == 4 + 8 + 4 + 3  # each file cut into batches of at most 256 rows
    lines = _progress_lines(err)
    assert "4,700 rows" in lines[-1] and "(file 4/4)" in lines[-1]

    # Parquet only: the total is known from the metadata
    status, out, err = _send(capfd, files[0], "--dry-run", "--progress", "always")
    assert status == 0 and out["rows_sent"] == 1000
    assert "100%  1,000/1,000 rows" in _progress_lines(err)[-1]

    # --quiet: neither progress nor summary
    assert main(["send", *files, "--dry-run", "--quiet", "--progress", "always"]) == 0
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT and reads a pipe without blocking: POSIX only")
def test_cli_send_interrupt(tmp_path: Path) -> None:
    data = tmp_path / "big.parquet"
    pq.write_table(_big_table(1_000_000), data)
    cmd = [sys.executable, "-m", "zerobus_py", "send", str(data), "--local", "--json", "--progress", "always"]
    cmd += ["--batch-rows", "100"]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,  # not the repository root, whose zerobus_py/ is the unbuilt source tree
    )
    try:
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        seen = b""
        deadline = time.monotonic() + 60
        while b"rows/s" not in seen and time.monotonic() < deadline:  # the first draw with rows done
            seen += proc.stderr.read() or b""
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (seen + err).decode()
    summary = json.loads(out)
    assert summary["interrupted"] and not summary["success"]
    # the batches in flight finished: every row read was stored
    # (all of them when the Ctrl-C came while the last batches were in flight, on a slow machine)
    assert 0 < summary["rows_sent"] == summary["rows_read"] == summary["stored_rows"] <= 1_000_000
    assert summary["rows_failed"] == 0
    assert b"interrupted: finishing the batches in flight" in seen + err
    assert b"zerobus send: interrupted: reading stopped" in err


@pytest.mark.parametrize("key", json.loads(_bridge.native.LocalOptionKeys()))
def test_local_server_negative_option_names_the_keyword(key: str) -> None:
    # Every option key the Go server can report a problem for (zerobuslocal.CheckedOptionKeys): a checked option
    # without a LocalServer keyword fails here.
    assert key in local._KEYWORD_OF, f"zerobuslocal checks {key!r}, which no LocalServer keyword sets"
    keyword = local._KEYWORD_OF[key]
    bad, rule = {
        "addr": (-5, "must be a port between 1 and 65535 (0: a free port)"),
        "http_addr": (-5, "must be a port between 1 and 65535 (0: a free port)"),
        "allowed_hosts": (["http://x:1"], "must be host names without scheme or port"),
    }.get(key, (-5, "must not be negative (0: the default)"))
    with pytest.raises(ConfigurationError) as err:
        LocalServer(**{keyword: bad})
    assert f"{keyword}={bad!r} {rule}" in str(err.value)
    assert "_ns" not in str(err.value) and "(" + keyword not in str(err.value)
    assert err.value.key == keyword


def test_local_server_names_every_negative_option() -> None:
    with pytest.raises(ConfigurationError) as err:
        LocalServer(ack_delay_ms=-5, token_lifetime_secs=-1.5)
    assert "token_lifetime_secs=-1.5 must not be negative" in str(err.value)
    assert "ack_delay_ms=-5 must not be negative" in str(err.value)
    assert sorted(err.value.keys) == ["ack_delay_ms", "token_lifetime_secs"]
    assert str(err.value).count("must not be negative") == 2 and "ms;" not in str(err.value)
