"""LocalServer keywords of the wrong type or out of range are named by
keyword: they were the Go server's JSON errors ("json: cannot unmarshal
string into Go struct field AckPolicy.ack_policy.every of type int") or, for
a port, a ConnectionError naming "Options.Addr"."""

from __future__ import annotations

from typing import Any

import pytest

from zerobus_py import ConfigurationError
from zerobus_py.local import LocalServer


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"ack_every": "3"}, "LocalServer ack_every='3': expected an int, got str"),
        ({"max_stored_rows": 1.5}, "LocalServer max_stored_rows=1.5: expected an int, got float"),
        ({"max_message_bytes": True}, "LocalServer max_message_bytes=True: expected an int, got bool"),
        ({"ack_delay_ms": "5"}, "LocalServer ack_delay_ms='5': expected a number, got str"),
    ],
)
def test_wrong_type_names_the_keyword(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as ei:
        LocalServer(**kw)
    assert str(ei.value) == message


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        # the port range and the longest duration are the Go server's rules (zerobuslocal.Options.Check,
        # DecodeOptions); Python kept copies of both
        ({"port": 70000}, "invalid options: port=70000 must be a port between 1 and 65535 (0: a free port)"),
        ({"http_port": -1}, "invalid options: http_port=-1 must be a port between 1 and 65535 (0: a free port)"),
        (
            {"ack_delay_ms": 1e13},
            "ack_delay_ms=10000000000000.0 must be a duration of at most about 292 years (the longest a Go",
        ),
        ({"stream_lifetime_ms": -(10**20)}, f"stream_lifetime_ms={-(10**20)} must be a duration of at least about"),
        ({"max_stored_rows": 10**30}, f"max_stored_rows={10**30} is out of range for int"),
        ({"token_lifetime_secs": float("nan")}, "token_lifetime_secs=nan is not a finite number"),
        # 0 may mean "never" (a negative value does): refused as `zerobus local -stream-lifetime 0` is (was 15 minutes)
        ({"stream_lifetime_ms": 0}, "stream_lifetime_ms=0 must not be 0 (negative: streams never end by themselves;"),
    ],
)
def test_out_of_range_names_the_keyword(kw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match="local server: invalid options") as ei:
        LocalServer(**kw)
    assert fragment in str(ei.value)
    assert ei.value.keys == list(kw)
    assert "Options." not in str(ei.value) and "json:" not in str(ei.value)


def test_port_zero_is_a_free_port() -> None:
    with LocalServer(port=0, http_port=0) as server:
        assert not server.endpoint.endswith(":0") and not server.workspace_url.endswith(":0")


def test_fault_duration_past_go_durations_names_the_option() -> None:
    with LocalServer() as server, pytest.raises(ConfigurationError) as ei:
        server.inject_fault("", "error", after_ms=1e13)
    assert str(ei.value) == (
        "zerobus: fault: after_ms=10000000000000.0 must be a duration of at most about 292 years"
        " (the longest a Go time.Duration holds)"
    )
    assert ei.value.keys == ["after_ms"]


def test_fault_kind_is_checked_by_the_server() -> None:
    # the kinds are Go's (zerobuslocal.FaultKinds); Python kept a copy of the list
    with LocalServer() as server, pytest.raises(ConfigurationError) as ei:
        server.inject_fault("", "explode", after_messages=1)
    assert str(ei.value) == (
        "zerobus: fault: kind='explode' must be one of error, end_stream, drop_connection, stall_acks,"
        " close_signal, expire_token, token_error, token_latency, create_delay, partial_ack"
    )
    assert ei.value.keys == ["kind"] and isinstance(ei.value, ValueError)


def test_config_keywords_win_endpoint_too() -> None:
    with LocalServer() as server:
        cfg = server.config("main.default.t", endpoint="http://127.0.0.1:1", retry_max_attempts=2)
        assert (cfg.endpoint, cfg.retry_max_attempts) == ("http://127.0.0.1:1", 2)
        assert cfg.unity_catalog_url == server.workspace_url


@pytest.mark.parametrize("keyword", ["port", "http_port"])
def test_busy_port_names_the_keyword(keyword: str) -> None:
    # it said "starting the local server: zerobuslocal: listening on Options.Addr ..." (a Go field)
    import socket

    from zerobus_py import ZerobusConnectionError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ZerobusConnectionError) as ei:
            LocalServer(**{keyword: port})
    msg = str(ei.value)
    assert f"local server: cannot listen: {keyword}={port}: bind: " in msg, msg
    assert "Options." not in msg and ei.value.keys == [keyword]
    assert isinstance(ei.value, ConnectionError)  # the builtin too


def test_create_table_wants_ddl_text() -> None:
    """A pyarrow schema given as the column list raised json's "Object of type Schema is not JSON serializable",
    naming neither the argument nor what it takes."""
    import pyarrow as pa

    with LocalServer() as srv:
        with pytest.raises(TypeError, match=r"create_table\('main.s.t', columns\): columns must be .*SQL DDL.*"):
            srv.create_table("main.s.t", pa.schema([("id", pa.int64())]))  # type: ignore[arg-type]
        assert srv.tables() == []
        srv.create_table("main.s.t", "id BIGINT")
        assert [c["name"] for c in srv.columns("main.s.t")] == ["id"]
