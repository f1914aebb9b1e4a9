"""ID numbers as the platform takes them: AES/CBC/PKCS7 under the project's appsecret, Base64.

The key is the appsecret's bytes (32 characters: AES-256), the IV its first 16 bytes, as in
ibisTime/xn-gchf ``common/AesUtils.java`` (BouncyCastle ``AES/CBC/PKCS7Padding``). The same
number always encrypts to the same text: the platform matches people by it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_LENGTHS: Final = (16, 24, 32)
"""The appsecret's length in bytes: one of AES's key sizes."""
_BLOCK_BITS: Final = 128


class CipherError(ValueError):
    """A text that does not decrypt under this appsecret (altered, or another project's)."""


def _cipher(appsecret: str) -> Cipher[modes.CBC]:
    key = appsecret.encode("utf-8")
    if len(key) not in KEY_LENGTHS:
        raise ValueError(f"an appsecret is {'/'.join(map(str, KEY_LENGTHS))} bytes long, not {len(key)}")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt_id(number: str, appsecret: str) -> str:
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(number.encode("utf-8")) + padder.finalize()
    encryptor = _cipher(appsecret).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt_id(text: str, appsecret: str) -> str:
    """What the platform does with an ``idCardNumber`` (the stand-in, and the tests)."""
    try:
        raw = base64.b64decode(text, validate=True)
        decryptor = _cipher(appsecret).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        if isinstance(err, ValueError) and "appsecret" in str(err):
            raise
        raise CipherError("the text does not decrypt under this appsecret") from None
