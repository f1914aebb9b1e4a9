"""The sealed stream: opens with the right key, and says which of wrong key, truncation or damage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hub.backup.sealed import (
    CHUNK_BYTES,
    BackupError,
    OpeningReader,
    SealingWriter,
    load_private_key,
    load_public_key,
    make_recovery_keys,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recovery")
    make_recovery_keys(path / "r.key", path / "r.pub")
    make_recovery_keys(path / "other.key", path / "other.pub")
    return path


DATA = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 3)  # two full chunks and a part


def sealed(keys: Path, data: bytes = DATA) -> bytes:
    out = io.BytesIO()
    writer = SealingWriter(out, load_public_key(keys / "r.pub"))
    for start in range(0, len(data), 70_000):  # written in pieces, as tarfile does
        writer.write(data[start : start + 70_000])
    writer.close()
    return out.getvalue()


def opened(keys: Path, blob: bytes, key: str = "r.key") -> bytes:
    return OpeningReader(io.BytesIO(blob), load_private_key(keys / key)).read()


def test_what_is_sealed_opens_whole_and_only_encrypted(keys: Path) -> None:
    blob = sealed(keys)
    assert opened(keys, blob) == DATA
    assert DATA[:4096] not in blob
    assert opened(keys, sealed(keys, b"")) == b""
    assert (keys / "r.key").stat().st_mode & 0o077 == 0


def test_a_wrong_key_truncation_and_damage_are_told_apart(keys: Path) -> None:
    blob = sealed(keys)
    with pytest.raises(BackupError, match="wrong recovery key"):
        opened(keys, blob, "other.key")
    with pytest.raises(BackupError, match="truncated"):
        opened(keys, blob[: len(blob) // 2])
    chunk_end = len(blob) - (len(DATA) - 2 * CHUNK_BYTES + 16 + 4)
    with pytest.raises(BackupError, match=r"truncated \(it ends before its final chunk"):
        opened(keys, blob[:chunk_end])  # whole chunks, the final one missing
    damaged = bytearray(blob)
    damaged[len(blob) // 2] ^= 1
    with pytest.raises(BackupError, match="damaged"):
        opened(keys, bytes(damaged))
    with pytest.raises(BackupError, match="not a SiteGate backup"):
        opened(keys, b"PK\x03\x04 a zip file")


def test_keys_are_never_overwritten_and_must_be_recovery_keys(keys: Path, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="never overwritten"):
        make_recovery_keys(keys / "r.key", tmp_path / "new.pub")
    (tmp_path / "not.pem").write_text("hello")
    with pytest.raises(BackupError, match="not a PEM"):
        load_public_key(tmp_path / "not.pem")
    with pytest.raises(BackupError, match="not an unencrypted PEM private key"):
        load_private_key(keys / "r.pub")
