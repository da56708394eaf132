"""Keep a model's own printing out of SketchStudio's standard output.

A TorchScript model can call print() in its forward pass or its `__setstate__`. With torch's
Python bindings loaded, TorchScript prints by calling `sys.stdout.write` (torch installs that print
handler); native code (a custom operator, a library) writes to C++ std::cout or C stdout, that is
straight to file descriptor 1. Left alone, either lands in the middle of `--json` output (or a table
another program parses) and makes it invalid.

While a command runs, `model_output_to_stderr()`:
- points descriptor 1 at stderr, so native writes go where diagnostics belong (seen, not lost);
- gives sys.stdout a router that writes to the real stdout, except on a thread that is running
  model code (marked by `running_model()`, which the model loader wraps around loading and every
  forward pass), whose writes go to stderr.
So only what SketchStudio itself prints reaches stdout. The router also escapes control characters
(textsafe.printable_lines: everything but newlines) in all it writes, so a word, label or model
message that slipped past a command's own escaping still cannot drive the terminal.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import threading
from collections.abc import Iterator

from .textsafe import printable_lines

_local = threading.local()   # .depth > 0 while this thread runs model code


@contextlib.contextmanager
def running_model() -> Iterator[None]:
    """Mark model code running on this thread: what it prints goes to stderr (under the CLI)."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


class _RoutedStdout(io.TextIOBase):
    """sys.stdout during a command: our output to `own`, model code's to `diverted`."""

    def __init__(self, own, diverted) -> None:
        super().__init__()
        self._own, self._diverted = own, diverted

    def _target(self):
        return self._diverted if getattr(_local, "depth", 0) else self._own

    def write(self, text: str) -> int:
        self._target().write(printable_lines(text))
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(Exception):
            self._diverted.flush()
        if not getattr(self._own, "closed", False):
            self._own.flush()

    def close(self) -> None:
        pass   # the streams belong to others; closing (or collecting) the router leaves them be

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._own.fileno()

    def isatty(self) -> bool:
        return self._own.isatty()

    @property
    def encoding(self):   # type: ignore[override]
        return getattr(self._own, "encoding", "utf-8")

    @property
    def errors(self):   # type: ignore[override]
        return getattr(self._own, "errors", "strict")

    @property
    def buffer(self):
        return self._own.buffer


def _flush_c_stdio() -> None:
    """fflush(NULL): native text waiting in the C library's stdout buffer goes out now, to wherever
    descriptor 1 points now (stderr), not later at exit when it points at stdout again."""
    global _libc
    try:
        if _libc is None:
            # The running program's own symbols include the C library's (no search on disk).
            _libc = ctypes.CDLL(None) if os.name == "posix" else ctypes.cdll.msvcrt
        _libc.fflush(None)
    except (OSError, AttributeError, TypeError):
        pass   # no C library to reach (unusual builds): nothing buffered there that we can flush


_libc: ctypes.CDLL | None = None


def _fd_of(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None   # e.g. a test harness's in-memory capture


@contextlib.contextmanager
def model_output_to_stderr() -> Iterator[None]:
    """Descriptor 1 -> stderr while the block runs; sys.stdout still reaches the real stdout."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:
        yield   # no descriptor 1 at all (a windowed launcher): nothing a model prints can harm us
        return
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(saved)
        yield
        return
    original = sys.stdout
    replacement = None
    own = original
    if original is not None and _fd_of(original) == 1:
        # sys.stdout writes to descriptor 1, which now means stderr: give it the real stdout.
        line_buffered = bool(getattr(original, "line_buffering", False))
        replacement = open(os.dup(saved), "w", buffering=1 if line_buffered else -1,  # noqa: SIM115
                           encoding=original.encoding, errors=original.errors)
        own = replacement
    if own is not None and sys.stderr is not None:
        sys.stdout = _RoutedStdout(own, sys.stderr)
    try:
        yield
        if own is not None:
            own.flush()   # inside the block: a failure here (a closed pipe) is reported
    finally:
        _flush_c_stdio()
        sys.stdout = original
        if replacement is not None:
            with contextlib.suppress(OSError, ValueError):
                replacement.close()
        os.dup2(saved, 1)
        os.close(saved)
