"""Inspection photos: checked by their content and kept as files outside the database.

A photo is what its first bytes say it is (JPEG or PNG magic), never what its name or the
browser's ``Content-Type`` claims; one larger than :data:`MAX_PHOTO_BYTES`, or a twelfth photo on
one inspection, is refused before anything is written. A kept photo is a file in the configured
directory (``HubConfig.photos_dir``) named by its sha256, written to a temporary file in the
same directory and renamed into place, so a reader never sees half a photo and the same photo
twice is one file. The database holds only its record (``inspection_photos``); a file is written
before the record's transaction, so a refused or failed write may leave a file no record names
(harmless: it is never served, and the same photo sent again is that file).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.refusals import Invalid

MAX_PHOTO_BYTES: Final = 5 * 1024 * 1024
MAX_PHOTOS: Final = 10
_MAGIC: Final = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
_SHA256_HEX: Final = frozenset("0123456789abcdef")


class PhotoRefused(Invalid):
    """A photo that is not kept: not a JPEG or PNG, too large, or one too many."""

    code = "photo_refused"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        """``type``, ``size`` or ``count``: which of the checks refused it."""
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Photo:
    """A checked photo, not yet kept: its bytes and the type its content says."""

    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def content_type_of(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` by the magic bytes, else None."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def checked(data: bytes) -> Photo:
    """``data`` as a photo, or :class:`PhotoRefused` saying why not."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused("size", f"photo: {len(data)} bytes, more than {MAX_PHOTO_BYTES}")
    kind = content_type_of(data)
    if kind is None:
        raise PhotoRefused("type", "photo: neither a JPEG nor a PNG image (by its content)")
    return Photo(data, kind)


def check_count(count: int) -> None:
    if count > MAX_PHOTOS:
        raise PhotoRefused("count", f"photos: {count}, more than {MAX_PHOTOS} on one inspection")


class PhotoStore:
    """The photos' directory: files named by sha256, written atomically."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def keep(self, photo: Photo) -> str:
        """Write ``photo`` (once: the same content is the same file); return its sha256."""
        digest = photo.sha256
        target = self.path(digest)
        if target.exists():
            return digest
        self._directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._directory, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(photo.data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def path(self, sha256: str) -> Path:
        """The file of a photo; only a sha256's 64 hex digits name one (no path from outside)."""
        if len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
            raise ValueError("not a sha256 in hex")
        return self._directory / sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
