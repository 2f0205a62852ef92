"""What issues 10, 15, 20 and 21 "must show" about how the project is wired, checked on the files themselves.

- #10: `.ci/run` is exactly the README's test command.
- #21: the README-commands test, the notebook test and actionlint are in `make test`.
- #15: `zerobus_py/__main__.py` is a few lines that run the one (Go) CLI.
- #21: `pip show zerobus-wrapper` (the package installed with pip) lists license, URLs and classifiers.
- #20: a README table with every public name of the original and its status (same / extended / differs).
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import arrow_zerobus_sdk_wrapper as azw

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"


def _fenced_blocks(text: str, lang: str) -> list[list[str]]:
    blocks, cur = [], None
    for line in text.splitlines():
        if cur is None and line.strip() == f"```{lang}":
            cur = []
        elif cur is not None and line.strip() == "```":
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def _commands(lines: list[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _readme_two_commands() -> tuple[str, str]:
    """The Quick start block: the main job, then the test command."""
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)
    assert len(quick) == 2, "README has no Quick start section"
    blocks = _fenced_blocks(quick[1].split("\n## ", 1)[0], "sh")
    assert blocks, "the Quick start section has no sh block"
    cmds = _commands(blocks[0])
    assert len(cmds) == 2, cmds
    return cmds[0], cmds[1]


def _make_rule(name: str) -> tuple[list[str], list[str]]:
    """A Makefile rule's prerequisites and recipe lines."""
    lines = MAKEFILE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"^{re.escape(name)}:(?!=)(.*)$", line)
        if m:
            recipe = []
            for nxt in lines[i + 1 :]:
                if not nxt.startswith("\t"):
                    break
                recipe.append(nxt.strip())
            return m.group(1).split(), recipe
    raise AssertionError(f"no rule {name!r} in the Makefile")


def test_ci_run_is_exactly_the_readme_test_command() -> None:
    demo, test = _readme_two_commands()
    assert demo == "make demo" and test == "make test", (demo, test)
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert script[0].startswith("#!") and "bash" in script[0]
    body = _commands(script[1:])
    # set-up lines (strict mode, going to the repository root) are not commands of their own
    runs = [c for c in body if not c.startswith("set ") and not c.startswith("cd ")]
    assert runs == [test], runs
    assert any(shlex.split(c)[:2] == ["set", "-euo"] or c == "set -euo pipefail" for c in body), body


def test_make_demo_runs_the_go_and_the_python_demo() -> None:
    prereqs, recipe = _make_rule("demo")
    assert "py-build" in prereqs, prereqs  # sets the package up in the local virtualenv first
    assert any("run ./cmd/zerobus-demo" in line for line in recipe), recipe
    assert any(line.endswith("python examples/demo.py") for line in recipe), recipe
    assert (ROOT / "cmd" / "zerobus-demo" / "main_test.go").is_file() and (ROOT / "tests_py" / "test_demo.py").is_file()


def test_make_test_runs_actionlint_go_and_every_python_test() -> None:
    prereqs, _ = _make_rule("test")
    assert {"go-vet", "workflow-lint", "go-test", "py-test", "py-wheel-test"} <= set(prereqs), prereqs
    _, lint = _make_rule("workflow-lint")
    assert any("actionlint" in line for line in lint), lint
    _, gotest = _make_rule("go-test")
    assert any(re.search(r"\btest\b.*\./\.\.\.", line) for line in gotest), gotest
    py_prereqs, py = _make_rule("py-test")
    assert "py-build" in py_prereqs, py_prereqs
    runs = [line for line in py if "pytest" in line]
    assert len(runs) == 1, py
    args = shlex.split(runs[0].replace("$(VENV_BIN)", "venv").replace("$(PYTEST_ARGS)", ""))
    # the whole directory, nothing deselected: the README and notebook tests are part of it
    assert args[1:] == ["tests_py"], args
    assert "-m" not in args and "-k" not in args and not [a for a in args if a.startswith("--deselect")]
    # and those tests are collected there, not skipped
    for name, tests in {
        "test_readme.py": ["test_readme_shell_commands_run", "test_readme_python_blocks_run"],
        "test_notebook.py": ["test_quickstart_notebook_runs", "test_committed_quickstart_is_executed_and_renders"],
    }.items():
        tree = ast.parse((ROOT / "tests_py" / name).read_text(encoding="utf-8"))
        funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        for t in tests:
            assert t in funcs, (name, t)
            marks = [ast.unparse(d) for d in funcs[t].decorator_list]
            assert not [m for m in marks if "skip" in m or "xfail" in m], (t, marks)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    addopts = re.findall(r"^addopts\s*=\s*(.*)$", pyproject, re.M)
    assert not [a for a in addopts if "not slow" in a or "--ignore" in a or "--deselect" in a], addopts


def test_main_module_is_a_few_lines_running_the_go_cli() -> None:
    src = (ROOT / "zerobus_py" / "__main__.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    code = [ln for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 12, src
    # no argument parsing, no command tables of its own: it imports the CLI entry point and calls it
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names
    }
    assert "argparse" not in names and "main" in names, names
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    cli = (ROOT / "zerobus_py" / "_cli.py").read_text(encoding="utf-8")
    assert "argparse" not in cli and "_bridge" in cli
    assert len(cli.splitlines()) < 150  # a shim over the Go CLI, not a second CLI


#: Every public name of the original (arrow-zerobus-sdk-wrapper 0.8.1) that issue 20 names.
ORIGINAL_CLASSES = ["ZerobusWrapper", "WrapperConfiguration", "TransmissionResult"]
ORIGINAL_ERRORS = [
    "ZerobusError",
    "ConfigurationError",
    "AuthenticationError",
    "ConnectionError",
    "ConversionError",
    "TransmissionError",
    "RetryExhausted",
    "TokenRefreshError",
]
ORIGINAL_WRAPPER = ["send_batch", "flush", "shutdown", "__aenter__"]
ORIGINAL_RESULT_HELPERS = [
    "get_failed_row_indices",
    "get_successful_row_indices",
    "extract_failed_batch",
    "extract_successful_batch",
    "get_failed_row_indices_by_error_type",
    "group_errors_by_type",
    "get_error_statistics",
    "get_error_messages",
    "is_partial_success",
    "has_failed_rows",
    "has_successful_rows",
]
ORIGINAL_RESULT_FIELDS = [
    "success",
    "error",
    "attempts",
    "latency_ms",
    "batch_size_bytes",
    "failed_rows",
    "successful_rows",
    "total_rows",
    "successful_count",
    "failed_count",
]


def _dropin_table() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Drop-in compatibility with arrow-zerobus-sdk-wrapper", 1)
    assert len(section) == 2, "README has no drop-in section"
    rows = []
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if not line.startswith("| ") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 2, line
        rows.append((cells[0], cells[1]))
    assert rows[0] == ("Original", "Status here"), rows[0]
    return rows[1:]


def _names_in(cell: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", cell))


def test_readme_dropin_table_lists_every_public_name_of_the_original_with_a_status() -> None:
    rows = _dropin_table()
    assert len(rows) >= 15, rows
    for first, status in rows:
        assert re.search(r"\*\*(same|extended|differs)\*\*", status), f"{first}: no status in {status[:80]!r}"
    listed = set().union(*(_names_in(first) for first, _ in rows))
    wanted = [
        *ORIGINAL_CLASSES,
        *ORIGINAL_ERRORS,
        *ORIGINAL_WRAPPER,
        "validate",
        *ORIGINAL_RESULT_HELPERS,
        *ORIGINAL_RESULT_FIELDS,
    ]
    missing = [n for n in wanted if n not in listed]
    assert not missing, f"public names of the original missing from the README table: {missing}"
    assert "arrow_zerobus_sdk_wrapper" in listed


@pytest.mark.parametrize("name", [*ORIGINAL_CLASSES, *ORIGINAL_ERRORS])
def test_the_alias_package_has_every_original_name(name: str) -> None:
    obj = getattr(azw, name)
    # ConnectionError is importable by name but left out of __all__, so `import *` keeps the builtin
    assert (name in azw.__all__) == (name != "ConnectionError"), name
    if name in ORIGINAL_ERRORS:
        assert issubclass(obj, azw.ZerobusError) or obj is azw.ZerobusError


def test_the_alias_classes_have_every_original_member() -> None:
    for m in ORIGINAL_WRAPPER:
        assert callable(getattr(azw.ZerobusWrapper, m)), m
    assert callable(azw.ZerobusWrapper.__aexit__)
    assert callable(azw.WrapperConfiguration.validate)
    res = azw.TransmissionResult(True, failed_rows=[(1, "Conversion error: bad")], successful_rows=[0], total_rows=2)
    for m in ORIGINAL_RESULT_HELPERS:
        assert callable(getattr(res, m)), m
    got = {f: getattr(res, f) for f in ORIGINAL_RESULT_FIELDS}
    assert got["success"] is True and got["total_rows"] == 2 and got["successful_count"] == 1
    assert got["failed_rows"] == [(1, "Conversion error: bad")] and got["failed_count"] == 1
    assert res.get_failed_row_indices() == [1] and res.get_successful_row_indices() == [0]
    assert res.is_partial_success() and res.has_failed_rows() and res.has_successful_rows()
    assert res.group_errors_by_type() == {"ConversionError": [1]}
    assert res.get_failed_row_indices_by_error_type("ConversionError") == [1]
    assert res.get_error_messages() == ["Conversion error: bad"]
    batch = pa.record_batch({"id": [10, 11]})
    assert res.extract_failed_batch(batch).column("id").to_pylist() == [11]
    assert res.extract_successful_batch(batch).column("id").to_pylist() == [10]


def test_pip_show_lists_license_urls_and_classifiers() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "show", "--verbose", "zerobus-wrapper"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    fields: dict[str, str] = {}
    key = ""
    for line in out.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        elif key:
            fields[key] += "\n" + line.strip()
    assert fields["Name"] == "zerobus-wrapper", out
    assert "Apache-2.0" in fields.get("License-Expression", "") + fields.get("License", ""), out
    assert "https://github.com/zerobus-wrapper/zerobus-wrapper" in fields.get("Project-URLs", ""), out
    classifiers = fields.get("Classifiers", "")
    assert "Operating System :: Microsoft :: Windows" in classifiers, out
    assert "Programming Language :: Python :: 3.10" in classifiers, out


def test_architecture_doc_shows_the_c_stream_handover_the_code_has() -> None:
    """#14: docs/architecture.md shows the new hand-over (the Arrow C stream, imported in place by Go), and each
    step it names is in the code; the old IPC hand-over (address:size strings, pybind/ipc.go) is gone."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## Arrow data from Python to Go", 1)
    assert len(section) == 2, "docs/architecture.md has no section on the Python to Go hand-over"
    text = section[1].split("\n## ", 1)[0]
    for step in [
        "__arrow_c_stream__",
        "arrow_array_stream",
        "pybind.Wrapper.SendStream",
        "cdata.ImportCRecordBatchWithSchema",
        "core.Wrapper.SendReaderAsync",
        "Nothing is serialised",
    ]:
        assert step in text, step
    pybind = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "pybind").glob("*.go")}
    code = "\n".join(s for n, s in pybind.items() if not n.endswith("_test.go"))
    assert "func (w *Wrapper) SendStream(" in code
    assert "cdata.ImportCRecordBatchWithSchema(" in code and ".SendReaderAsync(" in code
    assert "ipc.go" not in pybind and "readSegments" not in code
    py = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "zerobus_py").glob("*.py"))
    assert "__arrow_c_stream__" in py and "native.SendStream," in py
    assert "serialize_to" not in py and "ipc.new_stream" not in py  # no IPC serialisation on the send path
