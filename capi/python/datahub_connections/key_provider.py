"""Key providers written in Python: subclass KeyProvider, pass it to Store(key_provider=...).

The store calls the methods from its own threads, concurrently (ctypes takes the GIL for
each call), so they must be thread-safe. Whatever they raise is reported to the store's
caller as KeyUnavailableError, or IntegrityError when unwrap() raises IntegrityError; it
never crashes the process. A KeyboardInterrupt or SystemExit raised on the caller's thread
is re-raised to the caller once the C call has returned.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Optional

from . import _interrupt, _lib, _shutdown
from .errors import Code, IntegrityError

_log = logging.getLogger("datahub_connections")


class KeyProvider:
    """Holds the key-encryption keys that wrap each record's 32-byte data key (DEK)."""

    def primary_key_id(self) -> str:
        """The id new records are sealed under: an opaque label, never derived from a key."""
        raise NotImplementedError

    def wrap(self, key_id: str, dek: bytes, aad: bytes) -> bytes:
        """Encrypts `dek` under key `key_id`, bound to `aad` (authenticated, not secret)."""
        raise NotImplementedError

    def unwrap(self, key_id: str, edk: bytes, aad: bytes) -> bytes:
        """Reverses wrap(). Raise IntegrityError when edk or aad was altered."""
        raise NotImplementedError


def _copy_out(data: bytes, out: int, cap: int, out_len) -> int:
    # The library's buffer protocol: report the size; copy only when it fits.
    out_len[0] = len(data)
    if len(data) <= cap:
        ctypes.memmove(out, data, len(data))
    return Code.OK


def _bytes(result, op: str) -> bytes:
    # bytes(n) of an int n would be n zero bytes: a wrap of nothing, stored as the row's key.
    if not isinstance(result, (bytes, bytearray, memoryview)):
        raise TypeError(f"{op}() must return bytes, not {type(result).__name__}")
    return bytes(result)


def _failed(op: str, exc: BaseException) -> int:
    # The exception's text may come from a KMS client; keep it out of the default log level.
    _log.warning("key provider %s raised %s", op, type(exc).__name__)
    _log.debug("key provider %s failed", op, exc_info=exc)
    return Code.INTEGRITY if isinstance(exc, IntegrityError) else Code.KEY_UNAVAILABLE


class CallbackAdapter:
    """The dhc_key_provider struct for one Python provider.

    The ctypes callback objects live as long as this adapter, which the Store keeps until
    after dhc_store_close(): the library may call them until then."""

    def __init__(self, provider: KeyProvider):
        self.provider = provider
        self.destroyed = False
        self._interrupt = threading.local()  # see take_interrupt()
        self._callbacks = (_lib.PRIMARY_KEY_ID(self._primary), _lib.WRAP(self._wrap),
                           _lib.WRAP(self._unwrap), _lib.DESTROY(self._destroy))
        self.struct = _lib.KeyProviderStruct(1, None, *self._callbacks)

    @_interrupt.callback_entry
    def _primary(self, _user_data, out, cap, out_len):
        try:
            if _interrupt.pending() or self._exiting():  # a Ctrl-C at its entry, or exit
                return Code.KEY_UNAVAILABLE
            return _copy_out(self.provider.primary_key_id().encode("utf-8"), out, cap, out_len)
        except BaseException as exc:  # noqa: B902 - nothing may unwind into C
            return self._failed("primary_key_id", exc)

    @_interrupt.callback_entry
    def _wrap(self, _user_data, key_id, dek, dek_len, aad, aad_len, out, cap, out_len):
        try:
            if _interrupt.pending() or self._exiting():  # a Ctrl-C at its entry, or exit
                return Code.KEY_UNAVAILABLE
            result = self.provider.wrap(key_id.decode("utf-8"), ctypes.string_at(dek, dek_len),
                                        ctypes.string_at(aad, aad_len))
            return _copy_out(_bytes(result, "wrap"), out, cap, out_len)
        except BaseException as exc:  # noqa: B902
            return self._failed("wrap", exc)

    @_interrupt.callback_entry
    def _unwrap(self, _user_data, key_id, edk, edk_len, aad, aad_len, out, cap, out_len):
        try:
            if _interrupt.pending() or self._exiting():  # a Ctrl-C at its entry, or exit
                return Code.KEY_UNAVAILABLE
            result = self.provider.unwrap(key_id.decode("utf-8"), ctypes.string_at(edk, edk_len),
                                          ctypes.string_at(aad, aad_len))
            return _copy_out(_bytes(result, "unwrap"), out, cap, out_len)
        except BaseException as exc:  # noqa: B902
            return self._failed("unwrap", exc)

    def _exiting(self) -> bool:
        # The interpreter is exiting: the call fails, and raises SystemExit on its thread.
        if _shutdown.draining():
            self._interrupt.exc = _shutdown.exit_error()
            return True
        return False

    def _failed(self, op: str, exc: BaseException) -> int:
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not a key failure
            self._interrupt.exc = exc
        return _failed(op, exc)

    def take_interrupt(self) -> Optional[BaseException]:
        """The KeyboardInterrupt or SystemExit a method raised on this thread, if any: the
        C call failed with KEY_UNAVAILABLE, and the Store re-raises it once that returned.
        (A Ctrl-C arriving at a method's entry, before its try, is handled by _interrupt.)"""
        exc, self._interrupt.exc = getattr(self._interrupt, "exc", None), None
        return exc

    def _destroy(self, _user_data):
        self.destroyed = True
