#!/usr/bin/env bash
# Install the built wheel into a fresh venv whose PATH has no Go, import it and
# send a batch to the in-process local server (tests_py/wheel_check.py). On
# Linux also check the manylinux tag and that the extension carries no RUNPATH
# of the build machine. Usage: wheel_smoke.sh DIST_DIR [PYTHON [TOOLS_PYTHON]]
# (TOOLS_PYTHON has pyelftools, which auditwheel brings; default PYTHON).
set -euo pipefail
dist=${1:?dist dir}
python=${2:-python3}
tools_python=${3:-$python}
here=$(cd "$(dirname "$0")" && pwd)
wheel=$(ls "$(cd "$dist" && pwd)"/zerobus_wrapper-*.whl | head -n1)
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$(uname -s)" = Linux ]; then
  case "$wheel" in
    *manylinux_*) ;;
    *) echo "FAIL: $wheel has no manylinux tag (make py-dist runs auditwheel repair)"; exit 1 ;;
  esac
  (cd "$tmp" && "$python" -m zipfile -e "$wheel" unpacked)
  "$tools_python" - "$tmp"/unpacked/zerobus_py/_native/_zbnative*.so <<'PY'
import sys
from elftools.elf.elffile import ELFFile
with open(sys.argv[1], "rb") as f:
    dynamic = ELFFile(f).get_section_by_name(".dynamic")
    paths = [str(t.entry.d_tag) for t in dynamic.iter_tags() if t.entry.d_tag in ("DT_RPATH", "DT_RUNPATH")]
if paths:
    raise SystemExit(f"FAIL: the extension keeps a run path of the build machine: {paths}")
PY
fi
"$python" -m venv "$tmp/venv"
if [ -x "$tmp/venv/Scripts/python.exe" ]; then vpy="$tmp/venv/Scripts/python.exe"; else vpy="$tmp/venv/bin/python"; fi
"$vpy" -m pip install -q "$wheel"
# PATH without any directory holding a go binary
clean_path=""
IFS=: read -ra parts <<< "$PATH"
for d in "${parts[@]}"; do
  [ -x "$d/go" ] || [ -x "$d/go.exe" ] && continue
  clean_path="${clean_path:+$clean_path:}$d"
done
cp "$here/wheel_check.py" "$tmp/"
cd "$tmp"
env -i HOME="$HOME" PATH="$clean_path" SYSTEMROOT="${SYSTEMROOT:-}" "$vpy" wheel_check.py --no-go
