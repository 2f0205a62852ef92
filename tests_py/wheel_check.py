"""Check an installed zerobus_py wheel: it imports without Go and sends a batch
to the in-process local server. Run by tests_py/wheel_smoke.sh and by
cibuildwheel's test step (pyproject.toml [tool.cibuildwheel])."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyarrow as pa

import arrow_zerobus_sdk_wrapper
import zerobus_py
from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer


def main() -> None:
    if "--no-go" in sys.argv[1:]:
        assert shutil.which("go") is None, "go is still on PATH"
    assert "site-packages" in zerobus_py.__file__, f"imported the source tree, not the wheel: {zerobus_py.__file__}"
    # the original API's import name ships in the wheel, as an alias
    assert "site-packages" in arrow_zerobus_sdk_wrapper.__file__, arrow_zerobus_sdk_wrapper.__file__
    assert arrow_zerobus_sdk_wrapper.ZerobusWrapper is ZerobusWrapper
    table = "main.wheel.smoke"
    with LocalServer() as server, ZerobusWrapper(server.config(table)) as w:
        res = w.send_batch(pa.record_batch({"id": pa.array([1, 2, 3]), "name": pa.array(["a", None, "c"])}))
        assert res.success and res.successful_count == 3, res
        stored = server.table(table)
        assert sorted(stored.column("id").to_pylist()) == [1, 2, 3], stored
    # the command line: the `zerobus` console script and `python -m zerobus_py` run the Go CLI in-process
    script = shutil.which("zerobus", path=sysconfig.get_path("scripts"))
    assert script is not None, f"no zerobus script in {sysconfig.get_path('scripts')}"
    for argv in ([script, "version"], [sys.executable, "-m", "zerobus_py", "version"]):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent)
        assert out.returncode == 0 and out.stdout.startswith(f"zerobus-wrapper {zerobus_py.native_version()} (go"), out
    print("wheel OK:", zerobus_py.__file__, "native", zerobus_py.native_version())


if __name__ == "__main__":
    main()
