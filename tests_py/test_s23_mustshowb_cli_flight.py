"""Issue 18 "must show": `zerobus send -transport arrow_flight` and the Python CLI equivalent.

tests_py/test_flight_transport.py checks only the Python CLI's rows_sent; here `python -m zerobus_py send --local
--transport arrow_flight` must report the rows the local server stored, show Arrow IPC bytes (not protobuf), and print
the stored rows decoded; the same file over protobuf says protobuf.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from conftest import id_batch

from zerobus_py._cli import main


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _cli(capfd: pytest.CaptureFixture[str], *args: str) -> Ran:
    """The CLI `python -m zerobus_py` runs, in-process (the Go CLI writes to fds 1 and 2)."""
    capfd.readouterr()
    status = main(list(args))
    out, err = capfd.readouterr()
    return Ran(status, out, err)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.arrow"
    with ipc.new_file(str(path), id_batch(0, 1).schema) as f:
        f.write_batch(id_batch(0, 25))
        f.write_batch(id_batch(25, 15))
    return path


def test_python_cli_over_flight_and_the_server_holds_the_rows(data: Path, capfd: pytest.CaptureFixture[str]) -> None:
    p = _cli(capfd, "send", str(data), "--local", "--transport", "arrow_flight", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.splitlines()[0])
    assert out["success"] and out["stored_rows"] == 40 and out["rows_sent"] == 40 and out["rows_failed"] == 0
    assert out["rows_read"] == 40 and out["rows_not_written"] == 0 and out["rows_unknown"] == 0

    text = _cli(capfd, "send", str(data), "-local", "-transport", "arrow_flight")  # the Go spelling
    assert text.returncode == 0, text.stderr
    assert "local server: table main.default.zerobus_send holds 40 rows" in text.stdout, text.stdout
    assert "Arrow IPC)" in text.stdout and "protobuf" not in text.stdout, text.stdout
    # the stored rows, decoded by the server: the values sent
    assert 'id:0 name:"x-0" score:0\n' in text.stdout and 'id:4 name:"x-4" score:2\n' in text.stdout, text.stdout


def test_python_cli_default_transport_is_protobuf(data: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _cli(capfd, "send", str(data), "-local")
    assert text.returncode == 0, text.stderr
    assert "holds 40 rows" in text.stdout and "encoded protobuf)" in text.stdout and "Arrow IPC" not in text.stdout


def test_python_cli_refuses_an_unknown_transport(data: Path, capfd: pytest.CaptureFixture[str]) -> None:
    p = _cli(capfd, "send", str(data), "--local", "--transport", "pigeon")
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "transport" in p.stderr and '"pigeon"' in p.stderr and "arrow_flight" in p.stderr, p.stderr
    assert p.stdout == ""
