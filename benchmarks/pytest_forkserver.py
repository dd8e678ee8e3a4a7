"""A fork server for pytest, so that mutation testing does not pay torch's import once per mutant.

    python benchmarks/pytest_forkserver.py serve SOCKET            # imports torch, numba, pandas, scipy, pytest
    python benchmarks/pytest_forkserver.py run SOCKET [pytest args]  # exit status of pytest, in the cwd and env given

``run`` is what benchmarks/mutation.py gives mutmut as its runner: it sends its arguments, working folder and
environment to the server, which forks; the child applies them, imports ``presyn`` afresh from the (mutated)
source on PYTHONPATH (the server never imports presyn or the tests), runs ``pytest.main`` and exits with its
status. The child is killed as soon as the client goes away (mutmut kills the client at its timeout), and
kills itself after FORKSERVER_TIMEOUT seconds in any case. One request at a time. Not for CI; scratch copies only.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys


def serve(path: str, timeout: int) -> None:
    import matplotlib  # noqa: F401  heavy imports the tests share, done once
    import numba  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pytest  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401
    import yaml  # noqa: F401

    assert not any(m == "presyn" or m.startswith("presyn.") for m in sys.modules), "the server must not import presyn"
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print(f"pytest fork server on {path}", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            req = json.loads(_recv(conn))
            pid = os.fork()
            if pid == 0:  # child
                srv.close()
                signal.alarm(timeout)
                os.chdir(req["cwd"])
                os.environ.clear()
                os.environ.update(req["env"])
                sys.path[:0] = [p for p in req["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
                sys.dont_write_bytecode = True
                out = (
                    os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    if req.get("log")
                    else os.open(os.devnull, os.O_WRONLY)
                )
                os.dup2(out, 1)
                os.dup2(out, 2)
                import pytest

                code = pytest.main(req["args"])
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(int(code))
            code = _wait(pid, conn)
            if code is not None:
                conn.sendall(str(code if code >= 0 else 128 - code).encode())


def _wait(pid: int, conn: socket.socket) -> int | None:
    """The child's exit status; None after killing it because the client went away (mutmut's timeout kills
    the client: the child must not keep the server, and so every later mutant, waiting)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([conn], [], [], 0.2)
        if readable and not conn.recv(1):  # the client closed its end
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None


def _recv(conn: socket.socket) -> str:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks).decode()


def run(path: str, args: list[str]) -> int:
    req = {"cwd": os.getcwd(), "env": dict(os.environ), "args": args, "log": os.environ.get("FORKSERVER_LOG")}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall((json.dumps(req) + "\n").encode())
        reply = s.recv(64).decode().strip()
    return int(reply)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(os.environ.get("FORKSERVER_TIMEOUT", "300")))
    elif sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)
