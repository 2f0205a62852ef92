"""The exception tree of zerobus_py.

Every error raised by this package is a :class:`ZerobusError`. Each subclass
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
(HTTP 5xx, network) is also a ``TokenRefreshError``. Rejected credentials
(HTTP 4xx from the token endpoint, UNAUTHENTICATED / PERMISSION_DENIED from
the server) are never retried and raise :class:`AuthenticationError`.

The Go core classifies every error with a stable *kind* string; the native
facade prefixes each message with ``[zerobus:<kind>] `` (``<kind>:<cause>`` for
exhausted retries) and :func:`from_native` turns that into the matching class,
keeping the message (secrets are never part of it).
"""

from __future__ import annotations

import builtins
import re
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
            failed (so quarantine with ``extract_failed_batch`` still works);
            otherwise ``None``.
    """

    kind: str = "unknown"
    #: For RetryExhausted: the kind of the last failure ("connection", ...), else None.
    cause_kind: str | None = None

    def __init__(self, message: str, *, result: TransmissionResult | None = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.result: TransmissionResult | None = result

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        kind = self.kind if self.cause_kind is None else f"{self.kind}:{self.cause_kind}"
        return (error_for, (kind, self.message))


class ConfigurationError(ZerobusError, ValueError):
    """A setting is missing or invalid. The message lists every problem, each
    naming the field, its YAML key and environment variable."""

    kind = "configuration"


class AuthenticationError(ZerobusError, PermissionError):
    """The credentials were refused or the principal lacks a privilege on the
    table. Retrying with the same credentials will not help."""

    kind = "authentication"


class TokenRefreshError(ZerobusError, builtins.ConnectionError):
    """The OAuth token endpoint could not issue a token (HTTP 5xx, timeout or
    network error): retryable, so usually seen as a :class:`RetryExhausted`
    that is also a TokenRefreshError. (Credentials the endpoint rejects raise
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


class TransmissionError(ZerobusError, RuntimeError):
    """The server ended the stream with a gRPC status (e.g. INVALID_ARGUMENT
    for a schema mismatch, NOT_FOUND for a missing table)."""

    kind = "transmission"


class RetryExhausted(ZerobusError, TimeoutError):
    """A retryable failure persisted through every retry
    (``retry_max_attempts``)."""

    kind = "retry_exhausted"


class WrapperClosedError(ZerobusError, RuntimeError):
    """The wrapper was shut down; create a new one to send more data."""

    kind = "closed"


class CancelledError(ZerobusError, TimeoutError):
    """The operation was cancelled or its deadline passed."""

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

_PREFIX = re.compile(r"^\[zerobus:([a-z_]+(?::[a-z_]+)?)\] ", re.DOTALL)
_COMBINED: dict[str, type[ZerobusError]] = {}


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
            f"RetryExhausted[{cause_cls.__name__}]",
            (RetryExhausted, cause_cls),
            {
                "kind": RetryExhausted.kind,
                "cause_kind": cause,
                "__module__": __name__,
                "__doc__": f"RetryExhausted whose last failure was a {cause_cls.__name__}.",
            },
        )
        _COMBINED[cause] = combined
    return combined


def split_native_message(text: str) -> tuple[str, str]:
    """Split ``"[zerobus:<kind>] message"`` into ``(kind, message)``.

    Text without the prefix is kind ``"unknown"``.
    """
    m = _PREFIX.match(text)
    if m is None:
        return "unknown", text
    return m.group(1), text[m.end() :]


def from_native(exc: BaseException) -> ZerobusError:
    """Convert an exception raised by the native module (gopy raises a plain
    ``RuntimeError`` whose message is the Go error) into the matching
    :class:`ZerobusError` subclass."""
    kind, message = split_native_message(str(exc))
    return class_for_kind(kind)(message)


def error_for(kind: str, message: str) -> ZerobusError:
    """Build the exception for a kind and message (used for per-row errors)."""
    return class_for_kind(kind)(message)
