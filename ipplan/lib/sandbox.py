"""Run one function in a child process with a time limit and a memory limit; kill the child past either.

``signal.alarm`` works only in the main thread, and a runaway regular expression or a decompressing library
cannot be interrupted from Python anyway, so the work runs in its own process that the caller can kill.
Children are forked from a ``forkserver`` (a clean, single-threaded process started once and preloaded with
the parsing libraries): safe from the threads of runserver and gunicorn, and a parse starts in milliseconds.

No Django here: the child imports only this module and the function's own module.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import multiprocessing.util
import resource
import signal
import tempfile
from collections.abc import Callable
from typing import Any

# Imported once by the forkserver, so each child starts with them loaded (with "__main__", children do not
# re-run the main script: gunicorn's, manage.py). Missing ones are skipped.
PRELOAD = [
    "__main__",
    "ipplan.lib.sandbox",
    "tasks.parsing",
    "docx",
    "bs4",
    "lxml.etree",
    "openpyxl",
    "python_calamine",
]


class LimitExceeded(Exception):
    """The child ran past its time limit (``what == "time"``) or its memory limit (``"memory"``)."""

    def __init__(self, what: str, limit: float):
        super().__init__(f"{what} limit {limit} exceeded")
        self.what = what
        self.limit = limit


class ChildCrashed(Exception):
    """The child died without an answer (a signal, a crash in a C library) or raised something unpicklable."""


_context = None


def _get_context():
    global _context
    if _context is None:
        _short_process_tempdir()
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


# A Unix socket path is limited to about 108 bytes.
_SOCKET_DIR_LIMIT = 60


def _short_process_tempdir() -> None:
    """The forkserver listens on a Unix socket in multiprocessing's per-process temp dir, created once under
    ``tempfile``'s directory. Under a long TMPDIR (a deep test or container path) the socket path would be too
    long and every later parse would fail: create that directory under /tmp instead."""
    if len(tempfile.gettempdir()) <= _SOCKET_DIR_LIMIT:
        multiprocessing.util.get_temp_dir()
        return
    previous = tempfile.tempdir
    tempfile.tempdir = "/tmp"
    try:
        multiprocessing.util.get_temp_dir()  # created now and kept for the process's life
    finally:
        tempfile.tempdir = previous


def _child(
    conn, func: Callable, args: tuple, kwargs: dict, memory_bytes: int | None, cpu_seconds: int
) -> None:
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The kernel stops a busy child even if its parent is gone (a gunicorn worker killed at its own timeout).
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        outcome = ("ok", func(*args, **kwargs))
    except MemoryError:
        outcome = ("memory", None)
    except BaseException as exc:  # handed to the parent, which re-raises it
        outcome = ("raise", exc)
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    except Exception as exc:  # an unpicklable result or exception
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def call_by_name(function: str, *args: Any) -> Any:
    """``module.attribute(*args)``: lets the child import only the function's own module (a Django-free
    parser, preloaded), not the caller's."""
    module, attribute = function.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)(*args)


def run_limited(
    func: Callable[..., Any],
    *args: Any,
    timeout: float,
    memory_bytes: int | None = None,
    **kwargs: Any,
) -> Any:
    """``func(*args, **kwargs)`` in a child process; its result, or its exception re-raised here.

    ``func``, the arguments and the result cross the process boundary by pickle (``func`` must be a module-level
    function). Raises ``LimitExceeded`` when the child is killed at ``timeout`` seconds or runs out of
    ``memory_bytes`` of address space, ``ChildCrashed`` when it dies otherwise.
    """
    context = _get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, func, args, kwargs, memory_bytes, math.ceil(timeout) + 1),
        name="ipplan-sandbox",
        daemon=True,
    )
    process.start()  # the first start also starts the forkserver: not part of the function's time
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise LimitExceeded("time", timeout)
        try:
            status, value = receiver.recv()
        except EOFError:
            process.join(1)
            if process.exitcode == -signal.SIGXCPU:  # its CPU-time limit
                raise LimitExceeded("time", timeout) from None
            # SIGKILL by the kernel's OOM killer, SIGABRT from a native library that could not allocate
            if memory_bytes and process.exitcode in (-signal.SIGKILL, -signal.SIGABRT):
                raise LimitExceeded("memory", memory_bytes) from None
            raise ChildCrashed(f"child exited with {process.exitcode}") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
    if status == "ok":
        return value
    if status == "memory":
        raise LimitExceeded("memory", memory_bytes or 0)
    if status == "raise":
        raise value
    raise ChildCrashed(value)
