"""The OS configuration the lane ships, checked without a Pi: udev rules parsed and matched
against the devices a lane has, journald and watchdog drop-ins against systemd's own keys, the
boot configuration against what the ID module's UART needs, shell scripts with shellcheck."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).parents[2] / "firmware"
RULES = FIRMWARE / "udev" / "99-sitegate.rules"

MATCH_KEYS = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "ATTR",
    "ATTRS",
    "ENV",
    "TAG",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
    "NAME",
    "SYMLINK",
}
ASSIGN_KEYS = {
    "NAME",
    "SYMLINK",
    "OWNER",
    "GROUP",
    "MODE",
    "ATTR",
    "ENV",
    "TAG",
    "RUN",
    "LABEL",
    "GOTO",
    "IMPORT",
    "OPTIONS",
    "SECLABEL",
    "SYSCTL",
}
_TERM = re.compile(r'\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')


def parse_rules(text: str) -> list[list[tuple[str, str | None, str, str]]]:
    """Each rule as (key, {attribute}, operator, value) terms; raises on anything udev would reject."""
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        terms, at = [], 0
        while at < len(line):
            found = _TERM.match(line, at)
            assert found, f"line {number}: cannot parse from {line[at:]!r}"
            key, attribute, op, value, _ = found.groups()
            matching = op in ("==", "!=")
            assert key in (MATCH_KEYS if matching else ASSIGN_KEYS), f"line {number}: {key}{op} is not udev"
            terms.append((key, attribute[1:-1] if attribute else None, op, value))
            at = found.end()
        assert any(op in ("==", "!=") for _, _, op, _ in terms), f"line {number}: matches nothing"
        assert any(op not in ("==", "!=") for _, _, op, _ in terms), f"line {number}: assigns nothing"
        rules.append(terms)
    return rules


def apply_rules(device: dict[str, str]) -> dict[str, set[str] | str]:
    """What the rules assign to a device given as udev properties (``KERNEL``, ``ATTRS{idVendor}``,
    ``ENV{ID_BUS}``...): enough of udev's matching (globs, ==/!=, +=/=) for these rules."""
    result: dict[str, set[str] | str] = {"SYMLINK": set()}
    for terms in parse_rules(RULES.read_text()):
        matches = True
        for key, attribute, op, value in terms:
            if op not in ("==", "!="):
                continue
            name = f"{key}{{{attribute}}}" if attribute else key
            hit = any(fnmatch.fnmatchcase(device.get(name, ""), pattern) for pattern in value.split("|"))
            matches &= hit if op == "==" else not hit
        if not matches:
            continue
        for key, _, op, value in terms:
            if op in ("==", "!="):
                continue
            value = value.replace("%k", device.get("KERNEL", ""))
            if key == "SYMLINK":
                symlinks = result["SYMLINK"]
                assert isinstance(symlinks, set)
                symlinks.add(value)
            elif key in ("GROUP", "MODE", "OWNER"):
                result[key] = value
    return result


def test_the_rules_parse() -> None:
    assert len(parse_rules(RULES.read_text())) >= 5


@pytest.mark.parametrize(
    "device",
    [
        {"SUBSYSTEM": "tty", "KERNEL": "ttyAMA0"},
        {
            "SUBSYSTEM": "tty",
            "KERNEL": "ttyUSB0",
            "ENV{ID_BUS}": "usb",
            "ATTRS{idVendor}": "1a86",
            "ATTRS{idProduct}": "7523",
        },
        {
            "SUBSYSTEM": "tty",
            "KERNEL": "ttyUSB3",
            "ENV{ID_BUS}": "usb",
            "ATTRS{idVendor}": "10c4",
            "ATTRS{idProduct}": "ea60",
        },
    ],
    ids=["pi-uart", "ch340", "cp2102"],
)
def test_the_id_module_gets_its_stable_name_and_the_dialout_group(device: dict[str, str]) -> None:
    assigned = apply_rules(device)
    assert assigned["SYMLINK"] == {"sitegate-idmodule"}
    assert (assigned["GROUP"], assigned["MODE"]) == ("dialout", "0660")


def test_other_serial_devices_are_left_alone() -> None:
    for device in (
        {"SUBSYSTEM": "tty", "KERNEL": "ttyS0"},
        {
            "SUBSYSTEM": "tty",
            "KERNEL": "ttyACM0",
            "ENV{ID_BUS}": "usb",
            "ATTRS{idVendor}": "2341",
            "ATTRS{idProduct}": "0043",
        },
    ):
        assert apply_rules(device)["SYMLINK"] == set()


def test_a_ccid_reader_is_named_by_its_usb_port() -> None:
    reader = {
        "SUBSYSTEM": "usb",
        "KERNEL": "1-1.3",
        "ENV{DEVTYPE}": "usb_device",
        "ENV{ID_USB_INTERFACES}": ":0b0000:",
    }
    assert apply_rules(reader)["SYMLINK"] == {"sitegate-pcsc-1-1.3"}
    keyboard = dict(reader, **{"ENV{ID_USB_INTERFACES}": ":030101:"})
    assert apply_rules(keyboard)["SYMLINK"] == set()


def test_gpio_goes_to_the_gpio_group() -> None:
    assert apply_rules({"SUBSYSTEM": "gpio", "KERNEL": "gpiochip0"})["GROUP"] == "gpio"


def _drop_in(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


_SIZE = re.compile(r"^\d+[KMG]$")


def test_journald_is_capped() -> None:
    journal = _drop_in(FIRMWARE / "journald" / "sitegate.conf")["Journal"]
    known = {
        "Storage",
        "Compress",
        "SystemMaxUse",
        "SystemKeepFree",
        "SystemMaxFileSize",
        "RuntimeMaxUse",
        "RuntimeMaxFileSize",
        "MaxRetentionSec",
        "MaxFileSec",
        "RateLimitIntervalSec",
        "RateLimitBurst",
        "SyncIntervalSec",
        "ForwardToSyslog",
    }
    assert set(journal) <= known
    for key in ("SystemMaxUse", "SystemMaxFileSize", "RuntimeMaxUse", "RuntimeMaxFileSize"):
        assert _SIZE.match(journal[key]), key
    assert int(journal["SystemMaxUse"][:-1]) <= 128


def test_systemd_feeds_the_hardware_watchdog_within_what_the_bcm2835_can_count() -> None:
    manager = _drop_in(FIRMWARE / "watchdog" / "sitegate-watchdog.conf")["Manager"]
    assert set(manager) <= {"RuntimeWatchdogSec", "RebootWatchdogSec", "KExecWatchdogSec", "WatchdogDevice"}
    assert 0 < int(manager["RuntimeWatchdogSec"].removesuffix("s")) <= 15


def test_the_boot_config_frees_the_pl011_for_the_id_module_on_every_board() -> None:
    text = (FIRMWARE / "boot" / "config.txt").read_text()
    assert text.startswith("# BEGIN sitegate") and text.rstrip().endswith("# END sitegate")
    sections: dict[str, list[str]] = {}
    current = "all"
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line and not line.startswith("#"):
            sections.setdefault(current, []).append(line)
    assert "dtoverlay=disable-bt" in sections["pi4"]
    assert "dtoverlay=disable-bt" in sections["pi02"]
    assert "dtparam=uart0=on" in sections["pi5"]
    assert {"enable_uart=1", "dtparam=watchdog=on"} <= set(sections["all"])


SCRIPTS = sorted(
    [p for p in (FIRMWARE / "image").rglob("*") if p.is_file() and p.name not in {"00-packages", "README.md"}]
    + list((FIRMWARE.parent / "provisioning").glob("*.sh"))
)


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(p.relative_to(FIRMWARE.parent)) for p in SCRIPTS])
def test_shell_scripts_pass_bash_n_and_shellcheck(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(
        ["shellcheck", "--shell=bash", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
