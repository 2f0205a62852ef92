"""tls_ca_file against LocalServer(tls=True), and the LocalServer keywords that pass
straight through to the Go server's Options (stream lifetime, allowed hosts, inspect
token) and the partial_ack fault's record count. Every test reads back what the
server stored or what its HTTP side answered."""

from __future__ import annotations

import http.client
import json
import logging
import os
import ssl
import time
import urllib.parse
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConfigurationError, WrapperConfiguration, ZerobusConnectionError, ZerobusError, ZerobusWrapper
from zerobus_py.local import LocalServer


def http_get(server: LocalServer, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """One GET to the server's HTTP side (no proxy, the server's CA for https)."""
    u = urllib.parse.urlsplit(server.workspace_url)
    assert u.hostname is not None and u.port is not None
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=server.ca_file)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
def test_send_over_tls_with_ca_file(table_name: str, transport: str) -> None:
    # http_tls: the token and Unity Catalog requests go over TLS too, so every client checks the CA.
    with LocalServer(tls=True, http_tls=True) as s:
        assert s.endpoint.startswith("https://") and s.workspace_url.startswith("https://")
        assert s.ca_file is not None
        ca_file = s.ca_file
        assert Path(ca_file).read_text() == s.ca_cert_pem and "BEGIN CERTIFICATE" in s.ca_cert_pem
        cfg = s.config(table_name, tls_ca_file=ca_file, transport=transport)
        assert cfg.to_settings()["tls_ca_file"] == ca_file
        assert s.config(table_name).tls_ca_file == ca_file  # config() trusts the server by default
        with ZerobusWrapper(cfg) as w:
            res = w.send_batch(pa.Table.from_batches([id_batch(0, 40), id_batch(40, 35)]))
            assert res.success and res.successful_count == 75
        assert stored_ids(s, table_name) == list(range(75))
        # The inspection API over https trusts the same CA.
        assert [c["name"] for c in s.columns(table_name)] == ["id", "name", "score"]
        assert sorted(s.table(table_name).column("name").to_pylist()) == sorted(f"x-{i}" for i in range(75))
    assert not os.path.exists(ca_file), "close() leaves the CA file behind"
    assert s.ca_file is None


@pytest.mark.parametrize("transport", ["protobuf", "arrow_flight"])
@pytest.mark.parametrize("http_tls", [False, True])
def test_tls_without_ca_fails_clearly(
    table_name: str, transport: str, http_tls: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # An untrusted certificate (the gRPC endpoint's, or the workspace's for the token request) is
    # final: one attempt with the default retry settings, a fatal ConnectionError that is not retryable.
    with LocalServer(tls=True, http_tls=http_tls) as s:
        cfg = s.config(table_name, tls_ca_file=None, transport=transport)
        start = time.monotonic()
        with (
            caplog.at_level(logging.INFO, logger="zerobus_py"),
            ZerobusWrapper(cfg) as w,
            pytest.raises(ZerobusError) as info,
        ):
            w.send_batch(id_batch(0, 5), timeout=60)
        elapsed = time.monotonic() - start
        err = info.value
        msg = str(err)
        setting = "unity_catalog_url" if http_tls else "endpoint"
        assert f"TLS handshake with 127.0.0.1 ({setting}) failed" in msg, msg
        assert "TLS certificate of 127.0.0.1 is signed by a CA this client does not trust" in msg, msg
        assert "set tls_ca_file, env ZEROBUS_TLS_CA_FILE" in msg, msg
        assert "gave up after" not in msg, msg
        assert isinstance(err, ZerobusConnectionError), type(err)
        assert err.kind == "connection" and err.retryable is False and err.fatal is True, err.details
        assert err.attempts is None and err.keys == ["tls_ca_file", setting], err.details
        # No retry: every retry logs a "...; retrying" warning before its backoff (the default,
        # base 100 ms and 5 retries, took ~1.5 s on average). A wall-clock bound of 1 s stood here;
        # a loaded machine took that long without any retry. The generous one catches a hang.
        retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
        assert not retries, retries
        assert elapsed < 30, f"took {elapsed:.2f} s"
        assert s.record_count(table_name) == 0


def test_tls_ca_file_from_yaml_and_env(tmp_path: Path, table_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalServer(tls=True, http_tls=True) as s:
        assert s.ca_file is not None
        yml = tmp_path / "c.yaml"
        yml.write_text(
            f"endpoint: {s.endpoint}\nunity_catalog_url: {s.workspace_url}\ntable_name: {table_name}\n"
            f"client_id: {s.client_id}\nclient_secret: ${{SECRET}}\ntls_ca_file: {s.ca_file}\n"
        )
        monkeypatch.setenv("SECRET", s.client_secret)
        cfg = WrapperConfiguration.from_yaml(yml)
        assert cfg.tls_ca_file == s.ca_file
        with ZerobusWrapper(cfg) as w:
            assert w.send_batch(id_batch(0, 10)).successful_count == 10
        for key, value in {
            "ZEROBUS_ENDPOINT": s.endpoint,
            "UNITY_CATALOG_URL": s.workspace_url,
            "ZEROBUS_TABLE_NAME": table_name,
            "ZEROBUS_CLIENT_ID": s.client_id,
            "ZEROBUS_CLIENT_SECRET": s.client_secret,
            "ZEROBUS_TLS_CA_FILE": s.ca_file,
        }.items():
            monkeypatch.setenv(key, value)
        cfg = WrapperConfiguration.from_env()
        assert cfg.tls_ca_file == s.ca_file
        with ZerobusWrapper(cfg) as w:
            assert w.send_batch(id_batch(10, 10)).successful_count == 10
        assert stored_ids(s, table_name) == list(range(20))


def test_tls_ca_file_errors_name_key_and_file(tmp_path: Path, server: LocalServer, table_name: str) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    for path, what in ((tmp_path / "missing.pem", "cannot read the CA file"), (not_pem, "holds no PEM certificate")):
        with pytest.raises(ConfigurationError) as info:
            ZerobusWrapper(server.config(table_name, tls_ca_file=path))
        msg = str(info.value)
        assert (
            "tls_ca_file (env ZEROBUS_TLS_CA_FILE when loading from the environment)" in msg
            and str(path) in msg
            and what in msg
        ), msg
        assert "TLSCAFile" not in msg, msg


def test_stream_lifetime_rotates_and_every_row_lands(table_name: str) -> None:
    with LocalServer(stream_lifetime_ms=300, stream_close_grace_ms=100) as s:
        with ZerobusWrapper(s.config(table_name, streams_per_schema=1)) as w:
            deadline = time.monotonic() + 1.2
            n = 0
            while time.monotonic() < deadline or n < 10:
                res = w.send_batch(id_batch(n * 20, 20))
                assert res.success, res
                n += 1
                time.sleep(0.05)
        stats = s.stats()
        assert stats["streams_created"] >= 3, stats  # 1.2 s of 300 ms streams
        assert stored_ids(s, table_name) == list(range(n * 20))


def test_stream_lifetime_default_keeps_one_stream(server: LocalServer, table_name: str) -> None:
    before = server.stats()["streams_created"]
    with ZerobusWrapper(server.config(table_name, streams_per_schema=1)) as w:
        for i in range(3):
            w.send_batch(id_batch(i * 5, 5))
            time.sleep(0.2)
    assert server.stats()["streams_created"] == before + 1
    assert stored_ids(server, table_name) == list(range(15))


def test_max_stored_rows_keeps_the_newest(table_name: str) -> None:
    with LocalServer(max_stored_rows=25) as s:
        with ZerobusWrapper(s.config(table_name)) as w:
            for i in range(6):
                assert w.send_batch(id_batch(i * 10, 10)).successful_count == 10
        assert stored_ids(s, table_name) == list(range(35, 60))
        assert s.stats()["rows_dropped"] == 35


def test_inspect_token_guards_the_inspection_api(table_name: str) -> None:
    token = "inspect-s3cret-4242"
    with LocalServer(inspect_token=token) as s:
        path = "/zerobus-local/v1/tables"
        assert http_get(s, path, {})[0] == 401
        assert http_get(s, path, {"Authorization": "Bearer wrong"})[0] == 401
        status, body = http_get(s, path, {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        # The helpers that use the inspection API send the token.
        s.create_table(table_name, "id BIGINT NOT NULL, name STRING")
        assert [c["name"] for c in s.columns(table_name)] == ["id", "name"]
        # The token endpoint and the streams are not behind it.
        with ZerobusWrapper(s.config(table_name)) as w:
            schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])
            w.send_batch(pa.record_batch([pa.array([1, 2], pa.int64()), pa.array(["a", "b"])], schema=schema))
        assert s.table(table_name).column("id").to_pylist() == [1, 2]
        assert token not in repr(s) and "inspect_token='<redacted>'" in repr(s)
        assert token not in s._repr_html_()
    with LocalServer() as open_server:
        assert http_get(open_server, path, {})[0] == 200


def test_allowed_hosts(server: LocalServer) -> None:
    path = "/zerobus-local/v1/stats"
    assert http_get(server, path, {"Host": "zerobus-box"})[0] == 403
    with LocalServer(allowed_hosts=["zerobus-box"]) as s:
        port = urllib.parse.urlsplit(s.workspace_url).port
        assert http_get(s, path, {"Host": f"zerobus-box:{port}"})[0] == 200
        assert http_get(s, path, {"Host": "evil.example"})[0] == 403
        assert http_get(s, path, {"Host": f"localhost:{port}"})[0] == 200
    with pytest.raises(TypeError, match="allowed_hosts"):
        LocalServer(allowed_hosts="zerobus-box")
    # the rule is the Go server's, as for `zerobus local -allow-host` (was accepted, and matched no Host header)
    with pytest.raises(ConfigurationError) as ei:
        LocalServer(allowed_hosts=["box", "http://box:8080"])
    assert str(ei.value) == (
        "zerobus: local server: invalid options: allowed_hosts=['box', 'http://box:8080'] must be host names"
        ' without scheme or port (e.g. a container name); "http://box:8080" is not'
    )
    assert ei.value.keys == ["allowed_hosts"]


@pytest.mark.parametrize("records", [1, 3])
def test_partial_ack_records(server: LocalServer, table_name: str, records: int) -> None:
    before = server.stats()
    # The second Flight batch is acknowledged up to its first `records` records; the stream
    # then ends and the client re-sends the rest on a new stream.
    server.inject_fault(table_name, "partial_ack", after_messages=1, records=records, close_after_ms=100)
    with ZerobusWrapper(server.config(table_name, transport="arrow_flight", streams_per_schema=1)) as w:
        for i in range(4):
            res = w.send_batch(id_batch(i * 10, 10))
            assert res.success and res.successful_count == 10, res
    after = server.stats()
    assert after["faults_fired"] == before["faults_fired"] + 1, after
    assert after["streams_created"] >= before["streams_created"] + 2, after
    # Exactly once: the acknowledged prefix was not re-sent, the dropped suffix was.
    assert stored_ids(server, table_name) == list(range(40))
    # The first stream stored the first batch and the acknowledged prefix of the second.
    status, body = http_get(server, f"/zerobus-local/v1/tables/{urllib.parse.quote(table_name)}/rows", {})
    assert status == 200, body
    streams = [row["stream_id"] for row in json.loads(body)]
    assert streams.count(streams[0]) == 10 + records, streams


def test_inject_fault_rejects_unknown_options(server: LocalServer, table_name: str) -> None:
    with pytest.raises(ValueError, match="records_count"):
        server.inject_fault(table_name, "partial_ack", records_count=2)
    with pytest.raises(ValueError, match="code"):
        server.inject_fault(table_name, "error", code="NOT_A_CODE")
