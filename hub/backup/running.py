"""Whether a hub runs on this machine's state directory: a lock a running hub holds.

``sitegate hub`` holds a shared ``flock`` on ``<state dir>/hub.lock`` for as long as it serves
(several instances on one machine share it); ``sitegate hub restore`` asks for it exclusively
and, refused, refuses to replace the data of a running hub. A lock, not a pid file: it goes with
the process, however the process ends. Hubs on other machines (PostgreSQL) are seen by the
database's sessions instead (:func:`hub.backup.databases.other_sessions`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from hub.backup.sealed import BackupError

LOCK_NAME = "hub.lock"


@contextlib.contextmanager
def hub_running(state_dir: Path) -> Iterator[None]:
    """Held by a serving hub: a shared lock on its state directory's ``hub.lock``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def no_hub_running(state_dir: Path) -> Iterator[None]:
    """The exclusive lock for the length of a restore; BackupError while a hub holds the lock."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a hub is running on {state_dir} (it holds {LOCK_NAME}): stop it before restoring"
            ) from None
        yield
    finally:
        os.close(fd)
