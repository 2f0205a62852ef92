"""An in-process local Zerobus-compatible server, for tests, demos and notebooks.

It speaks the real protocol (gRPC ingest stream, OAuth token endpoint) on
loopback ports, stores what it receives in memory, and lets you read a table
back as a pyarrow Table::

    from zerobus_py import ZerobusWrapper
    from zerobus_py.local import LocalServer

    with LocalServer() as server, ZerobusWrapper(server.config("main.demo.events")) as w:
        w.send_batch(batch)
        print(server.table("main.demo.events"))
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _bridge
from ._config import WrapperConfiguration

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

    from ._native import pybind

__all__ = ["LocalServer"]

_FAULT_KINDS = (
    "error",
    "end_stream",
    "drop_connection",
    "stall_acks",
    "close_signal",
    "expire_token",
    "token_error",
    "token_latency",
    "create_delay",
    "partial_ack",
)


class LocalServer:
    """A local Zerobus server running inside this process (Go, on 127.0.0.1).

    Tables are created from the first stream's schema. Stop it with
    :meth:`close` or a ``with`` block. Safe to use from several threads.

    Args:
        client_id: the client id the token endpoint accepts (default
            ``"local-client"``).
        client_secret: the secret it accepts (default: random).
        token_lifetime_secs: lifetime of issued tokens (default 3600).
        auto_create_tables: create tables from the first stream's descriptor
            (default True).
        ack_every, ack_interval_ms, ack_delay_ms, ack_jitter_ms: ack policy
            (default: acknowledge every message immediately).
        max_message_bytes: cap on the record bytes of one request (default
            10 MiB, as the service); a bigger request fails with
            INVALID_ARGUMENT "Batch size exceeds maximum allowed size", which
            clients do not retry.
        tls: serve gRPC over TLS with a generated CA (see :attr:`ca_cert_pem`).
        data_dir: on close, write each table there as ``<table>.arrow``.
        port, http_port: fixed loopback ports (default: free ports).
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_lifetime_secs: float | None = None,
        auto_create_tables: bool = True,
        ack_every: int | None = None,
        ack_interval_ms: int | None = None,
        ack_delay_ms: int | None = None,
        ack_jitter_ms: int | None = None,
        max_message_bytes: int | None = None,
        tls: bool = False,
        data_dir: str | None = None,
        port: int | None = None,
        http_port: int | None = None,
    ) -> None:
        opts: dict[str, Any] = {"auto_create_tables": auto_create_tables, "tls": tls}
        for key, value in (
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("ack_every", ack_every),
            ("ack_interval_ms", ack_interval_ms),
            ("ack_delay_ms", ack_delay_ms),
            ("ack_jitter_ms", ack_jitter_ms),
            ("max_message_bytes", max_message_bytes),
            ("data_dir", data_dir),
        ):
            if value is not None:
                opts[key] = value
        if token_lifetime_secs is not None:
            opts["token_lifetime_ms"] = int(token_lifetime_secs * 1000)
        if port is not None:
            opts["addr"] = f"127.0.0.1:{port}"
        if http_port is not None:
            opts["http_addr"] = f"127.0.0.1:{http_port}"
        self._native: pybind.LocalServer | None = _bridge.call(_bridge.native.StartLocalServer, json.dumps(opts))
        self.endpoint: str = self._server().Endpoint()
        """The gRPC endpoint, ``http://127.0.0.1:PORT`` (``https://`` with TLS)."""
        self.workspace_url: str = self._server().WorkspaceURL()
        """The token endpoint's base URL: use it as ``unity_catalog_url``."""
        self.client_id: str = self._server().ClientID()
        """The client id the token endpoint accepts."""

    def _server(self) -> pybind.LocalServer:
        if self._native is None:
            raise RuntimeError("zerobus: the local server is closed")
        return self._native

    @property
    def client_secret(self) -> str:
        """The throwaway secret this local server accepts (never shown by repr)."""
        return self._server().ClientSecret()

    @property
    def ca_cert_pem(self) -> str:
        """PEM of the CA that signed the TLS certificate ("" without TLS)."""
        return self._server().CACertPEM()

    def config(self, table_name: str, **settings: Any) -> WrapperConfiguration:
        """A :class:`~zerobus_py.WrapperConfiguration` pointing at this server,
        with its credentials; extra keywords are passed through."""
        kw: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "unity_catalog_url": self.workspace_url,
        }
        kw.update(settings)
        return WrapperConfiguration(self.endpoint, table_name, **kw)

    def table(self, name: str) -> pa.Table:
        """Every row stored in table ``name``, in arrival order, as a pyarrow
        Table whose schema follows from the table's protobuf descriptor."""
        raw = bytes(_bridge.call(self._server().TableIPC, name))
        return pa.ipc.open_stream(raw).read_all()

    def record_count(self, name: str) -> int:
        """Number of rows stored in table ``name`` (0 if it does not exist)."""
        return int(self._server().RecordCount(name))

    def create_table(self, name: str, columns: str) -> None:
        """Create table ``name`` with columns in Unity Catalog types, written
        as SQL DDL: ``"id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>,
        loc STRUCT<lat:DOUBLE,lon:DOUBLE>, price DECIMAL(10,2)"``.

        Streams must then match the table (protobuf descriptor, Arrow schema
        or Avro schema derived from it), and the Unity Catalog tables
        endpoint serves these columns. Raises ``ValueError`` naming the
        problem for a bad name or column list, or a table that exists.
        """
        self._server()  # raises when closed
        self._inspect("POST", f"/tables/{urllib.parse.quote(name)}", {"columns": columns})

    def columns(self, name: str) -> list[dict[str, Any]]:
        """The columns of table ``name`` as the Unity Catalog tables endpoint
        serves them (``name``, ``type_name``, ``type_text``, ``type_json``,
        ``nullable``, ``position``); ``[]`` for a table without schema or one
        that does not exist."""
        self._server()
        try:
            info = self._inspect("GET", f"/tables/{urllib.parse.quote(name)}", None)
        except LookupError:
            return []
        cols: list[dict[str, Any]] = info.get("columns") or []
        return cols

    def _inspect(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """One request to the server's inspection API (JSON in and out)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.workspace_url + "/zerobus-local/v1" + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        try:
            with opener.open(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            try:
                msg = json.loads(e.read()).get("error", "")
            except ValueError:
                msg = ""
            if e.code == 404:
                raise LookupError(f"zerobus: local server: {msg or 'not found'}") from None
            raise ValueError(f"zerobus: local server: {msg or f'HTTP {e.code}'}") from None
        out: dict[str, Any] = json.loads(raw) if raw else {}
        return out

    def tables(self) -> list[str]:
        """Names of the tables the server knows."""
        names: list[str] = json.loads(self._server().TablesJSON())
        return names or []

    def stats(self) -> dict[str, int]:
        """Server counters: ``streams_created``, ``messages_received``,
        ``records_stored``, ``acks_sent``, ``faults_fired``, ..."""
        stats: dict[str, int] = json.loads(self._server().StatsJSON())
        return stats

    def inject_fault(self, table: str, kind: str, **options: Any) -> None:
        """Arm a fault for ``table`` ("" = every table).

        ``kind`` is one of error, end_stream, drop_connection, stall_acks,
        close_signal, expire_token, token_error, token_latency, create_delay
        (holds the create response back by ``latency_ms``), partial_ack
        (Arrow Flight streams only). Options:
        ``after_messages``, ``after_ms``, ``code`` (gRPC code name such as
        ``"UNAVAILABLE"``), ``message``, ``persistent``, ``close_after_ms``,
        ``http_status``, ``latency_ms``.
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(_FAULT_KINDS)}")
        _bridge.call(self._server().InjectFault, table, json.dumps({"kind": kind, **options}))

    def clear_faults(self, table: str = "") -> None:
        """Remove the armed faults of ``table`` ("" = all tables)."""
        self._server().ClearFaults(table)

    def close(self) -> None:
        """Stop the server (idempotent)."""
        native, self._native = self._native, None
        if native is not None:
            _bridge.call(native.Close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._native is None else "running"
        return (
            f"<LocalServer {state} endpoint={self.endpoint!r} workspace_url={self.workspace_url!r} "
            f"client_id={self.client_id!r} client_secret='<redacted>'>"
        )

    def _repr_html_(self) -> str:
        """The server's connection details and tables as an HTML table for notebooks (secret redacted)."""
        from ._html import table

        rows: list[tuple[str, object]] = [
            ("state", "running" if self._native is not None else "closed"),
            ("endpoint", self.endpoint),
            ("workspace_url", self.workspace_url),
            ("client_id", self.client_id),
            ("client_secret", "<redacted>"),
        ]
        if self._native is not None:
            rows += [(f"table {name}", f"{self.record_count(name):,} rows") for name in sorted(self.tables())]
        return table("LocalServer", rows)
