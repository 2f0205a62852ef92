"""The README's commands run from the repository root, where the source tree's ``zerobus_py`` (never built in place:
``pip install .`` and ``make py-build`` install the package into site-packages) comes first on ``sys.path`` for
``python -m zerobus_py`` and ``python -c``. Its extension modules are then taken from the installed package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import zerobus_py

SOURCE = Path(__file__).resolve().parent.parent / "zerobus_py"


def test_commands_from_a_source_tree_use_the_installed_extension(tmp_path: Path) -> None:
    shutil.copytree(
        SOURCE,
        tmp_path / "zerobus_py",
        ignore=shutil.ignore_patterns("pybind.py", "go.py", "_zbnative*", "__pycache__"),
    )
    assert not list((tmp_path / "zerobus_py" / "_native").glob("_zbnative*"))
    out = subprocess.run(
        [sys.executable, "-m", "zerobus_py", "version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"zerobus-wrapper {zerobus_py.__version__} "), out.stdout
    code = "import zerobus_py; print(zerobus_py.__file__); print(zerobus_py.native_version())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(tmp_path / "zerobus_py" / "__init__.py"), zerobus_py.__version__]


def _source_tree(root: Path, version: str) -> None:
    """A copy of the source tree's package without its extension, in a
    checkout whose core/version.go says ``version``."""
    shutil.copytree(
        SOURCE,
        root / "zerobus_py",
        ignore=shutil.ignore_patterns("pybind.py", "go.py", "_zbnative*", "__pycache__"),
    )
    (root / "core").mkdir()
    (root / "core" / "version.go").write_text(f'package core\n\nconst Version = "{version}"\n', encoding="utf-8")


def test_a_source_tree_of_another_version_refuses_the_installed_extension(tmp_path: Path) -> None:
    same, other = tmp_path / "same", tmp_path / "other"
    _source_tree(same, zerobus_py.native_version())
    _source_tree(other, "9.9.9")
    code = "import zerobus_py; print(zerobus_py.native_version())"
    out = subprocess.run([sys.executable, "-c", code], cwd=same, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == zerobus_py.native_version()
    out = subprocess.run([sys.executable, "-c", code], cwd=other, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    want = f"the source tree {other / 'zerobus_py'} is zerobus-wrapper 9.9.9, but the native extension installed in "
    assert want in out.stderr and f"is {zerobus_py.native_version()}: run `pip install .` (or `make py-build`)" in (
        out.stderr
    ), out.stderr
