"""arrow_zerobus_sdk_wrapper: the import name of the original Python API.

Code written for ``arrow-zerobus-sdk-wrapper`` 0.8.1 keeps working with this
package installed instead: ``import arrow_zerobus_sdk_wrapper`` and ``from
arrow_zerobus_sdk_wrapper import ZerobusWrapper, WrapperConfiguration,
TransmissionResult, ...`` give the very objects of :mod:`zerobus_py` (this
module only re-exports them). New code can import :mod:`zerobus_py`
directly; its submodules (``zerobus_py.local``, ``zerobus_py.debug``) have no
alias because the original had none. The differences from the original are
listed in the README, section "Drop-in compatibility".
"""

from __future__ import annotations

from zerobus_py import (
    AsyncZerobusWrapper,
    AuthenticationError,
    CancelledError,
    ConfigurationError,
    ConversionError,
    ObservabilityConfig,
    RetryExhausted,
    TokenRefreshError,
    TransmissionError,
    TransmissionResult,
    WrapperClosedError,
    WrapperConfiguration,
    ZerobusConnectionError,
    ZerobusError,
    ZerobusWrapper,
    __version__,
    partial_result,
)
from zerobus_py import native_version as native_version  # reachable as in zerobus_py (`X as X`: mypy --strict)

#: The original's name of ZerobusConnectionError: reachable, but kept out of
#: `import *` so the builtin is not shadowed (as in zerobus_py).
ConnectionError = ZerobusConnectionError  # noqa: A001

# The same public names as zerobus_py.__all__ (a test keeps them in step).
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
