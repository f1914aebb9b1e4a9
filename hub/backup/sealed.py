"""A backup sealed to a recovery key: X25519 + HKDF-SHA256 + AES-256-GCM, in chunks.

The hub host makes backups with the recovery *public* key only (``sitegate hub backup keygen``
makes the pair; the private half goes to whoever may restore, off the hub), so a stolen hub, or
a stolen backup, does not open one. The archive holds the hub's data key and CA key beside the
data (a backup without its key is useless), and only ever encrypted.

Layout: ``MAGIC ‖ ephemeral X25519 public key (32) ‖ recipient fingerprint (8) ‖ salt (16)``,
then chunks ``length (4, big-endian) ‖ AES-GCM ciphertext``. The key is HKDF of the X25519 shared
secret, fresh for every backup, so chunk nonces are a counter; the nonce's last byte marks the
final chunk and every chunk's associated data is the header, so a chunk dropped, reordered or
cut off, or a header altered, does not open. A truncated file is told apart from a wrong key
(the fingerprint says which recovery key the backup was made for) and from damage.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
from pathlib import Path
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.errors import HubError

MAGIC: Final = b"SITEGATE-BACKUP/1\n"
CHUNK_BYTES: Final = 1 << 20
_FINGERPRINT_BYTES: Final = 8
_SALT_BYTES: Final = 16
_HEADER_BYTES: Final = len(MAGIC) + 32 + _FINGERPRINT_BYTES + _SALT_BYTES
_TAG_BYTES: Final = 16
_INFO: Final = b"sitegate/backup/x25519-hkdf-sha256-aes-256-gcm/v1"


class BackupError(HubError):
    """A backup or restore that cannot go on; the message says what to do about it."""


def fingerprint(public: X25519PublicKey) -> bytes:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:_FINGERPRINT_BYTES]


# -- the recovery key pair -----------------------------------------------------------------------


def make_recovery_keys(private_path: Path, public_path: Path) -> str:
    """A new pair: the private key (PKCS#8 PEM, mode 0600, never overwritten) and the public one
    (PEM). Returns the fingerprint, hex, that backups made for it carry."""
    key = X25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for path in (private_path, public_path):
        if path.exists():
            raise BackupError(f"{path} exists; a recovery key is never overwritten (move it away first)")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    public_path.write_bytes(public_pem)
    return fingerprint(key.public_key()).hex()


def load_public_key(path: Path) -> X25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as err:
        raise BackupError(f"cannot read the recovery public key {path}: {err.strerror}") from err
    except ValueError:
        raise BackupError(f"{path} is not a PEM public key") from None
    if not isinstance(key, X25519PublicKey):
        raise BackupError(f"{path} is not an X25519 recovery key ('sitegate hub backup keygen' makes one)")
    return key


def load_private_key(path: Path) -> X25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as err:
        raise BackupError(f"cannot read the recovery key {path}: {err.strerror}") from err
    except (ValueError, TypeError):
        raise BackupError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, X25519PrivateKey):
        raise BackupError(f"{path} is not an X25519 recovery key ('sitegate hub backup keygen' makes one)")
    return key


def _derive(shared: bytes, salt: bytes, header: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO + header).derive(shared)
    return AESGCM(key)


def _nonce(counter: int, final: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


# -- sealing and opening, as streams -------------------------------------------------------------


class SealingWriter:
    """A write-only stream (what ``tarfile`` mode ``w|`` needs) that seals into ``out``;
    :meth:`close` writes the final chunk and must be called for the backup to open."""

    def __init__(self, out: BinaryIO, recipient: X25519PublicKey) -> None:
        ephemeral = X25519PrivateKey.generate()
        salt = secrets.token_bytes(_SALT_BYTES)
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        self._header = MAGIC + ephemeral.public_key().public_bytes(*raw) + fingerprint(recipient) + salt
        self._aead = _derive(ephemeral.exchange(recipient), salt, self._header)
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        self.closed = False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # keep at least one byte back for the final chunk
            self._emit(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _emit(self, plain: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._counter, final), plain, self._header)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self.closed = True


class OpeningReader:
    """A read-only stream of what :class:`SealingWriter` sealed (what ``tarfile`` mode ``r|``
    needs). Raises :class:`BackupError` on a wrong key, damage or truncation, as it reads."""

    def __init__(self, source: BinaryIO, key: X25519PrivateKey, *, name: str = "the backup") -> None:
        self._source = source
        self._name = name
        header = source.read(_HEADER_BYTES)
        if not header.startswith(MAGIC[: len(header)]) or len(header) < len(MAGIC):
            raise BackupError(f"{name} is not a SiteGate backup (no '{MAGIC.decode().strip()}' header)")
        if len(header) < _HEADER_BYTES:
            raise BackupError(f"{name} is truncated (it ends inside its header)")
        eph_raw = header[len(MAGIC) : len(MAGIC) + 32]
        made_for = header[len(MAGIC) + 32 : len(MAGIC) + 32 + _FINGERPRINT_BYTES]
        salt = header[-_SALT_BYTES:]
        ours = fingerprint(key.public_key())
        if made_for != ours:
            raise BackupError(
                f"{name} was made for the recovery key {made_for.hex()}, not this one ({ours.hex()}): "
                "wrong recovery key"
            )
        self._header = header
        self._aead = _derive(key.exchange(X25519PublicKey.from_public_bytes(eph_raw)), salt, header)
        self._counter = 0
        self._plain = b""
        self._at = 0
        self._ended = False

    def _next_chunk(self) -> None:
        length_bytes = self._source.read(4)
        if len(length_bytes) < 4:
            raise BackupError(f"{self._name} is truncated (it ends before its final chunk)")
        (length,) = struct.unpack(">I", length_bytes)
        if not _TAG_BYTES <= length <= CHUNK_BYTES + _TAG_BYTES:
            raise BackupError(f"{self._name} is damaged (chunk {self._counter} has an impossible length)")
        sealed = self._source.read(length)
        if len(sealed) < length:
            raise BackupError(f"{self._name} is truncated (it ends inside chunk {self._counter})")
        for final in (False, True):
            try:
                self._plain = self._aead.decrypt(_nonce(self._counter, final), sealed, self._header)
            except InvalidTag:
                continue
            self._counter += 1
            self._ended = final
            if final and self._source.read(1):
                raise BackupError(f"{self._name} is damaged (data after its final chunk)")
            return
        raise BackupError(f"{self._name} is damaged (chunk {self._counter} does not open)")

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            left = len(self._plain) - self._at
            if not left:
                if self._ended:
                    break
                self._next_chunk()
                self._at = 0
                continue
            take = left if size < 0 else min(size - len(out), left)
            out += self._plain[self._at : self._at + take]
            self._at += take
        return bytes(out)
