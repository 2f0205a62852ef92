"""Each line marked ``# E: code`` must be reported with that code (test_s21_typing.py)."""

import pyarrow as pa

from zerobus_py import ZerobusWrapper


def progress(w: ZerobusWrapper, t: pa.Table) -> None:
    def known_total(done: int, total: int) -> None: ...

    w.send_batch(t, progress=known_total)  # E: arg-type
    w.send_batch(t, progress=lambda done: None)  # E: misc, arg-type
