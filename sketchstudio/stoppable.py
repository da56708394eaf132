"""Run a CLI command so that Ctrl+C and a time limit stop it, even inside a looping model.

Python runs signal handlers on the main thread, between bytecodes. A TorchScript loop runs in
torch's C++ interpreter and never gets back to Python, so a model stuck in a loop on the main
thread ignores Ctrl+C until it is killed. Here the command runs on a worker thread while the main
thread only waits, so SIGINT and the deadline are always noticed. The worker is then asked to
stop (a KeyboardInterrupt raised in it, which ends any Python-level work cleanly, at the next
bytecode); if it has not finished within GRACE_S seconds it is stuck in native code that cannot
be stopped, and the process exits at once with os._exit, after flushing its streams. Nothing the
command writes is left half-done by that: every file SketchStudio writes goes through an atomic
rename.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable

GRACE_S = 2.0           # how long a stopped command may take to unwind before the process exits
EXIT_INTERRUPTED = 130  # the shell's convention for a command ended by SIGINT
EXIT_TIME_LIMIT = 2


CHECK_TIME_LIMIT_S = 120.0   # `models check` / `models add`: the default --time-limit


class TimeLimitExceeded(Exception):
    pass


def time_limit_type(text: str) -> float:
    """argparse type of --time-limit SECONDS: a positive number; 0 means no limit."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or a positive number: {text!r}")
    return value


def time_limit_message(limit: float) -> str:
    return (f"stopped after the time limit of {limit:g} s (--time-limit SECONDS to change it); "
            f"the model may be stuck in a loop")


def run_stoppable(work: Callable[[], int], *, time_limit: float | None, name: str) -> int:
    """work()'s return value, or its exception re-raised here; TimeLimitExceeded past the limit.

    `name` prefixes the one line printed when the process has to exit with a stuck worker.
    """
    outcome: dict[str, object] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the main thread, which decides what to say
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name=f"{name} worker", daemon=True)
    worker.start()
    deadline = None if not time_limit else time.monotonic() + time_limit
    over = time_limit_message(time_limit) if time_limit else ""
    try:
        while not done.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
            if deadline is not None and time.monotonic() >= deadline:
                _stop(worker, done, TimeLimitExceeded, f"{name}: error: {over}", EXIT_TIME_LIMIT)
                raise TimeLimitExceeded(over)
    except KeyboardInterrupt:
        _stop(worker, done, KeyboardInterrupt, f"{name}: interrupted", EXIT_INTERRUPTED)
        raise
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, TimeLimitExceeded) and time_limit:   # raised into the worker
            raise TimeLimitExceeded(time_limit_message(time_limit))
        raise error  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _stop(worker: threading.Thread, done: threading.Event, exc_type: type, line: str,
          status: int) -> None:
    """Ask the worker to stop; exit the process with `line` if it cannot within GRACE_S."""
    _raise_in(worker, exc_type)
    if done.wait(GRACE_S):
        return  # it unwound: the caller reports as usual
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        os.write(2, (line + "\n").encode("utf-8", "replace"))
    finally:
        os._exit(status)


def _raise_in(thread: threading.Thread, exc_type: type) -> None:
    """Raise exc_type in `thread` at its next Python bytecode (a no-op while in native code)."""
    if thread.ident is None:
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                               ctypes.py_object(exc_type))
