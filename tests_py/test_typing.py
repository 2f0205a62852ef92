"""Typing as a user meets it: their code type-checks with ``mypy --strict`` against the installed package, both
packages ship ``py.typed``, and the stubs of the generated native module match what gopy generated."""

from __future__ import annotations

import ast
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zerobus_py.local import LocalServer

HERE = Path(__file__).resolve().parent


def test_user_code_passes_mypy_strict(tmp_path: Path) -> None:
    """typed_user_code.py (config, sync/async wrappers, results, exception attributes, the original's names) is
    checked as a user's CI checks it: from outside the source tree, against the installed package; only
    pyarrow, which ships no stubs, is the user's to silence."""
    import zerobus_py

    installed = Path(zerobus_py.__file__).resolve().parent
    for package in (installed, installed.parent / "arrow_zerobus_sdk_wrapper"):
        assert (package / "py.typed").is_file(), f"{package} ships no py.typed"
    shutil.copy(HERE / "typed_user_code.py", tmp_path / "typed_user_code.py")
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\n\n[mypy-pyarrow.*]\nignore_missing_imports = True\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental", "typed_user_code.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_code_runs(server: LocalServer, table_name: str) -> None:
    """The same script runs: what mypy accepted is what the package does."""
    sys.path.insert(0, str(HERE))
    try:
        import typed_user_code
    finally:
        sys.path.remove(str(HERE))
    assert typed_user_code.main(server, table_name) == 9
    assert sorted(server.table(table_name).column("id").to_pylist()) == [1, 1, 1, 2, 2, 2, 3, 3, 3]


def _stub_signatures(path: Path) -> dict[str, list[str]]:
    """``name`` / ``Class.method`` -> parameter names, from a .pyi file."""
    out: dict[str, list[str]] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            out[node.name] = []
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = [a.arg for a in item.args.args]
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    out[f"{node.name}.{item.target.id}"] = []
    return out


@pytest.mark.parametrize("module", ["pybind"])
def test_native_stubs_match_the_generated_module(module: str) -> None:
    """Every function and method of the gopy-generated module is in its stub with the same parameters (gopy's
    optional trailing ``goRun`` aside), and the stub names nothing the module lacks: mypy --strict of zerobus_py
    checks calls against these stubs only."""
    import importlib

    runtime = importlib.import_module(f"zerobus_py._native.{module}")
    stubs = _stub_signatures(HERE.parent / "zerobus_py" / "_native" / f"{module}.pyi")
    problems = []
    for name, params in stubs.items():
        owner, _, attr = name.rpartition(".")
        obj = getattr(getattr(runtime, owner), attr, None) if owner else getattr(runtime, name, None)
        if obj is None:
            problems.append(f"{name}: in the stub, not in the module")
        elif callable(obj) and not inspect.isclass(obj):
            sig = inspect.signature(obj).parameters.values()
            got = [p.name for p in sig if p.default is inspect.Parameter.empty or p.name != "goRun"]
            if got != params:
                problems.append(f"{name}: stub {params}, module {got}")
    for name, obj in vars(runtime).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != runtime.__name__:
            continue
        if name not in stubs:
            problems.append(f"{name}: in the module, not in the stub")
        elif inspect.isclass(obj):
            for attr in vars(obj):
                if not attr.startswith("_") and f"{name}.{attr}" not in stubs:
                    problems.append(f"{name}.{attr}: in the module, not in the stub")
    assert problems == []


def test_public_annotations_resolve_at_run_time() -> None:
    """``typing.get_type_hints`` (typeguard, beartype, pydantic's ``validate_call``, sphinx-autodoc-typehints)
    resolves the annotations of every public function and method: ``Self`` and ``TransmissionResult`` were
    imported only for type checkers, so ``ZerobusWrapper.__enter__`` / ``__aenter__``, ``LocalServer.__enter__``
    and ``ZerobusError.__init__`` raised ``NameError``."""
    import importlib
    import typing

    problems = []
    for module_name in ("zerobus_py", "zerobus_py.local", "zerobus_py.debug", "arrow_zerobus_sdk_wrapper"):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            members = [(name, obj)]
            if inspect.isclass(obj):
                members = [
                    (f"{name}.{attr}", value.fget if isinstance(value, property) else value)
                    for klass in obj.__mro__
                    if klass.__module__.startswith("zerobus_py")
                    for attr, value in vars(klass).items()
                    if not attr.startswith("_")
                    or attr in ("__init__", "__enter__", "__exit__", "__aenter__", "__aexit__")
                ]
            for label, member in members:
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if not callable(member) or inspect.isclass(member):
                    continue
                try:
                    typing.get_type_hints(member)
                except Exception as err:
                    problems.append(f"{module_name}.{label}: {type(err).__name__}: {err}")
    assert problems == []
    from zerobus_py import TransmissionResult, ZerobusError

    assert typing.get_type_hints(ZerobusError.__init__)["result"] == (TransmissionResult | None)
