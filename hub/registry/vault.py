"""ID numbers at rest: sealed with AES-256-GCM, found again through a keyed blind index.

One 32-byte data key (:mod:`hub.registry.keyfile`) serves two purposes through HKDF, so neither
sub-key says anything about the other: an AES-256-GCM key that seals ID numbers and the projects'
site keys, and an HMAC-SHA256 key for the blind index. The index lets the registry refuse a second
registration of the same person, city-wide, without decrypting anyone; being keyed, a stolen
database cannot be searched by hashing the ~10^11 plausible numbers.

A sealed value is ``nonce ‖ ciphertext ‖ tag`` with a fresh random 12-byte nonce. The associated
data binds it to its purpose *and its row* (``person-id`` + the person's id, ``site-key`` + the
project's id): a ciphertext copied into another row, or into the other purpose, does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.errors import HubError

DATA_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
SITE_KEY_BYTES: Final = 32
_SEAL_INFO: Final = b"sitegate/registry/seal/aes-256-gcm/v1"
_INDEX_INFO: Final = b"sitegate/registry/blind-index/hmac-sha256/v1"
_PERSON_ID: Final = b"person-id"
_SITE_KEY: Final = b"site-key"
_PLATFORM_SECRET: Final = b"platform-appsecret"
MASK_SHOWN_HEAD: Final = 6
MASK_SHOWN_TAIL: Final = 4


class VaultError(HubError):
    """A sealed value that does not open: altered, moved to another row, or sealed under another key."""


def normalise_id_number(number: str) -> str:
    """The form that is indexed and hashed: surrounding blanks dropped, letters upper case
    (the same normalisation :func:`wire.credential.credential_hash` applies)."""
    return number.strip().upper()


def mask(number: str) -> str:
    """First 6 and last 4 characters, the rest as ``*`` (all ``*`` if that would show it whole)."""
    shown = MASK_SHOWN_HEAD + MASK_SHOWN_TAIL
    if len(number) <= shown:
        return "*" * len(number)
    return number[:MASK_SHOWN_HEAD] + "*" * (len(number) - shown) + number[-MASK_SHOWN_TAIL:]


def _derive(data_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(data_key)


class IdVault:
    """Seals and opens ID numbers and site keys, and computes blind indexes; holds no other state."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"the data key must be {DATA_KEY_BYTES} bytes, got {len(data_key)}")
        self._aead = AESGCM(_derive(data_key, _SEAL_INFO))
        self._index_key = _derive(data_key, _INDEX_INFO)

    def __repr__(self) -> str:
        return "IdVault(<key hidden>)"

    def blind_index(self, id_number: str) -> str:
        """Hex HMAC-SHA256 of the normalised number: equal numbers, equal index; nothing else learnt."""
        normalised = normalise_id_number(id_number).encode("utf-8")
        return hmac.new(self._index_key, normalised, hashlib.sha256).hexdigest()

    def seal_id(self, person_id: str, id_number: str) -> bytes:
        return self._seal(_PERSON_ID, person_id, normalise_id_number(id_number).encode("utf-8"))

    def open_id(self, person_id: str, sealed: bytes) -> str:
        """An erased ID number (``b""``: retention past its period, hub.retention.purge) opens as ""."""
        if sealed == b"":
            return ""
        return self._open(_PERSON_ID, person_id, sealed).decode("utf-8")

    def seal_site_key(self, project_id: str, site_key: bytes) -> bytes:
        return self._seal(_SITE_KEY, project_id, site_key)

    def open_site_key(self, project_id: str, sealed: bytes) -> bytes:
        return self._open(_SITE_KEY, project_id, sealed)

    def seal_platform_secret(self, project_id: str, appsecret: str) -> bytes:
        """A project's appsecret for the worker platform (hub.platform.settings)."""
        return self._seal(_PLATFORM_SECRET, project_id, appsecret.encode("utf-8"))

    def open_platform_secret(self, project_id: str, sealed: bytes) -> str:
        return self._open(_PLATFORM_SECRET, project_id, sealed).decode("utf-8")

    @staticmethod
    def new_site_key() -> bytes:
        return secrets.token_bytes(SITE_KEY_BYTES)

    def _seal(self, purpose: bytes, row: str, plaintext: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, _associated(purpose, row))

    def _open(self, purpose: bytes, row: str, sealed: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + 16:
            raise VaultError(f"a sealed {purpose.decode()} of row {row} is too short to be one")
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _associated(purpose, row))
        except InvalidTag as err:
            raise VaultError(
                f"the sealed {purpose.decode()} of row {row} does not open: altered, moved, or another key"
            ) from err


def _associated(purpose: bytes, row: str) -> bytes:
    return purpose + b"\x00" + row.encode("utf-8")
