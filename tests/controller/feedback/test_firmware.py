"""The OS pieces the screen and voice need: device groups, the buses and the amplifier's overlay."""

from __future__ import annotations

from pathlib import Path

from controller.board import load_board
from tests.firmware.test_os_config import apply_rules

FIRMWARE = Path(__file__).parents[3] / "firmware"


def test_the_buses_and_the_sound_card_go_to_the_services_groups() -> None:
    assert apply_rules({"SUBSYSTEM": "i2c-dev", "KERNEL": "i2c-1"})["GROUP"] == "i2c"
    assert apply_rules({"SUBSYSTEM": "spidev", "KERNEL": "spidev0.0"})["GROUP"] == "spi"
    assert apply_rules({"SUBSYSTEM": "sound", "KERNEL": "pcmC0D0p"})["GROUP"] == "audio"
    unit = (FIRMWARE / "systemd" / "sitegate-controller.service").read_text()
    groups = next(line for line in unit.splitlines() if line.startswith("SupplementaryGroups="))
    assert {"i2c", "spi", "audio"} <= set(groups.partition("=")[2].split())


def test_the_boot_config_enables_what_the_board_profiles_wire() -> None:
    lines = set((FIRMWARE / "boot" / "config.txt").read_text().splitlines())
    assert {"dtparam=i2c_arm=on", "dtparam=spi=on", "dtoverlay=max98357a"} <= lines
    for board in ("rpi4", "rpi5", "rpizero2w"):
        audio = load_board(board).audio
        assert audio is not None and (audio.bclk, audio.lrclk, audio.data) == (
            18,
            19,
            21,
        )  # the overlay's pins


def test_the_image_build_makes_the_prompts_with_the_packages_it_installs() -> None:
    stage = FIRMWARE / "image" / "pi-gen" / "stage-sitegate" / "00-sitegate"
    packages = set((stage / "00-packages").read_text().split())
    assert {"espeak-ng", "sox", "alsa-utils", "fonts-wqy-zenhei"} <= packages
    assert "controller.feedback.prompts /opt/sitegate/prompts" in (stage / "01-run.sh").read_text()
