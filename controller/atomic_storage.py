"""A tinydb storage whose every write is atomic and durable.

tinydb's own JSON storage rewrites the file in place: a power cut mid-write leaves a file that
no longer parses. Here a write goes to a temporary file in the same directory, is fsynced, renamed
over the old one, and the directory is fsynced, so the file on disk is always one complete version.
The version it replaces is kept beside it (``.prev``) as the fallback if the current one is ever
found damaged.
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


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if path.exists():
        os.replace(path, path.with_name(path.name + ".prev"))
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
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())

    def close(self) -> None:
        pass
