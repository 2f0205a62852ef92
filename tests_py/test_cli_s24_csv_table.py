"""``python -m zerobus_py send`` reads a CSV's columns as the target table's column types (s24 csvtable).

The Python command line runs the Go CLI in-process: a CSV sent to a table whose columns the local server's Unity
Catalog endpoint gives is read as those types, and the stored values are the CSV's, exactly.
"""

from __future__ import annotations

import datetime
import decimal
import os
import subprocess
import sys
from pathlib import Path

from zerobus_py.local import LocalServer

TIMEOUT = 120
_SETTING_PREFIXES = ("ZEROBUS_", "DATABRICKS_", "UNITY_CATALOG_", "DEBUG_", "OTLP_", "RETRY_", "OBSERVABILITY_")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}


def _send(server: LocalServer, tmp_path: Path, table: str, csv: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "conn.yaml"
    cfg.write_text(
        f"endpoint: {server.endpoint}\nunity_catalog_url: {server.workspace_url}\n"
        f"client_id: {server.client_id}\nclient_secret: {server.client_secret}\n"
    )
    data = tmp_path / "in.csv"
    data.write_text(csv)
    argv = [sys.executable, "-m", "zerobus_py", "send", "-config", str(cfg), "-table", table, "-progress", "never"]
    return subprocess.run(
        [*argv, "-csv-infer-rows", "1", str(data)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_send_csv_table_types(server: LocalServer, tmp_path: Path) -> None:
    table = "main.cli_s24.csv_table_types"
    server.create_table(table, "zip STRING, qty BIGINT, price DECIMAL(10,2), day DATE, at TIMESTAMP")
    p = _send(
        server,
        tmp_path,
        table,
        "ZIP,qty,price,day,at\n01234,,,,\n00501,42,12.30,2024-02-29,2024-03-01T12:34:56Z\n",
    )
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert f"CSV columns are read as the column types of table {table}" in p.stderr, p.stderr
    rows = sorted(server.table(table).to_pylist(), key=lambda r: r["zip"])
    utc = datetime.timezone.utc
    assert rows == [
        {
            "zip": "00501",
            "qty": 42,
            "price": decimal.Decimal("12.30"),
            "day": datetime.date(2024, 2, 29),
            "at": datetime.datetime(2024, 3, 1, 12, 34, 56, tzinfo=utc),
        },
        {"zip": "01234", "qty": None, "price": None, "day": None, "at": None},
    ], rows


def test_send_csv_table_errors(server: LocalServer, tmp_path: Path) -> None:
    table = "main.cli_s24.csv_table_errors"
    server.create_table(table, "zip STRING, price DECIMAL(10,2)")
    p = _send(server, tmp_path, table, "zip,colour\n1,red\n")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert f'CSV column "colour" is not in table {table}' in p.stderr, p.stderr
    p = _send(server, tmp_path, table, "zip,price\n1,1.5\n2,12.x\n")
    assert p.returncode == 1, (p.stdout, p.stderr)
    want = f'reading CSV row 1 (line 3), column "price" (table {table}\'s DECIMAL(10,2) column): cannot read "12.x"'
    assert want in p.stderr and str(tmp_path / "in.csv") in p.stderr, p.stderr
    assert server.record_count(table) == 0
