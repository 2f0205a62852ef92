#!/usr/bin/env bash
# Install the built wheel into a fresh venv whose PATH has no Go, import it and
# send a batch to the in-process local server. Usage: wheel_smoke.sh DIST_DIR [PYTHON]
set -euo pipefail
dist=${1:?dist dir}
python=${2:-python3}
wheel=$(ls "$dist"/zerobus_wrapper-*.whl | head -n1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q "$wheel"
# PATH without any directory holding a go binary
clean_path=""
IFS=: read -ra parts <<< "$PATH"
for d in "${parts[@]}"; do
  [ -x "$d/go" ] && continue
  clean_path="${clean_path:+$clean_path:}$d"
done
cd "$tmp"
env -i HOME="$HOME" PATH="$clean_path" "$tmp/venv/bin/python" - <<'PY'
import shutil
assert shutil.which("go") is None, "go is still on PATH"
import pyarrow as pa
import zerobus_py
from zerobus_py import ZerobusWrapper
from zerobus_py.local import LocalServer
with LocalServer() as s, ZerobusWrapper(s.config("main.wheel.smoke")) as w:
    r = w.send_batch(pa.record_batch({"id": pa.array([1, 2, 3])}))
    assert r.success and s.record_count("main.wheel.smoke") == 3, r
print("wheel OK:", zerobus_py.__file__, "native", zerobus_py.native_version())
PY
