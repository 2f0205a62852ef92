"""The native extension built by gopy from the Go package ``pybind``.

``setup.py`` places three generated files here at build time: ``pybind.py``
(the functions and classes of the Go facade), ``go.py`` (Go slice helper
types) and ``_zbnative*.so`` (the compiled Go code). Import the public
``zerobus_py`` package instead of these modules.

A source checkout is never built in place (``pip install .`` and ``make
py-build`` install into site-packages), yet ``python -m zerobus_py`` run from
the repository root imports the source tree's package first. When this
directory holds no extension, the installed package's is used instead.
"""

from __future__ import annotations

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
            return


_use_an_installed_extension()
