"""Checks every page a user reads besides README.md's commands (test_readme.py runs those) against the code.

- zerobus_py/README.md (the PyPI page) and docs/*.md: every fenced ``sh`` / ``python`` block runs, in a scratch
  directory holding the inputs it names (``data.parquet``, ``more.csv``, ``data.arrow``, ``DEBUGFILE.arrow``,
  ``t.proto`` and ``t.descriptor.pb``) with the ``ZEROBUS_*`` variables of a local server set, or starts with the
  visible line ``# not run by the docs test: <reason>``. A Python block that is not run must still compile and
  import only names that exist. ``zerobus`` is the console script the package installs.
- The ``text`` block of zerobus_py/README.md that starts with ``$ zerobus ...`` is that command's real output (the
  duration and throughput lines aside).
- README.md's "Configuration" table: every YAML key and environment variable is a Go setting's, and every default
  is Go's default (core.Settings).
- docs/errors.md: each error kind's Go type exists and its Python class is the one raised, deriving from the
  builtin the table names.
- Every environment variable the docs name is a setting's or one of a few others, each read by the code.
- Every flag the docs show after ``zerobus <command>`` (or ``python -m zerobus_py <command>``) is one of that
  command's flags.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_readme import ROOT, SHELL_LANGS, Block, blocks, clean_env, commands, run_local_server

import zerobus_py
from zerobus_py import _config as config_mod
from zerobus_py import _errors as errors_mod
from zerobus_py.local import LocalServer

NOT_RUN = "# not run by the docs test"
PAGES = [ROOT / "zerobus_py" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where users read: the pages above, the README, the package manual and the changelog.
ALL_DOCS = [ROOT / "README.md", *PAGES, ROOT / "core" / "doc.go", ROOT / "CHANGELOG.md"]
TIMEOUT = 120


def _page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _not_run(block: Block) -> bool:
    return block.text.lstrip().startswith(NOT_RUN)


def console_script() -> Path:
    """The ``zerobus`` script the wheel installs, beside this interpreter."""
    name = "zerobus.exe" if os.name == "nt" else "zerobus"
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{path}: the package's `zerobus` console script is not installed"
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, zerobus_cli: Path) -> Path:
    """The files the pages' commands and snippets name, made from the shipped sample data and real debug files."""
    d = tmp_path_factory.mktemp("docs-inputs")
    data = ROOT / "examples" / "data"
    shutil.copy(data / "events.parquet", d / "data.parquet")
    shutil.copy(data / "events.csv", d / "more.csv")
    table = pq.read_table(data / "events.parquet")
    with pa.ipc.new_file(d / "data.arrow", table.schema) as w:
        w.write_table(table)
    env = dict(clean_env(), DEBUG_ENABLED="true", DEBUG_OUTPUT_DIR=str(d / "dbg"))
    subprocess.run([str(zerobus_cli), "send", "-dry-run", "-quiet", "data.parquet"], cwd=d, env=env, check=True)
    stem = "main.default.zerobus_send"
    shutil.copy(d / "dbg" / "zerobus" / "arrow" / f"{stem}.arrow", d / "DEBUGFILE.arrow")
    shutil.copy(d / "dbg" / "zerobus" / "proto" / f"{stem}.proto", d / "t.proto")
    shutil.copy(d / "dbg" / "zerobus" / "proto" / f"{stem}.descriptor.pb", d / "t.descriptor.pb")
    shutil.rmtree(d / "dbg")
    return d


@pytest.fixture
def workdir(tmp_path: Path, inputs: Path) -> Path:
    shutil.copytree(inputs, tmp_path, dirs_exist_ok=True)
    return tmp_path


def server_env(server: LocalServer, table: str) -> dict[str, str]:
    """A fresh shell's environment pointing at the local server, as a user's would point at a workspace."""
    return dict(
        clean_env(),
        ZEROBUS_ENDPOINT=server.endpoint,
        ZEROBUS_TABLE_NAME=table,
        UNITY_CATALOG_URL=server.workspace_url,
        ZEROBUS_CLIENT_ID=server.client_id,
        ZEROBUS_CLIENT_SECRET=server.client_secret,
    )


def page_blocks(path: Path) -> list[Block]:
    return blocks(path)


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_page_blocks_run_or_say_why(path: Path) -> None:
    for b in page_blocks(path):
        where = f"{b.source}:{b.line}"
        assert b.lang in SHELL_LANGS | {"python", "go", "yaml", "text", ""}, f"{where}: lang {b.lang!r}"
        if _not_run(b):
            reason = b.text.lstrip().splitlines()[0][len(NOT_RUN) :].lstrip(" :(").strip()
            assert len(reason) > 10, f"{where}: say why the block is not run"
        assert NOT_RUN not in b.text.lstrip()[1:], f"{where}: the not-run marker must be the first line"
        if b.lang in SHELL_LANGS | {"python"}:
            assert b.text.strip(), f"{where}: empty block"


def _imported_names(tree: ast.AST) -> Iterator[tuple[str, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zerobus_py":
            for alias in node.names:
                yield node.module, alias.name


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_page_python_blocks(path: Path, workdir: Path) -> None:
    """Runnable blocks run and print something; the others compile and import names zerobus_py has."""
    import importlib

    for b in page_blocks(path):
        if b.lang != "python":
            continue
        where = f"{b.source}:{b.line}"
        tree = compile(b.text, where, "exec", ast.PyCF_ONLY_AST)
        for module, name in _imported_names(tree):
            assert hasattr(importlib.import_module(module), name), f"{where}: {module} has no {name}"
        for node in ast.walk(tree):  # keywords of WrapperConfiguration(...) calls are its keywords
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "WrapperConfiguration":
                params = inspect.signature(zerobus_py.WrapperConfiguration).parameters
                for kw in node.keywords:
                    assert kw.arg in params, f"{where}: WrapperConfiguration has no keyword {kw.arg}"
        if _not_run(b):
            continue
        script = workdir / f"doc_{b.line}.py"
        script.write_text(b.text + "\n", encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=workdir, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
        assert proc.returncode == 0, f"{where}: the Python block failed:\n{proc.stderr}"
        assert proc.stdout.strip(), f"{where}: the Python block printed nothing"
        if "t.descriptor.pb" in b.text:  # docs/debug-files.md decodes the 24 sample rows by hand
            assert proc.stdout.count("id: ") == 24 and "purchase" in proc.stdout, proc.stdout


def argv_of(command: str, zerobus_cli: Path) -> list[str]:
    words = shlex.split(command, comments=True, posix=True)
    assert words, command
    assert not re.match(r"^[A-Za-z_]\w*=", words[0]), f"{command!r}: variables are set by the test"
    if words[0] == "zerobus":
        return [str(console_script()), *words[1:]]
    if words[:3] == ["go", "run", "./cmd/zerobus"]:
        return [str(zerobus_cli), *words[3:]]
    if words[0] in ("python", "python3"):
        return [sys.executable, *words[1:]]
    return words


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_page_shell_blocks_run(path: Path, workdir: Path, zerobus_cli: Path, server: LocalServer) -> None:
    table = "main.docs.shell_blocks"
    env = server_env(server, table)
    for b in page_blocks(path):
        if b.lang not in SHELL_LANGS or _not_run(b):
            continue
        for command in commands(b):
            argv = argv_of(command, zerobus_cli)
            where = f"{b.source}:{b.line}: {command!r}"
            if argv[1:2] == ["local"]:
                r = run_local_server(argv, env, workdir)
                assert "endpoint:" in r.stdout, where
                continue
            if "-quarantine" in command:  # "written only when rows failed ... otherwise it is left untouched"
                (workdir / "failed.arrow").write_bytes(b"stale")
            proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT)
            assert proc.returncode == 0, f"{where} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            _check_output(command, proc.stdout, where)
            if "-quarantine" in command:
                assert (workdir / "failed.arrow").read_bytes() == b"stale", where
                assert not (workdir / "failed-2.arrow").exists(), where


def _check_output(command: str, out: str, where: str) -> None:
    words = shlex.split(command, comments=True)
    if "-h" in words or "--help" in words:
        assert "usage:" in out, where
    elif "-json" in words:
        summary = json.loads(out)
        assert summary["rows_sent"] == 24 and summary["rows_failed"] == 0, (where, summary)
    elif words[-1].endswith(".arrow") and "read" in words:
        assert "purchase" in out and "2026-11-23" in out, (where, out)
    elif "send" in words:
        files = [w for w in words if re.search(r"\.(parquet|csv|arrow)$", w)]
        n = 24 * len(files)  # each sample file holds 24 rows
        sent = "converted" if "-dry-run" in words else "rows sent"  # -dry-run sends nothing
        assert re.search(rf"{sent}:\s+{n} of {n}\n\s+rows failed:\s+0\n", out), (where, out)


# The transcript in zerobus_py/README.md: ten rows, rows 3 and 7 with a null list element.
def _lists_parquet(path: Path) -> None:
    xs: list[list[int | None]] = [[i, i + 1] for i in range(10)]
    xs[3] = [3, None]
    xs[7] = [None, 8]
    pq.write_table(pa.table({"id": pa.array(range(10), pa.int64()), "xs": pa.array(xs, pa.list_(pa.int64()))}), path)


_VARIES = re.compile(r"^\s*(duration|throughput):")


def test_pypi_readme_transcript_is_real_output(workdir: Path) -> None:
    text = [b for b in page_blocks(ROOT / "zerobus_py" / "README.md") if b.lang == "text"]
    transcripts = [b for b in text if b.text.startswith("$ zerobus ")]
    assert transcripts, "zerobus_py/README.md lost its `zerobus send` transcript"
    for b in transcripts:
        first, *shown = b.text.splitlines()
        command = first[2:]
        assert command == "zerobus send -local -quarantine q.arrow lists.parquet", f"update {Path(__file__).name}"
        _lists_parquet(workdir / "lists.parquet")
        proc = subprocess.run(
            [str(console_script()), *shlex.split(command)[1:]],
            cwd=workdir,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert proc.returncode == 1, (proc.returncode, proc.stderr)  # some rows failed
        actual = proc.stdout.splitlines()
        for i, line in enumerate(shown):
            if line.strip() == "...":
                break
            assert i < len(actual), f"zerobus_py/README.md:{b.line}: output ends before {line!r}:\n{proc.stdout}"
            if _VARIES.match(line):
                assert _VARIES.match(actual[i]), (line, actual[i])
                continue
            assert actual[i] == line, f"zerobus_py/README.md:{b.line + 2 + i}: shows {line!r}, prints {actual[i]!r}"
        assert (workdir / "q.arrow").exists()
        assert pa.ipc.open_stream(workdir / "q.arrow").read_all()["id"].to_pylist() == [3, 7]


# ---- README.md's Configuration table against core.Settings ----------------------------------------------------

MINUS = "\u2212"  # the README writes differences with a minus sign
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "ms": 1, "s": 1000}


def _quantity(text: str) -> int | None:
    """ "4 MiB - 19 B" (with a minus sign) → bytes, "30 s" → ms, "1000 requests" → 1000; None if not a quantity."""
    total = 0
    for sign, number, unit in re.findall(rf"([{MINUS}+-]?)\s*(\d[\d,]*)\s*([A-Za-z]*)", text):
        value = int(number.replace(",", "")) * _UNITS.get(unit, 1)
        total += -value if sign in (MINUS, "-") else value
    return total if re.match(r"^\s*\d", text) else None


def _go_value_in_doc_units(row: dict[str, Any]) -> Any:
    default = row["default"]
    if row["type"] == "duration":
        return default * (1000 if row["unit"] == "s" else 1)
    return default


def _doc_default_matches(text: str, row: dict[str, Any]) -> bool:
    text = re.sub(r"\(.*?\)", "", text).replace("`", "").strip()
    go = row["default"]
    if text.startswith("—") or text in ("off", "none", "false"):
        return go in ("", None, False, 0, "none")
    q = _quantity(text)
    if q is not None:
        want = _go_value_in_doc_units(row)
        return q == want or (row["key"].endswith("_mb") and q == want * (1 << 20))
    return str(go) == text


def _readme_config_rows() -> list[tuple[int, list[str]]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Configuration")
    rows: list[tuple[int, list[str]]] = []
    for i, line in enumerate(lines[start:], start + 1):
        if rows and not line.startswith("|"):  # the first table of the section only (others follow it)
            break
        if line.startswith("| ") and not line.startswith(("| Setting", "|---")):
            # cells split on " | " (a "|" inside backticks, e.g. a type list, has no spaces around it)
            rows.append((i, [c.strip() for c in line.strip().strip("|").split(" | ")]))
    assert len(rows) >= 15, "README.md's Configuration table not found"
    return rows


def readme_config_problems(settings: list[dict[str, Any]]) -> list[str]:
    go = {row["key"]: row for row in settings}
    problems: list[str] = []
    for line, cells in _readme_config_rows():
        assert len(cells) == 4, f"README.md:{line}: {cells}"
        _, keys_cell, env_cell, default_cell = cells
        keys = re.findall(r"`([a-z_]+)`", keys_cell)
        for key in keys:
            if key not in go:
                problems.append(f"README.md:{line}: {key} is not a setting")
        keys = [k for k in keys if k in go]
        env_all = {e for k in keys for e in go[k]["env"]}
        for name in re.findall(r"`([A-Z][A-Z0-9_]*\*?)`|\(`([A-Z]+_)\*` fallbacks\)", env_cell):
            name = name[0] or name[1] + "*"
            matched = {e for e in env_all if e == name or (name.endswith("*") and e.startswith(name[:-1]))}
            if not matched:
                problems.append(f"README.md:{line}: {name} is not the environment variable of {', '.join(keys)}")
        for k in keys:
            primary = go[k]["env"][0]
            if primary not in env_cell and not any(
                w.endswith("*") and primary.startswith(w[:-1]) for w in re.findall(r"`([A-Z_]+\*)`", env_cell)
            ):
                problems.append(f"README.md:{line}: {k}'s variable {primary} is not shown")
        defaults = [d.strip() for d in re.sub(r"\(.*?\)", "", default_cell).split(",")]
        if len(defaults) == len(keys):
            pairs = list(zip(defaults, keys, strict=True))
        elif len(defaults) == 1:
            pairs = [(defaults[0], k) for k in keys]
        else:
            problems.append(f"README.md:{line}: {len(defaults)} defaults for {len(keys)} keys")
            continue
        for text, key in pairs:
            if not _doc_default_matches(text, go[key]):
                problems.append(f"README.md:{line}: {key} default {text!r}, Go's is {go[key]['default']!r}")
    return problems


def test_readme_configuration_table_matches_go_settings() -> None:
    assert readme_config_problems(config_mod.go_settings()) == []


def test_readme_configuration_check_detects_drift() -> None:
    drift = json.loads(json.dumps(config_mod.go_settings()))
    for row in drift:
        if row["key"] == "retry_max_delay_ms":
            row["default"] = 20000
        elif row["key"] == "tls_ca_file":
            row["key"] = "ca_file"
        elif row["key"] == "transport":
            row["env"] = ["ZEROBUS_TRANSPORTS"]
        elif row["key"] == "max_record_bytes":
            row["default"] += 1
    found = "\n".join(readme_config_problems(drift))
    assert "retry_max_delay_ms default '30 s', Go's is 20000" in found
    assert "tls_ca_file is not a setting" in found
    assert "ZEROBUS_TRANSPORT is not the environment variable of transport" in found
    assert "transport's variable ZEROBUS_TRANSPORTS is not shown" in found
    assert f"max_record_bytes default '4 MiB {MINUS} 19 B'" in found


# ---- docs/errors.md -----------------------------------------------------------------------------------------------


def test_errors_page_matches_the_exception_classes() -> None:
    lines = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8").splitlines()
    go_src = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "core").glob("*.go") if "_test" not in p.name)
    kinds: set[str] = set()
    for n, line in enumerate(lines, 1):
        m = re.match(r"^\| `([a-z_]+)` \| `([^`]+)`[^|]*\| `(\w+)` \(`(\w+)`", line)
        if not m:
            continue
        kind, go_type, py_class, builtin = m.groups()
        kinds.add(kind)
        where = f"docs/errors.md:{n}"
        cls = getattr(zerobus_py, py_class, None)
        assert cls is errors_mod._BY_KIND.get(kind), f"{where}: kind {kind} raises {errors_mod._BY_KIND.get(kind)}"
        assert issubclass(cls, getattr(builtins, builtin)), f"{where}: {py_class} is not a {builtin}"
        name = go_type.lstrip("*")
        if not name.startswith("context."):
            assert re.search(rf"^\s*(type {name} struct|{name}\s*=)", go_src, re.M), f"{where}: core has no {name}"
    assert kinds == set(errors_mod._BY_KIND), f"docs/errors.md lists {sorted(kinds)}"


# ---- environment variables and flags named anywhere in the docs ---------------------------------------------------

# Variables the docs name that are not settings, and the file that reads each.
OTHER_VARIABLES = {
    "ZEROBUS_LOCAL_INSPECT_TOKEN": "cli/local.go",
    "ZEROBUS_RSS_SENDERS": "core/rss_test.go",
    "ZEROBUS_RSS_RANGES": "core/rss_test.go",
    "ZEROBUS_RSS_HEAPPROFILE": "core/rss_test.go",
    "ZEROBUS_TEST_IPC_FLIPS_DIR": "cli/send_ipcmeta_test.go",
}
_VARIABLE = re.compile(r"\b(?:ZEROBUS|DEBUG|OTLP|RETRY|UNITY_CATALOG|DATABRICKS)_[A-Z0-9_]*[A-Z0-9*]")


def test_every_environment_variable_in_the_docs_exists() -> None:
    env = {e for row in config_mod.go_settings() for e in row["env"]}
    for name, reader in OTHER_VARIABLES.items():
        assert name in (ROOT / reader).read_text(encoding="utf-8"), f"{reader} no longer reads {name}"
    bad = []
    # the docs, the Python docstrings and the command line's help (cli/*.go)
    cli_go = [p for p in sorted((ROOT / "cli").glob("*.go")) if not p.name.endswith("_test.go")]
    sources = [*ALL_DOCS, *sorted((ROOT / "zerobus_py").glob("*.py")), *cli_go]
    for path in sources:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in _VARIABLE.findall(line):
                if name.endswith("*"):
                    ok = any(e.startswith(name[:-1]) for e in env)
                else:
                    ok = name in env or name in OTHER_VARIABLES
                if not ok:
                    bad.append(f"{_page_id(path)}:{n}: {name}")
    assert bad == []


def _flags(zerobus_cli: Path, command: list[str]) -> set[str]:
    out = subprocess.run([str(zerobus_cli), *command, "-h"], capture_output=True, text=True, timeout=60).stdout
    return {m for m in re.findall(r"^  -([a-z][a-z0-9-]*)", out, re.M)} | {"h", "help"}


_COMMAND = re.compile(
    r"(?:\bzerobus|python -m zerobus_py|go run \./cmd/zerobus) (send|local|debug read|version)\b([^`\n#]*)"
)


def test_every_flag_shown_in_the_docs_exists(zerobus_cli: Path) -> None:
    flags = {c: _flags(zerobus_cli, c.split()) for c in ("send", "local", "debug read", "version")}
    bad = []
    for path in ALL_DOCS:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for command, rest in _COMMAND.findall(line):
                for word in rest.split():
                    m = re.match(r"^--?([a-z][a-z0-9-]*)$", word.strip("`,.;:()"))
                    if m and m.group(1) not in flags[command]:
                        bad.append(f"{_page_id(path)}:{n}: zerobus {command} has no flag -{m.group(1)}")
    assert bad == []


# ---- error messages the docs quote --------------------------------------------------------------------------------

_CSV_ERROR = re.compile(r"reading CSV row (\d+): record on line (\d+): wrong number of fields")


def test_quoted_csv_error_is_what_send_prints(zerobus_cli: Path, tmp_path: Path) -> None:
    """README.md quotes the error for a CSV record with too many cells: rows count from 0, lines from 1 (header)."""
    quoted = [(p, m) for p in ALL_DOCS for m in _CSV_ERROR.finditer(p.read_text(encoding="utf-8"))]
    assert quoted, "README.md no longer quotes a CSV error: drop this test"
    for path, m in quoted:
        row, line = int(m.group(1)), int(m.group(2))
        lines = ["id,name", *(f"{i},n{i}" for i in range(line - 2)), "99,x,extra"]
        (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run(
            [str(zerobus_cli), "send", "-local", "-quiet", "bad.csv"],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert proc.returncode == 1, proc.stderr
        assert m.group(0) in proc.stderr, f"{_page_id(path)} quotes {m.group(0)!r}; send prints {proc.stderr!r}"
        assert row == line - 2


# ---- metric, span and attribute names -----------------------------------------------------------------------------

# e.g. zerobus.rows.sent, zerobus.inflight.*; not a host (zerobus.us-west-2...) or a file (zerobus.proto, zerobus.yaml)
_TELEMETRY_NAME = re.compile(r"\bzerobus\.(?!(?:proto|yaml|yml|json)\b)[A-Za-z_][A-Za-z_.]*[A-Za-z_*](?![-\w])")


def test_every_metric_and_span_name_in_the_docs_is_made_by_the_code() -> None:
    """zerobus.rows.sent, zerobus.SendBatch, zerobus.inflight.*: each name the docs show is a string literal
    of the Go code (doc.go files aside), so a renamed instrument or span cannot leave its old name documented."""
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "core").rglob("*.go")
        if not p.name.endswith("_test.go") and p.name != "doc.go"
    )
    bad = []
    for path in ALL_DOCS:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in _TELEMETRY_NAME.findall(line):
                literal = f'"{name[:-1]}' if name.endswith("*") else f'"{name}"'
                if literal not in code:
                    bad.append(f"{_page_id(path)}:{n}: {name}")
    assert bad == []


def _go_sources(*dirs: str) -> dict[Path, str]:
    """The non-test Go files under dirs (doc.go files aside: they are docs)."""
    return {
        p: p.read_text(encoding="utf-8")
        for d in dirs
        for p in sorted((ROOT / d).rglob("*.go"))
        if not p.name.endswith("_test.go") and p.name != "doc.go"
    }


# Every span is opened with telemetry.Telemetry.Start, called as `<x>.tel.Start(ctx, "zerobus.Name", attrs...)`
# (the context may be a call: `s.pendingCtx()`).
_SPAN_START = re.compile(r'\.Start\((?:[^"()\n]|\([^()\n]*\))*,\s*"(zerobus\.[^"]+)"')


def _readme_span_list() -> tuple[int, str]:
    """(line, text) of the parentheses after README.md's "**spans**": the list a user reads of every span."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**spans** (")
    depth, end = 0, start + len("**spans** ")
    while end < len(text):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            break
        end += 1
    return text.count("\n", 0, start) + 1, text[start : end + 1]


def test_every_span_the_code_opens_is_in_the_readme_span_list() -> None:
    """The reverse of the test above: a span added in the code (e.g. zerobus.SendReader) must be listed."""
    telemetry_go = (ROOT / "core" / "internal" / "telemetry" / "telemetry.go").read_text(encoding="utf-8")
    assert "func (t *Telemetry) Start(ctx context.Context, name string" in telemetry_go, "spans open elsewhere now"
    opened: dict[str, str] = {}  # span name -> where it is first opened
    for path, src in _go_sources("core").items():
        found = list(_SPAN_START.finditer(src))
        assert len(found) == src.count("tel.Start("), f"{_page_id(path)}: a span name that is not a literal"
        for m in found:
            opened.setdefault(m.group(1), f"{_page_id(path)}:{src.count(chr(10), 0, m.start()) + 1}")
    assert {"zerobus.SendBatch", "zerobus.stream.create", "zerobus.token.fetch"} <= set(opened), opened
    line, listed = _readme_span_list()
    missing = [f"{name} (opened at {where})" for name, where in sorted(opened.items()) if f"`{name}`" not in listed]
    assert missing == [], f"README.md:{line}: the span list lacks {missing}"


def test_every_metric_attribute_key_is_documented() -> None:
    """Each attribute key of core/internal/telemetry/telemetry.go (zerobus.outcome, zerobus.debug.kind, ...) is
    named in README.md or core/doc.go (go doc ./core), so a dashboard's author finds every key."""
    telemetry_go = (ROOT / "core" / "internal" / "telemetry" / "telemetry.go").read_text(encoding="utf-8")
    keys = re.findall(r'attribute\.Key\("([^"]+)"\)', telemetry_go)
    assert {"zerobus.table", "zerobus.outcome", "zerobus.row.state"} <= set(keys), keys
    docs = (ROOT / "README.md").read_text(encoding="utf-8") + (ROOT / "core" / "doc.go").read_text(encoding="utf-8")
    documented = set(_TELEMETRY_NAME.findall(docs))
    missing = [k for k in keys if k not in documented]
    assert missing == [], f"attribute keys documented in neither README.md nor core/doc.go: {missing}"


# ---- Python API names ---------------------------------------------------------------------------------------------

_PY_CLASSES = (
    "ZerobusWrapper|AsyncZerobusWrapper|WrapperConfiguration|TransmissionResult|LocalServer|ObservabilityConfig"
)


def _resolves(dotted: str) -> bool:
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_python_name_in_the_docs_exists() -> None:
    """zerobus_py.debug.read_drops, ZerobusWrapper.check_schema, the Delivery table's Python column: each exists."""
    classes = {
        name: getattr(zerobus_py, name, None) or getattr(zerobus_py.local, name) for name in _PY_CLASSES.split("|")
    }
    bad = []
    for path in ALL_DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            for dotted in re.findall(r"\bzerobus_py(?:\.[A-Za-z_]\w*)+", line):
                if not _resolves(dotted):
                    bad.append(f"{_page_id(path)}:{n}: {dotted}")
            for cls, attr in re.findall(rf"(?<![.\w])({_PY_CLASSES})\.([a-z_]\w*)", line):
                if not hasattr(classes[cls], attr):
                    bad.append(f"{_page_id(path)}:{n}: {cls}.{attr}")
    # README.md's "Delivery" table: the Python column names TransmissionResult members
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(readme) if line.startswith("| Outcome |"))
    column = readme[header].split(" | ").index("Python (`TransmissionResult`)")
    rows = 0
    for n, line in enumerate(readme[header + 2 :], header + 3):
        if not line.startswith("|"):
            break
        rows += 1
        for attr in re.findall(r"`([a-z_]+)(?:\(\))?`", line.split(" | ")[column]):
            if not hasattr(zerobus_py.TransmissionResult, attr):
                bad.append(f"README.md:{n}: TransmissionResult.{attr}")
    assert rows == 3, "README.md's Delivery table changed shape"
    assert bad == []


# ---- make targets -------------------------------------------------------------------------------------------------

_MAKE = re.compile(r"`(?:[A-Z_]+=\S+ )*make ([a-z][a-z0-9-]*)|^\s*make ([a-z][a-z0-9-]*)", re.M)


def test_every_make_target_in_the_docs_exists() -> None:
    """`make py-bench-rss`, `ZEROBUS_RSS_RANGES=1 make go-rss`, a `make demo` line in a block: each is a target."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    assert {"test", "demo", "py-build"} <= targets
    bad = []
    for path in [*ALL_DOCS, *sorted((ROOT / "bench").glob("*.py")), ROOT / "examples" / "demo.py"]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for a, b in _MAKE.findall(line):
                if (a or b) not in targets:
                    bad.append(f"{_page_id(path)}:{n}: make {a or b}")
    assert bad == []


# ---- go test commands ---------------------------------------------------------------------------------------------


def _go_test_commands(text: str) -> Iterator[tuple[str, str, str]]:
    """(-run pattern, -bench pattern, package dir) of every `go test ... ./dir/` in backticks (lines joined)."""
    for span in re.findall(r"`(go test [^`]+)`", text):
        words = shlex.split(" ".join(span.split()))
        pkgs = [w for w in words if w.startswith("./") and not w.endswith("...")]
        opts = {w: words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-run", "-bench")}
        for pkg in pkgs:
            yield opts.get("-run", ""), opts.get("-bench", ""), pkg


def _funcs(pkg_dir: Path, prefix: str) -> list[str]:
    src = "\n".join(p.read_text(encoding="utf-8") for p in pkg_dir.glob("*_test.go"))
    return re.findall(rf"^func ({prefix}\w*)\(", src, re.M)


def test_every_go_test_command_in_the_docs_names_real_tests() -> None:
    """`go test -run '^$' -bench 'SendBatch10MB' ./core/` and the like select at least one benchmark or test."""
    bad = []
    seen = 0
    for path in ALL_DOCS:
        for run, bench, pkg in _go_test_commands(path.read_text(encoding="utf-8")):
            seen += 1
            pkg_dir = ROOT / pkg
            if not pkg_dir.is_dir():
                bad.append(f"{_page_id(path)}: no package {pkg}")
                continue
            if bench and not any(re.search(bench.split("/")[0], f) for f in _funcs(pkg_dir, "Benchmark")):
                bad.append(f"{_page_id(path)}: no benchmark of {pkg} matches {bench!r}")
            if (
                run
                and run != "^$"
                and not any(re.search(run.split("/")[0], f) for f in _funcs(pkg_dir, "(?:Test|Example)"))
            ):
                bad.append(f"{_page_id(path)}: no test of {pkg} matches {run!r}")
    assert seen >= 15, "the README's go test commands were not found"
    assert bad == []


# ---- repository paths ---------------------------------------------------------------------------------------------

_REPO_PATH = re.compile(
    r"(?<![\w/{<.-])((?:core|cli|cmd|tests_go|tests_py|bench|examples|docs|pybind|zerobus_py|\.github)/[\w./-]*\w)"
)
# paths of another repository: the original arrow-zerobus-sdk-wrapper's example
OTHER_REPO_PATHS = {"examples/python_example.py"}


def test_every_repository_path_in_the_docs_exists() -> None:
    """`core/internal/convert/doc.go`, `tests_py/test_cli_parity.py`, `examples/data/`: each path the docs name."""
    bad = []
    for path in ALL_DOCS:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in _REPO_PATH.findall(line):
                if name not in OTHER_REPO_PATHS and not (ROOT / name).exists():
                    bad.append(f"{_page_id(path)}:{n}: {name}")
    assert bad == []


# ---- YAML examples ------------------------------------------------------------------------------------------------


def test_yaml_examples_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ```yaml block of the README and the pages loads with the Go loader, validates, and means what it says."""
    import yaml

    found = 0
    for path in [ROOT / "README.md", *PAGES]:
        for b in blocks(path):
            if b.lang != "yaml":
                continue
            found += 1
            variables = set(re.findall(r"\$\{(\w+)\}", b.text))
            for name in variables:
                monkeypatch.setenv(name, f"value-of-{name}")
            file = tmp_path / f"b{b.line}.yaml"
            file.write_text(b.text, encoding="utf-8")
            config = zerobus_py.WrapperConfiguration.from_yaml(file)
            config.validate()
            settings = config.to_settings()
            for key, value in yaml.safe_load(b.text).items():
                want = f"value-of-{value[2:-1]}" if isinstance(value, str) and value.startswith("${") else value
                if key == "client_secret":  # printed redacted, but set
                    want = "<redacted>"
                assert settings[key] == want, f"{b.source}:{b.line}: {key} loads as {settings[key]!r}, not {want!r}"
    assert found, "README.md lost its YAML example"


# ---- docstrings ---------------------------------------------------------------------------------------------------


def test_exception_tree_in_the_errors_docstring_is_the_real_one() -> None:
    """The tree drawn in zerobus_py._errors' docstring (what help(zerobus_py._errors) shows) is the classes' bases."""
    doc = errors_mod.__doc__ or ""
    drawn = re.findall(r"[├└]── (\w+)\(([^)]*)\)", doc)
    assert len(drawn) == len(errors_mod._BY_KIND), drawn
    for name, bases in drawn:
        cls = getattr(errors_mod, name)
        want = [b.strip().removeprefix("builtins.") for b in bases.split(",")]
        assert [b.__name__ for b in cls.__bases__] == want, (name, cls.__bases__)


def test_local_server_docstring_example_runs() -> None:
    """The example of help(zerobus_py.local): a batch sent to an in-process server and read back."""
    import zerobus_py.local as local_mod

    doc = local_mod.__doc__ or ""
    example = textwrap.dedent(doc.split("::", 1)[1])
    out: dict[str, Any] = {"batch": pa.record_batch({"id": [1, 2, 3]})}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(example, "zerobus_py/local.py docstring", "exec"), out)
    assert "id: [[1,2,3]]" in printed.getvalue(), printed.getvalue()


# ---- links --------------------------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_in_the_docs_resolve() -> None:
    """[text](#anchor) names a heading of the same page, [text](path) a file of the repository."""
    bad = []
    for path in [ROOT / "README.md", *PAGES, ROOT / "CHANGELOG.md"]:
        text = path.read_text(encoding="utf-8")
        anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            file, _, anchor = target.partition("#")
            if file and not (path.parent / file).exists():
                bad.append(f"{_page_id(path)}: {target}: no such file")
            elif anchor and not file and anchor not in anchors:
                bad.append(f"{_page_id(path)}: {target}: no such heading")
    assert _slug("Delivery: at-least-once, and what each row's result means") == (
        "delivery-at-least-once-and-what-each-rows-result-means"
    )
    assert bad == []
