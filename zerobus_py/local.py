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

import contextlib
import functools
import json
import math
import os
import re
import ssl
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from . import _bridge
from ._config import WrapperConfiguration, _keywords_suggested, _SettingsButTable
from ._errors import ConfigurationError, ZerobusConnectionError, ZerobusError
from ._secret import SecretText, SecretValue
from ._typing import Self, Unpack

if TYPE_CHECKING:  # pragma: no cover
    from ._native import pybind

__all__ = ["LocalServer"]


def _remove_if_owner(path: str, owner_pid: int) -> None:
    """Remove ``path``, only in the process that wrote it: a child made by ``os.fork()`` inherits the finalizer (and
    runs it at its exit, or on its copy's close()), while the parent's server still uses the file."""
    if os.getpid() == owner_pid:
        with contextlib.suppress(OSError):
            os.remove(path)


def _ns(value: float, per_unit: int) -> int:
    """A duration in some unit as whole nanoseconds (the Go server's JSON form; the server checks the range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, int):
        return value * per_unit
    if not math.isfinite(value):  # JSON has no NaN or infinity
        raise ValueError("is not a finite number")
    ns = value * per_unit
    return int(ns) if math.isfinite(ns) else int(value) * per_unit


def _int(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return value


def _port(value: int) -> str:
    return _loopback(_int(value))  # the server checks the port's range, naming the keyword (_naming_keywords)


def _ms(value: float) -> int:
    return _ns(value, 1_000_000)


def _secs(value: float) -> int:
    return _ns(value, 1_000_000_000)


def _same(value: Any) -> Any:
    return value


def _hosts(value: Sequence[str]) -> list[str]:
    if isinstance(value, str):
        raise TypeError("allowed_hosts must be a list of host names, not a str")
    return list(value)


def _loopback(port: int) -> str:
    return f"127.0.0.1:{port}"


# Each LocalServer keyword: its key in the JSON form of the Go server's Options (zerobuslocal.Options: snake_case
# keys, "a.b" for a key nested in object "a", durations in ns) and the converter of its value (None: not sent).
_OPTIONS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("client_id", "client_id", _same),
    ("client_secret", "client_secret", _same),
    ("token_lifetime_secs", "token_lifetime_ns", _secs),
    ("workspace_id", "workspace_id", _same),
    ("allow_any_token", "allow_any_token", _same),
    ("disable_token_exchange", "disable_token_exchange", _same),
    ("auto_create_tables", "disable_auto_create", lambda v: not v),
    ("ack_every", "ack_policy.every", _int),
    ("ack_interval_ms", "ack_policy.interval_ns", _ms),
    ("ack_delay_ms", "ack_policy.delay_ns", _ms),
    ("ack_jitter_ms", "ack_policy.jitter_ns", _ms),
    ("max_message_bytes", "max_message_bytes", _int),
    ("stream_lifetime_ms", "stream_lifetime_ns", _ms),
    ("stream_close_grace_ms", "stream_close_grace_ns", _ms),
    ("allowed_hosts", "allowed_hosts", _hosts),
    ("inspect_token", "inspect_token", _same),
    ("max_stored_rows", "max_stored_rows", _int),
    ("tls", "tls", _same),
    ("http_tls", "http_tls", _same),
    ("data_dir", "data_dir", os.fspath),
    ("port", "addr", _port),
    ("http_port", "http_addr", _port),
)

_KEYWORD_OF = {key: keyword for keyword, key, _ in _OPTIONS}
"""The LocalServer keyword of each JSON key of the Go server's options."""
_KEYWORD_NAMES = frozenset(_KEYWORD_OF.values())


@functools.cache
def _secret_keywords() -> tuple[str, ...]:
    """The keywords whose value neither an error nor repr shows (a secret given with the wrong type or range is
    still a secret), in the Go server's order: the options it tags ``secret:"true"`` (one list, in Go:
    zerobuslocal.SecretOptionKeys, through pybind LocalSecretOptions)."""
    keys: list[str] = json.loads(_bridge.call(_bridge.native.LocalSecretOptions))
    return tuple(_KEYWORD_OF.get(key, key) for key in keys)


def _shown(keyword: str, value: Any) -> str:
    """``value`` as an error about ``keyword`` shows it: its repr, or ``<redacted>`` for a secret."""
    return "<redacted>" if keyword in _secret_keywords() else repr(value)


def _options_json(given: dict[str, Any]) -> SecretText:
    """The JSON form of the Go server's Options for the keywords ``given`` (those left None are not sent), as a
    :class:`~zerobus_py._secret.SecretText`: it holds the secrets, and its repr (a traceback's captured locals)
    does not show them."""
    opts: dict[str, Any] = {}
    for keyword, key, convert in _OPTIONS:
        if given[keyword] is not None:
            *parents, leaf = key.split(".")
            node = opts
            for parent in parents:
                node = node.setdefault(parent, {})
            try:
                node[leaf] = convert(given[keyword])
            except TypeError as e:  # named by keyword, not by the server's JSON field
                raise TypeError(f"LocalServer {keyword}={_shown(keyword, given[keyword])}: {e}") from None
            except ValueError as e:
                message = f"zerobus: local server: invalid options: {keyword}={_shown(keyword, given[keyword])} {e}"
                raise ConfigurationError(message, keys=[keyword]) from None
    return SecretText(json.dumps(opts))


_HTML_TABLES = 20
"""The tables :meth:`LocalServer._repr_html_` lists (the first by name): a long-lived server may hold thousands."""


def _table_path(name: str) -> str:
    """The inspection API's path of table ``name``: the name as one path segment, every reserved character escaped
    (``/`` included, and ``.`` so that a name ``..`` is not a step up), so that the server sees, checks and names
    the name itself (a ``/`` left as is made another path, answered "not found")."""
    return "/tables/" + urllib.parse.quote(name, safe="").replace(".", "%2E")


E = TypeVar("E", bound=ZerobusError)


def _naming_keywords(
    err: E,
    given: dict[str, Any],
    *,
    keyword_of: dict[str, str] = _KEYWORD_OF,
    prefix: str = "zerobus: local server: invalid options: ",
    sep: str = " ",
) -> E:
    """The server's error about options (out of range, or a port it cannot listen on: ``prefix`` "...cannot
    listen: ", ``sep`` ": ") naming, for each option at fault, the keyword and value given here (the error
    carries the JSON keys and what is wrong with each as data; ``keyword_of`` maps a key to its keyword)."""
    keys = err.keys
    msgs = err.details.get("key_messages") or []
    if not keys or len(msgs) != len(keys) or any(keyword_of.get(k) not in given for k in keys):
        return err  # not a problem per option: keep the server's own words
    keywords = [keyword_of[k] for k in keys]
    parts = [f"{kw}={_shown(kw, given[kw])}{sep}{msg}" for kw, msg in zip(keywords, msgs, strict=True)]
    message = prefix + "; ".join(parts)
    return type(err)(message, details={**err.details, "message": message}, keys=keywords)


#: The options of :meth:`LocalServer.inject_fault` (the Go ``zerobuslocal.Fault``'s JSON keys, durations in ms).
_FAULT_OPTIONS = (
    "after_messages",
    "after_ms",
    "code",
    "message",
    "persistent",
    "close_after_ms",
    "http_status",
    "latency_ms",
    "records",
)
#: The Go JSON decoder's words for a key the Fault does not have.
_UNKNOWN_FIELD = re.compile(r'json: unknown field "([^"]*)"')


@_keywords_suggested
class LocalServer:
    """A local Zerobus server running inside this process (Go, on 127.0.0.1).

    Tables are created from the first stream's schema. Stop it with
    :meth:`close` or a ``with`` block; a server dropped while running is
    closed when garbage collected, with a ``ResourceWarning``. Safe to use
    from several threads.

    Args:
        client_id: the client id the token endpoint accepts (default
            ``"local-client"``).
        client_secret: the secret it accepts (default: random).
        token_lifetime_secs: lifetime of issued tokens (default 3600).
        workspace_id: a further workspace id the token endpoint accepts in
            a token request's resource, e.g. the first label of a container
            name clients reach the server by (``127`` and ``localhost``
            always are).
        allow_any_token: accept any non-empty bearer token on the gRPC
            service, for clients with a custom headers provider (default
            False: only unexpired tokens this server issued for the table).
        disable_token_exchange: refuse the token-exchange grant (RFC 8693,
            federated identity: an IdP JWT instead of the client secret);
            only client credentials get a token (default False).
        auto_create_tables: create tables from the first stream's descriptor
            (default True).
        ack_every, ack_interval_ms, ack_delay_ms, ack_jitter_ms: ack policy
            (default: acknowledge every message immediately).
        max_message_bytes: cap on the record bytes of one request (default
            10 MiB, as the service); a bigger request fails with
            INVALID_ARGUMENT "Batch size exceeds maximum allowed size", which
            clients do not retry.
        stream_lifetime_ms: how long the server keeps a stream, as the
            service does after about 15 minutes (the default): shortly
            before the end it sends a close signal, then it ends the stream
            cleanly and clients open a new one. A negative value: never (0
            is refused, as ``zerobus local -stream-lifetime 0`` is).
        stream_close_grace_ms: the duration that close signal announces
            (default a quarter of the lifetime, at most one minute; it must
            be shorter than the lifetime, and is refused with a negative
            lifetime, when streams never end).
        allowed_hosts: extra host names (without port) the HTTP side
            answers in the ``Host`` header, e.g. a container name; loopback
            names and IPs are always allowed, any other host gets 403.
        inspect_token: require ``Authorization: Bearer <inspect_token>`` on
            the HTTP inspection API (:meth:`create_table` and :meth:`columns`
            send it); never shown by ``repr``. Default: open to local
            processes.
        max_stored_rows: keep at most this many rows across all tables
            together, dropping the oldest rows of the server first (bounds
            memory for a long-running server). Default: keep all.
        tls: serve gRPC over TLS with a generated CA, written to
            :attr:`ca_file` (:meth:`config` sets ``tls_ca_file`` to it).
        http_tls: also serve the token endpoint, Unity Catalog API and
            inspection API over TLS with that CA (``workspace_url`` becomes
            ``https://``); implies ``tls``.
        data_dir: on close, write each table there as ``<table>.arrow`` and
            ``<table>.parquet`` (``<table>.jsonl`` for a table without columns).
        port, http_port: fixed loopback ports (default: free ports).

    Raises:
        ConfigurationError: an option is out of range (a negative duration,
            size or count, a port outside 0..65535, a duration past about
            292 years); the Go server checks them, and the message names
            every such keyword and its value, e.g. ``ack_delay_ms=-5 must
            not be negative``.
    """

    @staticmethod
    def _sealed_keywords() -> Mapping[str, type[str]]:
        """The keywords sealed as the constructor is entered (:func:`~zerobus_py._config._keywords_suggested`):
        the secrets (``client_secret``, ``inspect_token``), whose repr then hides them, so that no frame of a
        failing construction holds one as a plain ``str``."""
        return dict.fromkeys(_secret_keywords(), SecretValue)

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_lifetime_secs: float | None = None,
        workspace_id: str | None = None,
        allow_any_token: bool = False,
        disable_token_exchange: bool = False,
        auto_create_tables: bool = True,
        ack_every: int | None = None,
        ack_interval_ms: int | None = None,
        ack_delay_ms: int | None = None,
        ack_jitter_ms: int | None = None,
        max_message_bytes: int | None = None,
        stream_lifetime_ms: int | None = None,
        stream_close_grace_ms: int | None = None,
        allowed_hosts: Sequence[str] | None = None,
        inspect_token: str | None = None,
        max_stored_rows: int | None = None,
        tls: bool = False,
        http_tls: bool = False,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        http_port: int | None = None,
    ) -> None:
        given = {keyword: value for keyword, value in locals().items() if keyword in _KEYWORD_NAMES}
        options = _options_json(given)
        self._inspect_token = inspect_token or ""
        # The secrets repr shows as '<redacted>': those given, and those the server always has (client_secret, a
        # random one by default), which it exposes as a property.
        self._secrets_set = tuple(
            keyword
            for keyword in _secret_keywords()
            if given.get(keyword) or isinstance(getattr(type(self), keyword, None), property)
        )
        self._ca_file: str | None = None
        self._ca_cleanup: weakref.finalize[[str, int], LocalServer] | None = None
        try:
            self._native: pybind.LocalServer | None = _bridge.call(_bridge.native.StartLocalServer, options)
        except ConfigurationError as err:  # the Go server names its JSON keys: name the keywords given here
            raise _naming_keywords(err, given) from None
        except ZerobusConnectionError as err:  # a port in use: port= / http_port=, not Options.Addr
            raise _naming_keywords(err, given, prefix="zerobus: local server: cannot listen: ", sep=": ") from None
        self.endpoint: str = self._server().Endpoint()
        """The gRPC endpoint, ``http://127.0.0.1:PORT`` (``https://`` with TLS)."""
        self.workspace_url: str = self._server().WorkspaceURL()
        """The token endpoint's base URL: use it as ``unity_catalog_url``."""
        self.client_id: str = self._server().ClientID()
        """The client id the token endpoint accepts."""
        pem = self._server().CACertPEM()
        if pem:
            fd, path = tempfile.mkstemp(prefix="zerobus-local-ca-", suffix=".pem")
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(pem)
            self._ca_file = path
            # Removed by close(), or when the server is garbage collected or the interpreter exits: by this
            # process only (a forked child inherits the finalizer).
            self._ca_cleanup = weakref.finalize(self, _remove_if_owner, path, os.getpid())

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

    @property
    def ca_file(self) -> str | None:
        """Path of a PEM file holding :attr:`ca_cert_pem` (``None`` without
        TLS): pass it as ``tls_ca_file``. Written at start, removed by
        :meth:`close`."""
        return self._ca_file

    def config(self, table_name: str, **settings: Unpack[_SettingsButTable]) -> WrapperConfiguration:
        """A :class:`~zerobus_py.WrapperConfiguration` pointing at this server,
        with its credentials and, with TLS, ``tls_ca_file`` set to
        :attr:`ca_file`; extra keywords are passed through (and win)."""
        kw: dict[str, Any] = {
            "endpoint": self.endpoint,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "unity_catalog_url": self.workspace_url,
        }
        if self._ca_file is not None:
            kw["tls_ca_file"] = self._ca_file
        kw.update(settings)  # endpoint= too (it raised "got multiple values for argument 'endpoint'")
        return WrapperConfiguration(table_name=table_name, **kw)

    def table(self, name: str) -> pa.Table:
        """Every row stored in table ``name``, in arrival order, as a pyarrow
        Table whose schema follows from the table's protobuf descriptor.

        A table created with Unity Catalog columns (:meth:`create_table`,
        or an Arrow Flight stream that created it) reads back its
        ``TIMESTAMP``, ``TIMESTAMP_NTZ``, ``DATE`` and ``DECIMAL(p,s)``
        columns, nested ones too, as ``timestamp[us, tz=UTC]``,
        ``timestamp[us]``, ``date32`` and ``decimal128(p, s)``, holding the
        stored values. A table a PROTO stream created from its descriptor
        (the default transport with auto-created tables) has only the
        descriptor's types: a timestamp is int64 microseconds since the
        epoch, a date int32 days, a decimal its text."""
        raw = bytes(_bridge.call(self._server().TableIPC, name))
        return pa.ipc.open_stream(raw).read_all()

    def record_count(self, name: str) -> int:
        """Number of rows stored in table ``name`` (0 if it does not exist)."""
        return int(self._server().RecordCount(name))

    def drop_table(self, name: str) -> bool:
        """Drop table ``name`` and its rows (counted in ``stats()["rows_deleted"]``);
        ``False`` if there was no such table. Streams still open to it keep
        writing to the dropped table, which nothing reads. Raises
        ``ValueError`` naming the problem for a name no table can have."""
        self._server()  # raises when closed
        try:
            self._inspect("DELETE", _table_path(name), None)
        except LookupError:
            return False
        return True

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
        if not isinstance(columns, str):
            raise TypeError(
                f"create_table({name!r}, columns): columns must be the column list as SQL DDL text, e.g. "
                f"'id BIGINT NOT NULL, name STRING', not {type(columns).__module__}.{type(columns).__qualname__}"
            )
        self._inspect("POST", _table_path(name), {"columns": columns})

    def columns(self, name: str) -> list[dict[str, Any]]:
        """The columns of table ``name`` as the Unity Catalog tables endpoint
        serves them (``name``, ``type_name``, ``type_text``, ``type_json``,
        ``nullable``, ``position``); ``[]`` for a table without schema or one
        that does not exist. Raises ``ValueError`` naming the problem for a
        name no table can have."""
        self._server()
        try:
            info = self._inspect("GET", _table_path(name), None)
        except LookupError:
            return []
        cols: list[dict[str, Any]] = info.get("columns") or []
        return cols

    def _inspect(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """One request to the server's inspection API (JSON in and out)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self._server().InspectURL() + path,  # zerobuslocal.InspectPrefix
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        if self._inspect_token:
            req.add_header("Authorization", "Bearer " + self._inspect_token)
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]  # loopback: never a proxy
        if self._ca_file is not None and self.workspace_url.startswith("https://"):
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=self._ca_file)))
        opener = urllib.request.build_opener(*handlers)
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
        """Server counters, cumulative since the server started (none goes
        down when rows are evicted or tables dropped): ``streams_created``,
        ``messages_received``, ``records_stored``, ``acks_sent``,
        ``faults_fired``, ``rows_dropped`` (the oldest rows evicted to honour
        ``max_stored_rows``), ``rows_deleted`` (rows removed with their table
        by :meth:`drop_table`), ... The rows held now are ``records_stored -
        rows_dropped - rows_deleted``."""
        stats: dict[str, int] = json.loads(self._server().StatsJSON())
        return stats

    def inject_fault(self, table: str, kind: str, **options: Any) -> None:
        """Arm a fault for ``table`` ("" = every table).

        ``kind`` is one of error, end_stream, drop_connection, stall_acks,
        close_signal, expire_token, token_error, token_latency, create_delay
        (holds the create response back by ``latency_ms``), partial_ack
        (Arrow Flight streams only: the batch after ``after_messages``
        batches is acknowledged up to its first ``records`` records, default
        half of it, the stream then ends and the client re-sends the rest).
        Options: ``after_messages``, ``after_ms``, ``code`` (gRPC code name
        such as ``"UNAVAILABLE"``), ``message``, ``persistent``,
        ``close_after_ms``, ``http_status``, ``latency_ms``, ``records``.
        Raises :class:`~zerobus_py.ConfigurationError` (a ``ValueError``)
        from the server for an unknown kind or option, or a value out of
        range, naming it.
        """
        fault: dict[str, Any] = {"kind": kind}  # the server checks the kind (zerobuslocal.FaultKinds)
        keyword_of = {"kind": "kind"}  # the Go Fault's JSON key of each option
        for key, value in options.items():
            if key.endswith("_ms") and isinstance(value, (int, float)) and not isinstance(value, bool):
                try:
                    fault[key[:-3] + "_ns"] = _ns(value, 1_000_000)  # the Go Fault's JSON form: durations in ns
                except ValueError as e:
                    raise ConfigurationError(f"zerobus: fault: {key}={value!r} {e}", keys=[key]) from None
                keyword_of[key[:-3] + "_ns"] = key
                continue
            if key == "code" and isinstance(value, str):
                fault[key] = value.upper()
            else:
                fault[key] = value
            keyword_of[key] = key
        try:
            _bridge.call(self._server().InjectFault, table, json.dumps(fault))
        except ConfigurationError as err:  # named by the server's JSON key (after_ns): name the keyword
            given = {"kind": kind, **options}
            unknown = _UNKNOWN_FIELD.search(str(err))
            if unknown and keyword_of.get(unknown.group(1)) in given:
                # the Go decoder's "zerobuslocal: invalid fault: json: unknown field": name the keyword
                # and the ones there are
                kw = keyword_of[unknown.group(1)]
                message = (
                    f"zerobus: fault: unknown option {kw}={_shown(kw, given[kw])}; "
                    f"the options are {', '.join(_FAULT_OPTIONS)}"
                )
                raise type(err)(message, details={**err.details, "message": message}, keys=[kw]) from None
            raise _naming_keywords(err, given, keyword_of=keyword_of, prefix="zerobus: fault: ") from None

    def clear_faults(self, table: str = "") -> None:
        """Remove the armed faults of ``table`` ("" = all tables)."""
        self._server().ClearFaults(table)

    def close(self) -> None:
        """Stop the server and remove :attr:`ca_file` (idempotent)."""
        native, self._native = self._native, None
        self._ca_file = None
        if self._ca_cleanup is not None:
            self._ca_cleanup()
        if native is not None:
            _bridge.call(native.Close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _close_unclosed(self) -> None:
        """A server dropped while running: its Go side (ports, goroutines, stored rows) would run until the
        process ends, as nothing could reach it any more. Warned about and closed, as ZerobusWrapper does."""
        if getattr(self, "_native", None) is None:
            return
        if _bridge.forked_child():  # the parent's server: Go cannot run here, and the parent still serves
            self._native = None
            return
        shown = f"<LocalServer endpoint={getattr(self, 'endpoint', None)!r}>"
        warnings.warn(f"unclosed {shown}: call close() or use it in a with block", ResourceWarning, stacklevel=3)
        self.close()

    # At interpreter exit modules may be torn down under the finalizer: that failure is skipped quietly there
    # (the process, and the server with it, is ending); any other is not hidden.
    __del__ = _bridge._guarded_del(_close_unclosed, sys.is_finalizing)

    def _started(self) -> bool:
        """Whether the constructor got the server's addresses: not when it failed (the ``self`` a traceback's frame
        locals show, printed with repr by Python < 3.12's capture_locals) or has not run (``cls.__new__(cls)``)."""
        attrs = ("_native", "_secrets_set", "endpoint", "workspace_url", "client_id")
        return all(hasattr(self, attr) for attr in attrs)

    def __repr__(self) -> str:
        if not self._started():
            return "<LocalServer not started>"
        state = "closed" if self._native is None else "running"
        return (
            f"<LocalServer {state} endpoint={self.endpoint!r} workspace_url={self.workspace_url!r} "
            f"client_id={self.client_id!r}" + "".join(f" {keyword}='<redacted>'" for keyword in self._secrets_set) + ">"
        )

    def _repr_html_(self) -> str:
        """The server's connection details and tables as an HTML table for notebooks (secret redacted): the first
        tables by name (:data:`_HTML_TABLES`) with their row counts, then how many more and the rows of all."""
        from ._html import plural, table

        if not self._started():
            return table("LocalServer", [("state", "not started")])
        rows: list[tuple[str, object]] = [
            ("state", "running" if self._native is not None else "closed"),
            ("endpoint", self.endpoint),
            ("workspace_url", self.workspace_url),
            ("client_id", self.client_id),
        ]
        rows += [(keyword, "<redacted>") for keyword in self._secrets_set]
        if self._native is not None:
            names = sorted(self.tables())
            counts = {name: self.record_count(name) for name in names}
            rows += [(f"table {name}", plural(counts[name], "row", thousands=True)) for name in names[:_HTML_TABLES]]
            if (more := len(names) - _HTML_TABLES) > 0:
                rows.append(
                    (
                        "…",
                        f"{plural(more, 'more table', thousands=True)}; "
                        f"{plural(sum(counts.values()), 'row', thousands=True)} in all "
                        f"{plural(len(names), 'table', thousands=True)}",
                    )
                )
        return table("LocalServer", rows)
