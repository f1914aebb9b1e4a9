"""The vault: sealed ID numbers and site keys open only in their own row, under their own key;
the blind index finds a number without decrypting; the key file is made once and guarded."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.config import HubConfig
from hub.errors import ConfigError
from hub.registry.keyfile import data_key_path, default_data_key_path, load_data_key
from hub.registry.vault import NONCE_BYTES, IdVault, VaultError, mask
from sitegate.netutil import free_port

NUMBER = "33010619900307001X"


def test_an_id_number_round_trips_and_each_seal_differs(vault: IdVault) -> None:
    first, second = vault.seal_id("per-1", NUMBER), vault.seal_id("per-1", NUMBER)
    assert first != second  # a fresh nonce each time: equal numbers do not show as equal
    assert NUMBER.encode() not in first
    assert vault.open_id("per-1", first) == vault.open_id("per-1", second) == NUMBER


@pytest.mark.parametrize("position", [0, NONCE_BYTES, NONCE_BYTES + 5, -1])
def test_any_altered_byte_is_detected(vault: IdVault, position: int) -> None:
    sealed = bytearray(vault.seal_id("per-1", NUMBER))
    sealed[position] ^= 0x01
    with pytest.raises(VaultError) as caught:
        vault.open_id("per-1", bytes(sealed))
    assert NUMBER not in str(caught.value)


def test_a_seal_opens_only_in_its_own_row_and_purpose(vault: IdVault) -> None:
    sealed = vault.seal_id("per-1", NUMBER)
    with pytest.raises(VaultError):
        vault.open_id("per-2", sealed)  # copied into another person's row
    with pytest.raises(VaultError):
        vault.open_site_key("per-1", sealed)  # or passed off as a site key
    with pytest.raises(VaultError):
        vault.open_id("per-1", sealed[:20])


def test_another_key_opens_nothing_and_indexes_differently(vault: IdVault) -> None:
    other = IdVault(bytes(32))
    with pytest.raises(VaultError):
        other.open_id("per-1", vault.seal_id("per-1", NUMBER))
    assert other.blind_index(NUMBER) != vault.blind_index(NUMBER)


def test_the_blind_index_is_of_the_normalised_number(vault: IdVault) -> None:
    index = vault.blind_index(NUMBER)
    assert vault.blind_index(f"  {NUMBER.lower()} ") == index
    assert vault.blind_index(NUMBER[:-1] + "1") != index
    assert len(index) == 64 and NUMBER not in index


def test_site_keys_round_trip_per_project(vault: IdVault) -> None:
    key = vault.new_site_key()
    assert len(key) == 32 and key != vault.new_site_key()
    sealed = vault.seal_site_key("site-a", key)
    assert vault.open_site_key("site-a", sealed) == key
    with pytest.raises(VaultError):
        vault.open_site_key("site-b", sealed)


def test_the_vault_does_not_show_its_key(vault: IdVault) -> None:
    assert "key hidden" in repr(vault)
    with pytest.raises(ValueError, match="32 bytes"):
        IdVault(b"short")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (NUMBER, "330106********001X"),
        ("USA339003070123", "USA339*****0123"),
        ("1234567890", "**********"),
    ],
)
def test_mask_shows_the_first_six_and_last_four(number: str, masked: str) -> None:
    assert mask(number) == masked


def test_a_missing_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "hub-data.key"
    key = load_data_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_data_key(path) == key  # never replaced
    assert [p.name for p in path.parent.iterdir()] == ["hub-data.key"]  # no temporary left behind


def test_a_key_file_made_elsewhere_meanwhile_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "hub-data.key"
    path.write_bytes(b"k" * 32)
    path.chmod(0o600)
    assert load_data_key(path) == b"k" * 32


@pytest.mark.parametrize(
    ("content", "mode", "complaint"),
    [
        (b"k" * 31, 0o600, "holds 31 bytes"),
        (b"k" * 64, 0o600, "holds 64 bytes"),
        (b"k" * 32, 0o644, "accessible to every user"),
        (b"k" * 32, 0o602, "accessible to every user"),
    ],
)
def test_a_bad_key_file_stops_the_hub(tmp_path: Path, content: bytes, mode: int, complaint: str) -> None:
    path = tmp_path / "hub-data.key"
    path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=complaint):
        load_data_key(path)
    assert path.read_bytes() == content  # never overwritten


def test_an_unreadable_key_file_stops_the_hub(tmp_path: Path) -> None:
    path = tmp_path / "hub-data.key"
    path.mkdir()  # unreadable as a file even for root
    with pytest.raises(ConfigError, match="unreadable"):
        load_data_key(path)


def test_a_key_file_in_a_directory_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot create"):
        load_data_key(tmp_path / "file" / "hub-data.key")


def test_the_default_key_lives_beside_an_sqlite_database_else_in_var(tmp_path: Path) -> None:
    def path(url: str, **options: Any) -> Path:
        return HubConfig(database_url=url, **options).data_key_path()

    assert path(f"sqlite+aiosqlite:///{tmp_path}/db/hub.db") == tmp_path / "db" / "hub-data.key"
    assert path("sqlite+aiosqlite:///:memory:") == Path("var/hub-data.key")
    assert path("postgresql+asyncpg://u@h/db") == Path("var/hub-data.key")
    assert path("postgresql+asyncpg://u@h/db", data_key_file=tmp_path / "k") == tmp_path / "k"
    assert default_data_key_path(f"sqlite+aiosqlite:///{tmp_path}/hub.db") == tmp_path / "hub-data.key"
    assert data_key_path(tmp_path / "k", "postgresql+asyncpg://u@h/db") == tmp_path / "k"


def test_the_created_file_is_not_readable_by_others(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        load_data_key(tmp_path / "hub-data.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "hub-data.key").stat().st_mode) == 0o600


async def test_the_hub_does_not_start_with_a_bad_key_file(tmp_path: Path) -> None:
    key = tmp_path / "hub-data.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_port=free_port(), data_key_file=key
    )
    with pytest.raises(ConfigError, match="accessible to every user"):
        async with TestClient(TestServer(create_app(config))):
            pass
    assert not (tmp_path / "hub.db").exists()  # refused before the database was touched


async def test_the_hub_makes_its_key_beside_its_database(tmp_path: Path) -> None:
    config = HubConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_port=free_port())
    async with TestClient(TestServer(create_app(config))):
        pass
    assert stat.S_IMODE((tmp_path / "hub-data.key").stat().st_mode) == 0o600
