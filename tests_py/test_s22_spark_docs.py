"""Session 22 (sparkfix), s22 review sparkdocs L6: every option the Spark data source accepts can be found from the
README's Spark section ("Scaling out"): its Options bullet links the Configuration table and names the setting keys
that table leaves to core/doc.go (``all_fields_optional``, the timeouts, ...), and the data source's own options.
The keys come from the Go core's settings table (``go_settings()``), which the data source's option parser reads."""

from __future__ import annotations

import re
from pathlib import Path

from zerobus_py._config import go_settings
from zerobus_py.spark import _SOURCE_OPTIONS

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(lines: list[str], heading: str) -> list[str]:
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def test_every_spark_option_is_named_in_the_spark_section_or_the_table_it_links() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    config = _section(lines, "## Configuration")
    table = set()
    for line in config:
        cols = line.split("|")
        if line.startswith("|") and len(cols) > 3:
            table |= set(re.findall(r"`([a-z_]+)`", cols[2]))
    scaling = _section(lines, "## Scaling out")
    start = next(i for i, line in enumerate(scaling) if line.startswith("- **Options**"))
    end = next(i for i in range(start + 1, len(scaling)) if scaling[i].startswith("- "))
    options = "\n".join(scaling[start:end])
    assert "[Configuration](#configuration)" in options
    named = set(re.findall(r"`([a-z_]+)`", options))
    settings = {s["key"] for s in go_settings()}
    assert {"table_name", "client_secret", "all_fields_optional", "ack_timeout_ms"} <= settings  # the Go table
    assert settings - table - named == set()
    own = {"quarantine_path", "report_path"}
    assert own <= _SOURCE_OPTIONS and own <= named
