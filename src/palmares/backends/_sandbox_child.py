"""The sandbox's child: confine this process, then load the model and answer requests.

Run as ``python -m palmares.backends._sandbox_child ORDER`` by :mod:`.sandboxed` only. Every
limit is in place before the model file is opened, since the file is what may be hostile:
death with the parent, no core dumps, an address-space and a file-size limit, and (unless the
operator allowed the host's network) a network namespace of its own, where not even loopback
is up. Messages go out on a private copy of stdout; the C library's own stdout is sent to
stderr, so nothing llama.cpp prints can be taken for an answer.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import importlib
import json
import os
import resource
import signal
import socket
import sys
import time
from typing import IO, Any

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
NOBODY = 65534
#: test hook (fault injection): what the child does after confining itself
FAULT_ENV = "PALMARES_FAULT_SANDBOX"


def main() -> int:
    order: dict[str, Any] = json.loads(sys.argv[1])
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    problem = confine(order)
    if problem is not None:
        return say(out, {"error": problem}, 3)
    try:
        from palmares.backends.llama import LlamaBackend  # before giving up root: it reads files

        model = drop_root(order["model"], order["parent"])
        fault(os.environ.get(FAULT_ENV, ""), order["memory_bytes"], out)
        backend = LlamaBackend.create(model, dict(order.get("options", {})))
    except MemoryError:
        return say(out, {"error": "memory"}, 3)
    except Exception:  # the reason's kind is reported; its text stays in the log
        import traceback

        traceback.print_exc()
        return say(out, {"error": "load"}, 3)
    # the identity names the file as submitted, not the descriptor it was read through
    name = os.path.basename(order["model"])
    identity = backend.identity() | {"model": name.rsplit(".", 1)[0], "file": name}
    say(out, {"identity": identity})
    return serve(backend, out)


def drop_root(model: str, parent: int) -> str:
    """Run as ``nobody`` when started as root: a compromised loader then owns nothing. The
    model is opened first and read through ``/proc/self/fd`` (no path to it need be readable
    by ``nobody``); changing user clears the parent-death signal, so it is set again. The path
    to load; unchanged when not root."""
    if os.getuid() != 0:
        return model
    # codecs are imported on first use (jinja2 compiles a chat template with unicode-escape);
    # the standard library may be in a folder that ``nobody`` cannot read
    import encodings
    import pkgutil

    import llama_cpp  # noqa: F401 — its shared library and modules, while root can read them

    for codec in pkgutil.iter_modules(encodings.__path__):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"encodings.{codec.name}")

    fd = os.open(model, os.O_RDONLY)
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    libc = _libc()
    libc.prctl(PR_SET_DUMPABLE, 1)  # else /proc/self stays root's and the descriptor unreadable
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    return f"/proc/self/fd/{fd}"


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def confine(order: dict[str, Any]) -> str | None:
    """Apply the limits; the name of what could not be done, or None."""
    libc = _libc()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != order["parent"]:  # the parent died before the line above
        os._exit(1)
    memory = int(order["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))  # its log, at most
    if order.get("network", "none") == "host":
        return None
    # as root, a network namespace; otherwise inside a user namespace of its own
    if libc.unshare(CLONE_NEWNET) != 0 and libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return "no-namespace"
    return None


def fault(kind: str, memory: int, out: IO[str]) -> None:
    """Fault injection for the tests: the faults a hostile model file would cause, caused
    here, after confinement, so that the parent's handling of each is what is tested."""
    if kind == "segv":
        ctypes.string_at(0)
    elif kind == "hang":
        time.sleep(10**6)
    elif kind == "oom":
        hoard = [bytearray(2**20) for _ in range(memory // 2**20 + 1)]
        del hoard
    elif kind.startswith("connect:"):  # tell the parent whether loopback can be reached
        try:
            socket.create_connection(("127.0.0.1", int(kind.split(":")[1])), timeout=2).close()
            reached = "reached"
        except OSError as exc:
            reached = f"unreachable ({exc.errno})"
        say(out, {"probe": reached, "uid": os.getuid()})
        sys.exit(0)


def serve(backend: Any, out: IO[str]) -> int:
    from palmares.core.requests import request_from_json, response_to_json

    for line in sys.stdin:
        message = json.loads(line)
        op = message["op"]
        if op not in ("loglikelihood", "generate"):
            return say(out, {"error": "run"}, 3)
        requests = [request_from_json(r) for r in message["requests"]]

        def answer(i: int, response: Any) -> None:
            say(out, {"i": i, "response": response_to_json(response)})

        try:
            getattr(backend, op)(requests, answer)
        except MemoryError:
            return say(out, {"error": "memory"}, 3)
        except Exception:
            import traceback

            traceback.print_exc()
            return say(out, {"error": "run"}, 3)
    backend.close()
    return 0


def say(out: IO[str], message: dict[str, Any], code: int = 0) -> int:
    out.write(json.dumps(message) + "\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
