"""The native extension built by gopy from the Go package ``pybind``.

``setup.py`` places three generated files here at build time: ``pybind.py``
(the functions and classes of the Go facade), ``go.py`` (Go slice helper
types) and ``_zbnative*.so`` (the compiled Go code). Import the public
``zerobus_py`` package instead of these modules.
"""
