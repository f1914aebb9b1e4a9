"""Keyed hashes of credentials: the only form in which a controller holds an ID number.

HMAC-SHA256 with the site key, so a stolen roster file cannot be reversed by hashing every
plausible ID number (there are only ~10^11 of them): without the key the hashes say nothing.
"""

from __future__ import annotations

import hashlib
import hmac

MIN_SITE_KEY_BYTES = 16


def credential_hash(site_key: bytes, credential: str) -> str:
    """Hex HMAC of a normalised credential (ID number, permit number or card UID)."""
    if len(site_key) < MIN_SITE_KEY_BYTES:
        raise ValueError(f"site key must be at least {MIN_SITE_KEY_BYTES} bytes, got {len(site_key)}")
    normalised = credential.strip().upper()
    return hmac.new(site_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def uid_credential(uid_hex: str) -> str:
    """Card UIDs share the hash space with ID numbers; a prefix keeps the two from colliding."""
    return f"UID:{uid_hex.strip().upper()}"
