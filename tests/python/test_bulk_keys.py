"""create_many, for_each and the key calls (census, rotate, verify) over a real PostgreSQL.

The key tests share the table with whatever else runs against the database, so they use key
ids unique to the test and look only at their own rows and key ids in census and verify."""

import base64
import json
import os

import threading

import pytest

import datahub_connections as dhc
from conftest import sample


def keyring_config(database: str, primary: str, keys: dict) -> dict:
    return {"database": database, "pool_size": 2,
            "keys": {"provider": "static", "primary": primary, "keys": keys}}


def fresh_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def keyring(database, prefix):
    """Two keys with ids unique to the test; stores opened with open(primary, *kids); every
    row named with the test's prefix deleted at the end."""
    kids = {"k1": prefix + "k1", "k2": prefix + "k2"}
    material = {kid: fresh_key() for kid in kids.values()}
    stores = []

    def open_store(primary: str, *others: str) -> dhc.Store:
        wanted = {kids[primary]: material[kids[primary]]}
        wanted.update({kids[k]: material[kids[k]] for k in others})
        s = dhc.Store(keyring_config(database, kids[primary], wanted))
        s.migrate()
        stores.append(s)
        return s

    open_store.kids = kids
    yield open_store
    if stores:
        for item in list(stores[0].iter(name_prefix=prefix)):  # a list item needs no key
            stores[0].delete(item["id"])
    for s in stores:
        s.close()


def our_keys(census: dict, kids: dict) -> dict:
    """{kid: rows} for the test's own key ids only."""
    mine = set(kids.values())
    return {e["kid"]: e["rows"] for e in census["keys"] if e["kid"] in mine}


# --- create_many

def test_create_many_returns_the_records_in_order(store, prefix):
    created = store.create_many([sample(f"{prefix}{i}", tags=["bulk"]) for i in range(5)],
                                actor="bulk_user")
    assert [c["name"] for c in created] == [f"{prefix}{i}" for i in range(5)]
    assert all(c["redacted"] == ["password"] for c in created)
    assert all("password" not in c["connection_details"] for c in created)
    assert all(c["created_by"] == "bulk_user" for c in created)
    assert [c["id"] for c in store.iter(name_prefix=prefix)] == [c["id"] for c in created]
    assert store.get(created[3]["id"], reveal=True)["connection_details"]["password"] == "s3cret"
    assert store.create_many([], actor="bulk_user") == []
    assert store.create_many(iter([sample(prefix + "gen")]), "t")[0]["name"] == prefix + "gen"


def test_create_many_is_all_or_nothing(store, prefix):
    batch = [sample(f"{prefix}{i}") for i in range(10)]
    batch[7]["connection_details"]["port"] = 0
    batch[7]["connection_details"]["password"] = "hunter2-secret"
    with pytest.raises(dhc.InvalidArgumentError) as info:
        store.create_many(batch, actor="t")
    assert info.value.message.startswith("connections[7].connection_details.port"), info.value.message
    assert "hunter2" not in info.value.message
    assert list(store.iter(name_prefix=prefix)) == []  # nothing written, not even 0-6

    with pytest.raises(dhc.InvalidArgumentError) as info:
        store.create_many([sample(prefix + "a"), {"name": prefix + "b"}], actor="t")
    assert info.value.message.startswith("connections[1]."), info.value.message
    assert list(store.iter(name_prefix=prefix)) == []


def test_create_many_wrong_python_types(store, prefix):
    with pytest.raises(TypeError):
        store.create_many(sample(prefix + "a"), actor="t")  # a dict, not a list of dicts
    with pytest.raises(TypeError):
        store.create_many([sample(prefix + "a")], actor=None)
    with pytest.raises(dhc.InvalidArgumentError):
        store.create_many(["not an object"], actor="t")
    assert list(store.iter(name_prefix=prefix)) == []


# --- for_each

def test_for_each_visits_every_record_in_id_order(store, prefix):
    ids = [c["id"] for c in store.create_many([sample(f"{prefix}{i}") for i in range(12)], "t")]
    seen = []
    assert store.for_each(seen.append, name_prefix=prefix, limit=5) is None
    assert [c["id"] for c in seen] == ids
    assert all("password" not in c["connection_details"] for c in seen)

    revealed = []
    store.for_each(lambda c: revealed.append(c["connection_details"]["password"]),
                   reveal=True, name_prefix=prefix, limit=1000)
    assert revealed == ["s3cret"] * 12

    after = []
    store.for_each(after.append, name_prefix=prefix, after_id=ids[8])
    assert [c["id"] for c in after] == ids[9:]


def test_for_each_stops_when_fn_returns_false(store, prefix):
    store.create_many([sample(f"{prefix}{i}") for i in range(6)], "t")
    seen = []

    def first_three(record):
        seen.append(record["id"])
        return len(seen) < 3  # False at the third

    store.for_each(first_three, name_prefix=prefix, limit=2)
    assert len(seen) == 3
    # None (no return statement) goes on.
    count = []
    store.for_each(lambda c: count.append(1) and None, name_prefix=prefix)
    assert len(count) == 6


class Boom(Exception):
    pass


def test_an_exception_in_fn_is_reraised_after_the_call(store, prefix):
    store.create_many([sample(f"{prefix}{i}") for i in range(6)], "t")
    seen = []

    def explode(record):
        seen.append(record["id"])
        if len(seen) == 2:
            raise Boom(record["name"])

    with pytest.raises(Boom) as info:
        store.for_each(explode, name_prefix=prefix, limit=4)
    assert len(seen) == 2  # stopped at once
    assert info.value.args == (prefix + "1",)
    assert any(frame.name == "explode" for frame in info.traceback)

    # BaseException too: a Ctrl-C during a long for_each arrives in fn.
    def interrupt(_record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.for_each(interrupt, name_prefix=prefix)
    # The store is intact and usable afterwards.
    assert len(store.list(name_prefix=prefix)["items"]) == 6


def test_for_each_bad_arguments(store, prefix):
    with pytest.raises(TypeError):
        store.for_each(None, name_prefix=prefix)
    with pytest.raises(dhc.InvalidArgumentError):
        store.for_each(lambda c: None, limit="x")
    with pytest.raises(dhc.InvalidArgumentError):
        store.for_each(lambda c: None, bogus=1)


def test_close_from_fn_takes_effect_when_for_each_returns(store, database, prefix):
    # close() used to free the handle under the running C call (a use after free).
    store.create_many([sample(f"{prefix}{i}") for i in range(4)], "t")
    other = dhc.Store({**keyring_config(database, "solo", {"solo": fresh_key()}), "pool_size": 1})
    seen, nested = [], []

    def fn(record):
        seen.append(record["id"])
        if len(seen) == 2:
            other.close()
        if len(seen) >= 2:
            try:
                other.list(name_prefix=prefix)
            except ValueError as exc:  # closed for new calls at once
                nested.append(exc)

    other.for_each(fn, name_prefix=prefix, limit=1)
    assert len(seen) == 4 and len(nested) == 3
    with pytest.raises(ValueError):
        other.list(name_prefix=prefix)
    other.close()  # still idempotent


def test_close_from_another_thread_waits_for_the_call_in_progress(store, database, prefix):
    store.create_many([sample(f"{prefix}{i}") for i in range(3)], "t")
    other = dhc.Store(keyring_config(database, "solo", {"solo": fresh_key()}))
    inside, closed = threading.Event(), threading.Event()
    seen = []

    def fn(record):
        seen.append(record["id"])
        inside.set()
        assert closed.wait(10)

    def close_meanwhile():
        assert inside.wait(10)
        other.close()
        closed.set()

    closer = threading.Thread(target=close_meanwhile)
    closer.start()
    other.for_each(fn, name_prefix=prefix, limit=1)
    closer.join()
    assert len(seen) == 3
    with pytest.raises(ValueError):
        other.keys_census()


# --- keys

def test_rotation_moves_every_row_to_the_new_primary(keyring, prefix):
    kids = keyring.kids
    old = keyring("k1")
    created = old.create_many([sample(f"{prefix}{i}") for i in range(7)], "t")
    ids = {c["id"] for c in created}
    assert {c["key_id"] for c in created} == {kids["k1"]}

    new = keyring("k2", "k1")  # the new primary, and the old key to read with
    census = new.keys_census()
    assert census["primary"] == kids["k2"]
    assert our_keys(census, kids) == {kids["k1"]: 7}
    assert new.get(created[0]["id"])["stale"] is True

    dry = new.keys_rotate(dry_run=True)
    assert dry["rewritten"] == 7  # only our rows are under k1; others' do not open here
    assert our_keys(new.keys_census(), kids) == {kids["k1"]: 7}  # a dry run writes nothing

    report = new.keys_rotate(batch_size=3)
    assert report["rewritten"] == 7 and report["skipped_changed"] == 0
    assert report["remaining_estimate"] >= 7 and report["scanned"] >= 7
    assert our_keys(new.keys_census(), kids) == {kids["k2"]: 7}

    verify = new.keys_verify()
    assert verify["checked"] >= 7
    assert [f for f in verify["failed"] if f["id"] in ids] == []
    for c in created:
        record = new.get(c["id"], reveal=True)
        assert record["key_id"] == kids["k2"] and record["stale"] is False
        assert record["connection_details"]["password"] == "s3cret"
        assert record["updated_at"] == c["updated_at"]  # a rotation is not an edit

    # Resumable and idempotent: nothing of ours is left to do.
    assert new.keys_rotate()["rewritten"] == 0
    # The old key alone no longer opens them.
    with pytest.raises(dhc.KeyUnavailableError):
        old.get(created[0]["id"])


def test_progress_returning_false_stops_after_one_batch(keyring, prefix):
    kids = keyring.kids
    keyring("k1").create_many([sample(f"{prefix}{i}") for i in range(6)], "t")
    new = keyring("k2", "k1")
    calls = []

    def once(report):
        calls.append(report)
        return False

    report = new.keys_rotate(batch_size=2, progress=once)
    assert len(calls) == 1
    assert set(calls[0]) == {"scanned", "rewritten", "skipped_changed", "failed",
                             "remaining_estimate"}
    assert report == calls[0]  # the report so far
    assert report["scanned"] <= 2
    assert our_keys(new.keys_census(), kids)[kids["k1"]] >= 4  # at most one batch moved

    # Run again to finish; progress sees growing totals.
    totals = []
    new.keys_rotate(batch_size=2, progress=lambda r: totals.append(r["scanned"]))
    assert totals == sorted(totals) and len(totals) >= 2
    assert our_keys(new.keys_census(), kids) == {kids["k2"]: 6}


def test_an_exception_in_progress_is_reraised(keyring, prefix):
    kids = keyring.kids
    keyring("k1").create_many([sample(f"{prefix}{i}") for i in range(4)], "t")
    new = keyring("k2", "k1")

    def explode(_report):
        raise Boom("progress")

    with pytest.raises(Boom):
        new.keys_rotate(batch_size=1, progress=explode)
    assert our_keys(new.keys_census(), kids)[kids["k1"]] >= 3
    new.keys_rotate()  # the store still works, and the rotation resumes
    assert our_keys(new.keys_census(), kids) == {kids["k2"]: 4}


def test_verify_and_rotate_report_rows_whose_key_is_missing(keyring, prefix):
    kids = keyring.kids
    created = keyring("k1").create_many([sample(f"{prefix}{i}") for i in range(3)], "t")
    ids = {c["id"] for c in created}
    lacking = keyring("k2")  # k1 is not in its keyring
    verify = lacking.keys_verify()
    mine = [f for f in verify["failed"] if f["id"] in ids]
    assert sorted(f["id"] for f in mine) == sorted(ids)
    assert all(f["code"] == dhc.Code.KEY_UNAVAILABLE and f["message"] for f in mine)

    report = lacking.keys_rotate()
    assert report["failed"] >= 3
    assert our_keys(lacking.keys_census(), kids) == {kids["k1"]: 3}  # left as they were

    errors = []
    lacking.for_each(errors.append, name_prefix=prefix)
    assert [e["error"]["code"] for e in errors] == [dhc.Code.KEY_UNAVAILABLE] * 3
    assert all(e["connection_details"] is None for e in errors)


def test_rotate_with_workers_reports_on_the_calling_thread(keyring, prefix):
    kids = keyring.kids
    keyring("k1").create_many([sample(f"{prefix}{i}") for i in range(9)], "t")
    new = keyring("k2", "k1")
    caller = threading.get_ident()
    threads, totals = set(), []

    def watch(report):
        threads.add(threading.get_ident())
        totals.append(report["rewritten"])

    report = new.keys_rotate(batch_size=2, workers=3, progress=watch)
    assert threads == {caller}
    assert totals == sorted(totals) and totals[-1] == report["rewritten"]  # the last has the final totals
    assert report["rewritten"] == 9 and report["skipped_changed"] == 0
    assert our_keys(new.keys_census(), kids) == {kids["k2"]: 9}


def test_rotate_options_are_checked(store):
    with pytest.raises(dhc.InvalidArgumentError):
        store.keys_rotate(batch_size=0)
    with pytest.raises(dhc.InvalidArgumentError):
        store.keys_rotate(batch_size=10001)
    with pytest.raises(dhc.InvalidArgumentError):
        store.keys_rotate(workers=0)
    with pytest.raises(dhc.InvalidArgumentError):
        store.keys_rotate(workers=17)
    with pytest.raises(TypeError):
        store.keys_rotate(workers=2.0)
    with pytest.raises(TypeError):
        store.keys_rotate(batch_size="10")
    with pytest.raises(TypeError):
        store.keys_rotate(dry_run="yes")
    with pytest.raises(TypeError):
        store.keys_rotate(progress=42)
    with pytest.raises(TypeError):
        store.keys_rotate(10)  # options are keyword-only


def test_key_calls_on_a_closed_store(database):
    s = dhc.Store(keyring_config(database, "solo", {"solo": fresh_key()}))
    s.close()
    for call in (s.keys_census, s.keys_verify, s.keys_rotate):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError):
        s.for_each(lambda c: None)
    with pytest.raises(ValueError):
        s.create_many([], "t")


def test_connection_test_reports_an_unreachable_target(store):
    created = store.create({"name": "pytest-target-unreachable", "type": "POSTGRESQL",
                            "connection_details": {"host": "127.0.0.1", "port": 1, "database": "d",
                                                   "username": "u", "password": "never-shown"}},
                           "pytest")
    try:
        result = store.test(created["id"], timeout_ms=3000)
        assert result["ok"] is False
        assert result["failure"] == "unreachable"
        assert "never-shown" not in json.dumps(result)
        assert store.uri(created["id"]) == "postgresql://u@127.0.0.1:1/d"
        assert store.uri(created["id"], reveal=True) == "postgresql://u:never-shown@127.0.0.1:1/d"
        assert "never-shown" not in store.conninfo(created["id"])
        assert "password='never-shown'" in store.conninfo(created["id"], reveal=True)
    finally:
        store.delete(created["id"])
