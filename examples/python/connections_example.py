#!/usr/bin/env python3
"""DataHub Connections from Python (ctypes): create, read, list, update, delete, bulk, keys.

After the quickstart, from the repository root:

    export DATAHUB_DATABASE="host=/run/postgresql dbname=datahub"      # a libpq conninfo
    export DATAHUB_CONNECTIONS_KEYS="local-1:$(head -c 32 /dev/urandom | base64 -w0)"
    export DATAHUB_CONNECTIONS_LIBRARY=$PWD/build/lib/libdatahub_connections.so
    PYTHONPATH=capi/python python3 examples/python/connections_example.py
"""

import os
import sys

import datahub_connections as dhc


def main() -> int:
    database = os.environ.get("DATAHUB_DATABASE")
    if not database or not os.environ.get("DATAHUB_CONNECTIONS_KEYS"):
        print("set DATAHUB_DATABASE (a libpq conninfo) and DATAHUB_CONNECTIONS_KEYS", file=sys.stderr)
        return 2
    print("libdatahub_connections", dhc.version())

    # Keys from DATAHUB_CONNECTIONS_KEYS ("kid:base64,..."; the first one is the primary).
    with dhc.Store({"database": database, "pool_size": 2, "keys": {"provider": "env"}}) as store:
        store.migrate()
        created = store.create({
            "name": "Example DB (Python)",
            "description": "made by examples/python/connections_example.py",
            "type": "POSTGRESQL",
            "connection_details": {"host": "db.example.com", "database": "main_db",
                                   "username": "app_user", "password": "s3cret"},
            "tags": ["example"],
        }, actor="example-python")
        print("created: ", created["id"], created["connection_details"], "redacted:", created["redacted"])

        # Only code that really connects to the target database should reveal secrets.
        full = store.get(created["id"], reveal=True)
        print("revealed: password present:", "password" in full["connection_details"])

        # Optimistic concurrency: pass back the updated_at you read. Only the port changes;
        # the password is kept although this code never saw it.
        updated = store.update(created["id"], {"connection_details": {"port": 6432}},
                               actor="example-python", expected_updated_at=created["updated_at"])
        print("updated: ", updated["connection_details"])
        try:
            store.update(created["id"], {"name": "late"}, actor="example-python",
                         expected_updated_at=created["updated_at"])
        except dhc.ConflictError as exc:
            print("conflict:", exc)

        for item in store.iter(tags_all=["example"], limit=50):
            print("listed:  ", item["id"], item["name"])

        # Bulk: every record or none, in one transaction; then streamed back in constant
        # memory (fn returning False would stop; an exception it raises is re-raised here).
        replicas = store.create_many([{
            "name": f"Example replica {i} (Python)", "type": "POSTGRESQL",
            "connection_details": {"host": f"replica{i}.example.com", "database": "main_db",
                                   "username": "app_user", "password": "s3cret"},
            "tags": ["example", "replica"],
        } for i in (1, 2)], actor="example-python")
        store.for_each(lambda c: print("streamed:", c["id"], c["name"]),
                       tags_all=["example", "replica"])
        census = store.keys_census()
        under_primary = sum(k["rows"] for k in census["keys"] if k["kid"] == census["primary"])
        print("census:  ", under_primary, "row(s) under the primary key", census["primary"])
        for replica in replicas:
            store.delete(replica["id"])

        store.delete(created["id"])
        try:
            store.get(created["id"])
        except dhc.NotFoundError as exc:
            print("deleted: ", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
