"""Interpreter exit while other threads are inside C calls that call back into Python.

At exit CPython (3.11) ends a daemon thread that tries to run Python again with
pthread_exit. A ctypes callback's entry is such a try, and the forced unwind it starts runs
through the library's C++ frames, whose catch-alls stop it: the process aborted ("FATAL:
exception not rethrown"). Exit handlers run before daemon threads are stopped, so one here
makes the callbacks of the calls in flight stop their call at once and waits for them to
return (at most DRAIN_SECONDS); a call another thread starts later waits for the process to
end, as the thread would have been stopped anyway. The main thread's calls (other exit
handlers) run as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from typing import Iterator

from ._interrupt import on_main_thread

DRAIN_SECONDS = 5.0

_done = threading.Condition()
_in_flight = 0  # C calls with Python callbacks in progress, every store and thread
_draining = False  # the exit handler waits for them
_exited = False  # the exit handler has run


def draining() -> bool:
    """Whether the interpreter is exiting: a callback seeing it stops its C call."""
    return _draining


@contextlib.contextmanager
def callback_call() -> Iterator[None]:
    """Around a C call that may run Python callbacks, on any thread."""
    global _in_flight
    with _done:
        while _exited and not on_main_thread():
            _done.wait()  # until the process ends
        _in_flight += 1
    try:
        yield
    finally:
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
