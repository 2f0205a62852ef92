"""The official Databricks Zerobus Java SDK against the local server, unchanged (TLS off).

tests_java/sdkpeer (a Maven project pinning ``com.databricks:zerobus-ingest-sdk``, a Java API over the
SDK's Rust core through JNI) is compiled by ``make java-sdk-peer`` and run once against the session's
in-process local server. It creates streams for a table of BIGINT, STRING, DOUBLE, BOOLEAN, TIMESTAMP,
ARRAY<STRING> and STRUCT columns (NOT NULL and nullable), ingests protobuf and JSON records in single and
batch calls, goes through an injected dropped connection with recovery on, and sends refused records;
it prints what it sent, the offsets and acks the SDK returned and the exceptions it raised as JSON. The
tests compare that with the rows the server stored, field by field.

A missing JDK or Maven fails these tests (``make java-sdk-peer`` installs them with apt-get where it can).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

if TYPE_CHECKING:
    from zerobus_py.local import LocalServer

REPO = Path(__file__).resolve().parent.parent
PEER = REPO / "tests_java" / "sdkpeer"
N = 40  # records per phase
FAULT_AFTER = 7  # each fault fires after this many stored messages of its table's first stream
# Faults armed on a table each (PREFIX_fault_NAME): name -> (kind, options of LocalServer.inject_fault).
FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "drop": ("drop_connection", {}),
    "unavailable": ("error", {"code": "UNAVAILABLE"}),
    "end": ("end_stream", {}),
    "close_signal": ("close_signal", {"close_after_ms": 200}),
    "token": ("expire_token", {}),
}
NON_RETRIABLE = "com.databricks.zerobus.NonRetriableException"


def _pinned_sdk_version() -> str:
    m = re.search(r"<zerobus\.sdk\.version>([^<]+)</zerobus\.sdk\.version>", (PEER / "pom.xml").read_text())
    assert m, "tests_java/sdkpeer/pom.xml pins no <zerobus.sdk.version>"
    return m.group(1)


def _columns() -> str:
    """The table's DDL, as the Java program declares it (Main.COLUMNS)."""
    src = (PEER / "src/main/java/zerobuslocal/sdkpeer/Main.java").read_text()
    m = re.search(r'static final String COLUMNS =\s*((?:"[^"]*"\s*\+?\s*)+);', src)
    assert m, "Main.COLUMNS not found"
    return "".join(re.findall(r'"([^"]*)"', m.group(1)))


@pytest.fixture(scope="module")
def java_cmd() -> list[str]:
    """``java -cp CLASSPATH`` of tests_java/sdkpeer, built by ``make java-sdk-peer`` (a no-op when up to date)."""
    make, java = shutil.which("make"), shutil.which("java")
    if make is None or java is None:
        pytest.fail(f"the official Java SDK test needs make and java on PATH (make: {make}, java: {java})")
    built = subprocess.run([make, "-s", "java-sdk-peer"], cwd=REPO, capture_output=True, text=True, timeout=900)
    if built.returncode != 0:
        pytest.fail(f"make java-sdk-peer failed ({built.returncode}):\n{built.stdout}\n{built.stderr}")
    deps = (PEER / "target" / "classpath.txt").read_text().strip()
    return [java, "-cp", os.pathsep.join([str(PEER / "target" / "classes"), deps])]


def _get(server: LocalServer, path: str) -> Any:
    url = server.workspace_url + "/zerobus-local/v1" + path
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(url, timeout=30) as r:
        return json.loads(r.read())


def _rows(server: LocalServer, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _get(server, f"/tables/{urllib.parse.quote(table)}/rows")
    return rows


def _stored(server: LocalServer, table: str) -> list[dict[str, Any]]:
    """The stored rows as Python values, TIMESTAMP as microseconds (the Java program's form)."""
    t = server.table(table)
    at = t.schema.get_field_index("at")
    t = t.set_column(at, "at", t.column("at").cast(pa.int64()))
    return t.to_pylist()


@pytest.fixture(scope="module")
def run(java_cmd: list[str], server: LocalServer) -> dict[str, Any]:
    """One run of the Java program: its JSON summary, the phases keyed by name."""
    prefix = f"main.javasdk_{uuid.uuid4().hex[:8]}.t"
    for suffix in ("proto", "json", "legacy", "refused", *(f"fault_{f}" for f in FAULTS)):
        server.create_table(f"{prefix}_{suffix}", _columns())
    for name, (kind, options) in FAULTS.items():
        server.inject_fault(f"{prefix}_fault_{name}", kind, after_messages=FAULT_AFTER, **options)
    before = server.stats()
    env = {**os.environ, "ZEROBUS_CLIENT_SECRET": server.client_secret}
    out = subprocess.run(
        [
            *java_cmd,
            "zerobuslocal.sdkpeer.Main",
            server.endpoint,
            server.workspace_url,
            server.client_id,
            prefix,
            str(N),
            ",".join(FAULTS),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, f"the Java program failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    assert server.client_secret not in out.stdout + out.stderr
    summary: dict[str, Any] = json.loads(out.stdout)
    summary["faults_fired"] = server.stats()["faults_fired"] - before["faults_fired"]
    return summary


def _assert_clean(phase: dict[str, Any]) -> None:
    assert phase["error_class"] is None, f"{phase['error_at']}: {phase['error_class']}: {phase['error_message']}"
    assert phase["ack_errors"] == []


def test_sdk_version_is_the_pinned_one(run: dict[str, Any]) -> None:
    assert run["sdk_version"] == _pinned_sdk_version()


@pytest.mark.parametrize("phase_name", ["proto", "json", "legacy"])
def test_records_single_and_batch_stored_field_by_field(
    run: dict[str, Any], server: LocalServer, phase_name: str
) -> None:
    """Every record, every column, as the SDK was handed it; offsets one per call, every one acked.
    ``legacy`` is the deprecated API (a future per record, completed at its ack; single calls only)."""
    phase = run["phases"][phase_name]
    _assert_clean(phase)
    sizes = phase["call_sizes"]
    assert sum(sizes) == N and 1 in sizes, sizes
    assert (max(sizes) > 1) == (phase_name != "legacy"), sizes  # batch calls where the API has them
    assert phase["offsets"] == list(range(len(sizes)))
    assert phase["acked_offsets"] == phase["offsets"]  # the SDK's per-offset callback saw each one

    sent = phase["records"]
    got = _stored(server, phase["table"])
    if phase_name == "legacy":
        # The deprecated ingestRecord hands each record to a task of the SDK's Rust runtime, and records get
        # their offsets in the order those tasks run, not in call order (seen: record 5 at offset 4).
        got, sent = sorted(got, key=lambda r: r["id"]), sorted(sent, key=lambda r: r["id"])
    assert len(got) == len(sent) == N
    for i, (g, s) in enumerate(zip(got, sent, strict=True)):
        assert g == s, f"row {i}"
    # The values the generator covers: nulls and non-nulls in every nullable column, non-ASCII text.
    for col in ("name", "score", "ok", "at", "loc"):
        assert {s[col] is None for s in sent} == {True, False}, col
    assert any(not s["tags"] for s in sent) and any("" in s["tags"] for s in sent)
    assert any("\u65e5" in s["label"] for s in sent)

    rows = _rows(server, phase["table"])
    assert [(r["offset"], r["index"]) for r in rows] == [(o, k) for o, n in enumerate(sizes) for k in range(n)]
    assert len({r["stream_id"] for r in rows}) == 1
    assert all(r["json"] == (phase_name == "json") for r in rows)


def test_faults_fired(run: dict[str, Any]) -> None:
    assert run["faults_fired"] == len(FAULTS)


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "token"])
def test_fault_every_acked_record_stored(run: dict[str, Any], server: LocalServer, fault: str) -> None:
    """After FAULT_AFTER stored messages the fault ends the stream (a dropped connection, UNAVAILABLE, a
    clean end, a close signal, an expired token); with recovery on, the SDK opens a new stream and resends
    what was unacknowledged: every record it acknowledged is stored as sent, none is lost, and a record
    appears twice at most (one in flight when the first stream ended). An expired token is the exception
    (test_expired_token_is_not_retried)."""
    phase = run["phases"][f"fault_{fault}"]
    _assert_clean(phase)
    assert phase["offsets"] == list(range(N))
    assert phase["acked_offsets"] == list(range(N))

    sent = {r["id"]: r for r in phase["records"]}
    got = _stored(server, phase["table"])
    for g in got:
        assert g == sent[g["id"]]
    ids = [g["id"] for g in got]
    assert set(ids) == set(sent)
    assert max(ids.count(i) for i in set(ids)) <= 2
    # The server acks every stored message before the fault ends the stream (drop_connection too): the SDK
    # resends at most the one record in flight.
    assert len(ids) - N <= 1

    rows = _rows(server, phase["table"])
    streams = list(dict.fromkeys(r["stream_id"] for r in rows))
    assert len(streams) >= 2
    first = [int(r["record"]["id"]) for r in rows if r["stream_id"] == streams[0]]
    assert len(first) >= FAULT_AFTER  # the fault fired after these (a close signal keeps the stream a while)
    assert first == [r["id"] for r in phase["records"][: len(first)]]


def test_expired_token_is_not_retried(run: dict[str, Any], server: LocalServer) -> None:
    """UNAUTHENTICATED mid-stream (the expire_token fault) ends the stream for good in the Java SDK, as in
    the official Python client (tests_py/test_official_sdk_flight.py): no new stream, a ZerobusException
    from the next ingest call or flush, and every record acknowledged before is stored as sent."""
    phase = run["phases"]["fault_token"]
    assert phase["error_class"] == "com.databricks.zerobus.ZerobusException", phase["error_message"]
    assert phase["error_at"] in ("ingest", "flush")
    assert all("access token expired" in e for e in phase["ack_errors"])
    # The server acked FAULT_AFTER messages before the fault; the SDK's callback may not have run for all.
    assert set(phase["acked_offsets"]) <= set(range(FAULT_AFTER))
    rows = _rows(server, phase["table"])
    assert len({r["stream_id"] for r in rows}) == 1
    sent = phase["records"]
    assert _stored(server, phase["table"]) == sent[:FAULT_AFTER]


@pytest.mark.parametrize("phase_name", ["refused_null_proto", "refused_null_json"])
def test_null_in_not_null_column_is_non_retriable(run: dict[str, Any], server: LocalServer, phase_name: str) -> None:
    """A record without the NOT NULL column label: the SDK raises its NonRetriableException at flush,
    at once (no recovery attempts), and nothing of it is stored (the proto phase's good record before it
    is). The SDK's ack callback reports the refused offset's error in most runs, not all (SDK 1.0.1 can
    close the stream before it runs the callback): never another offset, never an ack of it."""
    phase = run["phases"][phase_name]
    assert (phase["error_class"], phase["error_at"]) == (NON_RETRIABLE, "flush"), phase["error_message"]
    assert 'column "label": null in a NOT NULL column' in phase["error_message"]
    assert phase["millis"] < 5000
    bad_offset = phase["offsets"][-1]
    assert [e.split(":")[0] for e in phase["ack_errors"]] in ([], [str(bad_offset)])
    assert bad_offset not in phase["acked_offsets"]
    stored_ids = [g["id"] for g in _stored(server, phase["table"])]
    bad_id = phase["records"][-1]["id"]
    assert bad_id not in stored_ids
    if phase_name == "refused_null_proto":
        assert phase["acked_offsets"] == [0]
        assert phase["records"][0]["id"] in stored_ids


def test_schema_mismatch_at_create_is_non_retriable(run: dict[str, Any]) -> None:
    """A descriptor with a field the table does not have: the create fails with NonRetriableException
    naming the field, without recovery attempts."""
    phase = run["phases"]["refused_schema"]
    assert (phase["error_class"], phase["error_at"]) == (NON_RETRIABLE, "create"), phase["error_message"]
    assert "FIELD_NOT_IN_TABLE" in phase["error_message"] and "surprise" in phase["error_message"]
    assert phase["millis"] < 5000


# Unity Catalog column types the SDK's GenerateProto tool maps, and the proto2 field it writes for each.
GENERATED = [
    ("id BIGINT NOT NULL", "required int64 id"),
    ("label STRING NOT NULL", "required string label"),
    ("score DOUBLE", "optional double score"),
    ("ok BOOLEAN", "optional bool ok"),
    ("at TIMESTAMP", "optional int64 at"),
    ("tags ARRAY<STRING>", "repeated string tags"),
    ("attrs MAP<STRING,BIGINT>", "map<string, int64> attrs"),
    ("d DATE", "optional int32 d"),
    ("n INT", "optional int32 n"),
    ("s SMALLINT", "optional int32 s"),
    ("f FLOAT", "optional float f"),
    ("bin BINARY", "optional bytes bin"),
]


def test_generate_proto_reads_the_unity_catalog_endpoint(
    java_cmd: list[str], server: LocalServer, tmp_path: Path
) -> None:
    """The SDK's GenerateProto tool (its own HTTP client: OAuth client credentials with Basic auth, then the
    Unity Catalog tables API) writes the table's message from the local server's answers."""
    table = f"main.javasdk_{uuid.uuid4().hex[:8]}.generated"
    server.create_table(table, ", ".join(ddl for ddl, _ in GENERATED))
    out = tmp_path / "generated.proto"
    args = ["--uc-endpoint", server.workspace_url, "--client-id", server.client_id]
    args += ["--client-secret", server.client_secret, "--table", table, "--output", str(out)]
    ran = subprocess.run(
        [*java_cmd, "com.databricks.zerobus.tools.GenerateProto", *args], capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    fields = "".join(f"    {field} = {i};\n" for i, (_, field) in enumerate(GENERATED, 1))
    assert out.read_text() == f'syntax = "proto2";\n\nmessage generated {{\n{fields}}}\n'
