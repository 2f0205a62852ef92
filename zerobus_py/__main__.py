"""Command line: ``python -m zerobus_py <command>`` (also installed as ``zerobus-py``).

Commands:

* ``local``: start a local Zerobus server and print how to reach it.
* ``send FILE``: send an Arrow IPC, Parquet or CSV file (streamed) to a table.
* ``debug read FILE``: print the rows of a debug file.
* ``version``: print the package and native versions.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import __version__, native_version
from ._config import WrapperConfiguration
from ._errors import ZerobusError


def _open_data(path: Path) -> pa.RecordBatchReader:
    """Open a data file as a stream of batches (never read whole)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        return pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches())
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        return pcsv.open_csv(path)
    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_stream(source)
    except pa.ArrowInvalid:
        source.seek(0)
        f = pa.ipc.open_file(source)
        return pa.RecordBatchReader.from_batches(f.schema, (f.get_batch(i) for i in range(f.num_record_batches)))


def _cmd_local(args: argparse.Namespace) -> int:
    from .local import LocalServer

    server = LocalServer(port=args.port, http_port=args.http_port, tls=args.tls, data_dir=args.data_dir)
    info = {
        "endpoint": server.endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": args.table,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        for k, v in info.items():
            print(f"{k:14} {v}")
        print("serving until interrupted (Ctrl-C)", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.close()
    return 0


def _config_from_args(args: argparse.Namespace) -> WrapperConfiguration:
    cfg = WrapperConfiguration.from_yaml(args.config) if args.config else WrapperConfiguration.from_env()
    if args.table:
        cfg.table_name = args.table
    return cfg


def _cmd_send(args: argparse.Namespace) -> int:
    from ._wrapper import ZerobusWrapper

    reader = _open_data(Path(args.file))
    with ZerobusWrapper(_config_from_args(args)) as wrapper:
        result = wrapper.send_batch(reader)
    print(json.dumps(result.get_error_statistics() | {"success": result.success, "latency_ms": result.latency_ms}))
    for msg in result.get_error_messages()[:10]:
        print("error:", msg, file=sys.stderr)
    return 0 if result.success else 1


def _cmd_debug(args: argparse.Namespace) -> int:
    from .debug import read_file

    table = read_file(args.file)
    if args.limit is not None:
        table = table.slice(0, args.limit)
    if args.format == "json":
        for row in table.to_pylist():
            print(json.dumps(row, default=str))
    elif args.format == "csv":
        import pyarrow.csv as pcsv

        sink = pa.BufferOutputStream()
        pcsv.write_csv(table, sink)
        sys.stdout.write(sink.getvalue().to_pybytes().decode())
    else:
        print(table)
    return 0


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"zerobus-wrapper {__version__} (native {native_version()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command line."""
    p = argparse.ArgumentParser(prog="python -m zerobus_py", description="Stream Arrow data into Databricks Zerobus.")
    sub = p.add_subparsers(dest="command", required=True)

    lp = sub.add_parser("local", help="run a local Zerobus server until interrupted")
    lp.add_argument("--port", type=int, help="gRPC port (default: a free port)")
    lp.add_argument("--http-port", type=int, help="token/inspection HTTP port (default: a free port)")
    lp.add_argument("--table", default="main.default.events", help="table name to suggest to clients")
    lp.add_argument("--tls", action="store_true", help="serve gRPC over TLS with a generated CA")
    lp.add_argument("--data-dir", help="write each table there as <table>.arrow on exit")
    lp.add_argument("--json", action="store_true", help="print one JSON object line (for scripts)")
    lp.set_defaults(func=_cmd_local)

    sp = sub.add_parser("send", help="send an Arrow IPC, Parquet or CSV file")
    sp.add_argument("file")
    sp.add_argument("--config", help="YAML config file (default: environment variables)")
    sp.add_argument("--table", help="override table_name")
    sp.set_defaults(func=_cmd_send)

    dp = sub.add_parser("debug", help="debug file tools")
    dsub = dp.add_subparsers(dest="debug_command", required=True)
    rp = dsub.add_parser("read", help="print the rows of a debug file (.arrow or .proto)")
    rp.add_argument("file")
    rp.add_argument("--limit", type=int)
    rp.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rp.set_defaults(func=_cmd_debug)

    vp = sub.add_parser("version", help="print versions")
    vp.set_defaults(func=_cmd_version)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: Any = args.func(args)
    except (ZerobusError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
