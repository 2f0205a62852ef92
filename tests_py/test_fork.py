"""Worker processes, as data engineers start them: a child forked after zerobus_py's Go runtime started (os.fork,
multiprocessing's 'fork' start method, the default on Linux before Python 3.14) cannot run Go. It hung forever on
its first call (a new wrapper, an inherited one, a LocalServer query); now every call raises a ZerobusError saying
why and what to use instead. A child forked before Go started, and spawned workers, send normally.

Each case runs in a child interpreter: forking the test process itself would copy pytest's state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork: POSIX only")

_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    import pyarrow as pa
    import zerobus_py
    from zerobus_py import ZerobusError, ZerobusWrapper
    from zerobus_py.local import LocalServer

    def in_child(fn):
        # the child's outcome, by a pipe; SIGALRM ends a child that hangs
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.alarm(10)
            try:
                out = {"ok": fn()}
            except ZerobusError as e:
                out = {"raised": type(e).__name__, "message": str(e)}
            os.write(w, json.dumps(out).encode())
            os._exit(0)
        os.close(w)
        _, status = os.waitpid(pid, 0)
        data = os.read(r, 1 << 16)
        return json.loads(data) if data else {"died": status}

    batch = pa.record_batch({"id": [1, 2, 3]})
    out = {}
    if sys.argv[1] == "before":
        # nothing of Go loaded yet: the child starts its own Go runtime
        def child():
            with LocalServer() as s, ZerobusWrapper(s.config("main.fork.child")) as w:
                w.send_batch(batch)
                return s.record_count("main.fork.child")
        out["child"] = in_child(child)
    elif sys.argv[1] == "ca_file":
        # a child that exits normally runs the finalizers it inherited; the TLS CA file is the parent's server's
        server = LocalServer(tls=True)
        path = server.ca_file
        for how in ("exit", "close"):
            pid = os.fork()
            if pid == 0:
                signal.alarm(10)
                if how == "close":
                    try:
                        server.close()
                    except ZerobusError:
                        pass
                sys.exit(0)
            _, status = os.waitpid(pid, 0)
            out[how] = {"status": status, "ca_file_exists": os.path.exists(path)}
        with ZerobusWrapper(server.config("main.fork.tls")) as w:  # a new client of the parent uses the file
            w.send_batch(batch)
        out["parent_stored"] = server.record_count("main.fork.tls")
        server.close()
        out["removed_by_parent_close"] = not os.path.exists(path)
    else:
        server = LocalServer()
        wrapper = ZerobusWrapper(server.config("main.fork.parent"))
        wrapper.send_batch(batch)

        def new_wrapper():
            with ZerobusWrapper(server.config("main.fork.child")) as w:
                return w.send_batch(batch).successful_count

        out["new_wrapper"] = in_child(new_wrapper)
        out["inherited_wrapper"] = in_child(lambda: wrapper.send_batch(batch).successful_count)
        out["server_query"] = in_child(lambda: server.record_count("main.fork.parent"))
        out["inherited_dropped"] = in_child(lambda: [wrapper.__del__(), "quiet"][1])
        # a parent thread holds the log drain's lock at the fork (it does while it drains): the child's shutdown
        # drains too, and must not wait for a lock no thread of the child will release
        import threading
        import zerobus_py._logs as logs
        held, release = threading.Event(), threading.Event()
        def hold():
            with logs._lock:
                held.set()
                release.wait()
        threading.Thread(target=hold, daemon=True).start()
        held.wait()
        other = ZerobusWrapper(server.config("main.fork.other"))
        out["shutdown_while_log_lock_held"] = in_child(other.shutdown)
        release.set()
        other.shutdown()
        wrapper.send_batch(batch)  # the parent is unaffected
        wrapper.shutdown()
        out["parent_stored"] = server.record_count("main.fork.parent")
        out["child_stored"] = server.record_count("main.fork.child")
        server.close()
    print(json.dumps(out))
    """
)


def _run(mode: str) -> dict[str, dict[str, object]]:
    proc = subprocess.run([sys.executable, "-I", "-c", _SCRIPT, mode], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, dict[str, object]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def test_a_child_forked_after_go_started_is_told_instead_of_hanging() -> None:
    out = _run("after")
    for case in ("new_wrapper", "inherited_wrapper", "server_query", "shutdown_while_log_lock_held"):
        got = out[case]
        assert got.get("raised") == "ZerobusError", f"{case}: {got}"
        message = str(got["message"])
        assert "this process was forked" in message and "get_context('spawn')" in message, message
    # an inherited wrapper dropped in the child (its finalizer) neither hangs nor raises
    assert out["inherited_dropped"] == {"ok": "quiet"}
    assert out["parent_stored"] == 6 and out["child_stored"] == 0


def test_a_child_forked_before_go_started_sends() -> None:
    assert _run("before") == {"child": {"ok": 3}}


def test_a_forked_child_leaves_the_parents_tls_ca_file() -> None:
    """The LocalServer's CA file is removed by the process that wrote it only: not by a forked child's exit (its
    inherited finalizer) nor by the child's close() of its copy."""
    out = _run("ca_file")
    assert out["exit"] == {"status": 0, "ca_file_exists": True}
    assert out["close"] == {"status": 0, "ca_file_exists": True}
    assert out["parent_stored"] == 3 and out["removed_by_parent_close"] is True


def _spawned_send(args: tuple[str, str, str, str, int]) -> int:
    """A worker of a spawn pool: its own wrapper, sending to the parent's local server."""
    import pyarrow as pa

    from zerobus_py import ZerobusWrapper

    endpoint, url, secret, table, start = args
    with ZerobusWrapper(
        endpoint=endpoint, table_name=table, unity_catalog_url=url, client_id="local-client", client_secret=secret
    ) as w:
        return w.send_batch(pa.record_batch({"id": list(range(start, start + 100))})).successful_count


def test_spawned_workers_send(table_name: str) -> None:
    """The advice of the fork error: a spawn pool's workers each send with their own wrapper."""
    import multiprocessing

    from zerobus_py.local import LocalServer

    with LocalServer() as server:
        assert server.client_id == "local-client"
        args = [(server.endpoint, server.workspace_url, server.client_secret, table_name, k * 100) for k in range(3)]
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            assert pool.map(_spawned_send, args) == [100, 100, 100]
        assert sorted(server.table(table_name).column("id").to_pylist()) == list(range(300))
