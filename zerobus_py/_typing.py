"""Names used in annotations of the public API, bound at run time.

The modules use ``from __future__ import annotations``: annotations are strings, resolved by
``typing.get_type_hints`` (typeguard, beartype, pydantic's ``validate_call``, sphinx-autodoc-typehints) in the
defining module's globals. A name imported only under ``TYPE_CHECKING`` made that raise ``NameError``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

__all__ = ["Self"]

if sys.version_info >= (3, 11):
    from typing import Self
elif TYPE_CHECKING:
    from typing_extensions import Self
else:  # pragma: no cover - Python 3.10: typing_extensions when installed (not a dependency)
    try:
        from typing_extensions import Self
    except ImportError:
        Self = TypeVar("Self")
