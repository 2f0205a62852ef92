"""zerobus_py: stream Apache Arrow data into Databricks Zerobus.

The work is done by a Go core compiled into this package; this layer accepts
pyarrow, pandas, polars and Arrow PyCapsule data and maps results and errors to
Python objects. The names match the original Python API, so migrating is
changing the import line::

    from zerobus_py import WrapperConfiguration, ZerobusWrapper

    config = WrapperConfiguration(
        "https://<workspace-id>.zerobus.<region>.cloud.databricks.com",
        "catalog.schema.table",
        client_id="...", client_secret="...",
        unity_catalog_url="https://<workspace>.cloud.databricks.com",
    )
    with ZerobusWrapper(config) as wrapper:
        result = wrapper.send_batch(record_batch)
        if not result.all_succeeded:  # (.success: some rows stored, as in the original API)
            quarantine(result.extract_failed_batch(record_batch))

Submodules: :mod:`zerobus_py.local` (an in-process local Zerobus server) and
:mod:`zerobus_py.debug` (reading debug files).
"""

from __future__ import annotations

from importlib import metadata as _metadata

from ._config import ObservabilityConfig, WrapperConfiguration
from ._errors import (
    AuthenticationError,
    CancelledError,
    ConfigurationError,
    ConversionError,
    RetryExhausted,
    TokenRefreshError,
    TransmissionError,
    WrapperClosedError,
    ZerobusConnectionError,
    ZerobusError,
)

# reachable as zerobus_py.ConnectionError, re-exported explicitly (`X as X`: mypy --strict), but not in __all__
from ._errors import ConnectionError as ConnectionError  # noqa: A004
from ._result import TransmissionResult, partial_result
from ._typing import SendInput as SendInput
from ._wrapper import AsyncZerobusWrapper, ZerobusWrapper
from ._wrapper import LogAttributes as LogAttributes
from ._wrapper import ProgressCallback as ProgressCallback

try:
    # The distribution's version: core.Version (core/version.go), set by setup.py.
    __version__ = _metadata.version("zerobus-wrapper")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

# SendInput, ProgressCallback and LogAttributes, the types of send_batch's batch and progress and of the
# wrappers' log_attributes for annotating user code, are reachable (`X as X`: mypy --strict) but not in __all__:
# type aliases, not objects for `import *` (nor functions or classes typing.get_type_hints could resolve).
# ConnectionError is deliberately absent: `from zerobus_py import *` must not
# shadow the builtin. Use ZerobusConnectionError (the same class) or
# zerobus_py.ConnectionError.
__all__ = [
    "AsyncZerobusWrapper",
    "AuthenticationError",
    "CancelledError",
    "ConfigurationError",
    "ConversionError",
    "ObservabilityConfig",
    "RetryExhausted",
    "TokenRefreshError",
    "TransmissionError",
    "TransmissionResult",
    "WrapperClosedError",
    "WrapperConfiguration",
    "ZerobusConnectionError",
    "ZerobusError",
    "ZerobusWrapper",
    "__version__",
    "partial_result",
]


def native_version() -> str:
    """Version of the compiled Go facade (matches ``__version__`` in a consistent install)."""
    from . import _bridge

    return _bridge.native.Version()
