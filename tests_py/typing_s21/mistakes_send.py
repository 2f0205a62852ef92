"""Each line marked ``# E: code`` must be reported with that code (test_s21_typing.py); the run time raises."""

from zerobus_py import AsyncZerobusWrapper, ZerobusWrapper


async def send(w: ZerobusWrapper, aw: AsyncZerobusWrapper) -> None:
    w.send_batch("events.parquet")  # E: arg-type
    w.send_batch(42)  # E: arg-type
    w.send_batch([{"id": 1}])  # E: arg-type
    w.send_batch({"id": [1]})  # E: arg-type
    await w.send_batch_async("events.parquet")  # E: arg-type
    await aw.send_batch(b"PAR1")  # E: arg-type
