"""`make help` lists every target of the Makefile with a description, and every target the README names.

`make help` prints the first sentence of each ``## target: ...`` comment, so a target without one is missing from
it; these tests make that a failure instead of drift.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `make X` and `VAR=value make X` in backticks, or a `make X` line in a block (as tests_py/test_docs.py reads them)
_MAKE = re.compile(r"`(?:[A-Z_]+=\S+ )*make ([a-z][a-z0-9-]*)|^\s*make ([a-z][a-z0-9-]*)", re.M)


@pytest.fixture(scope="module")
def help_lines() -> dict[str, str]:
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not on PATH (`make test` runs this suite)")
    proc = subprocess.run([make, "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^([a-z][a-z0-9-]*) +(\S.*)$", line)
        assert m, f"make help printed {line!r}"
        assert m.group(1) not in out, f"make help lists {m.group(1)} twice"
        out[m.group(1)] = m.group(2)
    return out


def test_make_help_lists_every_target(help_lines: dict[str, str]) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # rules, not files (.venv/.py-deps, tests_java/...) nor variable assignments (GO ?= go)
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):(?!=)", makefile, re.M)) - {"all"}
    assert len(targets) >= 30, targets
    assert set(help_lines) == targets
    for name, text in help_lines.items():
        assert len(text) > 15 and text.endswith("."), f"make help: {name}: {text!r}"


def test_every_make_target_in_the_readme_is_in_make_help(help_lines: dict[str, str]) -> None:
    named = set()
    for a, b in _MAKE.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        named.add(a or b)
    assert {"test", "demo", "py-bench", "bench-debug", "sdk-conformance-long", "py-roundtrip-long"} <= named
    assert named - set(help_lines) == set()


def test_make_help_prints_first_sentences(help_lines: dict[str, str]) -> None:
    """The description is the comment's first sentence, joined across its lines."""
    assert help_lines["help"].startswith("every target with the first sentence of its description")
    # bench-debug's comment spans lines; its first sentence names every part the target runs
    assert "null, local and paced servers" in help_lines["bench-debug"]
    assert help_lines["bench-debug"].endswith("the writer's direct I/O vs the page cache.")
    assert "Go SendBatch against" not in help_lines["bench-debug"]  # the second sentence
