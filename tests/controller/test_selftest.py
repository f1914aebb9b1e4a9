"""The selftest checklist against an emulated module, mock pins and a real broker (or none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from controller.config import parse_config
from controller.roster_store import save_roster
from controller.selftest import report, run_selftest
from hardware.emulators.id_module import IdModuleEmulator
from sitegate.mosquitto import Mosquitto

pytestmark = [pytest.mark.serial, pytest.mark.broker]


def config_for(tmp_path: Path, port: str, mqtt_port: int):
    (tmp_path / "site.key").write_text("00" * 32)
    return parse_config(
        f'device_id = "lane-st-1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n'
        f'[readers.id_module]\nport = "{port}"\n[mqtt]\nhost = "127.0.0.1"\nport = {mqtt_port}\n'
    )


async def test_everything_passes_on_a_complete_lane(tmp_path: Path, broker: Mosquitto) -> None:
    save_roster(tmp_path / "roster.json", 3, "P1", [])
    with IdModuleEmulator() as emulator:
        checks = await run_selftest(
            config_for(tmp_path, emulator.port, broker.port), pin_factory=MockFactory()
        )
    text = report(checks)
    assert all(c.ok for c in checks), text
    assert {c.name for c in checks} == {
        "site key",
        "relay",
        "green LED",
        "red LED",
        "buzzer",
        "ID module",
        "broker",
        "journal",
        "roster",
    }
    assert "9 of 9 checks passed" in text


async def test_failures_say_what_to_fix(tmp_path: Path) -> None:
    with IdModuleEmulator() as emulator:
        emulator.silence(True)
        checks = await run_selftest(config_for(tmp_path, emulator.port, 1), pin_factory=MockFactory())
    failed = {c.name: c for c in checks if not c.ok}
    assert set(failed) == {"ID module", "broker", "roster"}
    text = report(checks)
    assert "fix: check the cable" in text and "fix: check the network" in text
    assert "3 failed" in text
