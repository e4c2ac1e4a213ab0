"""A key provider written in Python, for the tests: encrypt-then-MAC from the standard
library (Python's stdlib has no AES). A TEST PROVIDER, NOT FOR PRODUCTION: use a KMS.

wrap(kid, dek, aad) = nonce || (dek XOR keystream) || tag, where
  keystream = HMAC-SHA256(enc_key, nonce || counter) blocks,
  tag       = HMAC-SHA256(mac_key, len(aad) || aad || nonce || ciphertext),
and enc_key / mac_key are derived from the key-encryption key with HMAC under fixed labels.
"""

import hashlib
import hmac
import os
import struct
import threading

import datahub_connections as dhc


class HmacKeyProvider(dhc.KeyProvider):
    def __init__(self, keys: dict, primary: str):
        self._keys = dict(keys)
        self._primary = primary
        self._lock = threading.Lock()
        self.calls = {"wrap": 0, "unwrap": 0}
        self.threads = set()  # threading.get_ident() of every thread that called it

    def primary_key_id(self) -> str:
        return self._primary

    def _subkeys(self, key_id):
        try:
            kek = self._keys[key_id]
        except KeyError:
            raise dhc.KeyUnavailableError(f"unknown key {key_id!r}") from None
        return (hmac.new(kek, b"datahub-test-wrap enc", hashlib.sha256).digest(),
                hmac.new(kek, b"datahub-test-wrap mac", hashlib.sha256).digest())

    @staticmethod
    def _keystream(key, nonce, n):
        blocks = (hmac.new(key, nonce + struct.pack(">I", i), hashlib.sha256).digest()
                  for i in range((n + 31) // 32))
        return b"".join(blocks)[:n]

    @staticmethod
    def _tag(key, aad, nonce, ct):
        return hmac.new(key, struct.pack(">Q", len(aad)) + aad + nonce + ct, hashlib.sha256).digest()

    def _count(self, op):
        with self._lock:
            self.calls[op] += 1
            self.threads.add(threading.get_ident())

    def wrap(self, key_id, dek, aad):
        self._count("wrap")
        enc, mac = self._subkeys(key_id)
        nonce = os.urandom(16)
        ct = bytes(a ^ b for a, b in zip(dek, self._keystream(enc, nonce, len(dek))))
        return nonce + ct + self._tag(mac, aad, nonce, ct)

    def unwrap(self, key_id, edk, aad):
        self._count("unwrap")
        enc, mac = self._subkeys(key_id)
        if len(edk) < 16 + 32:
            raise dhc.IntegrityError("wrapped key too short")
        nonce, ct, tag = edk[:16], edk[16:-32], edk[-32:]
        if not hmac.compare_digest(tag, self._tag(mac, aad, nonce, ct)):
            raise dhc.IntegrityError("wrapped key or its associated data altered")
        return bytes(a ^ b for a, b in zip(ct, self._keystream(enc, nonce, len(ct))))
