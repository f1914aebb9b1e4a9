"""The hub's roster signing key: Ed25519, one file, created on first use, readable by the hub only.

Lanes pin the public half (``roster_public_key`` in their configuration, base64 of the raw 32
bytes, as :func:`public_key_b64` prints it), so whoever holds this file can tell every lane of the
region whom to admit. It is created with mode 0600 in one step (``O_EXCL``: never a moment in which
another user could open it), and a key file that others can read is refused rather than used.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import HubError


class SigningKeyError(HubError):
    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"roster signing key {path}: {why}")


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path`` (PKCS#8 PEM), made there first if there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another hub process made it meanwhile: use theirs
        return _read(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _read(path: Path) -> Ed25519PrivateKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(path, f"mode {stat.S_IMODE(mode):04o} lets others read it; chmod 600")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as err:
        raise SigningKeyError(path, "not an unencrypted PEM private key") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(path, f"a {type(key).__name__}, not an Ed25519 key")
    return key


def public_key_raw(key: Ed25519PrivateKey) -> bytes:
    """The raw 32 bytes of ``key``'s public half: what a lane pins."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """What a lane's ``roster_public_key`` is set to."""
    return base64.b64encode(public_key_raw(key)).decode("ascii")
