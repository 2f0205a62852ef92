"""Text holding a secret, redacted wherever Python shows a value for debugging."""

from __future__ import annotations

__all__ = ["SecretText"]


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
