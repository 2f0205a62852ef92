"""Runs every command README.md shows, so the first hour with the project never stumbles.

Every fenced ``sh`` block is split into commands (comment lines skipped, ``\\`` continuations joined) and each
command runs from a scratch directory that holds ``examples/`` (the shipped sample data), as a user in the
repository root would run it: ``go run ./cmd/zerobus`` is a binary built once from this checkout,
``python`` is this interpreter (with zerobus_py installed). ``zerobus local`` runs until stopped, so it is started,
must print its endpoint, and is stopped with Ctrl-C. Every ``python`` block runs as a script.

A block that cannot run here (it installs packages, needs a workspace or opens a browser) starts with the visible
line ``# not run by the README test: <reason>``; there must be few of them.

Commands are parsed with shlex, not run by a shell, so they work the same on Windows: only ``VAR=value`` prefixes,
words and a trailing comment are understood; pipes or redirections make the test fail, naming the command.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOT_RUN = "# not run by the README test"
MAX_NOT_RUN = 5
SHELL_LANGS = {"sh", "bash", "shell", "console"}
# A bound for a hung command, not a speed check: the Spark block starts a JVM and a local[2] cluster,
# which took over 120 s on a loaded 2-core machine.
TIMEOUT = 300


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    text: str
    source: str = "README.md"  # the file, for messages

    @property
    def not_run(self) -> bool:
        return self.text.lstrip().startswith(NOT_RUN)


def blocks(path: Path = README) -> list[Block]:
    """The fenced blocks of a Markdown file (README.md unless given)."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        out.append(Block(m.group(1), start + 1, "\n".join(body), path.relative_to(ROOT).as_posix()))
        i += 1
    return out


def commands(block: Block) -> Iterator[str]:
    pending = ""
    for raw in block.text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    assert not pending, f"{block.source}:{block.line}: a command ends with a line continuation"


def test_readme_blocks_are_few_not_run_and_say_why() -> None:
    found = blocks()
    shell = [b for b in found if b.lang in SHELL_LANGS]
    assert len(shell) >= 3, "README.md lost its command blocks?"
    not_run = [b for b in found if b.not_run]
    assert len(not_run) <= MAX_NOT_RUN, [b.line for b in not_run]
    for b in not_run:
        reason = b.text.lstrip().splitlines()[0][len(NOT_RUN) :].lstrip(" (").strip()
        assert len(reason) > 10, f"README.md:{b.line}: say why the block is not run"
    # Markers anywhere but the first line would be invisible to this test.
    for b in found:
        assert NOT_RUN not in b.text.lstrip()[1:], f"README.md:{b.line}: the not-run marker must be the first line"
    # Shell commands in blocks of another language would never run.
    for b in found:
        assert b.lang in SHELL_LANGS | {"python", "go", "yaml", "text", ""}, f"README.md:{b.line}: lang {b.lang!r}"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch repository root: the sample data, nothing the commands write lands in the checkout."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return tmp_path


def argv_of(command: str, zerobus_cli: Path) -> tuple[dict[str, str], list[str]]:
    """Split command into VAR=value assignments and the argv to run, mapped to this checkout."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = list(lexer)
    bad = [w for w in words if w and set(w) <= set("|&;<>")]
    assert not bad, f"README command {command!r}: shell syntax {bad} is not supported by this test"
    env: dict[str, str] = {}
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    assert words, f"README command {command!r} runs nothing"
    if words[:3] == ["go", "run", "./cmd/zerobus"]:
        return env, [str(zerobus_cli), *words[3:]]
    if words[0] in ("python", "python3"):
        return env, [sys.executable, *words[1:]]
    return env, words


@dataclass
class Ran:
    command: str
    argv: list[str]
    stdout: str
    stderr: str


# What the output of some commands must show, beyond a zero exit status. Each check must match a README command,
# so the checks and the README stay in step.
def _sent_24(r: Ran) -> None:
    assert re.search(r"rows sent:\s+24 of 24", r.stdout), r.stdout
    assert re.search(r"holds 24 rows", r.stdout), r.stdout


def _py_sent_24(r: Ran) -> None:
    assert re.search(r"rows sent:\s+24 of 24", r.stdout), r.stdout
    assert re.search(r"rows failed:\s+0\n", r.stdout), r.stdout
    assert re.search(r"holds 24 rows", r.stdout), r.stdout


def _proto_rows(r: Ran) -> None:
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [int(row["id"]) for row in rows] == list(range(1, 25))
    assert rows[3]["event"] == "purchase"
    assert rows[3]["amount"] == 26.25


def _arrow_table(r: Ran) -> None:
    assert re.search(r"\bid\b.*\bevent\b.*\bat\b", r.stdout), r.stdout
    assert "2026-11-23" in r.stdout  # timestamps as timestamps in the Arrow debug file
    assert "purchase" in r.stdout


def _help(r: Ran) -> None:
    assert "send" in r.stdout and "local" in r.stdout, r.stdout


def _core_version() -> str:
    m = re.search(r'^const Version = "([^"]+)"$', (ROOT / "core" / "version.go").read_text(encoding="utf-8"), re.M)
    assert m, "core/version.go has no Version constant"
    return m.group(1)


def _go_version(r: Ran) -> None:
    assert r.stdout.startswith(f"zerobus-wrapper {_core_version()} (go"), r.stdout


def _py_version(r: Ran) -> None:
    # the same command line as the Go binary, run in-process by the extension
    assert r.stdout.startswith(f"zerobus-wrapper {_core_version()} (go"), r.stdout


CHECKS: list[tuple[str, Callable[[Ran], None]]] = [
    (r"^go run \./cmd/zerobus send -local examples/data/events\.parquet", _sent_24),
    (r"go run \./cmd/zerobus send -local examples/data/events\.csv", _sent_24),
    (r"debug read zerobus-debug/zerobus/proto/main\.default\.zerobus_send\.proto", _proto_rows),
    (r"debug read -format table zerobus-debug/zerobus/arrow/", _arrow_table),
    (r"^python -m zerobus_py --help", _help),
    (r"^python -m zerobus_py send --local examples/data/events\.parquet", _py_sent_24),
    (r"^go run \./cmd/zerobus version", _go_version),
    (r"^python -m zerobus_py version", _py_version),
]


# Settings a developer may have exported (a real workspace's, debug or telemetry switches) that would change
# what the README's commands do; they run as in a fresh shell.
_SETTING_PREFIXES = ("ZEROBUS_", "DATABRICKS_", "UNITY_CATALOG_", "DEBUG_", "OTLP_", "RETRY_")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}


def run_local_server(argv: list[str], env: dict[str, str], cwd: Path) -> Ran:
    """Start a long-running `zerobus local`, wait for its endpoint, stop it with Ctrl-C (terminate on Windows)."""
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if os.name == "nt" else 0
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, creationflags=flags
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "inspect:" in line:  # the last line of the banner
                break
        text = "".join(lines)
        assert re.search(r"endpoint:\s+http://127\.0\.0\.1:\d+", text), text
        if os.name == "nt":
            proc.terminate()
        else:
            proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
        if os.name != "nt":
            assert proc.returncode == 0, f"zerobus local exited {proc.returncode} on Ctrl-C: {err}"
        return Ran("", argv, text + rest, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_readme_shell_commands_run(zerobus_cli: Path, workdir: Path) -> None:
    ran: list[Ran] = []
    for block in blocks():
        if block.lang not in SHELL_LANGS or block.not_run:
            continue
        for command in commands(block):
            extra, argv = argv_of(command, zerobus_cli)
            env = dict(clean_env(), **extra)
            started = time.monotonic()
            if argv[0] == str(zerobus_cli) and argv[1:2] == ["local"]:
                r = run_local_server(argv, env, workdir)
            else:
                proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT)
                assert proc.returncode == 0, (
                    f"README.md:{block.line}: {command!r} exited {proc.returncode}\n"
                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
                )
                r = Ran(command, argv, proc.stdout, proc.stderr)
            r.command = command
            assert time.monotonic() - started < 60, f"{command!r} is too slow for the README test"
            ran.append(r)
    assert any(r.argv[1:2] == ["local"] for r in ran), "README.md no longer shows `zerobus local`"
    for pattern, check in CHECKS:
        matched = [r for r in ran if re.search(pattern, r.command)]
        assert matched, f"no README command matches {pattern!r}: update CHECKS in {Path(__file__).name}"
        for r in matched:
            try:
                check(r)
            except AssertionError as exc:
                raise AssertionError(f"README command {r.command!r}: {exc}") from exc


def test_readme_python_blocks_run(workdir: Path) -> None:
    snippets = [b for b in blocks() if b.lang == "python" and not b.not_run]
    assert snippets, "README.md lost its Python example"
    for block in snippets:
        script = workdir / f"readme_{block.line}.py"
        script.write_text(block.text + "\n", encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=workdir, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
        assert proc.returncode == 0, f"README.md:{block.line}: the Python block failed:\n{proc.stderr}"
        assert proc.stdout.strip(), f"README.md:{block.line}: the Python block printed nothing"
        if "server.table(" in block.text:  # "Python in ten lines" prints the rows that landed
            assert "pyarrow.Table" in proc.stdout and "id: [[1,2,3]]" in proc.stdout, proc.stdout
            # print(result): "rows acknowledged / not, attempts, latency, bytes", as its comment says
            shown = r"3/3 rows acknowledged, attempts=1, latency_ms=[\d.]+, batch_size_bytes=\d+"
            assert re.search(shown, proc.stdout), proc.stdout
