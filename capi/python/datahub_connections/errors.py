"""Exceptions: one class per dhc_code, all under DataHubError, each carrying ``.code``."""

from __future__ import annotations

import enum


class Code(enum.IntEnum):
    """The C ABI's dhc_code values."""

    OK = 0
    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    CONFLICT = 3
    INTEGRITY = 4
    KEY_UNAVAILABLE = 5
    DATABASE = 6
    UNAVAILABLE = 7
    INTERNAL = 8


class DataHubError(Exception):
    """A failure reported by the library. The message never contains a secret."""

    code: Code = Code.INTERNAL

    def __init__(self, message: str, sqlstate: str = ""):
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate  # the server's SQLSTATE for DatabaseError, else ""


class InvalidArgumentError(DataHubError, ValueError):
    """Bad input (JSON, field value, NULL); nothing was changed."""

    code = Code.INVALID_ARGUMENT


class NotFoundError(DataHubError, LookupError):
    """No connection with that id."""

    code = Code.NOT_FOUND


class ConflictError(DataHubError):
    """The row changed since it was read (update with expected_updated_at)."""

    code = Code.CONFLICT


class IntegrityError(DataHubError):
    """Stored ciphertext was tampered with, swapped between rows or is malformed.

    A Python key provider raises it from unwrap() when the wrapped key or its associated
    data was altered."""

    code = Code.INTEGRITY


class KeyUnavailableError(DataHubError):
    """The key provider does not have, or cannot use, the key."""

    code = Code.KEY_UNAVAILABLE


class DatabaseError(DataHubError):
    """The server rejected a statement; see .sqlstate."""

    code = Code.DATABASE


class UnavailableError(DataHubError):
    """The server cannot be reached."""

    code = Code.UNAVAILABLE


class InternalError(DataHubError):
    """A bug in the library, or out of memory."""

    code = Code.INTERNAL


_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, NotFoundError, ConflictError, IntegrityError, KeyUnavailableError,
    DatabaseError, UnavailableError, InternalError)}


def error_for(code: int, message: str, sqlstate: str = "") -> DataHubError:
    """The exception for a dhc_code (an unknown code is an InternalError)."""
    return _BY_CODE.get(code, InternalError)(message, sqlstate)
