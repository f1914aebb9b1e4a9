"""Lane files written atomically and durably, and the tinydb storage that writes that way.

:class:`AtomicJSONStorage` is the tinydb storage of the executed commands' database
(:mod:`controller.executed_commands`); the roster (:mod:`controller.roster_store`) and the device
state (:mod:`controller.device_state`) are plain JSON written through it or :func:`write_atomically`
without tinydb. tinydb's own JSON storage rewrites the file in place: a power cut mid-write leaves
a file that no longer parses. Here a write goes to a temporary file in the same directory, is
fsynced, renamed over the old one, and the directory is fsynced, so the file on disk is always one
complete version (and always there: it is never renamed away, even for a moment). The version it
replaces is kept beside it (``.prev``, a hard link made before the swap) as the fallback if the
current one is ever found damaged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


class DamagedFile(RuntimeError):
    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"{path} is damaged: {why}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _keep_previous(path: Path) -> None:
    """Make ``.prev`` the current version while ``path`` still names it.

    Renaming ``path`` to ``.prev`` would leave a moment with no ``path`` at all: a kill or a power
    cut there, and the next boot finds no roster. A hard link (a copy where links are not
    supported) is put in place under a temporary name and renamed over ``.prev`` instead.
    """
    staged = path.with_name(f".{path.name}.prev.tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:
        _write_synced(staged, path.read_bytes())
    os.replace(staged, path.with_name(path.name + ".prev"))


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    _write_synced(tmp, data)
    if path.exists():
        _keep_previous(path)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_json(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as err:
        raise DamagedFile(path, str(err)) from err
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DamagedFile(path, f"not JSON ({err})") from err
    if not isinstance(data, dict):
        raise DamagedFile(path, "top level is not an object")
    return data


class AtomicJSONStorage(Storage):
    """tinydb ``Storage`` over :func:`write_atomically`; reads never modify the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            return read_json(self.path)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.write_encoded(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())

    def write_encoded(self, data: bytes) -> None:
        """Tables already encoded as JSON (the caller vouches for it), written the same atomic way."""
        write_atomically(self.path, data)

    def close(self) -> None:
        pass
