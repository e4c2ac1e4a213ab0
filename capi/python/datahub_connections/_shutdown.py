"""Interpreter exit while other threads are inside C calls that call back into Python.

At exit CPython (3.11) ends a daemon thread that tries to run Python again with
pthread_exit. A ctypes callback's entry is such a try, and the forced unwind it starts runs
through the library's C++ frames, whose catch-alls stop it: the process aborted ("FATAL:
exception not rethrown"). Exit handlers run before daemon threads are stopped, so one here
makes the callbacks of the calls in flight stop their call at once, which then raises
SystemExit (a thread ends quietly on it), and waits for them to return (at most
DRAIN_SECONDS). A call another thread starts later raises SystemExit before entering the
library. The main thread's calls (other exit handlers) run as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from typing import Iterator

from ._interrupt import on_main_thread

DRAIN_SECONDS = 5.0

_done = threading.Condition()
_in_flight = 0  # outermost C calls with Python callbacks in progress, every store and thread
_depth = threading.local()  # this thread's nesting of such calls (one inside a callback)
_draining = False  # the exit handler waits for them
_exited = False  # the exit handler has run


def draining() -> bool:
    """Whether the interpreter is exiting: a callback seeing it stops its C call."""
    return _draining


def exit_error() -> SystemExit:
    """What a call stopped, or refused, at exit raises."""
    return SystemExit("datahub_connections: the interpreter is exiting")


@contextlib.contextmanager
def callback_call() -> Iterator[None]:
    """Around a C call that may run Python callbacks, on any thread."""
    global _in_flight
    outermost = getattr(_depth, "n", 0) == 0
    if outermost:
        with _done:
            if _exited and not on_main_thread():
                raise exit_error()
            _in_flight += 1
    _depth.n = getattr(_depth, "n", 0) + 1
    try:
        yield
    finally:
        _depth.n -= 1
        if outermost:
            with _done:
                _in_flight -= 1
                _done.notify_all()


@atexit.register
def _drain() -> None:
    global _draining, _exited
    with _done:
        _exited = _draining = True
        _done.wait_for(lambda: _in_flight == 0, timeout=DRAIN_SECONDS)
        _draining = False
