"""Each line marked ``# E: code`` must be reported with that code (test_s21_typing.py); the run time raises."""

from zerobus_py import AsyncZerobusWrapper, ObservabilityConfig, WrapperConfiguration, ZerobusWrapper
from zerobus_py.local import LocalServer


def keywords(config: WrapperConfiguration, server: LocalServer, env: dict[str, str]) -> None:
    ZerobusWrapper(endpoint="https://x", tabel_name="main.default.t")  # E: call-overload
    ZerobusWrapper(endpoint=123, table_name="main.default.t")  # E: call-overload
    AsyncZerobusWrapper(endpoint="https://x", retry_max_attempts="5")  # E: call-overload
    ZerobusWrapper(tabel_name="main.default.t", **env)  # E: call-overload
    AsyncZerobusWrapper(retry_max_attempts="5", **env)  # E: call-overload
    server.config("main.default.t", retry_max_attemps=2)  # E: call-arg
    config.copy(tabel_name="x")  # E: call-arg
    WrapperConfiguration("https://x", "t", log_levl="debug")  # E: call-arg
    WrapperConfiguration("https://x", "t", log_level=3)  # E: arg-type


def assignments(c: WrapperConfiguration, o: ObservabilityConfig) -> None:
    c.retry_max_attemps = 3  # E: attr-defined
    o.log_levl = "debug"  # E: attr-defined
    c.retry_max_attempts = "abc"  # E: assignment
