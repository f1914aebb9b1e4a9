"""One backup: the database, the hub's keys and CA, and its photos, in a tar sealed to a recovery key.

The tar (streamed, never whole in memory) starts with ``manifest.json`` (the store, the schema
revision, when it was taken), so a restore refuses a backup it cannot use (another store, a newer
schema) before reading the rest. Then the database (``database/hub.sqlite3`` or
``database/hub.pgdump``), the data key that seals ID numbers and site keys (``keys/hub-data.key``:
a backup without it is useless), the roster signing key the lanes pin, the CA that enrols lanes
(``ca/``: its key, its ledger of enrolments), and the inspections' photos (``photos/``).

A restore replaces nothing until the whole archive has opened (a wrong key, damage, a truncated
file are found first), refuses to replace a running hub's data, and refuses to replace a hub's
data at all unless told to (``replace``). It ends by writing the restore marker
(:mod:`hub.backup.marker`) that makes the hub ask its lanes for what the backup lacks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from hub.backup import databases
from hub.backup.marker import RestoreMarker, write_marker
from hub.backup.running import no_hub_running
from hub.backup.sealed import BackupError, OpeningReader, SealingWriter
from hub.cli_database import DatabaseState, probe, shown
from hub.config import HubConfig

FORMAT = 1
MANIFEST = "manifest.json"
DATA_KEY = "keys/hub-data.key"
ROSTER_KEY = "keys/roster-signing.key"
CA_DIR = "ca"
"""The CA's directory in the hub's state directory (``hub.api.enrolment.CA_DIR``; not imported from
there, which would load the whole web app into the backup command)."""
_DATABASE = {databases.SQLITE: "database/hub.sqlite3", databases.POSTGRES: "database/hub.pgdump"}


@dataclass(frozen=True, slots=True)
class Manifest:
    store: str
    schema_revision: str
    taken_at: datetime
    files: tuple[str, ...]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "store": self.store,
                "schema_revision": self.schema_revision,
                "taken_at": self.taken_at.isoformat(),
                "files": list(self.files),
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(raw)
            if data["format"] != FORMAT:
                raise BackupError(f"backup format {data['format']}; this hub reads format {FORMAT}")
            return cls(
                store=str(data["store"]),
                schema_revision=str(data["schema_revision"]),
                taken_at=datetime.fromisoformat(data["taken_at"]),
                files=tuple(str(name) for name in data["files"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise BackupError(f"the backup's manifest is unreadable: {err}") from err


def _state_files(config: HubConfig) -> dict[str, Path]:
    """Archive name → where the file or directory lives on this hub."""
    return {
        DATA_KEY: config.data_key_path(),
        ROSTER_KEY: config.roster_key_path(),
        CA_DIR: config.state_dir() / CA_DIR,
        "photos": config.photos_path(),
    }


@contextlib.contextmanager
def _private_dir(near: Path) -> Iterator[Path]:
    """A directory only this user reads (mode 0700), beside ``near``, removed afterwards: the
    database's plain copy lives there while it goes into the sealed archive, or comes out of it."""
    near.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".sitegate-backup-", dir=near))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- backup --------------------------------------------------------------------------------------


async def take_backup(config: HubConfig, recipient: X25519PublicKey, out: Path) -> Manifest:
    """Seal a backup of the hub ``config`` names into ``out`` (written as ``out.partial`` and
    renamed when whole, so a file named ``out`` is always a complete backup)."""
    store = databases.store_kind(config.database_url)
    data_key = config.data_key_path()
    if not data_key.is_file():
        raise BackupError(f"no data key at {data_key}: a backup without it could not be opened")
    with _private_dir(out.parent) as work:
        copy = work / "database"
        taken_at = datetime.now(UTC)
        if store == databases.SQLITE:
            revision = databases.snapshot_sqlite(config.database_url, copy)
        else:
            revision = await databases.snapshot_postgres(config.database_url, copy)
        present = {name: path for name, path in _state_files(config).items() if path.exists()}
        manifest = Manifest(store, revision, taken_at, tuple(sorted(present)))
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw:
            writer = SealingWriter(raw, recipient)
            with tarfile.open(fileobj=_stream(writer), mode="w|", format=tarfile.PAX_FORMAT) as tar:
                _add_bytes(tar, MANIFEST, manifest.to_json())
                tar.add(copy, arcname=_DATABASE[store], recursive=False)
                for name, path in sorted(present.items()):
                    tar.add(path, arcname=name, filter=_plain_files)
            writer.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    return manifest


def _plain_files(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Regular files and directories only (a link in the photos' directory is not followed, and
    not taken: a restore refuses what is neither)."""
    return member if member.isfile() or member.isdir() else None


def _stream(stream: SealingWriter | OpeningReader) -> IO[bytes]:
    """A sealed stream as tarfile's stream modes (``w|``, ``r|``) use it: they only ever call
    ``write`` or ``read`` (the typing asks for a whole file, seekable)."""
    return cast(IO[bytes], stream)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


# -- restore -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restored:
    manifest: Manifest
    marker: RestoreMarker


async def restore_backup(
    config: HubConfig, key: X25519PrivateKey, archive: Path, *, replace: bool = False
) -> Restored:
    """Put the backup ``archive`` in place of the hub ``config`` names (see the module's doc)."""
    store = databases.store_kind(config.database_url)
    state_dir = config.state_dir()
    try:
        source = archive.open("rb")
    except OSError as err:
        raise BackupError(f"cannot read {archive}: {err.strerror}") from err
    with source, no_hub_running(state_dir), _private_dir(state_dir) as work:
        reader = OpeningReader(source, key, name=str(archive))
        try:
            with tarfile.open(fileobj=_stream(reader), mode="r|") as tar:
                manifest = await _check(tar, config, store, replace)
                _unpack(tar, work)
        except tarfile.TarError as err:
            raise BackupError(f"{archive} is damaged: {err}") from err
        database = work / _DATABASE[store]
        if not database.is_file() or not (work / DATA_KEY).is_file():
            raise BackupError(f"{archive} lacks its database or its data key")
        if store == databases.SQLITE:
            databases.restore_sqlite(config.database_url, database)
        else:
            await databases.restore_postgres(config.database_url, database)
        for name, target in _state_files(config).items():
            if (work / name).exists():
                _put(work / name, target)
        marker = write_marker(state_dir, manifest.taken_at)
    return Restored(manifest, marker)


async def _check(tar: tarfile.TarFile, config: HubConfig, store: str, replace: bool) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST:
        raise BackupError("the backup does not start with its manifest")
    extracted = tar.extractfile(first)
    assert extracted is not None
    manifest = Manifest.from_json(extracted.read())
    if manifest.store != store:
        raise BackupError(
            f"a backup of a {manifest.store} hub cannot be restored into {store}: "
            f"set database_url to a {manifest.store} database"
        )
    if manifest.schema_revision not in databases.known_revisions():
        raise BackupError(
            f"the backup's schema ({manifest.schema_revision}) is newer than this hub knows: "
            "restore it with the hub release that made it, or a newer one"
        )
    if store == databases.POSTGRES and (sessions := await databases.other_sessions(config.database_url)):
        raise BackupError(f"{sessions} other sessions use the database: stop every hub on it first")
    if not replace:
        held = await _data_held(config)
        if held:
            raise BackupError(f"{held} already holds a hub's data; --replace to replace it with the backup")
    return manifest


async def _data_held(config: HubConfig) -> str | None:
    """What of the target already holds a hub's data (its database, its data key), or None."""
    if await probe(config.database_url) is DatabaseState.HUB:
        return f"the database {shown(config.database_url)}"
    if config.data_key_path().exists():
        return f"the data key {config.data_key_path()}"
    return None


def _unpack(tar: tarfile.TarFile, work: Path) -> None:
    """Every member into ``work``: regular files and directories only, by relative names that
    stay inside it (a crafted archive cannot write elsewhere, even sealed to our key)."""
    for member in tar:  # from the first again (tarfile keeps the members it read): the manifest too
        if member.name == MANIFEST:
            continue
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"the backup holds an entry it may not ({member.name!r})")
        target = work.joinpath(*name.parts)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            continue
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = tar.extractfile(member)
        assert data is not None
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data, out)
        if member.mode & 0o044:  # public files (the CA's certificate, photos) stay readable
            os.chmod(target, 0o644)


def _put(staged: Path, target: Path) -> None:
    """``staged`` (a file or a directory) in place of ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        shutil.rmtree(target)
    if staged.is_dir():
        shutil.copytree(staged, target)
    else:
        shutil.copy2(staged, target)
