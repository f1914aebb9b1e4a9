"""A small real filesystem that fills up: a tmpfs mounted for one test (the tests run as root).

``fill`` writes a filler file until the kernel answers ENOSPC; ``free`` deletes it, and space is back.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._filler = root / "filler"

    def fill(self) -> None:
        """Until a write fails with ENOSPC: whatever is written next finds no room."""
        chunk = b"\0" * 4096
        with self._filler.open("ab", buffering=0) as out:
            while True:
                try:
                    out.write(chunk)
                except OSError as err:
                    if err.errno != errno.ENOSPC:
                        raise
                    break
        for spare in range(1000):  # the last partial blocks too
            try:
                with (self.root / f"spare-{spare}").open("wb", buffering=0) as out:
                    out.write(b"\0")
            except OSError:
                break

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)
        for spare in self.root.glob("spare-*"):
            spare.unlink()


@contextlib.contextmanager
def small_disk(size: str = "2m") -> Iterator[SmallDisk]:
    """A tmpfs of ``size`` at a fresh mount point, unmounted (lazily, if still busy) on the way out."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("mounting a tmpfs needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="sitegate-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], check=True)
    try:
        yield SmallDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()
