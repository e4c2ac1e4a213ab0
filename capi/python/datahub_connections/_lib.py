"""Loads libdatahub_connections and declares the C ABI's prototypes (ctypes)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from .errors import error_for

c_int, c_int64, c_uint32, c_size_t = ctypes.c_int, ctypes.c_int64, ctypes.c_uint32, ctypes.c_size_t
c_void_p, c_char_p = ctypes.c_void_p, ctypes.c_char_p
P = ctypes.POINTER

# Callbacks of dhc_key_provider. Buffers are c_void_p: the library owns them.
PRIMARY_KEY_ID = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, P(c_size_t))
WRAP = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p, c_size_t, c_void_p, c_size_t,
                        c_void_p, c_size_t, P(c_size_t))
DESTROY = ctypes.CFUNCTYPE(None, c_void_p)
# dhc_record_callback and dhc_progress_callback: (user_data, json) -> 0 to go on. The JSON is
# c_void_p, not c_char_p: the library wipes it after the call, so it is copied explicitly.
JSON_CALLBACK = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)


class KeyProviderStruct(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("user_data", c_void_p),
                ("primary_key_id", PRIMARY_KEY_ID), ("wrap", WRAP), ("unwrap", WRAP),
                ("destroy", DESTROY)]


def _load() -> ctypes.CDLL:
    path = os.environ.get("DATAHUB_CONNECTIONS_LIBRARY") or ctypes.util.find_library(
        "datahub_connections")
    if not path:
        raise ImportError(
            "libdatahub_connections not found: set DATAHUB_CONNECTIONS_LIBRARY to the path of "
            "libdatahub_connections.so, or install the library where the dynamic linker finds it")
    try:
        return ctypes.CDLL(path)  # CDLL releases the GIL during calls
    except OSError as exc:
        raise ImportError(f"cannot load {path}: {exc}") from exc


lib = _load()

_PROTOTYPES = {
    "dhc_version": (c_char_p, []),
    "dhc_string_free": (None, [c_void_p]),
    "dhc_error_code": (c_int, [c_void_p]),
    "dhc_error_message": (c_char_p, [c_void_p]),
    "dhc_error_sqlstate": (c_char_p, [c_void_p]),
    "dhc_error_free": (None, [c_void_p]),
    "dhc_store_open": (c_int, [c_char_p, P(c_void_p), P(c_void_p)]),
    "dhc_store_open_with_provider": (c_int, [c_char_p, P(KeyProviderStruct), P(c_void_p),
                                             P(c_void_p)]),
    "dhc_store_close": (None, [c_void_p]),
    "dhc_schema_migrate": (c_int, [c_void_p, P(c_void_p)]),
    "dhc_schema_status": (c_int, [c_void_p, P(c_int), P(c_int), P(c_void_p)]),
    "dhc_schema_rollback_indexes": (c_int, [c_void_p, P(c_void_p)]),
    "dhc_schema_drop_table": (c_int, [c_void_p, P(c_void_p)]),
    "dhc_connection_create": (c_int, [c_void_p, c_char_p, c_char_p, P(c_void_p), P(c_void_p)]),
    "dhc_connection_get": (c_int, [c_void_p, c_int64, c_uint32, P(c_void_p), P(c_void_p)]),
    "dhc_connection_find_by_name": (c_int, [c_void_p, c_char_p, c_uint32, P(c_void_p),
                                            P(c_void_p)]),
    "dhc_connection_list": (c_int, [c_void_p, c_char_p, c_uint32, P(c_void_p), P(c_void_p)]),
    "dhc_connection_update": (c_int, [c_void_p, c_int64, c_char_p, c_char_p, P(c_void_p),
                                      P(c_void_p)]),
    "dhc_connection_delete": (c_int, [c_void_p, c_int64, P(c_void_p)]),
    "dhc_connection_create_many": (c_int, [c_void_p, c_char_p, c_char_p, P(c_void_p),
                                           P(c_void_p)]),
    "dhc_connection_for_each": (c_int, [c_void_p, c_char_p, c_uint32, JSON_CALLBACK, c_void_p,
                                        P(c_void_p)]),
    "dhc_keys_census": (c_int, [c_void_p, P(c_void_p), P(c_void_p)]),
    "dhc_keys_rotate": (c_int, [c_void_p, c_char_p, P(c_void_p), P(c_void_p)]),
    "dhc_keys_rotate_with_progress": (c_int, [c_void_p, c_char_p, JSON_CALLBACK, c_void_p,
                                              P(c_void_p), P(c_void_p)]),
    "dhc_keys_verify": (c_int, [c_void_p, P(c_void_p), P(c_void_p)]),
    "dhc_connection_test": (c_int, [c_void_p, c_int64, c_char_p, P(c_void_p), P(c_void_p)]),
    "dhc_connection_conninfo": (c_int, [c_void_p, c_int64, c_uint32, P(c_void_p), P(c_void_p)]),
    "dhc_connection_uri": (c_int, [c_void_p, c_int64, c_uint32, P(c_void_p), P(c_void_p)]),
}
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype, _fn.argtypes = _restype, _argtypes


def check(call, *args) -> None:
    """Calls a fallible dhc_* function (without its trailing err) and raises on failure."""
    err = c_void_p()
    code = call(*args, ctypes.byref(err))
    if code == 0:
        return
    try:
        message = (lib.dhc_error_message(err) or b"").decode("utf-8", "replace")
        sqlstate = (lib.dhc_error_sqlstate(err) or b"").decode("ascii", "replace")
        code = lib.dhc_error_code(err) if err else code
    finally:
        lib.dhc_error_free(err)
    raise error_for(code, message, sqlstate)


def take_string(ptr: c_void_p) -> bytes:
    """Copies a string the library returned, then wipes and frees the original."""
    try:
        return ctypes.string_at(ptr)
    finally:
        lib.dhc_string_free(ptr)
