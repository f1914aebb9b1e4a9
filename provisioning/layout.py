"""Where a provisioned lane keeps what: one table of paths, and a writer that puts files there.

Every path is the one the lane uses at run time (``/etc/sitegate/controller.toml``); ``root``
says where that file system is mounted now: ``/`` on the Pi itself, an image's root file system
while an image is built, a temporary directory in the tests. So the files written under a root
refer to run-time paths, and :func:`rebased` gives the view of a configuration as seen from outside
the root (what the tests and the self-test of an image run with).

The :class:`Writer` writes a file only when its bytes or mode differ (re-running provisioning
changes nothing that is right already), atomically, and in a dry run only says what it would do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from controller.config import ControllerConfig
from provisioning.ca import write_key, write_public

CONFIG = PurePosixPath("/etc/sitegate/controller.toml")
TLS_DIR = PurePosixPath("/etc/sitegate/tls")
DEVICE_KEY = TLS_DIR / "device.key"
DEVICE_CERT = TLS_DIR / "device.crt"
CA_CERT = TLS_DIR / "ca.crt"
SITE_KEY = PurePosixPath("/etc/sitegate/site.key")
DATA_DIR = PurePosixPath("/var/lib/sitegate")
UNIT_DIR = PurePosixPath("/etc/systemd/system")
WANTS_DIR = UNIT_DIR / "multi-user.target.wants"
UDEV_DIR = PurePosixPath("/etc/udev/rules.d")
JOURNALD_DIR = PurePosixPath("/etc/systemd/journald.conf.d")
SYSTEM_CONF_DIR = PurePosixPath("/etc/systemd/system.conf.d")
BOOT_DIRS = (PurePosixPath("/boot/firmware"), PurePosixPath("/boot"))
"""Bookworm mounts the boot partition on /boot/firmware; older releases on /boot."""
SERVICE_USER = "sitegate"


def under(root: Path, path: PurePosixPath) -> Path:
    return root / path.relative_to("/")


def rebased(config: ControllerConfig, root: Path) -> ControllerConfig:
    """``config`` with its file paths as seen from outside ``root`` (device nodes stay as they are)."""
    if root == Path("/"):
        return config

    def inside(path: Path | None) -> Path | None:
        return None if path is None else under(root, PurePosixPath(path))

    mqtt = config.mqtt.model_copy(
        update={
            "ca_file": inside(config.mqtt.ca_file),
            "cert_file": inside(config.mqtt.cert_file),
            "key_file": inside(config.mqtt.key_file),
        }
    )
    paths = {"data_dir": inside(config.data_dir), "site_key_file": inside(config.site_key_file)}
    return config.model_copy(update={**paths, "mqtt": mqtt})


def service_owner(root: Path, user: str = SERVICE_USER) -> tuple[int, int] | None:
    """The uid and gid of ``user`` in the root's own /etc/passwd (not this machine's), if any."""
    try:
        lines = (root / "etc/passwd").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == user:
            return int(fields[2]), int(fields[3])
    return None


@dataclass
class Writer:
    """Writes files under ``root``, or (``dry_run``) only lists what it would write."""

    root: Path
    dry_run: bool = False
    done: list[str] = field(default_factory=list)
    """One line per file: ``wrote``, ``unchanged`` or ``would write`` and the run-time path."""

    def path(self, path: PurePosixPath) -> Path:
        return under(self.root, path)

    def _same(self, target: Path, data: bytes, mode: int) -> bool:
        try:
            return target.read_bytes() == data and (target.stat().st_mode & 0o7777) == mode
        except OSError:
            return False

    def write(self, path: PurePosixPath, data: bytes, *, mode: int = 0o644, private: bool = False) -> bool:
        """True when the file changed (or would). ``private`` files (keys) are 0600 from their
        first byte and given to the service user when we are root."""
        target = self.path(path)
        mode = 0o600 if private else mode
        if self._same(target, data, mode):
            self.done.append(f"unchanged   {path}")
            return False
        if self.dry_run:
            self.done.append(f"would write {path} ({mode:04o}, {len(data)} bytes)")
            return True
        target.parent.mkdir(parents=True, exist_ok=True)
        if private:
            write_key(target, data, overwrite=True)
            self._give_to_service(target)
        else:
            write_public(target, data, mode=mode)
        self.done.append(f"wrote       {path}")
        return True

    def mkdir(self, path: PurePosixPath, *, mode: int = 0o750, service_owned: bool = False) -> None:
        target = self.path(path)
        if target.is_dir():
            return
        if self.dry_run:
            self.done.append(f"would make  {path}/ ({mode:04o})")
            return
        target.mkdir(parents=True, mode=mode)
        target.chmod(mode)
        if service_owned:
            self._give_to_service(target)
        self.done.append(f"made        {path}/")

    def symlink(self, path: PurePosixPath, points_to: PurePosixPath) -> None:
        target = self.path(path)
        if target.is_symlink() and os.readlink(target) == str(points_to):
            self.done.append(f"unchanged   {path}")
            return
        if self.dry_run:
            self.done.append(f"would link  {path} -> {points_to}")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(points_to)
        self.done.append(f"linked      {path} -> {points_to}")

    def give_tree_to_service(self, path: PurePosixPath) -> None:
        """Everything under ``path`` the service user's: what the lane writes must be its own (a
        file root made there, by a self-test run as root say, locks the lane out of it)."""
        owner = service_owner(self.root)
        top = self.path(path)
        if owner is None or os.geteuid() != 0 or not top.exists():
            return
        for item in [top, *sorted(top.rglob("*"))]:
            info = item.lstat()
            if (info.st_uid, info.st_gid) == owner:
                continue
            shown = path / item.relative_to(top) if item != top else path
            if self.dry_run:
                self.done.append(f"would own   {shown} (uid {info.st_uid}, for {SERVICE_USER})")
                continue
            os.lchown(item, *owner)
            self.done.append(f"owner fixed {shown} (was uid {info.st_uid}:{info.st_gid})")

    def _give_to_service(self, target: Path) -> None:
        owner = service_owner(self.root)
        if owner is not None and os.geteuid() == 0:
            os.chown(target, *owner)
