"""The exception tree of zerobus_py.

Every error of a send, a configuration, the connection or the local server is a
:class:`ZerobusError`; an argument of the wrong type (``send_batch(42)``,
``timeout="x"``) raises a plain ``TypeError``, as the original API did. Each subclass
also inherits the builtin exception it resembles, so existing ``except
ValueError`` / ``except ConnectionError`` / ``except TimeoutError`` handlers keep
working::

    ZerobusError(Exception)
    ├── ConfigurationError(ZerobusError, ValueError)
    ├── AuthenticationError(ZerobusError, PermissionError)
    ├── ConnectionError(ZerobusError, builtins.ConnectionError)   # exported as ZerobusConnectionError
    ├── TokenRefreshError(ZerobusError, builtins.ConnectionError)
    ├── ConversionError(ZerobusError, ValueError)
    ├── TransmissionError(ZerobusError, RuntimeError)
    ├── RetryExhausted(ZerobusError, TimeoutError)
    ├── WrapperClosedError(ZerobusError, RuntimeError)
    └── CancelledError(ZerobusError, TimeoutError)

When retries are exhausted, the exception raised is a RetryExhausted that is
*also* an instance of the class of the last failure: a retryable connection
failure raises ``RetryExhausted`` which ``except ZerobusConnectionError`` (and
the builtin ``ConnectionError``) catch too; a token endpoint that kept failing
(HTTP 5xx, 408 or 429, network) is also a ``TokenRefreshError``, on both
transports. Rejected credentials raise :class:`AuthenticationError`, not
retryable: another HTTP 4xx from the token endpoint at once;
UNAUTHENTICATED / PERMISSION_DENIED from the server after one retry with a
fresh token (at stream creation or on an open stream).

The Go core classifies every error with a stable *kind* string and
describes it as data (``core.DetailsOf``): the native facade passes that JSON
object as the message of the error gopy raises, and :func:`from_native`
turns it into the matching class with the fields as attributes (``kind``,
``grpc_code``, ``reason``, ``row``, ``column``, ``attempts``, ``key``,
``causes``, ``retryable``, ``fatal``, ...). Messages never contain secrets.
Exceptions survive ``pickle`` and ``copy`` with their attributes and their
``result``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # pragma: no cover
    from ._result import TransmissionResult

__all__ = [
    "AuthenticationError",
    "CancelledError",
    "ConfigurationError",
    "ConversionError",
    "RetryExhausted",
    "TokenRefreshError",
    "TransmissionError",
    "WrapperClosedError",
    "ZerobusConnectionError",
    "ZerobusError",
]


class ZerobusError(Exception):
    """Base class of every error raised by zerobus_py.

    Attributes:
        kind: the stable machine-readable kind from the Go core, e.g.
            ``"conversion"`` or ``"authentication"``.
        message: the human-readable message (never contains secrets).
        result: for errors raised by ``send_batch``, the
            :class:`~zerobus_py.TransmissionResult` listing every row as
            failed (so quarantine with ``extract_failed_batch`` still works),
            also when the batch was refused in Python (a DataFrame pyarrow
            cannot convert, a Series, a closed wrapper); ``None`` there only
            for an input whose length is unknown until read (a reader, a
            stream, a dataset) refused before any of it was read. Otherwise
            ``None``.
        retryable: sending the same data again later may succeed.
        fatal: a whole batch failing this way means later batches on the
            same wrapper would fail too (bad settings or credentials, an
            unreachable endpoint, exhausted retries, a closed wrapper).
        grpc_code: the gRPC status code's name (``"UNAVAILABLE"``,
            ``"INVALID_ARGUMENT"``), or ``None``.
        reason: the machine-readable reason: the server's (the ErrorInfo reason
            such as ``"SCHEMA_VALIDATION_FAILED"``, or the OAuth error code
            such as ``"invalid_client"``) or the core's own code
            (``"ZONED_TIMESTAMP_INTO_NTZ"``), or ``None``.
        server_causes: the causes the server attached (``FIELD_NOT_IN_TABLE``, ...).
        http_status: the token endpoint's HTTP status, or ``None``.
        row: index of the row at fault in the batch sent, or ``None``.
        column: dotted path of the column at fault (``"address.zip"``), or ``None``.
        columns: every column a schema problem names.
        attempts: attempts made before retries were exhausted, or ``None``.
        keys: the settings at fault, by keyword (``"table_name"``); ``key``
            is the first of them, or ``None``.
        causes: the errors that led to this one (the last failure of
            exhausted retries, each error of several), as exceptions.
        details: the Go core's description as a dict (the JSON the
            attributes come from; ``{}`` for errors raised in Python).
    """

    kind: str = "unknown"
    #: For RetryExhausted: the kind of the last failure ("connection", ...), else None.
    cause_kind: str | None = None

    def __init__(
        self,
        message: str,
        *,
        result: TransmissionResult | None = None,
        details: Mapping[str, Any] | None = None,
        keys: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.message: str = message
        self.result: TransmissionResult | None = result
        # The attributes below read this dict (errors of rows are built by
        # the thousand: nothing is computed until asked for).
        self.details: dict[str, Any] = details if isinstance(details, dict) else dict(details or {})
        if keys:
            self.details["keys"] = list(keys)

    @property
    def retryable(self) -> bool:
        """Sending the same data again later may succeed (for an error built in Python, the Go core's flag
        for its kind)."""
        if "retryable" in self.details:
            return bool(self.details["retryable"])
        return _kind_flags(self.kind).get("retryable", False)

    @property
    def fatal(self) -> bool:
        """A whole batch failing this way means later batches would fail too (for an error built in Python,
        the Go core's flag for its kind)."""
        if "fatal" in self.details:
            return bool(self.details["fatal"])
        return _kind_flags(self.kind).get("fatal", False)

    @property
    def grpc_code(self) -> str | None:
        """The gRPC status code's name (``"UNAVAILABLE"``), or ``None``."""
        return self.details.get("grpc_code") or None

    @property
    def reason(self) -> str | None:
        """The machine-readable reason (the server's, or the core's own code), or ``None``."""
        return self.details.get("reason") or None

    @property
    def server_causes(self) -> list[str]:
        """The causes the server attached (``FIELD_NOT_IN_TABLE``, ...)."""
        return [str(c) for c in self.details.get("server_causes") or ()]

    @property
    def http_status(self) -> int | None:
        """The token endpoint's HTTP status, or ``None``."""
        status = self.details.get("http_status")
        return int(status) if status else None

    @property
    def row(self) -> int | None:
        """Index of the row at fault in the input sent (across a reader's batches, as in ``failed_rows``), or
        ``None``."""
        row = self.details.get("row")
        return row if isinstance(row, int) and row >= 0 else None

    @property
    def column(self) -> str | None:
        """Dotted path of the column at fault, or ``None``."""
        return self.details.get("column") or None

    @property
    def columns(self) -> list[str]:
        """Every column a schema problem names."""
        return [str(c) for c in self.details.get("columns") or ()]

    @property
    def attempts(self) -> int | None:
        """Attempts made before retries were exhausted, or ``None``."""
        attempts = self.details.get("attempts")
        return int(attempts) if attempts else None

    @property
    def keys(self) -> list[str]:
        """The settings at fault, by keyword (``"table_name"``)."""
        return [str(k) for k in self.details.get("keys") or ()]

    @property
    def key(self) -> str | None:
        """The (first) setting at fault, by keyword, or ``None``."""
        keys = self.keys
        return keys[0] if keys else None

    @property
    def causes(self) -> list[ZerobusError]:
        """The errors that led to this one, as exceptions (a new list)."""
        return [from_details(c) for c in self.details.get("causes") or () if isinstance(c, Mapping)]

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __contains__(self, text: object) -> bool:
        """``text in err``: whether ``text`` occurs in the original API's text of this error,
        ``"Connection error: reset by peer"`` (``str(err)`` is the message alone, ``"reset by peer"``).

        The original's ``TransmissionResult.error`` was that text, where here it is the exception, so a
        check written for it, ``"reset" in result.error``, keeps working.
        """
        if not isinstance(text, str):
            raise TypeError(f"'in <{type(self).__name__}>' requires a str as left operand, not {type(text).__name__}")
        from ._result import _display  # _result imports this module

        return text in _display(self)

    def __reduce__(self) -> tuple[Any, tuple[Any, str], dict[str, Any]]:
        # The class may be a combined RetryExhausted[...] class made at run
        # time: rebuild it by kind. Any other class (a user's subclass too) is
        # rebuilt as itself, by reference, without calling its __init__ (whose
        # parameters may differ). The state (attributes, result) is set
        # after the instance exists, so the result's reference back to this
        # error pickles as a reference.
        cls = type(self)
        if _SHOWN_AS.get(cls.__qualname__) is cls:  # a name pickle cannot look up: rebuilt by that name
            return (_shown_as, (cls.__qualname__, self.message), dict(self.__dict__))
        if self.cause_kind is not None and cls in _COMBINED.values():
            return (error_for, (f"{self.kind}:{self.cause_kind}", self.message), dict(self.__dict__))
        if cls is _BY_KIND.get(self.kind) or cls is ZerobusError:
            return (error_for, (self.kind, self.message), dict(self.__dict__))
        return (_rebuild, (cls, self.message), dict(self.__dict__))


class ConfigurationError(ZerobusError, ValueError):
    """A setting is missing or invalid. The message lists every problem, each
    naming the field, its YAML key and environment variable."""

    kind = "configuration"


class ConfigurationTypeError(ConfigurationError, TypeError):
    """A setting of the wrong Python type: a :class:`ConfigurationError` that is also a ``TypeError``, the class
    the original API raised for it (PyO3's argument extraction). Shown as ``ConfigurationError`` (its qualified
    name, in tracebacks, ``ConfigurationError[TypeError]``)."""


ConfigurationTypeError.__name__ = "ConfigurationError"
ConfigurationTypeError.__qualname__ = "ConfigurationError[TypeError]"


class AuthenticationError(ZerobusError, PermissionError):
    """The credentials were refused or the principal lacks a privilege on the
    table. Retrying with the same credentials will not help."""

    kind = "authentication"


class TokenRefreshError(ZerobusError, builtins.ConnectionError):
    """The OAuth token endpoint could not issue a token (HTTP 5xx, 408, 429 rate
    limit, timeout or network error): retryable, so usually seen as a
    :class:`RetryExhausted` that is also a TokenRefreshError. (Credentials the endpoint rejects raise
    :class:`AuthenticationError`.)"""

    kind = "token_refresh"


class ConnectionError(ZerobusError, builtins.ConnectionError):  # noqa: A001 - same name as the original API
    """The Zerobus endpoint could not be reached or the transport broke.

    Exported as ``ZerobusConnectionError`` (``zerobus_py.ConnectionError`` is
    the same class but is kept out of ``__all__`` so ``from zerobus_py import *``
    never shadows the builtin). Also caught by ``except ConnectionError`` of
    the builtin.
    """

    kind = "connection"


ZerobusConnectionError = ConnectionError


class ConversionError(ZerobusError, ValueError):
    """A column or row cannot be represented in protobuf or breaks a Zerobus
    limit (column count, names, record size)."""

    kind = "conversion"


class ConversionTypeError(ConversionError, TypeError):
    """The input is one column, not a table (a pyarrow ``Array`` or ``ChunkedArray``, a pandas or polars
    ``Series``, another library's one-column array or stream): a :class:`ConversionError` that is also a
    ``TypeError``, the class a wrong kind of argument has in Python. Its ``reason`` is ``"NOT_A_TABLE"``. Shown
    as ``ConversionError`` (its qualified name, in tracebacks, ``ConversionError[TypeError]``)."""


ConversionTypeError.__name__ = "ConversionError"
ConversionTypeError.__qualname__ = "ConversionError[TypeError]"

#: The Go core's ``reason`` for an input that is one column, not a table (see :class:`ConversionTypeError`).
NOT_A_TABLE: Final = "NOT_A_TABLE"


class TransmissionError(ZerobusError, RuntimeError):
    """The server ended the stream with a gRPC status (e.g. INVALID_ARGUMENT
    for a schema mismatch, NOT_FOUND for a missing table)."""

    kind = "transmission"


class RetryExhausted(ZerobusError, TimeoutError):
    """A retryable failure persisted through every retry
    (``retry_max_attempts``)."""

    kind = "retry_exhausted"


class WrapperClosedError(ZerobusError, RuntimeError):
    """The wrapper was closed with ``close()``: create a new one to send more data.

    Also raised after ``shutdown()``, which does not finish the wrapper (the next send opens it again, so just
    send again): by ``debug_stats()`` until the next send (the counters went with the streams), and by a send
    still in flight in another thread when ``shutdown(timeout=...)`` gave up waiting (its rows are in
    ``err.result``; those already sent are *unknown*: they may be stored)."""

    kind = "closed"


class CancelledError(ZerobusError, TimeoutError):
    """The operation was cancelled or its deadline passed (for ``flush`` and
    ``shutdown``, also ``flush_timeout_ms``: the message then names it)."""

    kind = "canceled"


_BY_KIND: Final[dict[str, type[ZerobusError]]] = {
    cls.kind: cls
    for cls in (
        ConfigurationError,
        AuthenticationError,
        TokenRefreshError,
        ConnectionError,
        ConversionError,
        TransmissionError,
        RetryExhausted,
        WrapperClosedError,
        CancelledError,
    )
}

#: Python class names by Go kind, used for ``TransmissionResult`` error types.
ERROR_TYPE_NAMES: Final[dict[str, str]] = {k: c.__name__ for k, c in _BY_KIND.items()}

_COMBINED: dict[str, type[ZerobusError]] = {}

#: Classes whose qualified name is not where pickle looks them up (``ConfigurationError[TypeError]``), by that
#: name: ``__reduce__`` rebuilds them through :func:`_shown_as`.
_SHOWN_AS: Final[dict[str, type[ZerobusError]]] = {
    cls.__qualname__: cls for cls in (ConfigurationTypeError, ConversionTypeError)
}


def class_for_kind(kind: str) -> type[ZerobusError]:
    """Return the exception class for a Go error kind (ZerobusError if
    unknown). ``"retry_exhausted:<cause>"`` gives a RetryExhausted subclass
    that also derives from the cause's class."""
    primary, _, cause = kind.partition(":")
    cls = _BY_KIND.get(primary, ZerobusError)
    if not cause or cls is not RetryExhausted:
        return cls
    cause_cls = _BY_KIND.get(cause)
    if cause_cls is None or cause_cls is RetryExhausted:
        return cls
    combined = _COMBINED.get(cause)
    if combined is None:
        combined = type(
            # __name__ as the original's class (reprs, logs, type(e).__name__);
            # the qualified name (tracebacks) shows the cause
            "RetryExhausted",
            (RetryExhausted, cause_cls),
            {
                "kind": RetryExhausted.kind,
                "cause_kind": cause,
                "__module__": __name__,
                "__qualname__": f"RetryExhausted[{cause_cls.__name__}]",
                "__doc__": f"RetryExhausted whose last failure was a {cause_cls.__name__}.",
            },
        )
        _COMBINED[cause] = combined
    return combined


def from_details(d: Mapping[str, Any], message: str | None = None) -> ZerobusError:
    """Build the exception the Go core's error details describe (see
    ``core.ErrorDetails``): the class of its kind (for exhausted retries,
    also the class of the last failure) with the fields as attributes.
    ``message`` replaces the details' message when given."""
    kind = str(d.get("kind") or "unknown")
    causes = d.get("causes") or ()
    if kind == RetryExhausted.kind and causes and isinstance(causes[0], Mapping):
        kind = f"{kind}:{causes[0].get('kind', 'unknown')}"
    text = str(d.get("message") or "") if message is None else message
    cls = class_for_kind(kind)
    if cls is ConversionError and d.get("reason") == NOT_A_TABLE:
        cls = ConversionTypeError
    return cls(text, details=d)


def from_native(exc: BaseException) -> ZerobusError:
    """Convert an exception raised by the native module (gopy raises a plain
    ``RuntimeError`` whose message is the Go error's details as JSON) into
    the matching :class:`ZerobusError` subclass. Text that is not such JSON
    becomes a plain ZerobusError with that message."""
    text = str(exc)
    if text.startswith("{"):
        try:
            d = json.loads(text)
        except ValueError:
            d = None
        if isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("message"), str):
            return from_details(d)
    return ZerobusError(text)


def _rebuild(cls: type[ZerobusError], message: str) -> ZerobusError:
    """An instance of ``cls`` (a subclass of a zerobus exception, a user's own) for unpickling: made without its
    ``__init__``, whose parameters may differ; pickle then sets its attributes."""
    obj = cls.__new__(cls)
    Exception.__init__(obj, message)
    return obj


def _shown_as(name: str, message: str) -> ZerobusError:
    """An instance of the class :data:`_SHOWN_AS` holds under ``name``, for unpickling (as :func:`_rebuild`)."""
    return _rebuild(_SHOWN_AS[name], message)


def error_for(kind: str, message: str) -> ZerobusError:
    """Build the exception for a kind and message (used for per-row errors
    given in Python, and to rebuild pickled exceptions)."""
    return class_for_kind(kind)(message)


@cache
def _kind_table() -> dict[str, dict[str, bool]]:
    """The Go core's table of error kinds (``core.ErrorKinds``): each kind's ``retryable`` and ``fatal``
    flags, the one source of both for exceptions built in Python; empty when the native extension is not
    available."""
    try:
        from . import _bridge

        kinds: list[dict[str, Any]] = json.loads(_bridge.call(_bridge.native.ErrorKinds))
    except ImportError:
        return {}
    return {str(k["kind"]): {"retryable": bool(k["retryable"]), "fatal": bool(k["fatal"])} for k in kinds}


def _kind_flags(kind: str) -> dict[str, bool]:
    """The Go core's flags of ``kind`` (:func:`_kind_table`); none for a kind it does not know."""
    return _kind_table().get(kind, {})
