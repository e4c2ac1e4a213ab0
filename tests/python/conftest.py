"""Fixtures for the Python bindings' tests: a scratch database and a fresh static key.

DATAHUB_TEST_DATABASE must name the database (tests/run.sh sets it); without it every test
fails instead of being skipped, so a CI misconfiguration cannot pass silently."""

import base64
import os
import uuid

import pytest

from datahub_connections import Store


@pytest.fixture(scope="session")
def database() -> str:
    conninfo = os.environ.get("DATAHUB_TEST_DATABASE")
    if not conninfo:
        pytest.fail("DATAHUB_TEST_DATABASE is not set (a libpq conninfo of a scratch database)")
    return conninfo


def static_config(database: str, **extra) -> dict:
    key = base64.b64encode(os.urandom(32)).decode()
    return {"database": database, "pool_size": 4,
            "keys": {"provider": "static", "primary": "py-test", "keys": {"py-test": key}},
            **extra}


@pytest.fixture
def prefix() -> str:
    """A name prefix unique to the test, so that it sees (and deletes) only its own rows."""
    return f"py-{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def store(database, prefix):
    with Store(static_config(database)) as s:
        s.migrate()
        yield s
        for item in list(s.iter(name_prefix=prefix)):
            s.delete(item["id"])


def sample(name: str, **extra) -> dict:
    return {"name": name, "type": "POSTGRESQL",
            "connection_details": {"host": "db.example.com", "database": "main_db",
                                   "username": "app_user", "password": "s3cret"},
            **extra}
