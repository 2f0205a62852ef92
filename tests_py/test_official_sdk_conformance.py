"""Conformance of the local Zerobus server with the official Python SDK.

The official client (PyPI ``databricks-zerobus-ingest-sdk``, a compiled Rust
core) is pointed, TLS off, at ``zerobus local -json``; what it sent is then
read back through the server's inspection HTTP API and compared with what the
test handed to the SDK.

The server binary is ``$ZEROBUS_LOCAL_BIN`` if set, else built with
``go build ./cmd/zerobus`` from the repository root.

Requirements: databricks-zerobus-ingest-sdk==1.10.0, protobuf>=5, pytest.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

import zerobus._zerobus_core as zcore

REPO = Path(__file__).resolve().parent.parent
F = descriptor_pb2.FieldDescriptorProto


# --------------------------------------------------------------------------
# The server process


class LocalServer:
    """A running ``zerobus local -json`` process and its connection details."""

    def __init__(self, proc: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.proc = proc
        self.endpoint: str = info["endpoint"]
        self.workspace_url: str = info["workspace_url"]
        self.client_id: str = info["client_id"]
        self.client_secret: str = info["client_secret"]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.workspace_url + "/zerobus-local/v1" + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict[str, Any]) -> int:
        req = urllib.request.Request(
            self.workspace_url + "/zerobus-local/v1" + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            raise AssertionError(f"POST {path}: HTTP {e.code}: {e.read()!r}") from e

    def create_table(self, table: str, columns: str) -> None:
        """Create ``table`` with columns in SQL DDL form ("id BIGINT NOT NULL, ...")."""
        assert self.post(f"/tables/{table}", {"columns": columns}) == 201

    def fault(self, table: str, kind: str, **options: Any) -> None:
        assert self.post("/faults", {"table": table, "kind": kind, **options}) == 204

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.get(f"/tables/{table}/rows")

    def stats(self) -> dict[str, int]:
        return self.get("/stats")

    def sdk(self) -> Any:
        sdk = zcore.sync.ZerobusSdk(self.endpoint, self.workspace_url)
        sdk.set_use_tls(False)
        return sdk


_BUILT: dict[str, str] = {}


def _server_binary(tmp_dir: Path) -> str:
    env_bin = os.environ.get("ZEROBUS_LOCAL_BIN")
    if env_bin:
        return env_bin
    if "bin" not in _BUILT:  # once per test session
        out = tmp_dir / ("zerobus.exe" if sys.platform == "win32" else "zerobus")
        subprocess.run(["go", "build", "-o", str(out), "./cmd/zerobus"], cwd=REPO, check=True, timeout=600)
        _BUILT["bin"] = str(out)
    return _BUILT["bin"]


def _read_first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    q: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    t = threading.Thread(target=lambda: q.put(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    t.start()
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"zerobus local printed nothing within {timeout}s") from None


@contextlib.contextmanager
def run_local(tmp_path_factory: pytest.TempPathFactory, *flags: str) -> Iterator[LocalServer]:
    """``zerobus local -json -v FLAGS...`` for the duration of the block."""
    binary = _server_binary(tmp_path_factory.mktemp("bin"))
    log = open(tmp_path_factory.mktemp("log") / "server.log", "w+")
    proc = subprocess.Popen([binary, "local", "-json", "-v", *flags], stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = _read_first_line(proc, 60)
        if not line:
            log.seek(0)
            raise AssertionError(f"zerobus local exited with {proc.wait()}: {log.read()}")
        yield LocalServer(proc, json.loads(line))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_local(tmp_path_factory) as s:
        yield s


# --------------------------------------------------------------------------
# Messages


def order_descriptor(package: str = "conformance.v1", extra_field: bool = False) -> Any:
    """conformance.v1.Order: id required int64, name optional string,
    tags repeated string, attrs map<string,int64>, loc optional struct."""
    fdp = descriptor_pb2.FileDescriptorProto(name=f"{package}.{extra_field}.proto", package=package, syntax="proto2")
    m = fdp.message_type.add(name="Order")
    m.field.add(name="id", number=1, label=F.LABEL_REQUIRED, type=F.TYPE_INT64)
    m.field.add(name="name", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_STRING)
    m.field.add(name="tags", number=3, label=F.LABEL_REPEATED, type=F.TYPE_STRING)
    m.field.add(
        name="attrs", number=4, label=F.LABEL_REPEATED, type=F.TYPE_MESSAGE, type_name=f".{package}.Order.AttrsEntry"
    )
    m.field.add(name="loc", number=5, label=F.LABEL_OPTIONAL, type=F.TYPE_MESSAGE, type_name=f".{package}.Order.Loc")
    if extra_field:
        m.field.add(name="surprise", number=6, label=F.LABEL_OPTIONAL, type=F.TYPE_BOOL)
    entry = m.nested_type.add(name="AttrsEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, label=F.LABEL_OPTIONAL, type=F.TYPE_STRING)
    entry.field.add(name="value", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_INT64)
    loc = m.nested_type.add(name="Loc")
    loc.field.add(name="lat", number=1, label=F.LABEL_OPTIONAL, type=F.TYPE_DOUBLE)
    loc.field.add(name="lon", number=2, label=F.LABEL_OPTIONAL, type=F.TYPE_DOUBLE)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return pool.FindMessageTypeByName(f"{package}.Order")


ORDER = order_descriptor()
Order = message_factory.GetMessageClass(ORDER)


def make_order(i: int) -> Any:
    o = Order(id=i, tags=[f"t{i}", "x"] if i % 2 else [])
    if i % 3:
        o.name = f"order-{i}"
    if i % 2:
        o.loc.lat, o.loc.lon = i / 2, -i / 4
    o.attrs["n"] = i * 10
    return o


def options(**kw: Any) -> Any:
    kw.setdefault("recovery", False)
    kw.setdefault("flush_timeout_ms", 20000)
    kw.setdefault("server_lack_of_ack_timeout_ms", 20000)
    return zcore.StreamConfigurationOptions(**kw)


def decode_rows(rows: list[dict[str, Any]]) -> list[Any]:
    """Stored rows back into Order messages, through both views the server
    offers (raw bytes and protojson) which must agree."""
    out = []
    for r in rows:
        from_raw = Order.FromString(base64.b64decode(r["raw_base64"]))
        from_json = json_format.ParseDict(r["record"], Order())
        assert from_raw == from_json, r
        out.append(from_raw)
    return out


# --------------------------------------------------------------------------
# Tests


class Acks(zcore.AckCallback):
    def __init__(self) -> None:
        super().__init__()
        self.offsets: list[int] = []
        self.errors: list[tuple[int, str]] = []

    def on_ack(self, offset: int) -> None:
        self.offsets.append(offset)

    def on_error(self, offset: int, error_message: str) -> None:
        self.errors.append((offset, error_message))


def test_proto_stream_single_records_and_batches(server: LocalServer) -> None:
    table = "main.conformance.orders"
    acks = Acks()
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(ack_callback=acks),
    )
    sent = [make_order(i) for i in range(1, 12)]
    offsets = [stream.ingest_record_offset(o.SerializeToString()) for o in sent[:3]]
    offsets.append(stream.ingest_records_offset([o.SerializeToString() for o in sent[3:7]]))
    stream.wait_for_offset(offsets[-1])
    offsets.append(stream.ingest_records_offset([o.SerializeToString() for o in sent[7:11]]))
    assert stream.ingest_records_offset([]) is None  # nothing is sent for an empty list
    stream.flush()
    stream.close()
    assert offsets == [0, 1, 2, 3, 4]

    rows = server.rows(table)
    assert decode_rows(rows) == sent
    assert [(r["offset"], r["index"]) for r in rows] == [(0, 0), (1, 0), (2, 0)] + [(3, i) for i in range(4)] + [
        (4, i) for i in range(4)
    ]
    assert len({r["stream_id"] for r in rows}) == 1
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert acks.errors == []
    assert acks.offsets and max(acks.offsets) == 4

    info = server.get(f"/tables/{table}")
    assert info["record_count"] == 11
    assert info["has_schema"] is True
    # The SDK sends a DescriptorProto whose type names keep the file package.
    assert info["descriptor"]["field"][3]["type_name"] == ".conformance.v1.Order.AttrsEntry"


def test_second_stream_same_table_appends(server: LocalServer) -> None:
    table = "main.conformance.appends"
    sdk = server.sdk()
    for batch in range(2):
        stream = sdk.create_stream(
            table_properties=zcore.TableProperties(table, ORDER),
            client_id=server.client_id,
            client_secret=server.client_secret,
            options=options(),
        )
        for i in range(3):
            stream.ingest_record_offset(make_order(batch * 10 + i).SerializeToString())
        stream.flush()
        stream.close()
    rows = server.rows(table)
    assert decode_rows(rows) == [make_order(b * 10 + i) for b in range(2) for i in range(3)]
    assert [r["offset"] for r in rows] == [0, 1, 2, 0, 1, 2]  # wire offsets restart per RPC
    assert len({r["stream_id"] for r in rows}) == 2


def test_json_stream_raw_table(server: LocalServer) -> None:
    table = "main.conformance.json_raw"
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(),
    )
    sent = [{"id": i, "name": f"j{i}", "nested": {"ok": i % 2 == 0}} for i in range(6)]
    stream.ingest_record_offset(json.dumps(sent[0]))
    stream.ingest_record_offset(json.dumps(sent[1]))
    last = stream.ingest_records_offset([json.dumps(r) for r in sent[2:]])
    stream.wait_for_offset(last)
    stream.flush()
    stream.close()

    rows = server.rows(table)
    assert [r["record"] for r in rows] == sent
    assert all(r["json"] for r in rows)
    assert [(r["offset"], r["index"]) for r in rows] == [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (2, 3)]
    assert server.get(f"/tables/{table}")["has_schema"] is False


def test_json_stream_into_table_with_schema(server: LocalServer) -> None:
    table = "main.conformance.json_typed"
    desc = descriptor_pb2.DescriptorProto()
    ORDER.CopyToProto(desc)
    assert (
        server.post(f"/tables/{table}", {"descriptor_base64": base64.b64encode(desc.SerializeToString()).decode()})
        == 201
    )
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(),
    )
    sent = [make_order(i) for i in range(1, 5)]
    stream.ingest_record_offset(json_format.MessageToJson(sent[0], preserving_proto_field_name=True))
    stream.ingest_records_offset([json_format.MessageToJson(o, preserving_proto_field_name=True) for o in sent[1:]])
    stream.flush()
    stream.close()
    rows = server.rows(table)
    assert [json_format.ParseDict(r["record"], Order()) for r in rows] == sent


def test_schema_mismatch_is_rejected(server: LocalServer) -> None:
    table = "main.conformance.strict"
    sdk = server.sdk()
    first = sdk.create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(),
    )
    first.ingest_record_offset(make_order(1).SerializeToString())
    first.flush()
    first.close()

    before = server.stats()["streams_rejected"]
    other = order_descriptor(package="conformance.v2", extra_field=True)
    with pytest.raises(zcore.ZerobusException) as exc:
        sdk.create_stream(
            table_properties=zcore.TableProperties(table, other),
            client_id=server.client_id,
            client_secret=server.client_secret,
            options=options(),
        )
    assert "FIELD_NOT_IN_TABLE" in str(exc.value) or "schema validation failed" in str(exc.value)
    assert server.stats()["streams_rejected"] > before
    assert len(server.rows(table)) == 1


def test_wrong_secret_is_rejected(server: LocalServer) -> None:
    before = server.stats()
    with pytest.raises(zcore.ZerobusException):
        server.sdk().create_stream(
            table_properties=zcore.TableProperties("main.conformance.denied", ORDER),
            client_id=server.client_id,
            client_secret="not-the-secret",
            options=options(),
        )
    after = server.stats()
    assert after["tokens_rejected"] > before["tokens_rejected"]
    assert after["streams_created"] == before["streams_created"]


def test_close_signal_recovery(server: LocalServer) -> None:
    """The server announces the end of the RPC after 2 messages; the SDK
    moves to a new RPC and every record lands (at least once)."""
    table = "main.conformance.recovery"
    assert (
        server.post("/faults", {"table": table, "kind": "close_signal", "after_messages": 2, "close_after": "300ms"})
        == 204
    )
    stream = server.sdk().create_stream(
        table_properties=zcore.TableProperties(table, ORDER),
        client_id=server.client_id,
        client_secret=server.client_secret,
        options=options(recovery=True, recovery_backoff_ms=50, recovery_retries=5, recovery_timeout_ms=5000),
    )
    sent = [make_order(i) for i in range(1, 9)]
    for o in sent:
        stream.ingest_record_offset(o.SerializeToString())
        time.sleep(0.05)
    stream.flush()
    stream.close()
    rows = server.rows(table)
    got = decode_rows(rows)
    assert set(o.id for o in got) == set(o.id for o in sent)
    assert len({r["stream_id"] for r in rows}) >= 2
    assert server.stats()["close_signals"] >= 1
