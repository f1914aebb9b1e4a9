"""The hub's signature on what it sends down to lanes: one envelope, one byte form, one check.

Rosters (:mod:`wire.roster`) and site messages (:mod:`wire.site`) are signed the same way, with the
one hub key every lane pins: Ed25519 over :func:`canonical_bytes`, the message as compact JSON with
sorted keys, without ``signature``, times as ``isoformat()``. Both sides compute those bytes from
the parsed model, so they do not depend on how a JSON library spaces or orders what it sends.
``kind`` is among what is signed, so one family's message can never pass for another's, and
``key_id`` too, so a lane that pins another key can say so instead of "forged".

:class:`Signer` is the hub's half (it holds the private key), :class:`Verifier` the lane's (it
holds the pinned public key). Pure: pydantic, the standard library and ``cryptography``'s Ed25519
(not its serialization module, which would add ~50 modules to a lane's boot); loading and
printing a key is the hub's business (:mod:`hub.rosters.keys`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, Field, model_validator

from wire.models import WireModel

KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
Signature = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$")]
"""Base64 of a 64-byte Ed25519 signature."""


class Signed(WireModel):
    """The envelope of every message the hub signs: when, by which key, and the signature.

    Both halves or neither: an unsigned message must still parse, so a lane can say "unsigned"
    rather than "unreadable"."""

    issued_at: AwareDatetime
    key_id: KeyId | None = None
    """Which hub key signed it (:func:`key_id_for`), so a lane with another pinned key says so."""
    signature: Signature | None = None

    @model_validator(mode="after")
    def _signed_whole(self) -> Signed:
        if (self.key_id is None) != (self.signature is None):
            raise ValueError("key_id and signature go together")
        return self

    @property
    def signature_bytes(self) -> bytes | None:
        return None if self.signature is None else base64.b64decode(self.signature)


Message = TypeVar("Message", bound=Signed)


def key_id_for(public_key: bytes) -> str:
    """The short name of a raw 32-byte Ed25519 public key: enough to tell keys apart in a message."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical_bytes(message: Signed) -> bytes:
    """The bytes a signature covers: every field but ``signature``, sorted, compact, UTF-8."""
    fields = message.model_dump(mode="python", exclude={"signature"})
    return json.dumps(
        fields, default=_plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


class Signer:
    """The hub's half: signs messages with its private key (the key id is part of what is signed)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id_for(key.public_key().public_bytes_raw())

    def sign(self, message: Message) -> Message:
        """``message`` with ``key_id`` and ``signature`` set."""
        draft = message.model_copy(update={"key_id": self.key_id, "signature": None})
        signature = self._key.sign(canonical_bytes(draft))
        return draft.model_copy(update={"signature": base64.b64encode(signature).decode("ascii")})


class Verifier:
    """The lane's half: checks a message against the one hub key it pins."""

    def __init__(self, public_key: bytes) -> None:
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
        self.key_id = key_id_for(public_key)

    def problem(self, message: Signed, name: str) -> str | None:
        """Why ``message`` (called ``name`` in the answer) is not the pinned key's, or None.

        Checked before anything the message says: whatever fails here is a forgery or damage."""
        signature = message.signature_bytes
        if signature is None:
            return f"{name} is unsigned"
        if message.key_id != self.key_id:
            return f"{name} is signed by key {message.key_id}, this lane trusts {self.key_id}"
        try:
            self._key.verify(signature, canonical_bytes(message))
        except InvalidSignature:
            return f"{name}: signature does not verify (forged or altered)"
        return None
