"""Text holding a secret, redacted wherever Python shows a value for debugging."""

from __future__ import annotations

__all__ = ["SecretText", "SecretURL", "SecretValue"]


class SecretText(str):
    """A ``str`` holding a secret: the settings JSON with ``client_secret`` passed to Go.

    It is the text itself to everything that reads it (gopy, ``json``, ``==``, ``str()``), but its repr,
    which is what debuggers and error reporters show of a frame's locals (Sentry's local variables,
    ``rich.traceback`` with ``show_locals``, ``pytest -l``, ``TracebackException(capture_locals=True)``),
    does not show it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<settings: secret redacted>"


class SecretValue(str):
    """A ``str`` holding a secret setting (``client_secret``), as :class:`~zerobus_py.WrapperConfiguration`
    keeps it: the value itself to everything that reads it, but ``'<redacted>'`` as its repr, which is what
    ``vars(config)``, debuggers and notebook variable inspectors show. Pickled as the value (a configuration
    round-trips)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr("<redacted>")


class SecretURL(SecretValue):
    """A URL that may carry ``user:password@`` (``proxy_url``): its repr is the URL with them redacted by the Go
    core's rule (``core.RedactURL``); ``'<redacted>'`` when the native extension cannot be loaded."""

    __slots__ = ()

    def __repr__(self) -> str:
        from ._config import _redact_url
        from ._errors import ZerobusError

        try:
            return repr(_redact_url(str(self)))
        except (ImportError, ZerobusError):
            return super().__repr__()
