"""The native extension built by gopy from the Go package ``pybind``.

``setup.py`` places three generated files here at build time: ``pybind.py``
(the functions and classes of the Go facade), ``go.py`` (Go slice helper
types) and ``_zbnative*.so`` (the compiled Go code). Import the public
``zerobus_py`` package instead of these modules.

A source checkout is never built in place (``pip install .`` and ``make
py-build`` install into site-packages), yet ``python -m zerobus_py`` run from
the repository root imports the source tree's package first. When this
directory holds no extension, the installed package's is used instead, if
its version is the source tree's (``core.Version`` in ``core/version.go``
beside the package); else importing this package raises ImportError saying
to run ``pip install .`` (or ``make py-build``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def _use_an_installed_extension() -> None:
    here = Path(__file__).resolve().parent
    if (here / "pybind.py").is_file():
        return
    for entry in sys.path:
        other = Path(entry or ".").resolve() / "zerobus_py" / "_native"
        if other != here and (other / "pybind.py").is_file() and any(other.glob("_zbnative*")):
            __path__.append(str(other))
            _check_version(here, other)
            return


def _check_version(here: Path, other: Path) -> None:
    """Raise ImportError when the installed extension in ``other`` is not
    the version of the source tree ``here`` belongs to."""
    try:
        text = (here.parent.parent / "core" / "version.go").read_text(encoding="utf-8")
    except OSError:
        return  # not in a checkout: nothing to compare with
    m = re.search(r'^const Version = "([^"]+)"$', text, re.MULTILINE)
    if m is None:
        return
    from . import pybind  # the installed extension, through __path__

    if pybind.Version() != m.group(1):
        raise ImportError(
            f"the source tree {here.parent} is zerobus-wrapper {m.group(1)}, but the native extension "
            f"installed in {other} is {pybind.Version()}: run `pip install .` (or `make py-build`) "
            "in the checkout to rebuild it"
        )


_use_an_installed_extension()
