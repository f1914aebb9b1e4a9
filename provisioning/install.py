"""The lane's OS pieces from ``firmware/``, put in place under a root: units, udev rules, journald
caps, the watchdog, and the boot configuration for the ID module's UART.

The boot files are edited, not replaced: ``config.txt`` gets the block between ``# BEGIN
sitegate`` and ``# END sitegate`` (replaced on a re-run, never doubled), ``cmdline.txt`` loses
the serial console (the UART is the ID module's; a login prompt on it would answer the module's
frames). Each file is copied once to ``<name>.sitegate-backup`` before its first change.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from provisioning.layout import (
    BOOT_DIRS,
    JOURNALD_DIR,
    SYSTEM_CONF_DIR,
    UDEV_DIR,
    UNIT_DIR,
    WANTS_DIR,
    Writer,
)

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
CONTROLLER_UNIT = "sitegate-controller.service"
DATA_MOUNT_UNIT = "var-lib-sitegate.mount"
UDEV_RULES = "99-sitegate.rules"
BEGIN, END = "# BEGIN sitegate", "# END sitegate"
BACKUP_SUFFIX = ".sitegate-backup"
_SERIAL_CONSOLE = re.compile(r"^(console=(serial0|serial1|ttyAMA0|ttyS0)(,.*)?|kgdboc=(serial0|ttyAMA0).*)$")


class FirmwareMissing(FileNotFoundError):
    pass


def firmware_file(relative: str) -> bytes:
    path = FIRMWARE / relative
    try:
        return path.read_bytes()
    except OSError as err:
        raise FirmwareMissing(
            f"{path}: {err.strerror}; sitegate provision runs from a source tree that has firmware/"
        ) from err


def with_block(text: str, block: str) -> str:
    """``text`` with the sitegate block replaced, or appended when there is none."""
    block = block.strip("\n")
    start, end = text.find(BEGIN), text.find(END)
    if start != -1 and end > start:
        return text[:start] + block + text[end + len(END) :]
    return text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"


def without_serial_console(cmdline: str) -> str:
    """The kernel command line without a console (or kgdb) on the serial port; one line."""
    kept = [word for word in cmdline.split() if not _SERIAL_CONSOLE.match(word)]
    return " ".join(kept) + "\n"


def _edit(writer: Writer, path: PurePosixPath, new_text: str) -> bool:
    old = writer.path(path).read_text(encoding="utf-8")
    if new_text == old:
        writer.done.append(f"unchanged   {path}")
        return False
    backup = PurePosixPath(f"{path}{BACKUP_SUFFIX}")
    if not writer.path(backup).exists():
        writer.write(backup, old.encode("utf-8"), mode=0o644)
    return writer.write(path, new_text.encode("utf-8"), mode=0o644)


def boot_dir(root: Path) -> PurePosixPath | None:
    for directory in BOOT_DIRS:
        if (root / directory.relative_to("/") / "config.txt").is_file():
            return directory
    return None


def configure_uart(writer: Writer) -> str:
    """The UART block in config.txt and no serial console; what was done, for the checklist."""
    directory = boot_dir(writer.root)
    if directory is None:
        return "no config.txt under /boot/firmware or /boot: not a Raspberry Pi boot partition, left alone"
    config, cmdline = directory / "config.txt", directory / "cmdline.txt"
    block = firmware_file("boot/config.txt").decode("utf-8")
    changed = _edit(writer, config, with_block(writer.path(config).read_text(encoding="utf-8"), block))
    if writer.path(cmdline).is_file():
        text = writer.path(cmdline).read_text(encoding="utf-8")
        changed |= _edit(writer, cmdline, without_serial_console(text))
    if changed:
        return f"UART for the ID module set in {directory} (takes effect at the next boot)"
    return f"UART for the ID module already set in {directory}"


def boot_time() -> float:
    """When this machine booted (seconds since the epoch), from the kernel."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def reboot_pending(writer: Writer, *, udev_running: bool) -> bool:
    """Whether what makes ``/dev/sitegate-idmodule`` was set up since this machine booted: the UART
    (config.txt takes effect at boot) and, where no udev runs to apply it now, the udev rule."""
    paths = []
    directory = boot_dir(writer.root)
    if directory is not None:
        paths.append(writer.path(directory / "config.txt"))
    if not udev_running:
        paths.append(writer.path(UDEV_DIR / UDEV_RULES))
    booted = boot_time()
    return any(path.exists() and path.stat().st_mtime > booted for path in paths)


def install_os(writer: Writer, *, data_partition: bool = False) -> None:
    """Units (the controller's enabled), udev rules, journald caps, the watchdog."""
    writer.write(UNIT_DIR / CONTROLLER_UNIT, firmware_file(f"systemd/{CONTROLLER_UNIT}"))
    writer.symlink(WANTS_DIR / CONTROLLER_UNIT, UNIT_DIR / CONTROLLER_UNIT)
    if data_partition:
        writer.write(UNIT_DIR / DATA_MOUNT_UNIT, firmware_file(f"systemd/{DATA_MOUNT_UNIT}"))
        writer.symlink(UNIT_DIR / "local-fs.target.requires" / DATA_MOUNT_UNIT, UNIT_DIR / DATA_MOUNT_UNIT)
    writer.write(UDEV_DIR / UDEV_RULES, firmware_file(f"udev/{UDEV_RULES}"))
    writer.write(JOURNALD_DIR / "sitegate.conf", firmware_file("journald/sitegate.conf"))
    writer.write(SYSTEM_CONF_DIR / "sitegate-watchdog.conf", firmware_file("watchdog/sitegate-watchdog.conf"))
