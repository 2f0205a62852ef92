"""Check a release tag against the project's version and print its CHANGELOG section.

Usage: python .github/scripts/release_notes.py vX.Y.Z [OUTPUT]

Fails (exit 1, naming the file) when the tag is not "v" + core.Version
(core/version.go, the one version source of the Go module and the Python
package), when CHANGELOG.md has no non-empty section "## [X.Y.Z]", or when
that section's heading has no release date ("## [X.Y.Z] - YYYY-MM-DD"; it
still says "unreleased" until the release is prepared). The section's body is
written to OUTPUT (default: stdout) for the GitHub release.

Usage for a draft (CI on every push, before the date is written):
python .github/scripts/release_notes.py --draft vX.Y.Z [OUTPUT]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def core_version(root: Path = ROOT) -> str:
    """Return the Go constant core.Version."""
    path = root / "core" / "version.go"
    m = re.search(r'^const Version = "([^"]+)"$', path.read_text(encoding="utf-8"), re.MULTILINE)
    if not m:
        raise SystemExit(f'{path}: no line `const Version = "X.Y.Z"`')
    return m.group(1)


def changelog_section(version: str, root: Path = ROOT) -> str:
    """Return the body of the CHANGELOG.md section "## [version]" (up to the next "## ")."""
    path = root / "CHANGELOG.md"
    body: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            if body is not None:
                break
            if re.match(r"## \[" + re.escape(version) + r"\](\s|$)", line):
                body = []
            continue
        if body is not None:
            body.append(line)
    if body is None:
        raise SystemExit(f"{path}: no section '## [{version}]'")
    text = "\n".join(body).strip()
    if not text:
        raise SystemExit(f"{path}: the section '## [{version}]' is empty")
    return text + "\n"


def release_date(version: str, root: Path = ROOT) -> str:
    """Return the date of the CHANGELOG.md heading "## [version] - YYYY-MM-DD"."""
    path = root / "CHANGELOG.md"
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"## \[" + re.escape(version) + r"\](\s|$)", line):
            m = re.fullmatch(r"## \[" + re.escape(version) + r"\] - (\d{4}-\d{2}-\d{2})\s*", line)
            if not m:
                raise SystemExit(
                    f"{path}: the heading {line.strip()!r} has no release date: "
                    f"write '## [{version}] - YYYY-MM-DD' before tagging"
                )
            return m.group(1)
    raise SystemExit(f"{path}: no section '## [{version}]'")


def main(argv: list[str]) -> None:
    """Check argv[1] (the tag) and write the release notes."""
    draft = "--draft" in argv[1:2]
    if draft:
        argv = argv[:1] + argv[2:]
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    tag, version = argv[1], core_version()
    if tag != "v" + version:
        raise SystemExit(f"tag {tag} does not match core.Version {version} (core/version.go): want v{version}")
    notes = changelog_section(version)
    if not draft:
        release_date(version)
    if len(argv) == 3:
        Path(argv[2]).write_text(notes, encoding="utf-8")
    else:
        sys.stdout.write(notes)


if __name__ == "__main__":
    main(sys.argv)
