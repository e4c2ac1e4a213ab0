"""Store: a connection store opened through the C ABI. Methods take and return dicts.

Records have the table's column names (id, name, description, type, connection_details,
tags, created_at, created_by, updated_at, updated_by) plus "redacted", "key_id", "alg" and
"stale"; times are ISO-8601 UTC strings. A Store may be shared by threads: the library
releases the GIL while it works. Revealed secrets become Python str objects, which Python
cannot wipe: reveal only where a connection is actually made.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import json
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

from . import _interrupt, _lib, _shutdown
from .errors import InvalidArgumentError
from .key_provider import CallbackAdapter, KeyProvider

_REVEAL = 1
_INT64_MAX = 2**63 - 1


def version() -> str:
    """The library's version, e.g. "0.1.0"."""
    return _lib.lib.dhc_version().decode("ascii")


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:  # C would read only up to the NUL: the rest would be dropped silently
        raise InvalidArgumentError(f"{what}: must not contain NUL characters")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        pass
    # Raised outside the handler: the UnicodeEncodeError holds the whole text (a config's
    # keys too), and would stay reachable as __context__ even with "from None".
    raise InvalidArgumentError(f"{what}: not valid Unicode (lone surrogate)")


def _reveal(reveal: bool) -> int:
    # Strictly a bool: reveal="no" is truthy, and would hand out the secrets.
    if not isinstance(reveal, bool):
        raise TypeError(f"reveal must be a bool, not {type(reveal).__name__}")
    return _REVEAL if reveal else 0


def _json(value: Any, what: str) -> bytes:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except TypeError as e:  # a value JSON has no form for: bytes, Decimal, set, ...
        error: Exception = TypeError(f"{what}: {e}")
    except (ValueError, RecursionError) as e:  # NaN or infinity, a huge int, a cycle, deep nesting
        error = InvalidArgumentError(f"{what}: {e}")
    else:
        return _text(text, what)
    raise error


def _id(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"id must be an int, not {type(value).__name__}")
    if not 0 <= value <= _INT64_MAX:
        raise InvalidArgumentError("id: out of range")
    return value


def _timestamp(value: Union[str, datetime.datetime]) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise InvalidArgumentError("expected_updated_at: datetime must be timezone-aware")
        try:
            value = value.astimezone(datetime.timezone.utc)
        except OverflowError:  # e.g. year 1 at UTC+5: before datetime.min in UTC
            raise InvalidArgumentError("expected_updated_at: out of range") from None
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


class _JsonCallback:
    """A Python function as a dhc_record_callback or dhc_progress_callback.

    The function gets the decoded JSON (a dict). Returning False (exactly False: None goes
    on) stops the C call. Whatever it raises, BaseException included (a KeyboardInterrupt
    from a Ctrl-C while fn runs), is kept and stops the C call: nothing unwinds into C.
    raise_pending() re-raises it once the C call has returned. (A Ctrl-C arriving at _call's
    entry, before its try, is handled by _interrupt.)"""

    def __init__(self, fn: Callable[[Dict[str, Any]], Any], what: str):
        if not callable(fn):
            raise TypeError(f"{what} must be callable, not {type(fn).__name__}")
        self._fn = fn
        self._error: Optional[BaseException] = None
        self.c = _lib.JSON_CALLBACK(self._call)  # alive as long as self: the whole C call

    @_interrupt.callback_entry
    def _call(self, _user_data, text) -> int:
        if self._error is not None:  # never called again after a stop; belt and braces
            return 1
        try:
            if _interrupt.pending():  # a Ctrl-C at this call's entry: raised after the C call
                return 1
            if _shutdown.draining():  # the interpreter is exiting: the C call raises it
                self._error = _shutdown.exit_error()
                return 1
            return 1 if self._fn(json.loads(ctypes.string_at(text))) is False else 0
        except BaseException as exc:  # noqa: B902 - nothing may unwind into C
            self._error = exc
            return 1

    def raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            try:
                raise error
            finally:
                del error  # no frame <-> traceback cycle


class Store:
    """An open store. Use as a context manager, or call close()."""

    def __init__(self, config: Union[dict, str], key_provider: Optional[KeyProvider] = None):
        """config: the dhc_store_open JSON, as a dict or text. With key_provider, the config
        must not have "keys"."""
        text = _text(config, "config") if isinstance(config, str) else _json(config, "config")
        self._lock = threading.Lock()
        self._calls = 0  # C calls in progress on the handle
        self._closing = False
        self._adapter = CallbackAdapter(key_provider) if key_provider is not None else None
        handle = ctypes.c_void_p()
        if self._adapter is None:
            _lib.check(_lib.lib.dhc_store_open, text, ctypes.byref(handle))
        else:
            with _shutdown.callback_call():  # the provider may be called, or destroyed
                _lib.check(_lib.lib.dhc_store_open_with_provider, text,
                           ctypes.byref(self._adapter.struct), ctypes.byref(handle))
        self._handle = handle

    def __copy__(self):
        # A copy would share the C handle, and each would close it: a use after free.
        raise TypeError("a Store cannot be copied: share the object itself (it is thread-safe)")

    def __deepcopy__(self, memo):
        self.__copy__()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # A forgotten close() still releases the sessions; explicit close() is better.
        if getattr(self, "_handle", None):
            try:
                self.close()
            except BaseException:  # interpreter shutdown: modules may be gone, or SystemExit
                pass

    def close(self) -> None:
        """Closes the store. Idempotent. Calls in progress (on other threads, or the one a
        for_each or progress callback runs in) finish first: the last of them closes the
        store as it returns; new calls raise ValueError at once."""
        with self._lock:
            self._closing = True
            handle = self._take_if_idle()
        self._close_handle(handle)

    def _take_if_idle(self) -> Optional[ctypes.c_void_p]:
        # Under self._lock. The handle to close, once no C call is using it.
        if self._calls:
            return None
        handle, self._handle = self._handle, None
        return handle

    def _close_handle(self, handle: Optional[ctypes.c_void_p]) -> None:
        if handle:
            # Closing calls the key provider's destroy callback.
            with _shutdown.callback_call() if self._adapter is not None else contextlib.nullcontext():
                _lib.lib.dhc_store_close(handle)
            # Only now may the ctypes callbacks go: the library called them until close.
            self._adapter = None

    def _check(self, fn, *args) -> None:
        """_lib.check(fn, handle, *args), holding the handle open meanwhile: freeing it
        under a running C call (a close() from a callback or another thread) would be a
        use after free."""
        with self._lock:
            handle = self._handle
            if not handle or self._closing:
                raise ValueError("operation on a closed Store")
            self._calls += 1
            adapter = self._adapter
        # Python callbacks may run on this thread during the call: defer a Ctrl-C arriving
        # at their entry (see _interrupt), where it would escape into ctypes and be lost.
        callbacks = adapter is not None or any(isinstance(a, _lib.JSON_CALLBACK) for a in args)
        try:
            with _shutdown.callback_call() if callbacks else contextlib.nullcontext(), \
                    _interrupt.deferred() if callbacks else contextlib.nullcontext():
                _lib.check(fn, handle, *args)
        finally:
            with self._lock:
                self._calls -= 1
                handle = self._take_if_idle() if self._closing else None
            self._close_handle(handle)
            interrupt = adapter.take_interrupt() if adapter is not None else None
            if interrupt is not None:
                raise interrupt

    def _call_out(self, fn, *args) -> bytes:
        """The string fn returns through its out parameter, copied, wiped and freed. Freed
        too when _check raises after the call produced it (an interrupt raised again): it
        may hold revealed secrets."""
        out = ctypes.c_void_p()
        try:
            self._check(fn, *args, ctypes.byref(out))
        except BaseException:
            _lib.lib.dhc_string_free(out)
            raise
        return _lib.take_string(out)

    def _call_text(self, fn, *args) -> str:
        return self._call_out(fn, *args).decode("utf-8")

    def _call_json(self, fn, *args) -> Any:
        return json.loads(self._call_out(fn, *args))

    # --- schema
    def migrate(self) -> None:
        """Applies every pending schema migration. Idempotent."""
        self._check(_lib.lib.dhc_schema_migrate)

    def schema_status(self) -> Dict[str, int]:
        """{"current_version": n, "latest_version": m}."""
        current, latest = ctypes.c_int(), ctypes.c_int()
        self._check(_lib.lib.dhc_schema_status, ctypes.byref(current), ctypes.byref(latest))
        return {"current_version": current.value, "latest_version": latest.value}

    def rollback_indexes(self) -> None:
        """Drops the indexes, keeps the table and its rows."""
        self._check(_lib.lib.dhc_schema_rollback_indexes)

    def drop_table(self) -> None:
        """DESTROYS DATA: drops the table and every row in it."""
        self._check(_lib.lib.dhc_schema_drop_table)

    # --- connections
    def create(self, connection: Dict[str, Any], actor: str) -> Dict[str, Any]:
        """connection: {"name", "type", "connection_details", "description"?, "tags"?}.
        Returns the stored record, secrets redacted."""
        return self._call_json(_lib.lib.dhc_connection_create, _json(connection, "connection"),
                               _text(actor, "actor"))

    def get(self, id: int, reveal: bool = False) -> Dict[str, Any]:
        """The record with this id; NotFoundError when there is none."""
        return self._call_json(_lib.lib.dhc_connection_get, _id(id), _reveal(reveal))

    def test(self, id: int, timeout_ms: Optional[int] = None) -> Dict[str, Any]:
        """Opens one real session to the connection's target and closes it. A refused
        connection is a result, not an exception: {"ok": False, "failure": "unreachable",
        "message": ..., "latency_ms": ...}; the message never holds the password."""
        options = None if timeout_ms is None else _json({"timeout_ms": timeout_ms}, "timeout_ms")
        return self._call_json(_lib.lib.dhc_connection_test, _id(id), options)

    def conninfo(self, id: int, reveal: bool = False) -> str:
        """The connection as a libpq conninfo string, every value quoted. The password is in
        it only with reveal=True (then treat the string as a secret)."""
        return self._call_text(_lib.lib.dhc_connection_conninfo, _id(id), _reveal(reveal))

    def uri(self, id: int, reveal: bool = False) -> str:
        """The connection as a postgresql:// URI, percent-encoded; the password only with
        reveal=True."""
        return self._call_text(_lib.lib.dhc_connection_uri, _id(id), _reveal(reveal))

    def find_by_name(self, name: str, reveal: bool = False) -> List[Dict[str, Any]]:
        """Every record with exactly this name (names are not unique), by id."""
        return self._call_json(_lib.lib.dhc_connection_find_by_name, _text(name, "name"),
                               _reveal(reveal))["items"]

    def list(self, *, reveal: bool = False, **filters: Any) -> Dict[str, Any]:
        """One page: filters type, tags_all, tags_any, name_prefix, after_id, limit.
        Returns {"items": [...], "next_after_id": n or None}."""
        return self._call_json(_lib.lib.dhc_connection_list, _json(filters, "filters"),
                               _reveal(reveal))

    def iter(self, *, reveal: bool = False, **filters: Any) -> Iterator[Dict[str, Any]]:
        """Every matching record, fetching page after page (limit sets the page size)."""
        while True:
            page = self.list(reveal=reveal, **filters)
            yield from page["items"]
            if page["next_after_id"] is None:
                return
            filters["after_id"] = page["next_after_id"]

    def for_each(self, fn: Callable[[Dict[str, Any]], Any], *, reveal: bool = False,
                 **filters: Any) -> None:
        """Calls fn(record) for every record matching the filters (as in list(); limit is the
        page size fetched at a time), in id order, in constant memory. fn returns False to
        stop (anything else goes on). An exception raised by fn stops the iteration and is
        re-raised here, after the C call has returned. Records that cannot be opened come
        with "error", as in list(). fn runs on the calling thread, between pages no session
        is held: it may call other methods of this store; a close() from fn takes effect
        when for_each returns."""
        callback = _JsonCallback(fn, "fn")
        try:
            self._check(_lib.lib.dhc_connection_for_each, _json(filters, "filters"),
                        _reveal(reveal), callback.c, None)
        finally:
            callback.raise_pending()

    def create_many(self, connections: Iterable[Dict[str, Any]], actor: str) -> List[Dict[str, Any]]:
        """Creates every connection, or none: all are validated first (an error names
        "connections[i].<field>"), then written in one transaction. Returns the stored
        records in input order, secrets redacted."""
        if isinstance(connections, (str, bytes, dict)):
            raise TypeError(f"connections must be a list of dicts, not {type(connections).__name__}")
        return self._call_json(_lib.lib.dhc_connection_create_many,
                               _json(list(connections), "connections"),
                               _text(actor, "actor"))["items"]

    def update(self, id: int, patch: Dict[str, Any], actor: str,
               expected_updated_at: Union[str, datetime.datetime, None] = None,
               force: bool = False) -> Dict[str, Any]:
        """patch: any of name, description (None clears), tags, connection_details (merged;
        a field set to None is removed). Give expected_updated_at (the updated_at you read;
        ConflictError if the row changed since) or force=True (last writer wins)."""
        if not isinstance(patch, dict):
            raise TypeError("patch must be a dict")
        if not isinstance(force, bool):  # force="no" is truthy: a last-writer-wins update
            raise TypeError(f"force must be a bool, not {type(force).__name__}")
        body = dict(patch)
        if expected_updated_at is not None:
            body["expected_updated_at"] = _timestamp(expected_updated_at)
        if force:
            body["force"] = True
        return self._call_json(_lib.lib.dhc_connection_update, _id(id), _json(body, "patch"),
                               _text(actor, "actor"))

    def delete(self, id: int) -> None:
        """Deletes a record; NotFoundError when there is none."""
        self._check(_lib.lib.dhc_connection_delete, _id(id))

    # --- keys
    def keys_census(self) -> Dict[str, Any]:
        """Rows per key id and cipher: {"primary": "k2", "keys": [{"kid": "k1", "alg":
        "A256GCM", "rows": 10}, ...]}. Rows with no key id (another client's: in clear,
        or damaged) count under "kid": ""."""
        return self._call_json(_lib.lib.dhc_keys_census)

    def keys_rotate(self, *, batch_size: Optional[int] = None, dry_run: bool = False,
                    reencrypt: bool = False, workers: Optional[int] = None,
                    progress: Optional[Callable[[Dict[str, Any]], Any]] = None) -> Dict[str, Any]:
        """Moves every row sealed under a key other than the primary onto it (reencrypt: also
        rows under another cipher, sealed afresh). Online and resumable. Returns {"scanned",
        "rewritten", "skipped_changed", "failed", "remaining_estimate"}. workers (1-16,
        default 1): batches in flight at once, each holding a pooled session only for
        its statements (so they may outnumber pool_size).

        progress(report) is called after every batch with the totals so far; returning False
        stops the rotation (batches written stay written) and the report so far is returned.
        An exception it raises also stops it, and is re-raised here."""
        options: Dict[str, Any] = {}
        for name, number in (("batch_size", batch_size), ("workers", workers)):
            if number is None:
                continue
            if not isinstance(number, int) or isinstance(number, bool):
                raise TypeError(f"{name} must be an int, not {type(number).__name__}")
            options[name] = number
        for name, flag in (("dry_run", dry_run), ("reencrypt", reencrypt)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {type(flag).__name__}")
            if flag:
                options[name] = True
        text = _json(options, "options")
        if progress is None:
            return self._call_json(_lib.lib.dhc_keys_rotate, text)
        callback = _JsonCallback(progress, "progress")
        try:
            return self._call_json(_lib.lib.dhc_keys_rotate_with_progress, text, callback.c, None)
        finally:
            callback.raise_pending()

    def keys_verify(self) -> Dict[str, Any]:
        """Opens every row; changes nothing. {"checked": n, "failed": [{"id", "code",
        "message"}]}: rows that are tampered with, or whose key the provider lacks."""
        return self._call_json(_lib.lib.dhc_keys_verify)
