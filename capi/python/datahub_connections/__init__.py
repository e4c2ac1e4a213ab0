"""DataHub Connections SDK for Python: the C ABI through ctypes.

    from datahub_connections import Store

    with Store({"database": "host=/run/postgresql dbname=datahub",
                "keys": {"provider": "env"}}) as store:
        store.migrate()
        c = store.create({"name": "Production DB", "type": "POSTGRESQL",
                          "connection_details": {"host": "db", "database": "main",
                                                 "username": "app", "password": "s3cret"}},
                         actor="user_01")
        store.get(c["id"], reveal=True)

The shared library is found through DATAHUB_CONNECTIONS_LIBRARY (a path), else the dynamic
linker's search path. See docs/bindings.md.
"""

from .errors import (Code, ConflictError, DatabaseError, DataHubError, IntegrityError,
                     InternalError, InvalidArgumentError, KeyUnavailableError, NotFoundError,
                     UnavailableError)
from .key_provider import KeyProvider
from .store import Store, version

__all__ = [
    "Code", "ConflictError", "DatabaseError", "DataHubError", "IntegrityError", "InternalError",
    "InvalidArgumentError", "KeyProvider", "KeyUnavailableError", "NotFoundError", "Store",
    "UnavailableError", "version",
]
