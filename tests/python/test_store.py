"""The Python bindings over a real PostgreSQL: CRUD, paging, errors, threads."""

import base64
import copy
import datetime
import gc
import json
import os
import threading

import pytest

import datahub_connections as dhc
from conftest import sample, static_config


def test_version():
    assert dhc.version().count(".") == 2


def test_create_get_redacted_and_revealed(store, prefix):
    created = store.create(sample(prefix + "a", tags=["prod", "main"]), actor="user_01")
    assert created["name"] == prefix + "a"
    assert created["description"] is None
    assert created["tags"] == ["prod", "main"]
    assert created["redacted"] == ["password"]
    assert "password" not in created["connection_details"]
    assert created["connection_details"]["port"] == 5432  # an int, the type's default
    assert created["created_by"] == created["updated_by"] == "user_01"
    assert created["created_at"].endswith("Z")

    shown = store.get(created["id"])
    assert "password" not in shown["connection_details"]
    full = store.get(created["id"], reveal=True)
    assert full["connection_details"]["password"] == "s3cret"
    assert full["redacted"] == []


def test_list_and_iter_page_through(store, prefix):
    ids = [store.create(sample(f"{prefix}{i}"), "t")["id"] for i in range(5)]
    page = store.list(name_prefix=prefix, limit=2)
    assert [c["id"] for c in page["items"]] == ids[:2]
    assert page["next_after_id"] == ids[1]
    assert [c["id"] for c in store.iter(name_prefix=prefix, limit=2)] == ids
    last = store.list(name_prefix=prefix, after_id=ids[3], limit=2)
    assert [c["id"] for c in last["items"]] == ids[4:]


def test_filters(store, prefix):
    a = store.create(sample(prefix + "a", tags=["x", "y"]), "t")
    b = store.create(sample(prefix + "b", tags=["y"]), "t")
    assert [c["id"] for c in store.iter(name_prefix=prefix, tags_all=["x", "y"])] == [a["id"]]
    assert [c["id"] for c in store.iter(name_prefix=prefix, tags_any=["y"])] == [a["id"], b["id"]]
    assert [c["id"] for c in store.find_by_name(prefix + "b")] == [b["id"]]
    assert store.find_by_name(prefix + "nobody") == []


def test_update_checked_forced_and_merged(store, prefix):
    c = store.create(sample(prefix + "u", description="first"), "alice")
    updated = store.update(c["id"], {"connection_details": {"port": 6543}, "description": None},
                           actor="bob", expected_updated_at=c["updated_at"])
    assert updated["updated_by"] == "bob"
    assert updated["description"] is None
    assert updated["updated_at"] > c["updated_at"]
    full = store.get(c["id"], reveal=True)
    assert full["connection_details"]["port"] == 6543
    assert full["connection_details"]["password"] == "s3cret"  # kept by the merge

    with pytest.raises(dhc.ConflictError) as info:
        store.update(c["id"], {"name": prefix + "late"}, "carol", expected_updated_at=c["updated_at"])
    assert info.value.code == dhc.Code.CONFLICT

    forced = store.update(c["id"], {"connection_details": {"password": None}, "tags": ["t"]},
                          "carol", force=True)
    assert forced["redacted"] == [] and forced["tags"] == ["t"]
    assert "password" not in store.get(c["id"], reveal=True)["connection_details"]


def test_update_accepts_a_datetime(store, prefix):
    c = store.create(sample(prefix + "d"), "t")
    when = datetime.datetime.strptime(c["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    assert store.update(c["id"], {"name": prefix + "d2"}, "t", expected_updated_at=when)["name"] == prefix + "d2"


def test_update_with_an_out_of_range_datetime_is_invalid_argument(store, prefix):
    c = store.create(sample(prefix + "o"), "t")
    for when in (datetime.datetime.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
                 datetime.datetime.max.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))):
        with pytest.raises(dhc.InvalidArgumentError):  # was OverflowError
            store.update(c["id"], {"name": prefix + "p"}, "t", expected_updated_at=when)
    assert store.get(c["id"])["name"] == prefix + "o"


def test_update_needs_expected_updated_at_or_force(store, prefix):
    c = store.create(sample(prefix + "f"), "t")
    with pytest.raises(dhc.InvalidArgumentError):
        store.update(c["id"], {"name": prefix + "g"}, "t")


def test_delete(store, prefix):
    c = store.create(sample(prefix + "del"), "t")
    store.delete(c["id"])
    with pytest.raises(dhc.NotFoundError) as info:
        store.get(c["id"])
    assert info.value.code == 2 and isinstance(info.value, LookupError)
    with pytest.raises(dhc.NotFoundError):
        store.delete(c["id"])


@pytest.mark.parametrize("bad", [
    {"name": "x", "type": "POSTGRESQL", "connection_details": {}, "colour": "red"},
    {"name": 5, "type": "POSTGRESQL", "connection_details": {"host": "h"}},
    {"name": "x" * 101, "type": "POSTGRESQL",
     "connection_details": {"host": "h", "database": "d", "username": "u"}},
    {"name": "x", "type": "POSTGRESQL",
     "connection_details": {"host": "h", "database": "d", "username": "u", "port": 5432.5}},
    {"name": "x", "type": "POSTGRESQL", "connection_details": {"host": ["h"]}},
])
def test_bad_input_is_invalid_argument(store, prefix, bad):
    # Names carry the test's prefix, so that "nothing written" is checked on this test's
    # rows only (other suites may write to the same database meanwhile).
    bad = dict(bad, name=prefix + bad["name"]) if isinstance(bad["name"], str) else bad
    with pytest.raises(dhc.InvalidArgumentError) as info:
        store.create(bad, "t")
    assert info.value.code == dhc.Code.INVALID_ARGUMENT
    assert isinstance(info.value, ValueError)
    assert list(store.iter(name_prefix=prefix)) == []


def test_secret_never_in_messages(store, prefix):
    bad = sample(prefix + "s")
    bad["connection_details"]["passwrd"] = "hunter2-top-secret"
    with pytest.raises(dhc.InvalidArgumentError) as info:
        store.create(bad, "t")
    assert "hunter2" not in str(info.value)


def test_lone_surrogate_is_invalid_argument(store, prefix):
    with pytest.raises(dhc.InvalidArgumentError):
        store.create(sample(prefix + "\udc00"), "t")


def test_nul_in_a_str_argument_is_invalid_argument(store, prefix, database):
    # A C string ends at the first NUL: "alice\0mallory" used to be stored as "alice", and a
    # config text was read up to its NUL with the rest ignored.
    with pytest.raises(dhc.InvalidArgumentError, match="actor"):
        store.create(sample(prefix + "n"), "alice\0mallory")
    assert list(store.iter(name_prefix=prefix)) == []
    store.create(sample(prefix + "n"), "t")
    with pytest.raises(dhc.InvalidArgumentError, match="name"):
        store.find_by_name(prefix + "n\0anything")
    with pytest.raises(dhc.InvalidArgumentError, match="config"):
        dhc.Store(json.dumps(static_config(database)) + "\0trailing text")


def test_reveal_must_be_a_bool(store, prefix):
    c = store.create(sample(prefix + "r"), "t")
    for not_a_bool in ("no", 0, None, [False]):
        with pytest.raises(TypeError, match="reveal"):
            store.get(c["id"], reveal=not_a_bool)
        with pytest.raises(TypeError, match="reveal"):
            store.list(name_prefix=prefix, reveal=not_a_bool)
    assert "password" in store.get(c["id"], reveal=True)["connection_details"]
    assert "password" not in store.get(c["id"], reveal=False)["connection_details"]


def test_a_lone_surrogate_error_keeps_no_trace_of_the_text(database):
    # The UnicodeEncodeError holds the whole text: here the keyring's key.
    config = static_config(database, cipher="A256GCM\udc80")
    with pytest.raises(dhc.InvalidArgumentError, match="config") as raised:
        dhc.Store(json.dumps(config, ensure_ascii=False))
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def test_wrong_python_types(store):
    with pytest.raises(TypeError):
        store.get("1")
    with pytest.raises(dhc.InvalidArgumentError):
        store.get(2**64)
    with pytest.raises(dhc.InvalidArgumentError):
        store.list(limit="10")
    with pytest.raises(dhc.InvalidArgumentError):
        store.list(order="name")


def test_config_errors(database):
    with pytest.raises(dhc.InvalidArgumentError, match="colour"):
        dhc.Store(static_config(database, colour="red"))
    with pytest.raises(dhc.InvalidArgumentError):
        dhc.Store({"database": database, "keys": {"provider": "file", "path": "/nonexistent/k"}})
    with pytest.raises(dhc.InvalidArgumentError, match="dek_cache"):
        dhc.Store(static_config(database, dek_cache={"ttl_seconds": -1}))
    with pytest.raises(dhc.InvalidArgumentError):
        dhc.Store("{not json")
    with pytest.raises(dhc.DataHubError):
        dhc.Store(static_config("host=/nonexistent-dir port=1 dbname=x", connect_timeout=2))


def test_closed_store(database):
    s = dhc.Store(static_config(database))
    s.close()
    s.close()  # idempotent
    with pytest.raises(ValueError):
        s.migrate()


def test_a_store_cannot_be_copied(database):
    # copy.copy() shared the C handle: closing the copy freed the original's store.
    with dhc.Store(static_config(database)) as s:
        for how in (copy.copy, copy.deepcopy):
            with pytest.raises(TypeError):
                how(s)
        gc.collect()
        assert s.schema_status()["current_version"] >= 1


def test_schema_status(store):
    status = store.schema_status()
    assert status["current_version"] == status["latest_version"] >= 1


def test_threads_share_a_store(store, prefix):
    errors = []

    def work(t):
        try:
            for r in range(5):
                c = store.create(sample(f"{prefix}{t}-{r}"), f"thread-{t}")
                assert store.get(c["id"], reveal=True)["connection_details"]["password"] == "s3cret"
                store.update(c["id"], {"tags": [str(t)]}, "t", expected_updated_at=c["updated_at"])
        except Exception as exc:  # collected, reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(list(store.iter(name_prefix=prefix))) == 40


def test_file_keyring(database, prefix, tmp_path):
    keyring = tmp_path / "keyring.json"
    key = base64.b64encode(os.urandom(32)).decode()
    keyring.write_text(json.dumps({"primary": "file-1", "keys": {"file-1": key}}))
    keyring.chmod(0o644)
    with pytest.raises(dhc.InvalidArgumentError):  # others may read it: refused
        dhc.Store({"database": database, "keys": {"provider": "file", "path": str(keyring)}})
    keyring.chmod(0o600)
    config = {"database": database, "dek_cache": {"ttl_seconds": 60},
              "keys": {"provider": "file", "path": str(keyring)}}
    with dhc.Store(config) as s:
        s.migrate()
        c = s.create(sample(prefix + "file"), "t")
        assert c["key_id"] == "file-1"
        assert s.get(c["id"], reveal=True)["connection_details"]["password"] == "s3cret"
        s.delete(c["id"])
