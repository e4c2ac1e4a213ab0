"""Edges of the Python binding: argument types, Ctrl-C at a callback's entry."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import datahub_connections as dhc
from conftest import sample
from hmac_provider import HmacKeyProvider


def test_force_must_be_a_bool(store, prefix):
    # force="no" is truthy: it used to send "force": true, a last-writer-wins update.
    c = store.create(sample(prefix + "f"), "t")
    for not_a_bool in ("no", "false", 1, [False]):
        with pytest.raises(TypeError, match="force"):
            store.update(c["id"], {"name": prefix + "g"}, "t", force=not_a_bool)
    assert store.get(c["id"])["name"] == prefix + "f"
    assert store.update(c["id"], {"name": prefix + "g"}, "t", force=True)["name"] == prefix + "g"


def _nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def _cycle():
    value = {}
    value["self"] = value
    return value


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 10 ** 5000, _nested(5000), _cycle()],
                         ids=["nan", "inf", "huge int", "deep", "cycle"])
def test_a_value_json_cannot_write_is_invalid_argument(store, prefix, bad):
    # json.dumps' own ValueError, RecursionError: not DataHubErrors, so an
    # `except dhc.DataHubError` let them through.
    with pytest.raises(dhc.InvalidArgumentError, match="^connection: "):
        store.create({**sample(prefix + "j"), "tags": [bad]}, "t")
    with pytest.raises(dhc.InvalidArgumentError, match="^filters: "):
        store.list(limit=bad)
    assert store.list(name_prefix=prefix)["items"] == []


def test_a_value_json_has_no_form_for_is_a_type_error_naming_the_argument(store, prefix):
    with pytest.raises(TypeError, match="^connection: Object of type bytes"):
        store.create({**sample(prefix + "j"), "description": b"bytes"}, "t")
    assert store.list(name_prefix=prefix)["items"] == []


class Gate(HmacKeyProvider):
    """Holds the store's only session on a helper thread (in wrap, during an update) while
    the main thread waits for it inside a C call, then sends SIGINT. Python handles the
    signal when the main thread next runs Python code: at the entry of a callback."""

    def __init__(self, keys, primary):
        super().__init__(keys, primary)
        self.holder = None
        self.holding = threading.Event()

    def wrap(self, key_id, dek, aad):
        if threading.get_ident() == self.holder:
            self.holding.set()
            time.sleep(0.2)  # the main thread meanwhile enters its C call and waits
            os.kill(os.getpid(), signal.SIGINT)
        return super().wrap(key_id, dek, aad)


def hold_session_then_interrupt(s, gate, record_id):
    def update():
        gate.holder = threading.get_ident()
        s.update(record_id, {"connection_details": {"port": 6543}}, "t", force=True)

    helper = threading.Thread(target=update)
    helper.start()
    return helper


@pytest.fixture
def gated(database, prefix):
    gate = Gate({"k-gate": os.urandom(32)}, "k-gate")
    # pool_size 1: the helper's update holds the only session. The data key cache lets
    # records read once be read again without calling the provider.
    config = {"database": database, "pool_size": 1,
              "dek_cache": {"ttl_seconds": 300, "max_uses": 1}}
    with dhc.Store(config, key_provider=gate) as s:
        s.migrate()
        yield s, gate
        for item in list(s.iter(name_prefix=prefix)):
            s.delete(item["id"])


def test_ctrl_c_at_a_visitor_entry_stops_for_each(gated, prefix):
    # The signal was handled at the entry of _JsonCallback._call, outside its try: ctypes
    # printed "Exception ignored" and returned garbage, so for_each stopped (or went on)
    # and returned normally; the KeyboardInterrupt was lost.
    s, gate = gated
    ids = [s.create(sample(f"{prefix}r{i}"), "t")["id"] for i in range(3)]
    other = s.create(sample(prefix + "other"), "t")["id"]
    s.list(name_prefix=prefix + "r")  # now in the data key cache: the pages need no provider
    seen, helper = [], []

    def fn(record):
        seen.append(record["id"])
        if len(seen) == 1:
            helper.append(hold_session_then_interrupt(s, gate, other))
            assert gate.holding.wait(10)

    with pytest.raises(KeyboardInterrupt):
        s.for_each(fn, name_prefix=prefix + "r", limit=1)
        helper[0].join()  # the signal, if for_each lost it, lands here: not in pytest
    helper[0].join()
    assert seen == ids[:1]  # stopped at once
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert [c["id"] for c in s.list(name_prefix=prefix + "r")["items"]] == ids


def test_ctrl_c_at_a_provider_entry_is_keyboard_interrupt(gated, prefix):
    # The signal was handled at the entry of CallbackAdapter._unwrap: lost, and the call
    # failed with KeyUnavailableError instead.
    s, gate = gated
    secret = s.create(sample(prefix + "x"), "t")["id"]  # its data key is not cached
    other = s.create(sample(prefix + "other"), "t")["id"]
    helper = hold_session_then_interrupt(s, gate, other)
    returned = []
    with pytest.raises(KeyboardInterrupt):  # the wait too: a slow machine may get it there
        assert gate.holding.wait(10)
        returned.append(s.get(secret, reveal=True))
        helper.join()  # the signal, if get lost it, lands here: not in pytest
    helper.join()
    assert returned == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert s.get(secret, reveal=True)["connection_details"]["password"] == "s3cret"


def test_ctrl_c_during_a_store_call_inside_fn_is_raised_there(gated, prefix):
    # Recorded at a callback's entry during a store call made inside fn, the signal only
    # stopped that call's callbacks: the inner for_each returned normally having seen
    # nothing, list() showed healthy rows as unreadable, get() raised KeyUnavailableError.
    s, gate = gated
    s.create(sample(prefix + "outer"), "t")
    other = s.create(sample(prefix + "other"), "t")["id"]
    s.create_many([sample(f"{prefix}inner{i}") for i in range(3)], "t")
    s.list(name_prefix=prefix + "inner")  # now in the data key cache
    outcomes, helper = [], []

    def fn(record):
        helper.append(hold_session_then_interrupt(s, gate, other))
        assert gate.holding.wait(10)
        seen = []
        try:
            s.for_each(seen.append, name_prefix=prefix + "inner")
            outcomes.append(("returned", len(seen)))
        except KeyboardInterrupt:
            outcomes.append(("interrupted", len(seen)))
        try:  # the interrupt is still pending: the next store call does not run at all
            outcomes.append(("returned", len(s.list(name_prefix=prefix + "inner")["items"])))
        except KeyboardInterrupt:
            outcomes.append(("interrupted", None))

    with pytest.raises(KeyboardInterrupt):  # and the outer call raises it too
        s.for_each(fn, name_prefix=prefix + "outer")
        helper[0].join()
    helper[0].join()
    assert outcomes == [("interrupted", 0), ("interrupted", None)]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert len(s.list(name_prefix=prefix + "inner")["items"]) == 3


def test_ctrl_c_inside_fn_still_interrupts_fn(store, prefix):
    # While the handler is deferred, a Ctrl-C inside fn is still raised there at once.
    store.create_many([sample(f"{prefix}{i}") for i in range(3)], "t")
    seen = []

    def fn(record):
        seen.append(record["id"])
        signal.raise_signal(signal.SIGINT)
        seen.append("not reached")

    with pytest.raises(KeyboardInterrupt):
        store.for_each(fn, name_prefix=prefix)
    assert len(seen) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_deferral_left_behind_does_not_stop_later_calls(store, prefix):
    # A second Ctrl-C landing while an earlier call put the default handler back could leave
    # the recording handler installed with a signal recorded; later calls took it for the
    # application's handler and their callbacks saw the old signal: for_each stopped at once.
    from datahub_connections import _interrupt
    store.create_many([sample(f"{prefix}{i}") for i in range(3)], "t")
    signal.signal(signal.SIGINT, _interrupt._record)
    _interrupt._pending = True
    try:
        seen = []
        store.for_each(lambda record: seen.append(record["id"]), name_prefix=prefix)
        assert len(seen) == 3
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _interrupt._pending = False


def test_a_store_call_inside_a_callback_keeps_the_outer_deferral(store, prefix):
    # A callback's own store call must not put the default handler back under the outer call.
    store.create_many([sample(f"{prefix}{i}") for i in range(2)], "t")
    handlers = []

    def fn(record):
        store.for_each(lambda inner: None, name_prefix=prefix)  # deferred too: nested
        handlers.append(signal.getsignal(signal.SIGINT))

    store.for_each(fn, name_prefix=prefix)
    assert len(handlers) == 2 and all(h is not signal.default_int_handler for h in handlers)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


_DAEMON_AT_EXIT = textwrap.dedent("""
    import os, sys, threading
    import datahub_connections as dhc
    sys.path.insert(0, {tests!r})
    from hmac_provider import HmacKeyProvider
    provider = HmacKeyProvider({{"k-exit": os.urandom(32)}}, "k-exit")
    config = {{"database": os.environ["DATAHUB_TEST_DATABASE"]}}
    s = dhc.Store(config, key_provider=provider)
    s.migrate()
    prefix = {prefix!r}
    ids = [c["id"] for c in s.create_many([
        {{"name": f"{{prefix}}{{i}}", "type": "POSTGRESQL", "connection_details":
          {{"host": "h", "database": "d", "username": "u", "password": "pw"}}}} for i in range(50)], "t")]
    started = [threading.Event(), threading.Event()]
    def shared_store():  # a store call inside fn: nested
        while True:
            s.for_each(lambda r: (started[0].set(), s.get(ids[0], reveal=True)), name_prefix=prefix,
                       reveal=True)
    def own_stores():  # each store closed by its thread: the provider's destroy callback
        while True:
            with dhc.Store(config, key_provider=provider) as mine:
                mine.for_each(lambda r: started[1].set(), name_prefix=prefix, reveal=True)
    for target in (shared_store, own_stores):
        threading.Thread(target=target, daemon=True).start()
    for event in started:
        event.wait(10)
    print("main thread done")
""")


def test_exit_with_a_daemon_thread_inside_a_call_with_callbacks(database, prefix, store):
    # Daemon threads in for_each (visitor and key provider callbacks, a store call inside
    # fn, a store closed by its thread) when the program ends: CPython ended them at a
    # callback's entry with pthread_exit, whose unwind through the library's frames aborted
    # the process ("FATAL: exception not rethrown").
    script = _DAEMON_AT_EXIT.format(tests=os.path.dirname(__file__), prefix=prefix)
    env = dict(os.environ, DATAHUB_TEST_DATABASE=database)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "main thread done\n"
