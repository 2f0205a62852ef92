from collections.abc import Iterator

from pyarrow import RecordBatch

class ParquetFile:
    def __init__(self, source: str) -> None: ...
    def iter_batches(
        self, batch_size: int = 65536, row_groups: list[int] | None = None, columns: list[str] | None = None
    ) -> Iterator[RecordBatch]: ...
