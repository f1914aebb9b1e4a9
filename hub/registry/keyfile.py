"""The hub's data key on disk: 32 random bytes, mode 0600, made once and never overwritten.

Losing the file loses every sealed ID number and site key, so the hub never replaces one: a file
that is there but unreadable, the wrong length or readable by other users stops the hub with a
:class:`~hub.errors.ConfigError` saying which. A missing file is created atomically (written
under a temporary name, then hard-linked into place), so two hub instances starting together end
up with the same key, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from hub.config import HubConfig
from hub.errors import ConfigError
from hub.registry.vault import DATA_KEY_BYTES


def data_key_path(data_key_file: Path | None, database_url: str) -> Path:
    """The configured file, else ``hub-data.key`` in the hub's state directory (beside an SQLite
    database, else ``./var``): :meth:`HubConfig.data_key_path` for callers without a config."""
    return HubConfig(database_url=database_url, data_key_file=data_key_file).data_key_path()


def default_data_key_path(database_url: str) -> Path:
    return data_key_path(None, database_url)


def load_data_key(path: Path, *, create: bool = True) -> bytes:
    """The key in ``path``; when it does not exist and ``create``, a new one written there first."""
    if create and not path.exists():
        _create(path)
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"data key file {path} is unreadable: {err.strerror}") from err
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise ConfigError(
            f"data key file {path} is accessible to every user (mode {stat.S_IMODE(mode):04o}); "
            "chmod 600 it and consider every ID number it protects exposed"
        )
    if len(key) != DATA_KEY_BYTES:
        raise ConfigError(
            f"data key file {path} holds {len(key)} bytes, a data key is {DATA_KEY_BYTES}; "
            "restore the original file (a new key cannot open what the old one sealed)"
        )
    return key


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(DATA_KEY_BYTES))
                out.flush()
                os.fsync(out.fileno())
            # link() never replaces an existing file: whoever linked first made the key.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
            _sync_directory(path.parent)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create data key file {path}: {err.strerror}") from err


def _sync_directory(directory: Path) -> None:
    """The new name survives a power cut only once its directory is on disk too."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
