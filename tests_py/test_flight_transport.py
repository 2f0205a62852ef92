"""transport="arrow_flight": the Arrow batches over Arrow Flight, from Python and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from conftest import id_batch, stored_ids

from zerobus_py import ConfigurationError, ConversionError, WrapperConfiguration, ZerobusWrapper
from zerobus_py._cli import main
from zerobus_py.local import LocalServer


def test_send_over_flight_reads_back(server: LocalServer, table_name: str) -> None:
    before = server.stats()
    cfg = server.config(table_name, transport="arrow_flight", arrow_flight_compression="lz4")
    assert cfg.transport == "arrow_flight"
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(pa.Table.from_batches([id_batch(0, 300), id_batch(300, 200)]))
        assert res.success and res.successful_count == 500
    assert stored_ids(server, table_name) == list(range(500))
    names = server.table(table_name).column("name").to_pylist()
    assert sorted(names) == sorted(f"x-{i}" for i in range(500))
    # Flight streams are counted like the others; nothing went over the protobuf stream API.
    assert server.stats()["streams_created"] > before["streams_created"]


def test_flight_schema_mismatch_is_a_conversion_error(server: LocalServer, table_name: str) -> None:
    with ZerobusWrapper(server.config(table_name, transport="arrow_flight")) as w:
        w.send_batch(id_batch(0, 3))  # creates the table: id BIGINT, name STRING, score DOUBLE
        bad = pa.record_batch({"id": pa.array(["a"], pa.string()), "name": pa.array(["x"])})
        with pytest.raises(ConversionError) as info:
            w.send_batch(bad)
    msg = str(info.value)
    assert (
        '"id" is utf8 in the batch and BIGINT in the table: no safe cast; '
        "cast the batch's column to int64, or change the table's column"
    ) in msg, msg
    assert stored_ids(server, table_name) == [0, 1, 2]


def test_transport_is_validated_and_round_trips(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="transport"):
        WrapperConfiguration("http://127.0.0.1:1", "main.default.t", transport="pigeon").validate()
    yml = tmp_path / "c.yaml"
    yml.write_text("endpoint: http://127.0.0.1:1\ntable_name: main.default.t\ntransport: arrow_flight\n")
    assert WrapperConfiguration.from_yaml(yml).transport == "arrow_flight"


def test_cli_send_local_over_flight(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.arrow"
    with ipc.new_file(str(data), id_batch(0, 1).schema) as f:
        f.write_batch(id_batch(0, 40))
    status = main(["send", str(data), "--local", "--transport", "arrow_flight", "--json"])
    out = capfd.readouterr().out.strip().splitlines()  # the Go CLI writes to fd 1
    assert status == 0, out
    summary = json.loads(out[0])
    assert summary["rows_sent"] == 40, summary


def test_variant_json_text_over_flight(server: LocalServer, table_name: str) -> None:
    server.create_table(table_name, "id BIGINT NOT NULL, doc VARIANT")
    docs = ['{"a": [1, 2.5, null], "b": {"c": "x"}}', None, "not json", "[]"]
    batch = pa.record_batch({"id": pa.array(range(4), pa.int64()), "doc": pa.array(docs, pa.string())})
    with ZerobusWrapper(server.config(table_name, transport="arrow_flight")) as w:
        res = w.send_batch(batch)
    assert res.successful_count == 3 and res.failed_count == 1
    ((row, err),) = res.failed_row_errors
    assert row == 2 and isinstance(err, ConversionError), err
    assert err.row == 2 and err.column == "doc" and "JSON" in str(err), err
    stored = server.table(table_name).to_pydict()
    got = {i: (json.loads(d) if d is not None else None) for i, d in zip(stored["id"], stored["doc"], strict=True)}
    assert got == {0: {"a": [1, 2.5, None], "b": {"c": "x"}}, 1: None, 3: []}


def test_grpc_zstd_compresses_whole_messages(server: LocalServer, table_name: str) -> None:
    before = server.stats()
    cfg = server.config(table_name, transport="arrow_flight", arrow_flight_compression="grpc_zstd")
    with ZerobusWrapper(cfg) as w:
        res = w.send_batch(id_batch(0, 2000))
    assert res.success and res.successful_count == 2000
    assert stored_ids(server, table_name) == list(range(2000))
    after = server.stats()
    sent = after["bytes_received"] - before["bytes_received"]
    wire = after["wire_bytes_received"] - before["wire_bytes_received"]
    assert 0 < wire < sent * 0.8, (wire, sent)
    with pytest.raises(ConfigurationError, match="grpc_zstd"):
        WrapperConfiguration("http://127.0.0.1:1", "main.default.t", arrow_flight_compression="gzip").validate()


def test_row_over_max_message_bytes_fails_alone_over_flight(server: LocalServer, table_name: str) -> None:
    """A row that alone is over max_message_bytes fails by itself (not written, named by row) and the rows after
    it are stored, as on the protobuf path; over Flight every later row used to fail with it."""
    names = ["y" * 100] * 30
    names[4] = "y" * (100 << 10)
    batch = pa.record_batch({"id": pa.array(range(30), pa.int64()), "name": pa.array(names)})
    with ZerobusWrapper(server.config(table_name, transport="arrow_flight", max_message_bytes=65536)) as w:
        res = w.send_batch(batch)
    assert (res.successful_count, res.not_written_count, res.unknown_count) == (29, 1, 0)
    ((row, err),) = res.failed_row_errors
    assert row == 4 and isinstance(err, ConversionError) and err.row == 4, err
    assert "max_message_bytes" in str(err), err
    assert stored_ids(server, table_name) == [i for i in range(30) if i != 4]


def test_validate_reports_what_flight_would_ignore(tmp_path: Path) -> None:
    """max_record_bytes and protobuf-only debug files mean nothing over Arrow Flight: validate() reports them with
    every other problem at once, before any wrapper is built (they were refused at ZerobusWrapper(...) only)."""
    kw = {"max_record_bytes": 1000, "debug_protobuf_enabled": True, "debug_output_dir": str(tmp_path)}
    cfg = WrapperConfiguration("http://127.0.0.1:1", "main.default.t", transport="arrow_flight", streams_per_schema=100)
    for key, value in kw.items():
        setattr(cfg, key, value)
    with pytest.raises(ConfigurationError) as info:
        cfg.validate()
    err = info.value
    assert sorted(err.keys) == ["debug_protobuf_enabled", "max_record_bytes", "streams_per_schema"], err
    assert "max_record_bytes (env ZEROBUS_MAX_RECORD_BYTES when loading from the environment): is 1000" in str(
        err
    ) and "arrow_flight" in str(err), err
    cfg.transport = "protobuf"  # the same settings mean something there
    with pytest.raises(ConfigurationError) as info:
        cfg.validate()
    assert info.value.keys == ["streams_per_schema"], info.value
    # Arrow debug files (debug_enabled writes both kinds; the Arrow ones are written) pass over Flight.
    WrapperConfiguration(
        "http://127.0.0.1:1",
        "main.default.t",
        transport="arrow_flight",
        debug_enabled=True,
        debug_output_dir=str(tmp_path),
    ).validate()
