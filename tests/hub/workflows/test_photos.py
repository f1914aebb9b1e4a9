"""Inspection photos (hub.workflows.photos): the type is the content's, not the name's; the size
and count are capped; a kept photo is one file named by its sha256, written whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hub.workflows import photos

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60


def test_a_photo_is_what_its_bytes_say() -> None:
    assert photos.checked(JPEG).content_type == "image/jpeg"
    assert photos.checked(PNG).content_type == "image/png"
    for data in (b"GIF89a" + b"\x00" * 20, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"", b"\xff\xd8"):
        with pytest.raises(photos.PhotoRefused) as refused:
            photos.checked(data)
        assert refused.value.reason == "type"


def test_a_photo_over_the_cap_is_refused_and_one_at_it_kept() -> None:
    at_cap = JPEG + b"\x00" * (photos.MAX_PHOTO_BYTES - len(JPEG))
    assert photos.checked(at_cap).content_type == "image/jpeg"
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.checked(at_cap + b"\x00")
    assert refused.value.reason == "size"


def test_at_most_ten_photos() -> None:
    photos.check_count(photos.MAX_PHOTOS)
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.check_count(photos.MAX_PHOTOS + 1)
    assert refused.value.reason == "count"


def test_a_kept_photo_is_one_file_named_by_its_sha256(tmp_path: Path) -> None:
    store = photos.PhotoStore(tmp_path / "photos")
    digest = store.keep(photos.checked(JPEG))
    assert digest == hashlib.sha256(JPEG).hexdigest()
    assert store.keep(photos.checked(JPEG)) == digest
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [digest]  # no temporary left
    assert store.read(digest) == JPEG


@pytest.mark.parametrize("name", ["../hub-data.key", "a" * 63, "g" * 64, "A" * 64])
def test_only_a_sha256_names_a_photo(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        photos.PhotoStore(tmp_path).path(name)
