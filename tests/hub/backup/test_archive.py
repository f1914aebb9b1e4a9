"""A backup taken from a hub and restored, on both stores, and each way a restore refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from hub.api import enrolment
from hub.backup import databases
from hub.backup.archive import restore_backup, take_backup
from hub.backup.cli import backup_main, restore_main
from hub.backup.marker import read_marker
from hub.backup.running import hub_running
from hub.backup.sealed import BackupError, load_private_key, load_public_key, make_recovery_keys
from hub.config import HubConfig
from hub.registry import load_data_key
from hub.store import Store
from hub.store.schema import districts


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recovery")
    make_recovery_keys(path / "r.key", path / "r.pub")
    make_recovery_keys(path / "other.key", path / "other.pub")
    return path


@pytest.fixture
def hub(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    """A hub's settings with its data key, a CA and a photo in its state directory (./var on
    PostgreSQL: the test runs in its own directory)."""
    monkeypatch.chdir(tmp_path)
    config = HubConfig(database_url=database_url)
    load_data_key(config.data_key_path())
    ca = config.state_dir() / "ca"
    ca.mkdir(parents=True)
    (ca / "ca.key").write_bytes(b"synthetic CA key")
    (ca / "enrolments.json").write_text("{}")
    config.photos_path().mkdir()
    (config.photos_path() / "ab12.jpg").write_bytes(b"synthetic photo")
    return config


async def district_names(url: str) -> list[str]:
    async with await Store.open(url) as store, store.read("test") as conn:
        return sorted(str(name) for (name,) in await conn.execute(select(districts.c.name)))


async def test_a_backup_restores_the_database_keys_ca_and_photos(
    hub: HubConfig, keys: Path, tmp_path: Path
) -> None:
    async with await Store.open(hub.database_url) as store, store.write("test") as conn:
        await conn.execute(districts.insert().values(code="330106", name="Xihu"))
    data_key = hub.data_key_path().read_bytes()
    backup = tmp_path / "hub.sgbackup"
    manifest = await take_backup(hub, load_public_key(keys / "r.pub"), backup)
    assert manifest.store == databases.store_kind(hub.database_url)
    assert {"keys/hub-data.key", enrolment.CA_DIR, "photos"} <= set(manifest.files)
    assert data_key not in backup.read_bytes()  # the key travels sealed only

    async with await Store.open(hub.database_url) as store, store.write("test") as conn:
        await conn.execute(delete(districts))  # the hub's data lost ...
    hub.data_key_path().unlink()
    (hub.state_dir() / "ca" / "ca.key").unlink()
    with pytest.raises(BackupError, match="already holds a hub's data; --replace"):
        await restore_backup(hub, load_private_key(keys / "r.key"), backup)

    restored = await restore_backup(hub, load_private_key(keys / "r.key"), backup, replace=True)
    assert await district_names(hub.database_url) == ["Xihu"]  # ... and back
    assert hub.data_key_path().read_bytes() == data_key
    assert hub.data_key_path().stat().st_mode & 0o077 == 0
    assert (hub.state_dir() / "ca" / "ca.key").read_bytes() == b"synthetic CA key"
    assert (hub.photos_path() / "ab12.jpg").read_bytes() == b"synthetic photo"
    marker = read_marker(hub.state_dir())
    assert marker == restored.marker and marker.taken_at == manifest.taken_at
    again = await restore_backup(hub, load_private_key(keys / "r.key"), backup, replace=True)
    assert again.marker.epoch > marker.epoch  # each restore a new epoch: lanes act on it afresh


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_restore_refuses_before_it_replaces_anything(
    hub: HubConfig, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = tmp_path / "hub.sgbackup"
    await take_backup(hub, load_public_key(keys / "r.pub"), backup)
    database = databases.sqlite_path(hub.database_url)
    before = database.read_bytes()
    key = load_private_key(keys / "r.key")

    async def refused(match: str, path: Path = backup, **kwargs: object) -> None:
        with pytest.raises(BackupError, match=match):
            await restore_backup(hub, kwargs.pop("key", key), path, replace=True)  # type: ignore[arg-type]
        assert database.read_bytes() == before

    await refused("wrong recovery key", key=load_private_key(keys / "other.key"))
    (tmp_path / "cut.sgbackup").write_bytes(backup.read_bytes()[:-100])
    await refused("truncated", tmp_path / "cut.sgbackup")
    with hub_running(hub.state_dir()):
        await refused("a hub is running on")
    with monkeypatch.context() as patched:
        patched.setattr(databases, "known_revisions", lambda: {"0001"})
        await refused(r"schema \(\w+\) is newer than this hub knows")
    elsewhere = hub.model_copy(update={"database_url": "postgresql+asyncpg://hub@127.0.0.1:9/hub"})
    with pytest.raises(BackupError, match="a backup of a sqlite hub cannot be restored into postgresql"):
        await restore_backup(elsewhere, key, backup)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_commands_back_up_into_a_directory_and_keep_the_newest(
    hub: HubConfig, keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "backups"
    out.mkdir()
    (out / "hub-20000101T000000000000Z.sgbackup").write_bytes(b"an old one")
    settings = ["--database-url", hub.database_url]
    assert (
        backup_main(
            ["--recovery-public-key", str(keys / "r.pub"), "--out", str(out), "--keep", "1", *settings]
        )
        == 0
    )
    made = list(out.glob("hub-*.sgbackup"))
    assert len(made) == 1 and made[0].stat().st_size > 1000  # the old one pruned
    assert restore_main(["--recovery-key", str(keys / "other.key"), "--from", str(made[0]), *settings]) == 1
    said = capsys.readouterr().err
    assert "恢复失败 / restore failed" in said and "wrong recovery key" in said and "Traceback" not in said
    assert (
        restore_main(["--recovery-key", str(keys / "r.key"), "--from", str(made[0]), "--replace", *settings])
        == 0
    )
    assert "restore epoch" in capsys.readouterr().out


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_restore_refuses_while_a_hub_elsewhere_uses_the_postgresql_database(
    hub: HubConfig, keys: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "hub.sgbackup"
    await take_backup(hub, load_public_key(keys / "r.pub"), backup)
    async with await Store.open(hub.database_url) as elsewhere, elsewhere.read("a hub on another machine"):
        with pytest.raises(BackupError, match="1 other sessions use the database: stop every hub on it"):
            await restore_backup(hub, load_private_key(keys / "r.key"), backup, replace=True)
