"""Key providers written in Python, plugged in through the C ABI's callbacks."""

import gc
import os
import threading

import pytest

import datahub_connections as dhc
from conftest import sample
from hmac_provider import HmacKeyProvider


def open_store(database, provider):
    s = dhc.Store({"database": database, "pool_size": 4}, key_provider=provider)
    s.migrate()
    return s


def cleanup(s, prefix):
    for item in list(s.iter(name_prefix=prefix)):
        s.delete(item["id"])


def test_round_trip_under_a_python_provider(database, prefix):
    provider = HmacKeyProvider({"py-kek-1": os.urandom(32)}, "py-kek-1")
    with open_store(database, provider) as s:
        gc.collect()  # the ctypes callbacks must survive a collection while the store is open
        c = s.create(sample(prefix + "p"), "t")
        assert c["key_id"] == "py-kek-1"
        assert s.get(c["id"], reveal=True)["connection_details"]["password"] == "s3cret"
        assert provider.calls["wrap"] >= 1 and provider.calls["unwrap"] >= 1
        cleanup(s, prefix)


def test_create_many_calls_a_python_provider_from_its_sealing_thread(database, prefix):
    # Over 1000 records, create_many seals the next batch on a helper thread: the provider
    # is then called from a thread Python did not start.
    provider = HmacKeyProvider({"py-bulk": os.urandom(32)}, "py-bulk")
    with open_store(database, provider) as s:
        created = s.create_many([sample(prefix + str(i)) for i in range(2500)], "t")
        assert len(created) == 2500
        assert provider.calls["wrap"] >= 2500
        assert provider.threads - {threading.get_ident()}, "no call came from the sealing thread"
        for c in (created[0], created[1499], created[2499]):
            assert s.get(c["id"], reveal=True)["connection_details"]["password"] == "s3cret"
        cleanup(s, prefix)


def test_rows_of_another_key_show_as_errors_in_a_list(database, prefix):
    first = HmacKeyProvider({"k-old": os.urandom(32)}, "k-old")
    with open_store(database, first) as s:
        c = s.create(sample(prefix + "old"), "t")
    # A provider that does not hold k-old: get fails, a list page carries the row's error.
    with open_store(database, HmacKeyProvider({"k-new": os.urandom(32)}, "k-new")) as s:
        with pytest.raises(dhc.KeyUnavailableError):
            s.get(c["id"])
        page = s.list(name_prefix=prefix)
        [item] = page["items"]
        assert item["connection_details"] is None
        assert item["error"]["code"] == dhc.Code.KEY_UNAVAILABLE
        s.delete(c["id"])


def test_tampered_key_material_is_an_integrity_error(database, prefix):
    keys = {"k": os.urandom(32)}
    with open_store(database, HmacKeyProvider(keys, "k")) as s:
        c = s.create(sample(prefix + "i"), "t")
    # Same key id, different key: the tag does not verify.
    with open_store(database, HmacKeyProvider({"k": os.urandom(32)}, "k")) as s:
        with pytest.raises(dhc.IntegrityError):
            s.get(c["id"], reveal=True)
        s.delete(c["id"])


class Exploding(dhc.KeyProvider):
    def primary_key_id(self):
        return "boom"

    def wrap(self, key_id, dek, aad):
        raise RuntimeError("the KMS is down")

    def unwrap(self, key_id, edk, aad):
        raise ZeroDivisionError()


def test_an_exception_in_a_callback_is_key_unavailable(database, prefix):
    with open_store(database, Exploding()) as s:
        with pytest.raises(dhc.KeyUnavailableError):
            s.create(sample(prefix + "x"), "t")
        assert s.list(name_prefix=prefix)["items"] == []


class ReturnsAnInt(HmacKeyProvider):
    """A provider bug: an int where bytes belong (bytes(48) is 48 zero bytes)."""

    def __init__(self, keys, primary, broken):
        super().__init__(keys, primary)
        self.broken = broken

    def wrap(self, key_id, dek, aad):
        return 48 if self.broken == "wrap" else super().wrap(key_id, dek, aad)

    def unwrap(self, key_id, edk, aad):
        return 32 if self.broken == "unwrap" else super().unwrap(key_id, edk, aad)


def test_a_provider_returning_an_int_is_key_unavailable(database, prefix):
    # wrap() returning 48 used to store 48 zero bytes as the row's wrapped key: created,
    # and never readable again.
    keys = {"k-int": os.urandom(32)}
    with open_store(database, ReturnsAnInt(keys, "k-int", "wrap")) as s:
        with pytest.raises(dhc.KeyUnavailableError):
            s.create(sample(prefix + "w"), "t")
        assert s.list(name_prefix=prefix)["items"] == []
    with open_store(database, ReturnsAnInt(keys, "k-int", None)) as s:
        c = s.create(sample(prefix + "u"), "t")
    with open_store(database, ReturnsAnInt(keys, "k-int", "unwrap")) as s:
        with pytest.raises(dhc.KeyUnavailableError):  # a write unwraps its new key first
            s.create(sample(prefix + "v"), "t")
        with pytest.raises(dhc.KeyUnavailableError):  # not a data key of zeros
            s.get(c["id"], reveal=True)
        s.delete(c["id"])


class Interrupted(HmacKeyProvider):
    """Ctrl-C (or sys.exit()) arriving while a provider method runs, on the caller's thread."""

    def __init__(self, keys, primary, raise_in):
        super().__init__(keys, primary)
        self.raise_in = raise_in

    def wrap(self, key_id, dek, aad):
        if self.raise_in:
            raise self.raise_in()
        return super().wrap(key_id, dek, aad)


def test_a_keyboard_interrupt_in_a_provider_reaches_the_caller(database, prefix):
    # It used to become KeyUnavailableError: a Ctrl-C swallowed by a retrying caller.
    provider = Interrupted({"k-int": os.urandom(32)}, "k-int", KeyboardInterrupt)
    with open_store(database, provider) as s:
        with pytest.raises(KeyboardInterrupt) as info:
            s.create(sample(prefix + "i"), "t")
        assert isinstance(info.value.__context__, dhc.KeyUnavailableError)
        provider.raise_in = SystemExit
        with pytest.raises(SystemExit):
            s.create_many([sample(prefix + "j")], "t")
        provider.raise_in = None  # delivered once: the next call is unaffected
        c = s.create(sample(prefix + "ok"), "t")
        assert [x["id"] for x in s.list(name_prefix=prefix)["items"]] == [c["id"]]
        s.delete(c["id"])


def test_keys_and_a_provider_together_are_refused(database):
    with pytest.raises(dhc.InvalidArgumentError, match="keys"):
        dhc.Store({"database": database, "keys": {"provider": "env"}}, key_provider=Exploding())


def test_provider_called_from_many_threads(database, prefix):
    provider = HmacKeyProvider({"k": os.urandom(32)}, "k")
    errors = []
    with open_store(database, provider) as s:
        def work(t):
            try:
                for r in range(3):
                    c = s.create(sample(f"{prefix}{t}-{r}"), "t")
                    assert s.get(c["id"], reveal=True)["connection_details"]["password"] == "s3cret"
            except Exception as exc:
                errors.append(exc)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        cleanup(s, prefix)
