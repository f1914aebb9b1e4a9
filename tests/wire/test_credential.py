import pytest

from wire.credential import credential_hash, uid_credential

KEY = bytes(range(32))


def test_hash_is_keyed_normalised_and_hex() -> None:
    digest = credential_hash(KEY, "33010219900101001x")
    assert digest == credential_hash(KEY, " 33010219900101001X ")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest != credential_hash(bytes(32), "33010219900101001X")


def test_uid_credentials_never_collide_with_id_numbers() -> None:
    assert credential_hash(KEY, uid_credential("04a1b2c3")) != credential_hash(KEY, "04A1B2C3")


def test_short_key_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        credential_hash(b"short", "x")
