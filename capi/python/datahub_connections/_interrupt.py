"""Ctrl-C while the library runs Python callbacks on the main thread.

Python runs a signal handler on the main thread at its next check point. While the main
thread is inside a C call, that is the first instruction of the next callback the library
makes into Python: before the callback's ``try``, so the KeyboardInterrupt escaped into
ctypes, which printed "Exception ignored", dropped it, and gave the library an undefined
return value (a for_each that ended early and reported success; a key provider call that
failed as KeyUnavailableError).

So while such a C call runs on the main thread under Python's default SIGINT handler,
deferred() installs a handler that only records a signal arriving at a callback's entry
(anywhere else it raises KeyboardInterrupt, as the default one does: inside a callback's
``try`` it is caught and re-raised later). The callbacks see pending() and stop at once;
deferred() raises KeyboardInterrupt once the C call has returned.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_entries = set()  # code objects of the functions ctypes calls back into
_pending = False  # a SIGINT recorded at a callback's entry; set and read on the main thread
_active = False  # a deferred() block runs on the main thread


def callback_entry(fn):
    """Registers fn (a function a ctypes callback calls) as a callback entry."""
    _entries.add(fn.__code__)
    return fn


def _record(signum, frame):
    global _pending
    if frame is not None and frame.f_code in _entries:
        _pending = True
        return
    signal.default_int_handler(signum, frame)


def on_main_thread() -> bool:
    # get_ident(), not current_thread(): on a library thread that would register a dummy
    # Thread object that is never removed.
    return threading.get_ident() == threading.main_thread().ident


def pending() -> bool:
    """Whether a Ctrl-C waits to be raised: a callback seeing it stops its C call."""
    return _active and _pending and on_main_thread()


def _swap(handler):
    """Installs handler for SIGINT: the one it replaced, or None where Python cannot."""
    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main interpreter
        return None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Around a C call that may run Python callbacks on this thread."""
    global _pending, _active
    if not on_main_thread():
        yield  # signals are handled on the main thread only
        return
    if _active:
        # Nested: a store call inside a callback. The outer block defers, but a Ctrl-C that
        # stopped this call's callbacks made its result wrong (a for_each cut short, a key
        # provider "failing"): raised here instead, and again by the outer block.
        if _pending:
            raise KeyboardInterrupt
        try:
            yield
        finally:
            if _pending:
                raise KeyboardInterrupt  # noqa: B012 - replaces the wrong result's error
        return
    # _record found installed is ours, left by an interrupt that hit the restoring code of
    # an earlier call: taken as the default, so that call's leftovers cannot stop this one.
    if signal.getsignal(signal.SIGINT) not in (signal.default_int_handler, _record):
        yield  # the application's own handler
        return
    _pending = False
    _active = True
    try:
        _swap(_record)
        yield
    finally:
        _active = False
        # First thing, and unconditionally: an interrupt raised in here must not leave
        # _record installed.
        previous = _swap(signal.default_int_handler)
        if previous is not None and previous is not _record:  # a callback installed its own
            _swap(previous)
        interrupted, _pending = _pending, False
        if interrupted:
            raise KeyboardInterrupt
