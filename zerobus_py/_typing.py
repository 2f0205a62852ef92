"""Names used in annotations of the public API, bound at run time.

The modules use ``from __future__ import annotations``: annotations are strings, resolved by
``typing.get_type_hints`` (typeguard, beartype, pydantic's ``validate_call``, sphinx-autodoc-typehints) in the
defining module's globals. A name imported only under ``TYPE_CHECKING`` made that raise ``NameError``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

__all__ = ["ArrowArrayExportable", "ArrowStreamExportable", "SendInput", "Self", "Unpack"]

if sys.version_info >= (3, 11):
    from typing import Self
elif TYPE_CHECKING:
    from typing_extensions import Self
else:  # pragma: no cover - Python 3.10: typing_extensions when installed (not a dependency)
    try:
        from typing_extensions import Self
    except ImportError:
        Self = TypeVar("Self")

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    from typing_extensions import Unpack
else:  # pragma: no cover - Python 3.10: typing_extensions when installed (not a dependency)
    try:
        from typing_extensions import Unpack
    except ImportError:

        class Unpack:
            """``Unpack[X]`` read as ``X`` by ``typing.get_type_hints`` (``**kwargs: Unpack[Settings]``)."""

            def __class_getitem__(cls, item: Any) -> Any:
                return item


# -- what send_batch takes ----------------------------------------------------------------------------------------
# Structural protocols, not the classes: without pyarrow-stubs / pandas-stubs a checker sees pyarrow.parquet.ParquetFile
# or pandas.DataFrame as Any, and a union holding Any accepts anything (a path string, a list of dicts). Each
# protocol names a method of one documented kind of input, which str, int, list and dict lack.


class ArrowStreamExportable(Protocol):
    """An object exporting an Arrow C stream (the Arrow PyCapsule interface): a pyarrow Table or
    RecordBatchReader, a pandas >= 2.2 or polars DataFrame, a DuckDB relation, ..."""

    def __arrow_c_stream__(self, requested_schema: Any = None, /) -> object: ...


class ArrowArrayExportable(Protocol):
    """An object exporting an Arrow C array (the Arrow PyCapsule interface): a pyarrow RecordBatch or
    StructArray, ..."""

    def __arrow_c_array__(self, requested_schema: Any = None, /) -> tuple[object, object]: ...


class _ParquetFileLike(Protocol):
    """``pyarrow.parquet.ParquetFile``."""

    def iter_batches(self, *args: Any, **kwargs: Any) -> Any: ...


class _DatasetLike(Protocol):
    """``pyarrow.dataset.Dataset`` / ``Scanner``."""

    def to_batches(self, *args: Any, **kwargs: Any) -> Any: ...


class _PandasFrameLike(Protocol):
    """A pandas DataFrame, also of a pandas (or pandas-stubs) before 2.2, which has no ``__arrow_c_stream__``."""

    def iterrows(self) -> Any: ...


class _PolarsFrameLike(Protocol):
    """A polars DataFrame, also of a polars without ``__arrow_c_stream__``."""

    def iter_rows(self, *args: Any, **kwargs: Any) -> Any: ...


#: What :meth:`~zerobus_py.ZerobusWrapper.send_batch` takes, for annotating code that passes data on: a pyarrow
#: RecordBatch, Table or RecordBatchReader, a ``pyarrow.parquet.ParquetFile``, a ``pyarrow.dataset`` Dataset or
#: Scanner, a pandas or polars DataFrame, or any object with ``__arrow_c_stream__`` / ``__arrow_c_array__``. A
#: checker refuses a path, a number or a list of dicts; what has the right shape and is still refused (one column,
#: such as a lone ``pyarrow.Array``) raises at run time as documented.
SendInput: TypeAlias = (
    ArrowStreamExportable | ArrowArrayExportable | _ParquetFileLike | _DatasetLike | _PandasFrameLike | _PolarsFrameLike
)
